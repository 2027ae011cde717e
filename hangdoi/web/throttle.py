"""Rate limits, on Flask-Limiter and the `limits` library beneath it.

Routes declare theirs with `limiter.limit(...)` where they are defined. Sign-ins are counted here
directly, since what counts is a failure, per address and per (address, username): a guesser is
slowed at his own address, while the officer at her own counter signs in as usual (a lock on the
account let anyone lock anyone out). Each process counts in memory, or all share Redis when the
installation has it; when Redis cannot be reached the count falls back to process memory (a limit
is abuse protection, and a citizen's ticket must not depend on it).
"""
from __future__ import annotations

import ipaddress
import logging
import time

from flask import request
from flask_limiter import Limiter
from limits import RateLimitItemPerDay, RateLimitItemPerMinute, storage, strategies

log = logging.getLogger(__name__)

# Wrong passwords from one address for one username before it must wait, and the window they count in.
LOGIN_FAILURES = 5
LOGIN_WINDOW_MINUTES = 5


def client_address() -> str:
    """The address a request came from (the proxy's word for it where settings.proxies trusts it)."""
    return request.remote_addr or "unknown"


def network_key() -> str:
    """Whom a public page's limit counts: the address; for IPv6 its /64, which one household or
    phone holds whole (counting single addresses would let it rotate through billions)."""
    address = client_address()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def rate_limit(limit, key=client_address):
    """Declare a view's rate limit where the route is defined: `limit` is a setting's name (a
    number per minute, 0: no limit; or a Flask-Limiter string, "": no limit) or a Flask-Limiter string; `key` says whom it counts. Each
    application applies it with its own limiter (`apply_limits`), so two apps in one process (the
    tests) never share counts."""
    def mark(view):
        view.rate_limits = [*getattr(view, "rate_limits", []), (limit, key)]
        return view
    return mark


def make_limiter(app, settings) -> Limiter:
    """This application's Flask-Limiter, with every declared limit applied."""
    uri = settings.redis_url or "memory://"
    limiter = Limiter(key_func=client_address, app=app, storage_uri=uri, strategy="moving-window",
                      key_prefix=f"{settings.redis_channel}:limit", headers_enabled=False,
                      swallow_errors=True, in_memory_fallback_enabled=bool(settings.redis_url))
    limited = set()
    for endpoint, view in list(app.view_functions.items()):
        for limit, key in getattr(view, "rate_limits", []):
            per_minute = getattr(settings, limit, None) if isinstance(limit, str) else None
            if isinstance(per_minute, str):          # a setting that is a Flask-Limiter string
                if not per_minute.strip():
                    continue
                limit = per_minute
            elif per_minute is not None:
                if per_minute <= 0:
                    continue
                limit = f"{per_minute}/minute"
            view = limiter.limit(limit, key_func=key)(view)
            limited.add(endpoint)
        app.view_functions[endpoint] = view

    @limiter.request_filter
    def _unlimited() -> bool:
        # Flask-Limiter looks every request over for limits; only these routes have any (its
        # look cost a quarter of a kiosk's request at 300 tickets a second).
        return request.endpoint not in limited

    return limiter


class Throttles:
    """Counts that are not one route's: sign-in attempts per address (every attempt), wrong
    passwords per (address, username), and daily allowances (`take`)."""

    def __init__(self, settings):
        self.per_address = RateLimitItemPerMinute(settings.login_rate_limit_per_minute or 1)
        self.enabled = settings.login_rate_limit_per_minute > 0
        self.failures = RateLimitItemPerMinute(LOGIN_FAILURES, LOGIN_WINDOW_MINUTES)
        uri = settings.redis_url or "memory://"
        self._storage = storage.storage_from_string(uri)
        self._fallback = storage.MemoryStorage()
        self._window = strategies.MovingWindowRateLimiter(self._storage)
        self._local = strategies.MovingWindowRateLimiter(self._fallback)

    def _call(self, method: str, *args):
        try:
            return getattr(self._window, method)(*args)
        except Exception as exc:  # noqa: BLE001 — Redis down: count here rather than let anyone through
            log.warning("sign-in limits counted per process: %s", exc)
            return getattr(self._local, method)(*args)

    def _failures_key(self, username: str) -> tuple[str, str]:
        # A manager's unlock moves the username's generation on, so the slips counted under the old
        # one stop counting at every address at once. The generation outlives the window it clears.
        key = username.lower()
        return key, str(self._store("get", f"login-unlocked/{key}"))

    def retry_after(self, address: str, username: str) -> int | None:
        """Seconds to wait before this attempt may be made; None when it may be made now. Counts the
        attempt against the address."""
        if not self.enabled:
            return None
        key = self._failures_key(username)
        if not self._call("test", self.failures, "login-failures", address, *key):
            return self._wait(self.failures, "login-failures", address, *key)
        if not self._call("hit", self.per_address, "login-address", address):
            return self._wait(self.per_address, "login-address", address)
        return None

    def failed(self, address: str, username: str) -> None:
        if self.enabled:
            self._call("hit", self.failures, "login-failures", address, *self._failures_key(username))

    def forget(self, address: str, username: str) -> None:
        """After a successful sign-in, earlier slips at this address no longer count."""
        if self.enabled:
            self._call("clear", self.failures, "login-failures", address, *self._failures_key(username))

    def unlock(self, username: str) -> None:
        """A manager lets an officer sign in again at once, wherever the wrong passwords came from."""
        self._store("incr", f"login-unlocked/{username.lower()}", LOGIN_WINDOW_MINUTES * 60 * 2)

    def _store(self, method: str, *args):
        try:
            return getattr(self._storage, method)(*args)
        except Exception as exc:  # noqa: BLE001 — Redis down: as the counts, kept in this process
            log.warning("sign-in limits kept per process: %s", exc)
            return getattr(self._fallback, method)(*args)

    def allow(self, name: str, key: str, per_minute: int) -> bool:
        """One of `per_minute` for (name, key) in a moving minute; False when none is left (0: no limit)."""
        return per_minute <= 0 or self._call("hit", RateLimitItemPerMinute(per_minute), name, key)

    def take(self, name: str, key: str, per_day: int) -> bool:
        """One of `per_day` for (name, key) today (a moving day); False when none is left."""
        return self._call("hit", RateLimitItemPerDay(per_day), name, key)

    def _wait(self, item, *identifiers) -> int:
        try:
            reset, _remaining = self._call("get_window_stats", item, *identifiers)
        except Exception:  # noqa: BLE001
            return 60
        return max(1, int(reset - time.time()) + 1)
