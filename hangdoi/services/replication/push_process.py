"""At a centre: the pusher (hangdoi/services/replication/pusher.py) in a process of its own, at a
lower CPU priority than the server's.

Why a process: in the server's process, the pushing thread competes with the requests for the
interpreter's lock, and a thread cannot be given a lower priority. bench/province.py measured it at
310 tickets a second: issue p99 20.7 → 30.1 ms, call → display p99 22.6 → 60.3 ms (median of three
interleaved rounds) with the pusher as a thread. The centre must never wait for its province.

One process of an installation pushes. Each server process starts a `PushKeeper` thread that waits
for the installation's lock (a file in the data directory); the one that holds it runs the push
process, and starts it again if it stops. The push process writes how the link is to a small JSON
file beside the lock, which every server process reads for the manager's dashboard. It stops when
the server process that started it is gone.

    python -m hangdoi.services.replication.push_process DATA_DIR PROVINCE_URL CENTRE SERVER_PID
    (the key in HANGDOI_PROVINCE_KEY and the database in HANGDOI_PUSH_DATABASE_URL, off the process list)
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from hangdoi.clock import UTC

log = logging.getLogger(__name__)

STATE_FILE = "province-push.json"
STATE_SECONDS = 1.0          # how often the push process writes how the link is
STALE_SECONDS = 15.0         # a state older than this: the push process is not running
RESTART_SECONDS = 5.0        # a push process that stopped is started again after this
NICENESS = 10


class PushKeeper:
    """In a server process: waits for the installation's push lock, then keeps a push process running."""

    def __init__(self, database_url: str, data_dir: Path, url: str, key: str, centre_id: int | None):
        self.database_url, self.data_dir, self.url, self.key = database_url, Path(data_dir), url, key
        self.centre_id = centre_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._keep, name="province-push-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _keep(self) -> None:
        lock = hold_lock(self.data_dir, self._stop)
        if lock is None:
            return      # stopped while another process pushed
        # Until the process has started and written its own: not reached yet (a dashboard that reads
        # in between shows the link as not working, not as absent).
        write_state(self.data_dir, None, self.centre_id)
        command = [sys.executable, "-m", __name__, str(self.data_dir), self.url, str(self.centre_id or 0),
                   str(os.getpid())]
        # Secrets in the environment, not on the process list: the key, and a database URL's password.
        env = {**os.environ, "HANGDOI_PROVINCE_KEY": self.key, "HANGDOI_PUSH_DATABASE_URL": self.database_url}
        while not self._stop.is_set():
            self.process = subprocess.Popen(command, env=env)
            while self.process.poll() is None and not self._stop.is_set():
                self._stop.wait(1.0)
            if not self._stop.is_set():
                log.warning("the province push process stopped (%s); starting it again", self.process.returncode)
                self._stop.wait(RESTART_SECONDS)
        lock.close()

    def view(self, centre_id: int, centre_seq: int) -> dict | None:
        """How the link is, for the centre's dashboard, from what the push process last wrote (None:
        not this centre's link, or no process has pushed yet)."""
        state = read_state(self.data_dir)
        if state is None or state.get("centre") not in (centre_id, None):
            return None
        if time.time() - state["written_at"] > STALE_SECONDS:
            # The push process is not running: as a link that fails since it was last heard of.
            since = state.get("failing_since") or state["written_at"]
            return {"ok": False, "failing_since": datetime.fromtimestamp(since, UTC),
                    "to_send": _to_send(state, centre_seq)}
        since = state.get("failing_since")
        return {"ok": since is None and state.get("last_success") is not None,
                "failing_since": None if since is None else datetime.fromtimestamp(since, UTC),
                "to_send": _to_send(state, centre_seq)}


def hold_lock(lock_dir: Path, stop: threading.Event):
    """The installation's push lock, once this process gets it (None if stopped first)."""
    handle = open(lock_dir / "province-push.lock", "a")
    while not stop.is_set():
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except OSError:
            stop.wait(5.0)
    handle.close()
    return None


def _to_send(state: dict, centre_seq: int) -> int | None:
    known = state.get("acknowledged")
    return None if known is None else max(0, centre_seq - known)


def read_state(data_dir: Path) -> dict | None:
    try:
        state = json.loads((Path(data_dir) / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) and isinstance(state.get("written_at"), (int, float)) else None


def write_state(data_dir: Path, pusher, centre_id: int | None = None) -> None:
    """How the link is, as `pusher` sees it (None: a push process about to start, for `centre_id`)."""
    if pusher is None:
        state = {"centre": centre_id, "acknowledged": None, "last_success": None, "failing_since": None}
    else:
        s = pusher.state
        known = s.acknowledged if s.acknowledged is not None else s.known_acknowledged
        state = {"centre": pusher.centre_id, "acknowledged": known, "last_success": s.last_success,
                 "failing_since": s.failing_since, "last_error": s.last_error, "pushes": s.pushes,
                 "rows_sent": s.rows_sent}
    state["written_at"] = time.time()
    draft = Path(data_dir) / f"{STATE_FILE}.{os.getpid()}"
    draft.write_text(json.dumps(state))
    os.replace(draft, Path(data_dir) / STATE_FILE)     # readers see the old state or the new, never half


def main(argv: list[str]) -> int:
    """The push process: pushes until the process that started it is gone (or SIGTERM)."""
    import signal

    from hangdoi.database import Database
    from hangdoi.services.replication.pusher import Pusher
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    data_dir, url, centre, parent = argv
    os.nice(NICENESS)           # the server's requests first: the province can wait a moment
    # The server's pid comes as an argument: one read here could already be init's, had the server
    # died while this process was starting.
    parent = int(parent)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    db = Database(os.environ["HANGDOI_PUSH_DATABASE_URL"], pool_size=2)
    pusher = Pusher(db, url, os.environ.get("HANGDOI_PROVINCE_KEY", ""), int(centre) or None)
    pusher.start()
    try:
        while not stop.is_set() and os.getppid() == parent:
            write_state(Path(data_dir), pusher)
            stop.wait(STATE_SECONDS)
    finally:
        pusher.stop()
        write_state(Path(data_dir), pusher)
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
