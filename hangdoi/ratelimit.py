"""A sliding-window rate limiter kept in process memory (per key: a kiosk, an IP address)."""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class RateLimiter:
    def __init__(self, per_minute: int, window_seconds: float = 60.0):
        self.limit = per_minute
        self.window = window_seconds
        self._hits: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, *keys: str) -> bool:
        """Count one hit against every key; refuse (counting nothing) if any key is over its limit."""
        if self.limit <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            windows = [self._hits[key] for key in keys]
            for hits in windows:
                while hits and hits[0] <= now - self.window:
                    hits.popleft()
            if any(len(hits) >= self.limit for hits in windows):
                return False
            for hits in windows:
                hits.append(now)
            return True
