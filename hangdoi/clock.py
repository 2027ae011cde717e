"""Time: every instant is an aware UTC datetime; "today" is always the centre's local day."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: for tests and the simulator."""

    def __init__(self, start: datetime):
        self._now = _require_aware(start).astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = _require_aware(instant).astimezone(UTC)

    def advance(self, **delta) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


def local_day(instant: datetime, tz_name: str) -> date:
    return _require_aware(instant).astimezone(ZoneInfo(tz_name)).date()


def local_time(instant: datetime, tz_name: str) -> datetime:
    return _require_aware(instant).astimezone(ZoneInfo(tz_name))


def _require_aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: every instant must carry its time zone")
    return instant
