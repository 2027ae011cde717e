"""Read a range of local days from the ticket timeline and fold each ticket's events into one
`Visit`: what happened to one citizen's ticket, in the figures reports are made of.

Definitions (the report page and README say the same):
- waiting time: every spell the ticket spent waiting that ended in a call, added up (issue → call,
  and again after a transfer or a return to the queue → the next call); a ticket never called
  has no waiting time, it counts as not served;
- service time: from "start serving" (or from the call, when finished without starting) to
  finish, plus any time served before a transfer or a return to the queue;
- the ticket counts for the service, counter and officer where it ended (the last call's counter
  and officer); `transferred` says it was moved at least once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..engine.sql import Tx


@dataclass(slots=True)
class Visit:
    ticket_id: int
    local_day: date
    issue_hour: int
    priority_id: int | None
    service_id: int
    outcome: str = "waiting"           # the ticket's status after its last event
    counter_id: int | None = None
    officer_id: int | None = None
    called: bool = False
    transferred: bool = False
    wait_seconds: float = 0.0
    service_seconds: float = 0.0
    rating: int | None = None
    reasons: list[str] = field(default_factory=list)


EVENTS_SQL = (
    "SELECT e.ticket_id, e.kind, e.at, e.status, e.service_id, e.counter_id, e.officer_id, "
    "CASE WHEN e.kind = 'rated' THEN e.data END AS data, t.local_day, t.priority_id "
    "FROM ticket t JOIN ticket_event e ON e.ticket_id = t.id "
    "WHERE t.centre_id = :centre AND t.local_day >= :first AND t.local_day <= :last "
    "ORDER BY e.ticket_id, e.id")


def visits(tx: Tx, centre_id: int, first: date, last: date, tz_name: str) -> list[Visit]:
    tz = ZoneInfo(tz_name)
    tx.cursor.execute(tx._dialect(EVENTS_SQL),
                      {"centre": centre_id, "first": tx.day(first), "last": tx.day(last)})
    found: list[Visit] = []
    visit: Visit | None = None
    fold = _Fold()
    for ticket_id, kind, at, status, service_id, counter_id, officer_id, data, day, priority in tx.cursor:
        at = Tx.read_instant(at)
        if visit is None or visit.ticket_id != ticket_id:
            visit = Visit(ticket_id, Tx.read_day(day), at.astimezone(tz).hour, priority, service_id)
            found.append(visit)
            fold.reset(at)
        fold.apply(visit, kind, at, status, service_id, counter_id, officer_id, data)
    return found


class _Fold:
    """The running clock of one ticket while its events are read in order."""

    __slots__ = ("wait_from", "serve_from", "called_at")

    def reset(self, issued_at: datetime) -> None:
        self.wait_from: datetime | None = issued_at
        self.serve_from: datetime | None = None
        self.called_at: datetime | None = None

    def apply(self, v: Visit, kind, at, status, service_id, counter_id, officer_id, data) -> None:
        if kind == "rated":
            rated = Tx.read_json(data) or {}
            v.rating, v.reasons = rated.get("level"), list(rated.get("reasons") or [])
            return
        v.outcome, v.service_id = status, service_id
        if kind == "called":
            if self.wait_from is not None:
                v.wait_seconds += (at - self.wait_from).total_seconds()
            self.wait_from, self.serve_from, self.called_at = None, None, at
            v.called, v.counter_id, v.officer_id = True, counter_id, officer_id
        elif kind == "started":
            self.serve_from = at
        elif kind == "finished":
            self._served_until(v, self.serve_from or self.called_at, at)
        elif kind in ("transferred", "requeued"):
            v.transferred = v.transferred or kind == "transferred"
            self._served_until(v, self.serve_from, at)
            self.wait_from, self.called_at = at, None

    def _served_until(self, v: Visit, since: datetime | None, at: datetime) -> None:
        if since is not None:
            v.service_seconds += (at - since).total_seconds()
        self.serve_from = None
