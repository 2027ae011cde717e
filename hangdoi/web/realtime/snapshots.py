"""One snapshot of a public room, shared by every screen that subscribes while nothing changes.

A lobby board's or kiosk's snapshot (the centre's queues with their estimates) costs several
milliseconds to read; every screen asks for one when it connects, when it sees a gap and, for a
kiosk, once a minute. Anonymous sockets asking for it as fast as the event limit lets them made a
kiosk's ticket wait 200–300 ms behind the reads. While the centre's sequence number has not moved
nothing in the snapshot has changed but the estimates' drift with the clock, so it is read again
only after a commit or once it is `max_age` seconds old.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

MAX_AGE_SECONDS = 2.0


class SharedSnapshots:
    def __init__(self, max_age: float = MAX_AGE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.max_age, self.clock = max_age, clock
        self._lock = threading.Lock()
        # (room, centre id): (centre seq, when read, snapshot)
        self._kept: dict[tuple[str, int], tuple[int, float, dict]] = {}

    def get(self, room: str, centre_id: int, seq: int, read: Callable[[], dict]) -> dict:
        """The room's snapshot at `seq` (the centre's sequence number read after joining the room):
        the kept one if it was read at that seq and is fresh, else a new one from `read`. The
        caller must not change what it gets: other screens get the same object."""
        now = self.clock()
        with self._lock:
            kept = self._kept.get((room, centre_id))
        if kept is not None and kept[0] == seq and now - kept[1] < self.max_age:
            return kept[2]
        snapshot = read()
        if snapshot["seq"] == seq:          # a commit after `seq` makes it no one's to share
            with self._lock:
                self._kept[(room, centre_id)] = (seq, now, snapshot)
        return snapshot
