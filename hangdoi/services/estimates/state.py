"""The live queue as plain data, in minutes since the centre's local midnight: what every estimator
reads. One consistent read of the database; nothing here knows how waits are estimated."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from hangdoi.clock import local_day
from hangdoi.engine.booking_rules import rules_of
from hangdoi.engine.hours import DEFAULT_HOURS, parse_hhmm
from hangdoi.engine.sql import Tx
from hangdoi.models import BACKUP, BOOKED, CHECKED_IN, EXPIRED, ORIGIN_BOOKED, PRIMARY, SERVING, SLOT

RECENT_PER_SERVICE = 10      # today's latest calls kept per service: the baselines (les, rolling) look no further
PIECE = 500                  # waiting tickets read between two pauses
RECENT_ARRIVALS_MINUTES = 60  # today's walk-ins counted over this last stretch (a market morning's crowd)


@dataclass(frozen=True, slots=True)
class WaitingTicket:
    id: int
    service_id: int
    priority: bool
    queued: float                  # when it joined the queue (a transfer keeps the issue time)
    issued: float
    target_counter: int | None     # transferred to this very counter


@dataclass(frozen=True, slots=True)
class OpenCounter:
    id: int
    officer_id: int
    primary: tuple[int, ...]
    backup: tuple[int, ...]
    paused: bool
    busy_service: int | None       # the ticket it holds (called or being served), if any
    busy_since: float | None       # when that ticket was called
    priority_streak: int
    paused_since: float | None = None
    busy_serving: bool = False         # the citizen it holds came and is being served (not only called)


@dataclass(frozen=True, slots=True)
class ClosedCounter:
    """A counter nobody is signed in at now: it may open later today (hangdoi/services/estimates/model.py
    learns when each counter usually opens)."""
    id: int
    primary: tuple[int, ...]
    backup: tuple[int, ...]


@dataclass(slots=True)
class QueueState:
    centre_id: int
    day: date
    now: float
    sessions: list[tuple[float, float]]
    counters: list[OpenCounter]
    waiting: list[WaitingTicket]               # in queue order (queued time, then id)
    closed: list[ClosedCounter] = field(default_factory=list)
    services: list[int] = field(default_factory=list)
    priority_streak_limit: int = 0
    open_all_hours: bool = False                # the centre issues tickets at any hour
    # Per service, today's latest calls (RECENT_PER_SERVICE at most), latest first: (called, waited) in minutes.
    recent_calls: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    # Today's appointments not checked in yet that may still be: (service, slot start in minutes).
    # Most will come and be called before the walk-ins from their slot on.
    expected: list[tuple[int, float]] = field(default_factory=list)
    booked_show: float = 0.85                  # the share of booked citizens who come (learned)
    # Walk-in and remote numbers issued in the last RECENT_ARRIVALS_MINUTES (booked ones are counted
    # by `expected`): against the usual for those minutes, whether today is busier than usual.
    # None: not known (a hand-built state); the usual rates are taken as they are.
    recent_arrivals: int | None = None

    def closes(self) -> float:
        return self.sessions[-1][1] if self.sessions else 24 * 60.0


def minutes_since_midnight(instant: datetime, midnight: datetime) -> float:
    return (instant - midnight).total_seconds() / 60


def today_sessions(centre: dict, day: date) -> list[tuple[float, float]]:
    hours = centre["opening_hours"] or DEFAULT_HOURS
    if day.isoformat() in (centre["closed_days"] or []) or \
            day.weekday() not in hours.get("weekdays", DEFAULT_HOURS["weekdays"]):
        return []
    sessions = hours.get("sessions") or [["00:00", "23:59"]]
    return [(_minutes(parse_hhmm(a)), _minutes(parse_hhmm(b))) for a, b in sessions]


def _minutes(at: time) -> float:
    return at.hour * 60 + at.minute


def read_state(tx: Tx, centre_id: int, now: datetime, pause: Callable[[], None] = lambda: None,
               recent_calls: bool = False) -> QueueState:
    """`pause` is called between pieces of a long queue (the live server lets requests run then).
    `recent_calls`: also today's latest calls per service, which only the simulator's baselines read."""
    centre = tx.centre(centre_id)
    day = local_day(now, centre["timezone"])
    midnight = datetime.combine(day, time(), ZoneInfo(centre["timezone"]))

    def minutes(value) -> float:
        return minutes_since_midnight(tx.read_instant(value), midnight)

    counters, closed = _counters(tx, centre_id, minutes)
    return QueueState(
        centre_id=centre_id, day=day, now=minutes_since_midnight(now, midnight),
        sessions=today_sessions(centre, day), counters=counters, closed=closed,
        waiting=_waiting(tx, centre_id, day, minutes, pause),
        services=[r["id"] for r in tx.rows("SELECT id FROM service WHERE centre_id = :centre AND active = :yes "
                                           "ORDER BY id", centre=centre_id, yes=True)],
        priority_streak_limit=int(centre["settings"].get("priority_streak_limit") or 0),
        open_all_hours=bool(centre["settings"].get("accept_outside_hours")),
        recent_calls=_recent_calls(tx, centre_id, day, minutes) if recent_calls else {},
        recent_arrivals=_recent_arrivals(tx, centre_id, day, now),
        **_appointments(tx, centre, day, minutes_since_midnight(now, midnight)))


# A checked-in appointment is called before the walk-ins (hangdoi/engine/policy.py) from its slot,
# at most `early_minutes` away: the forecast puts it ahead of them, in the order of the slots.
APPOINTMENT_AHEAD = 24 * 60


# Booked citizens who came, over the last weeks: below this many finished bookings, the default.
SHOW_DAYS, SHOW_MIN_BOOKINGS = 28, 20


def _appointments(tx: Tx, centre: dict, day: date, now: float) -> dict:
    """Today's bookings that may still check in on time, and how many booked citizens come."""
    rows = tx.rows("SELECT service_id, start FROM booking WHERE centre_id = :c AND local_day = :d AND status = :booked "
                   "AND kind = :slot", c=centre["id"], d=tx.day(day), booked=BOOKED, slot=SLOT)
    if not rows:
        return {}
    late = rules_of(centre["settings"]).late_minutes
    expected = [(r["service_id"], due) for r in rows
                if (due := _minutes(parse_hhmm(r["start"]))) + late >= now]
    counts = {r["status"]: r["n"] for r in tx.rows(
        "SELECT status, count(*) AS n FROM booking WHERE centre_id = :c AND kind = :slot AND local_day < :d "
        "AND local_day >= :since AND status IN (:came, :missed) GROUP BY status",
        c=centre["id"], slot=SLOT, d=tx.day(day), since=tx.day(day - timedelta(days=SHOW_DAYS)),
        came=CHECKED_IN, missed=EXPIRED)}
    finished = counts.get(CHECKED_IN, 0) + counts.get(EXPIRED, 0)
    found = {"expected": expected}
    if finished >= SHOW_MIN_BOOKINGS:
        found["booked_show"] = counts.get(CHECKED_IN, 0) / finished
    return found


