"""Settled days, read once: a month report should not re-read 30 000 timelines that cannot change.

A local day is settled when it is over, none of its tickets is still open, and the rating window
after its last possible finish has passed: nothing can be appended to its tickets' timelines any
more (close-day and ratings are the only late writers). Settled days' visits are kept on the
Database object (so a test's fresh database starts empty), least recently used first out, up to
MAX_VISITS in all; days not settled are always read afresh.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hangdoi.engine.ratings import RATING_MINUTES
from hangdoi.engine.sql import Tx
from hangdoi.services.reports.timeline import Visit, visits

MAX_VISITS = 120_000


class SettledDays:
    def __init__(self):
        self._lock = threading.Lock()
        self._days: OrderedDict[tuple[int, date], list[Visit]] = OrderedDict()
        self._size = 0

    def get(self, centre_id: int, day: date) -> list[Visit] | None:
        with self._lock:
            found = self._days.get((centre_id, day))
            if found is not None:
                self._days.move_to_end((centre_id, day))
            return found

    def put(self, centre_id: int, day: date, found: list[Visit]) -> None:
        with self._lock:
            if (centre_id, day) in self._days:
                return
            self._days[(centre_id, day)] = found
            self._size += len(found)
            while self._size > MAX_VISITS and len(self._days) > 1:
                _, dropped = self._days.popitem(last=False)
                self._size -= len(dropped)


def settled_cache(db) -> SettledDays:
    if db.settled_days is None:
        db.settled_days = SettledDays()
    return db.settled_days


def visits_of_days(db, tx: Tx, centre_id: int, first: date, last: date, tz_name: str) -> list[Visit]:
    """The visits of first..last, settled days from memory, the rest from the timeline."""
    cache = settled_cache(db)
    settled = _settled_days(tx, centre_id, first, last, tz_name, db.clock.now())
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    by_day = {day: cache.get(centre_id, day) for day in days if day in settled}
    found: list[Visit] = []
    for run_first, run_last in _missing_runs(days, by_day):
        fresh: dict[date, list[Visit]] = {}
        for visit in visits(tx, centre_id, run_first, run_last, tz_name):
            fresh.setdefault(visit.local_day, []).append(visit)
        for day in (d for d in days if run_first <= d <= run_last):
            if day in settled:
                by_day[day] = fresh.get(day, [])
                cache.put(centre_id, day, by_day[day])
            else:
                by_day[day] = None
                found.extend(fresh.get(day, []))
    for day in days:
        if by_day.get(day):
            found.extend(by_day[day])
    return found


def _settled_days(tx: Tx, centre_id: int, first: date, last: date, tz_name: str, now: datetime) -> set[date]:
    local_now = now.astimezone(ZoneInfo(tz_name))
    # Finished a second before midnight, rated up to RATING_MINUTES later.
    last_settled = (local_now - timedelta(minutes=RATING_MINUTES + 1)).date() - timedelta(days=1)
    unsettled = {Tx.read_day(r["local_day"]) for r in tx.rows(
        "SELECT DISTINCT local_day FROM ticket WHERE centre_id = :centre AND local_day >= :first "
        "AND local_day <= :last AND status IN ('waiting', 'called', 'serving')",
        centre=centre_id, first=tx.day(first), last=tx.day(last))}
    return {first + timedelta(days=i) for i in range((min(last, last_settled) - first).days + 1)} - unsettled


def _missing_runs(days: list[date], by_day: dict) -> list[tuple[date, date]]:
    """Consecutive days with nothing in memory, as (first, last) ranges to read in one go each."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if by_day.get(day) is not None:
            continue
        if runs and runs[-1][1] == day - timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
