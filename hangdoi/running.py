"""Whether a hangdoi server is running on a data directory.

Every serving process holds a shared lock on `<data>/server.lock` for as long as it runs (the
kernel drops it when the process ends, however it ends). `hangdoi restore` asks for the lock
alone and refuses when it cannot have it: a restore under a running server "succeeded", moved the
change sequence backwards, and the server went on from what it had in memory (numbers issued again,
signs left showing old numbers).
"""
from __future__ import annotations

import fcntl
from pathlib import Path

LOCK_NAME = "server.lock"
_held: list = []          # the open lock files of this process: closing one would release it


def hold(data_dir: Path) -> None:
    """Mark this process as a server on `data_dir` until it exits."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / LOCK_NAME, "a+")  # noqa: SIM115 — held open for the process's life
    fcntl.flock(handle, fcntl.LOCK_SH)
    _held.append(handle)


def server_running(data_dir: Path) -> bool:
    """True while any process holds the lock (a server is serving this data directory)."""
    path = data_dir / LOCK_NAME
    if not path.exists():
        return False
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
