"""The server's start-up objects are left out of later garbage collections (hangdoi/web/interpreter.py)."""
from __future__ import annotations

import gc
import weakref

from hangdoi.web.interpreter import settle_after_start


def test_start_up_objects_are_frozen_out_of_later_collections():
    gc.unfreeze()
    kept = [object() for _ in range(10)] + [{"a": [1, 2]} for _ in range(10)]

    class Node:
        pass
    garbage = Node()
    garbage.me = garbage                         # a cycle only a collection frees
    gone = weakref.ref(garbage)
    del garbage
    try:
        settle_after_start()
        assert gc.get_freeze_count() >= len(kept)
        # Collected first: start-up garbage is freed, not frozen for ever. (Counting the young
        # generation instead failed in full runs: other tests' threads allocate meanwhile.)
        assert gone() is None
    finally:
        gc.unfreeze()
