"""Report figures over a range of local days, grouped one way: the numbers a centre hands the province.

Each row (and the totals) holds counts of tickets by how they ended, waiting and service time in
minutes (mean, median, P90 by nearest rank, max), the share of called tickets whose wait was
within the centre's target, and satisfaction counts with reasons. Time groupings (day, week,
month, hour of day) list every period of the range, so a day without tickets is a row of zeros.
"""
from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from datetime import date, timedelta
from typing import Callable, Iterable

from hangdoi.clock import local_day
from hangdoi.engine import state
from hangdoi.engine.errors import Invalid, NotFound
from hangdoi.engine.hours import DEFAULT_HOURS
from hangdoi.engine.ratings import REASONS
from hangdoi.engine.sql import Tx
from hangdoi.services.reports.settled import visits_of_days
from hangdoi.services.reports.timeline import Visit

GROUPINGS = ("day", "week", "month", "hour", "domain", "service", "counter", "officer", "priority")
MAX_DAYS = 731
ENDINGS = ("done", "no_show", "cancelled", "closed")
OPEN = ("waiting", "called", "serving")


def build_report(db, centre_id: int, first: date | None = None, last: date | None = None,
                 by: str = "day") -> dict:
    """Figures for the local days first..last (both included); without dates, the centre's today,
    and without `last`, the one day `first`."""
    return build_reports(db, centre_id, first, last, (by,))[by]


def build_reports(db, centre_id: int, first: date | None, last: date | None, groupings) -> dict[str, dict]:
    """The same range grouped several ways, reading the timeline once: {grouping: report}."""
    for by in groupings:
        if by not in GROUPINGS:
            raise Invalid("report_bad_grouping", choices=", ".join(GROUPINGS))
    with db.read() as session:
        tx = Tx(session)
        centre = tx.centre(centre_id)
        if centre is None:
            raise NotFound("centre_not_found")
        first = first or local_day(db.clock.now(), centre["timezone"])
        last = last or first
        if last < first:
            raise Invalid("report_dates_reversed")
        if (last - first).days >= MAX_DAYS:
            raise Invalid("report_range_too_long", days=MAX_DAYS)
        names = _Names(tx, centre_id)
        found = visits_of_days(db, tx, centre_id, first, last, centre["timezone"])
        booked = bookings_of_days(tx, centre_id, first, last)
    sla = int(centre["settings"].get("sla_minutes", state.SLA_MINUTES))
    totals = {**summarise(found, sla), "bookings": booked}
    head = {"centre": {"name": centre["name"], "timezone": centre["timezone"]},
            "from": first.isoformat(), "to": last.isoformat(), "sla_minutes": sla}
    return {by: {**head, "by": by, "totals": totals, "rows": _rows(by, found, first, last, centre, names, sla),
                 "reasons": REASONS} for by in groupings}


def bookings_of_days(tx: Tx, centre_id: int, first: date, last: date) -> dict:
    """Bookings and remote numbers of the days: how many came, and the booked no-show rate (slot
    bookings whose window passed with nobody, of those not cancelled)."""
    counts: Counter = Counter()
    for _day, kind, status, late, n in booking_counts(tx, centre_id, first, last):
        counts[(kind, status, late)] += n
    return booking_figures(counts)


def booking_counts(tx: Tx, centre_id: int, first: date, last: date) -> list[tuple]:
    """(local day, kind, status, late, how many) of the days' bookings: what a province sums."""
    return [(tx.read_day(r["local_day"]), r["kind"], r["status"], bool(r["late"]), r["n"]) for r in tx.rows(
        "SELECT local_day, kind, status, late, count(*) AS n FROM booking WHERE centre_id = :c AND local_day >= :first "
        "AND local_day <= :last GROUP BY local_day, kind, status, late", c=centre_id, first=tx.day(first),
        last=tx.day(last))]


def booking_figures(counts: Counter) -> dict:
    """The bookings' figures from counts by (kind, status, late)."""
    def n(kind, status, late=None):
        return sum(v for (k, s, l), v in counts.items() if k == kind and s == status and (late is None or l == late))

    came, late, missed = n("slot", "checked_in", False), n("slot", "checked_in", True), n("slot", "expired")
    kept = came + late + missed
    return {"booked": kept + n("slot", "booked"), "came": came, "came_late": late, "no_show": missed,
            "cancelled": n("slot", "cancelled"), "no_show_rate": round(missed / kept, 4) if kept else None,
            "remote_taken": sum(v for (k, _s, _l), v in counts.items() if k == "remote"),
            "remote_came": n("remote", "checked_in"), "remote_expired": n("remote", "expired"),
            "remote_cancelled": n("remote", "cancelled")}