def _waiting(tx: Tx, centre_id: int, day: date, minutes, pause: Callable[[], None]) -> list[WaitingTicket]:
    """The queue as the forecast plays it. A remote number not checked in yet is in it at its place:
    its holder is told to come in time to take it (hangdoi/services/notify.py), and leaving it out
    made every estimate behind it, and its own, too short."""
    waiting = []
    appointments = False
    for piece in tx.row_pieces(
            "SELECT id, service_id, priority_id, queued_at, issued_at, target_counter_id, due_at FROM ticket "
            "WHERE centre_id = :centre AND local_day = :day AND status IN ('waiting', 'remote') "
            "ORDER BY queued_at, id",
            PIECE, centre=centre_id, day=tx.day(day)):
        for r in piece:
            due = r["due_at"] is not None and r["priority_id"] is None
            appointments = appointments or due
            queued = minutes(r["due_at"]) - APPOINTMENT_AHEAD if due else minutes(r["queued_at"])
            waiting.append(WaitingTicket(r["id"], r["service_id"], r["priority_id"] is not None, queued,
                                         minutes(r["issued_at"]), r["target_counter_id"]))
        pause()
    if appointments:
        waiting.sort(key=lambda t: (t.queued, t.id))
    return waiting


def _counters(tx: Tx, centre_id: int, minutes) -> tuple[list[OpenCounter], list[ClosedCounter]]:
    rows = tx.rows(
        "SELECT c.id, c.paused, c.priority_streak, s.officer_id, t.service_id AS busy_service, t.called_at, t.status AS busy_status, "
        "(SELECT max(e.at) FROM counter_event e WHERE e.counter_id = c.id AND e.kind = 'paused') AS paused_at "
        "FROM counter c LEFT JOIN counter_session s ON s.counter_id = c.id AND s.ended_at IS NULL "
        "LEFT JOIN ticket t ON t.counter_id = c.id AND t.status IN ('called', 'serving') "
        "WHERE c.centre_id = :centre AND c.active = :yes ORDER BY c.number, c.id", centre=centre_id, yes=True)
    links = tx.rows("SELECT cs.counter_id, cs.service_id, cs.role FROM counter_service cs JOIN counter c "
                    "ON c.id = cs.counter_id WHERE c.centre_id = :centre ORDER BY cs.service_id", centre=centre_id)
    roles: dict[tuple[int, str], list[int]] = {}
    for link in links:
        roles.setdefault((link["counter_id"], link["role"]), []).append(link["service_id"])
    open_, closed = [], []
    for r in rows:
        primary, backup = tuple(roles.get((r["id"], PRIMARY), ())), tuple(roles.get((r["id"], BACKUP), ()))
        if r["officer_id"] is None:
            closed.append(ClosedCounter(r["id"], primary, backup))
            continue
        paused_since = minutes(r["paused_at"]) if r["paused"] and r["paused_at"] is not None else None
        open_.append(OpenCounter(r["id"], r["officer_id"], primary, backup, bool(r["paused"]), r["busy_service"],
                                 minutes(r["called_at"]) if r["called_at"] is not None else None,
                                 r["priority_streak"], paused_since, r["busy_status"] == SERVING))
    return open_, closed


