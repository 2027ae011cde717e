"""The server's start-up objects are left out of later garbage collections (hangdoi/web/interpreter.py)."""
from __future__ import annotations

import gc

from hangdoi.web.interpreter import settle_after_start


def test_start_up_objects_are_frozen_out_of_later_collections():
    gc.unfreeze()
    kept = [object() for _ in range(10)] + [{"a": [1, 2]} for _ in range(10)]
    try:
        settle_after_start()
        assert gc.get_freeze_count() >= len(kept)
        assert sum(gc.get_count()) < 10          # collected first: nothing young left over
    finally:
        gc.unfreeze()