def _rows(by: str, found: list[Visit], first: date, last: date, centre: dict, names: "_Names", sla: int) -> list:
    key_of, periods = _grouping(by, first, last, centre, names)
    groups: dict = {key: [] for key in periods}
    for visit in found:
        groups.setdefault(key_of(visit), []).append(visit)
    return [{"key": _plain(key), "label": names.label(by, key), **summarise(members, sla)}
            for key, members in _ordered(groups, by, names)]


VN_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_day(value: str | None, field: str) -> date | None:
    """A date from a query string, as a person types it (06/12/2026, day first, whatever the
    browser's language) or as links and the API write it (2026-12-06); None when not given."""
    if not value:
        return None
    try:
        found = VN_DAY.fullmatch(value.strip())
        if found:
            return date(int(found[3]), int(found[2]), int(found[1]))
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("report_bad_date", field=field) from None


def summarise(members: list[Visit], sla_minutes: int) -> dict:
    endings = Counter(v.outcome for v in members)
    waits = [v.wait_ms / 1000 for v in members if v.called]
    services = [v.service_ms / 1000 for v in members if v.outcome == "done"]
    rated = [v for v in members if v.rating is not None]
    reasons = Counter(r for v in rated for r in v.reasons)
    return {
        "issued": len(members),
        "served": endings["done"], "no_show": endings["no_show"],
        "cancelled": endings["cancelled"], "closed": endings["closed"],
        "open": sum(endings[s] for s in OPEN),
        "transferred": sum(1 for v in members if v.transferred),
        "wait_minutes": _spread(waits),
        "service_minutes": _spread(services),
        "within_target": (round(sum(1 for w in waits if w <= sla_minutes * 60) / len(waits), 4)
                          if waits else None),
        "ratings": _ratings(rated, reasons),
        "origins": {"walk_in": sum(1 for v in members if v.origin is None),
                    "remote": sum(1 for v in members if v.origin == "remote"),
                    "booked": sum(1 for v in members if v.origin == "booked")},
        "punctuality_minutes": _signed_spread([(v.first_called_at - v.due_at) / 1000 for v in members
                                               if v.due_at is not None and v.first_called_at is not None]),
        "notifications": {"sent": sum(v.notices_sent for v in members),
                          "failed": sum(v.notices_failed for v in members),
                          "lead_minutes": _spread([(v.first_called_at - v.near_at) / 1000 for v in members
                                                   if v.near_at is not None and v.first_called_at is not None
                                                   and v.first_called_at >= v.near_at])},
    }


def _signed_spread(seconds: list[float]) -> dict:
    """Median and P90 of values that may be below zero (an appointment called before its slot)."""
    if not seconds:
        return {"median": None, "p90": None, "n": 0}
    ordered = sorted(seconds)
    return {"median": _minutes(statistics.median(ordered)), "p90": _minutes(ordered[math.ceil(0.9 * len(ordered)) - 1]),
            "n": len(ordered)}


def _ratings(rated: list[Visit], reasons: Counter) -> dict:
    counts = Counter(v.rating for v in rated)
    total = len(rated)
    # On the common scale (hangdoi/engine/ratings.py): "neutral" only from 5-level ratings, never satisfied.
    return {"1": counts[1], "neutral": counts[0], "2": counts[2], "3": counts[3], "total": total,
            "share": {level: round(counts[0 if level == "neutral" else int(level)] / total, 4) if total else None
                      for level in ("1", "neutral", "2", "3")},
            "reasons": dict(sorted(reasons.items()))}


def _spread(seconds: list[float]) -> dict:
    if not seconds:
        return {"mean": None, "median": None, "p90": None, "max": None}
    ordered = sorted(seconds)
    nearest_p90 = ordered[math.ceil(0.9 * len(ordered)) - 1]
    return {"mean": _minutes(statistics.fmean(ordered)), "median": _minutes(statistics.median(ordered)),
            "p90": _minutes(nearest_p90), "max": _minutes(ordered[-1])}