def _recent_arrivals(tx: Tx, centre_id: int, day: date, now: datetime) -> int:
    return tx.value("SELECT count(*) FROM ticket WHERE centre_id = :centre AND local_day = :day "
                     "AND issued_at > :since AND issued_at <= :now AND (origin IS NULL OR origin <> :booked)",
                     centre=centre_id, day=tx.day(day), booked=ORIGIN_BOOKED,
                     since=tx.instant(now - timedelta(minutes=RECENT_ARRIVALS_MINUTES)), now=tx.instant(now))


def _recent_calls(tx: Tx, centre_id: int, day: date, minutes) -> dict[int, list[tuple[float, float]]]:
    calls: dict[int, list[tuple[float, float]]] = {}
    for r in tx.rows("SELECT service_id, issued_at, called_at FROM (SELECT service_id, issued_at, called_at, id, "
                     "row_number() OVER (PARTITION BY service_id ORDER BY called_at DESC, id DESC) AS n "
                     "FROM ticket WHERE centre_id = :centre AND local_day = :day AND called_at IS NOT NULL) latest "
                     "WHERE n <= :n ORDER BY called_at DESC, id DESC",
                     centre=centre_id, day=tx.day(day), n=RECENT_PER_SERVICE):
        called = minutes(r["called_at"])
        calls.setdefault(r["service_id"], []).append((called, called - minutes(r["issued_at"])))
    return calls
