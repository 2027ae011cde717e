"""Read a range of local days from the ticket timeline and fold each ticket's events into one
`Visit`: what happened to one citizen's ticket, in the figures reports are made of.

Definitions (the report page and README say the same):
- waiting time: every spell the ticket spent waiting that ended in a call, added up (issue → call,
  and again after a transfer or a return to the queue → the next call); a ticket never called
  has no waiting time, it counts as not served;
- service time: from "start serving" (or from the call, when finished without starting) to
  finish, plus any time served before a transfer or a return to the queue;
- the ticket counts for the service, counter and officer where it ended (the last call's counter
  and officer); `transferred` says it was moved at least once;
- a number taken from a phone waits from its check-in, not from when it was taken at home; an
  appointment's ticket is issued at its check-in, and its punctuality is its first call minus
  its slot's start.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from hangdoi.engine.sql import Tx


@dataclass(slots=True)
class Visit:
    ticket_id: int
    local_day: date
    issue_hour: int
    priority_id: int | None
    service_id: int
    issued_at: int = 0                 # milliseconds since the epoch, as every time below
    outcome: str = "waiting"           # the ticket's status after its last event
    counter_id: int | None = None
    officer_id: int | None = None
    called: bool = False
    transferred: bool = False
    wait_ms: int = 0
    service_ms: int = 0
    rating: int | None = None
    reasons: tuple[str, ...] = ()
    origin: str | None = None          # None: a walk-in; "remote", "booked"
    due_at: int | None = None          # an appointment's slot start
    first_called_at: int | None = None
    near_at: int | None = None         # when "your turn is near" went out
    notices_sent: int = 0
    notices_failed: int = 0


# Instants come back as milliseconds since the epoch: parsing 100 000 timestamps into datetimes would
# cost more than the whole report may take.
# Likewise a rating's level is read by the database, on the common scale; only the rare unhappy one's
# reasons are parsed here.
# Whole milliseconds, so sums and means come out exact.
EPOCH = {"sqlite": "CAST(round((julianday(at) - 2440587.5) * 86400000.0) AS INTEGER)",
         "postgresql": "(date_part('epoch', at) * 1000)::bigint"}
LEVEL = {"sqlite": "json_extract(data, '$.level')", "postgresql": "(data->>'level')::int"}
SCALE = {"sqlite": "json_extract(data, '$.scale')", "postgresql": "(data->>'scale')::int"}
# The level on the common scale (hangdoi/engine/ratings.py: COMMON), 5-level ratings converted.
COMMON_LEVEL = ("CASE WHEN {scale} = 5 THEN (CASE {level} WHEN 1 THEN 1 WHEN 2 THEN 1 WHEN 3 THEN 0 WHEN 4 THEN 2 "
                "WHEN 5 THEN 3 END) ELSE {level} END")
TICKETS_SQL = ("SELECT id, local_day, priority_id, service_id, {epoch}, origin, {due} FROM ticket "
               "WHERE centre_id = :centre AND local_day >= :first AND local_day <= :last ORDER BY id")
# Ticket ids grow with time, so the days' tickets lie in one id range, and the index on
# (ticket_id, id) hands their events over already in order: no join, no sort. The issue time
# comes with the ticket and a recall changes no figure, so neither event is read.
EVENTS_SQL = (
    "SELECT ticket_id, kind, {epoch}, status, service_id, counter_id, officer_id, "
    "CASE WHEN kind = 'rated' THEN {level} END AS level, "
    "CASE WHEN (kind = 'rated' AND {level} = 1) OR kind = 'notified' THEN data END FROM ticket_event "
    "WHERE ticket_id >= :low AND ticket_id <= :high AND centre_id = :centre "
    "AND kind <> 'issued' AND kind <> 'recalled' ORDER BY ticket_id, id")


def visits(tx: Tx, centre_id: int, first: date, last: date, tz_name: str) -> list[Visit]:
    """Every ticket of the days first..last, its events folded in order (one pass, kept flat:
    this loop is most of a month report's time)."""
    tz = ZoneInfo(tz_name)
    dialect = "postgresql" if tx.postgres else "sqlite"
    days: dict = {}
    found = {}
    tickets_sql = TICKETS_SQL.format(epoch=EPOCH[dialect].replace("at)", "issued_at)"),
                                     due=f"CASE WHEN due_at IS NOT NULL THEN {EPOCH[dialect].replace('at)', 'due_at)')} END")
    for ticket_id, day, priority, service_id, issued, origin, due in _fetch(
            tx, tickets_sql, centre=centre_id, first=tx.day(first), last=tx.day(last)):
        local, offset_ms = days.get(day) or days.setdefault(day, _day_and_offset(day, tz))
        found[ticket_id] = Visit(ticket_id, local, (issued + offset_ms) // 3_600_000 % 24, priority, service_id,
                                 issued_at=issued, origin=origin, due_at=due)
    if not found:
        return []
    level = COMMON_LEVEL.format(scale=SCALE[dialect], level=LEVEL[dialect])
    events = _fetch(tx, EVENTS_SQL.format(epoch=EPOCH[dialect], level=level),
                    low=min(found), high=max(found), centre=centre_id)
    fold(found, events)
    return list(found.values())


def fold(found: dict[int, Visit], events) -> None:
    """Fold events into the visits they belong to. `events`: (ticket id, kind, at in ms, status,
    service, counter, officer, rating level, data) tuples, each ticket's in the order they happened
    and the tickets one after the other; events of tickets not in `found` are passed over. A
    province folds its centres' pushed rows here too (hangdoi/services/reports/province.py): one
    definition of every figure, at the centre and at the province."""
    v: Visit | None = None
    wait_from = serve_from = called_at = None
    for ticket_id, kind, at, status, service_id, counter_id, officer_id, level, data in events:
        if v is None or v.ticket_id != ticket_id:
            v = found.get(ticket_id)
            if v is None:                       # in the id range, issued on another day
                continue
            wait_from, serve_from, called_at = v.issued_at, None, None
        if kind == "rated":
            v.rating = level
            v.reasons = tuple((Tx.read_json(data) or {}).get("reasons") or ()) if data is not None else ()
            continue
        if kind == "notified":
            notice = Tx.read_json(data) or {}
            if notice.get("outcome") == "sent":
                v.notices_sent += 1
                if notice.get("what") == "near":
                    v.near_at = at
            elif notice.get("outcome") == "failed":
                v.notices_failed += 1
            continue
        if kind == "checked_in" and v.origin == "remote":
            wait_from = at                      # the time before was spent at home, not in the hall
        v.outcome, v.service_id = status, service_id
        if kind == "called":
            if wait_from is not None:
                v.wait_ms += at - wait_from
            wait_from, serve_from, called_at = None, None, at
            v.called, v.counter_id, v.officer_id = True, counter_id, officer_id
            if v.first_called_at is None:
                v.first_called_at = at
        elif kind == "started":
            serve_from = at
        elif kind == "finished":
            since = serve_from if serve_from is not None else called_at
            if since is not None:
                v.service_ms += at - since
            serve_from = None
        elif kind == "transferred" or kind == "requeued":
            v.transferred = v.transferred or kind == "transferred"
            if serve_from is not None:
                v.service_ms += at - serve_from
            wait_from, serve_from, called_at = at, None, None


def _fetch(tx: Tx, sql: str, **params):
    tx.cursor.execute(tx._dialect(sql), params)
    return tx.cursor.fetchall()


def _day_and_offset(day, tz: ZoneInfo) -> tuple[date, int]:
    """The local day, and its offset from UTC in milliseconds (taken at noon: clocks change at night)."""
    local = Tx.read_day(day)
    return local, int(tz.utcoffset(datetime(local.year, local.month, local.day, 12)).total_seconds() * 1000)
