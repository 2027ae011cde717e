"""Interpreter settings for a long-running server process.

Everything made at start-up (the application, its routes and templates, SQLAlchemy's tables and
caches, the libraries' modules) lives as long as the process. Python's cyclic garbage collector
scanned it all again at every full collection: under load, a full collection of a fresh server took
90–110 ms with the interpreter held, twice in 20 seconds, and every request in flight waited (the
slowest 1% of kiosk answers were those). Frozen, those objects are left out of every later
collection; a full collection then takes a few milliseconds.
"""
from __future__ import annotations

import gc


def settle_after_start() -> None:
    """Call once the application is built, before serving."""
    gc.collect()
    gc.freeze()