def _minutes(seconds: float) -> float:
    return round(seconds / 60, 1)


# -- grouping -----------------------------------------------------------------------------------
def _grouping(by: str, first: date, last: date, centre: dict, names: "_Names"
              ) -> tuple[Callable[[Visit], object], list]:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    if by == "day":
        return (lambda v: v.local_day), days
    if by == "week":
        return (lambda v: _monday(v.local_day)), list(dict.fromkeys(_monday(d) for d in days))
    if by == "month":
        return (lambda v: v.local_day.replace(day=1)), list(dict.fromkeys(d.replace(day=1) for d in days))
    if by == "hour":
        return (lambda v: v.issue_hour), _opening_hours(centre)
    if by == "domain":
        return (lambda v: names.domain_of.get(v.service_id)), []
    if by == "service":
        return (lambda v: v.service_id), []
    if by == "counter":
        return (lambda v: v.counter_id), []
    if by == "officer":
        return (lambda v: v.officer_id), []
    return (lambda v: v.priority_id), []


def _ordered(groups: dict, by: str, names: "_Names") -> Iterable[tuple[object, list[Visit]]]:
    if by in ("day", "week", "month", "hour"):
        return sorted(groups.items())
    # Entities in their configured order; "none" (never called, no priority) last.
    return sorted(groups.items(), key=lambda item: (item[0] is None, names.order(by, item[0])))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _opening_hours(centre: dict) -> list[int]:
    sessions = (centre["opening_hours"] or DEFAULT_HOURS).get("sessions", [])
    hours: set[int] = set()
    for start, end in sessions:
        first_hour, (last_hour, last_minute) = int(start[:2]), (int(end[:2]), int(end[3:5]))
        hours.update(range(first_hour, last_hour + (1 if last_minute else 0)))
    return sorted(hours)


def _plain(key):
    return key.isoformat() if isinstance(key, date) else key


class _Names:
    """Labels and order for every entity a report row can name, read once per report."""

    def __init__(self, tx: Tx, centre_id: int):
        self.services = {r["id"]: r for r in tx.rows(
            "SELECT s.id, s.code, s.name, s.domain_id, s.position, d.position AS domain_position "
            "FROM service s JOIN domain d ON d.id = s.domain_id WHERE s.centre_id = :c", c=centre_id)}
        self.domain_of = {sid: r["domain_id"] for sid, r in self.services.items()}
        self.domains = {r["id"]: r for r in tx.rows(
            "SELECT id, code, name, position FROM domain WHERE centre_id = :c", c=centre_id)}
        self.counters = {r["id"]: r for r in tx.rows(
            "SELECT id, number, name FROM counter WHERE centre_id = :c", c=centre_id)}
        self.officers = {r["id"]: r for r in tx.rows(
            "SELECT id, username, full_name FROM officer WHERE centre_id = :c", c=centre_id)}
        self.priorities = {r["id"]: r for r in tx.rows(
            "SELECT id, code, name, position FROM priority_category WHERE centre_id = :c", c=centre_id)}

    def label(self, by: str, key) -> str:
        if by == "day":
            return key.strftime("%d/%m/%Y")
        if by == "week":
            return f"{key.strftime('%d/%m')}–{(key + timedelta(days=6)).strftime('%d/%m/%Y')}"
        if by == "month":
            return key.strftime("%m/%Y")
        if by == "hour":
            return f"{key:02d}:00–{key:02d}:59"
        if key is None:
            return NONE_LABELS[by]
        if by == "domain":
            return self.domains[key]["name"]
        if by == "service":
            return f"{self.services[key]['code']} — {self.services[key]['name']}"
        if by == "counter":
            return self.counters[key]["name"]
        if by == "officer":
            return self.officers[key]["full_name"]
        return self.priorities[key]["name"]

    def order(self, by: str, key):
        if key is None:
            return (0,)
        if by == "domain":
            return (self.domains[key]["position"], key)
        if by == "service":
            service = self.services[key]
            return (service["domain_position"], service["position"], key)
        if by == "counter":
            return (self.counters[key]["number"],)
        if by == "officer":
            return (self.officers[key]["full_name"], key)
        return (self.priorities[key]["position"], key)


NONE_LABELS = {"domain": "—", "service": "—", "counter": "Chưa được gọi", "officer": "Chưa được gọi",
               "priority": "Không ưu tiên"}
