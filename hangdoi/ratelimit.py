"""Sliding-window rate limiters (per key: a kiosk, an IP address, a username).

`RateLimiter` counts in process memory. Several server processes share one count through Redis
(`RedisRateLimiter`), or a kiosk would get its allowance once per process. When Redis cannot be
reached the count falls back to process memory: a limit is abuse protection, and a citizen's ticket
must not depend on it.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict, deque

log = logging.getLogger(__name__)


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


# All keys checked and counted in one step, on Redis's clock (the processes' clocks may differ).
_SLIDING_WINDOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
end
return 1
"""


class RedisRateLimiter(RateLimiter):
    def __init__(self, per_minute: int, redis_url: str, prefix: str, window_seconds: float = 60.0):
        super().__init__(per_minute, window_seconds)
        import redis
        self.prefix = prefix
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._redis.register_script(_SLIDING_WINDOW)
        self._warned_at = 0.0

    def allow(self, *keys: str) -> bool:
        if self.limit <= 0:
            return True
        try:
            return bool(self._script(keys=[f"{self.prefix}:{key}" for key in keys],
                                     args=[int(self.window * 1000), self.limit, uuid.uuid4().hex]))
        except Exception as exc:  # noqa: BLE001 — Redis down: count here rather than refuse a citizen
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                log.warning("rate limits counted per process: Redis unreachable (%s)", exc)
            return super().allow(*keys)


def rate_limiter(per_minute: int, redis_url: str, prefix: str) -> RateLimiter:
    """Shared through Redis when the installation has one, else per process."""
    return RedisRateLimiter(per_minute, redis_url, prefix) if redis_url else RateLimiter(per_minute)
