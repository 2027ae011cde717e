"""Which kiosks and lobby displays are connected right now, from their open sockets.

A device page subscribes with its key; the hub counts its sockets (a device may reload and hold two
for a moment) and tells managers when a device comes or goes. Kept in this process's memory: with
several server processes each knows its own sockets (see README, "Scale-out").
"""
from __future__ import annotations

import threading
from collections import Counter


class Presence:
    def __init__(self):
        self._lock = threading.Lock()
        self._by_sid: dict[str, tuple[int, str, int, str]] = {}
        self._sockets: Counter = Counter()

    def arrive(self, sid: str, centre_id: int, kind: str, device_id: int, name: str) -> bool:
        """True when this is the device's first socket: it has just come online."""
        with self._lock:
            if sid in self._by_sid:
                return False
            self._by_sid[sid] = (centre_id, kind, device_id, name)
            self._sockets[(kind, device_id)] += 1
            return self._sockets[(kind, device_id)] == 1

    def leave(self, sid: str) -> tuple[int, str, int, str] | None:
        """The device whose last socket this was (it has gone offline), else None."""
        with self._lock:
            device = self._by_sid.pop(sid, None)
            if device is None:
                return None
            key = device[1:3]
            self._sockets[key] -= 1
            if self._sockets[key] > 0:
                return None
            del self._sockets[key]
            return device

    def online(self, kind: str, device_id: int) -> bool:
        with self._lock:
            return self._sockets.get((kind, device_id), 0) > 0
