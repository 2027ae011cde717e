"""One engine change = one database transaction = one realtime sequence number.

`transact(db, body)` runs `body(work)` inside a write transaction. The body reads and changes rows
and records timeline events on `work`; when it returns, the centre's `seq` is bumped (the last
statement, so the row lock on PostgreSQL is held only for the commit), the events get that seq,
the transaction commits, and only then is the `Change` handed to the database's commit listeners.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..clock import local_day
from ..models import WAITING, Centre, Counter, CounterEvent, Ticket, TicketEvent
from . import views

log = logging.getLogger(__name__)
T = TypeVar("T")

# PostgreSQL: serialization failure, deadlock. Both mean "nothing happened, run it again".
RETRYABLE_SQLSTATES = {"40001", "40P01"}
ATTEMPTS = 4


@dataclass
class Change:
    """What one committed transaction did, as plain data for the realtime projection."""

    centre_id: int
    seq: int
    at: datetime
    tickets: list[dict] = field(default_factory=list)
    counters: list[dict] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)
    queues: dict[int, int] = field(default_factory=dict)


class Work:
    def __init__(self, session, now: datetime):
        self.session = session
        self.now = now
        self._centre_id: int | None = None
        self._ticket_events: list[TicketEvent] = []
        self._counter_events: list[CounterEvent] = []
        self._tickets: dict[int, Ticket] = {}
        self._counters: dict[int, Counter] = {}
        self._calls: list[tuple[Ticket, Counter, bool]] = []

    # -- recording -------------------------------------------------------------------------
    def ticket_event(self, ticket: Ticket, kind: str, officer_id: int | None = None,
                     counter_id: int | None = None, **data) -> None:
        self._bind_centre(ticket.centre_id)
        self._tickets[ticket.id] = ticket
        self._ticket_events.append(TicketEvent(
            centre_id=ticket.centre_id, ticket_id=ticket.id, kind=kind, at=self.now,
            status=ticket.status, service_id=ticket.service_id,
            counter_id=counter_id if counter_id is not None else ticket.counter_id,
            officer_id=officer_id, data=data))

    def counter_event(self, counter: Counter, kind: str, officer_id: int | None = None, **data) -> None:
        self._bind_centre(counter.centre_id)
        self._counters[counter.id] = counter
        self._counter_events.append(CounterEvent(
            centre_id=counter.centre_id, counter_id=counter.id, kind=kind, at=self.now,
            officer_id=officer_id, data=data))

    def counter_changed(self, counter: Counter) -> None:
        self._bind_centre(counter.centre_id)
        self._counters[counter.id] = counter

    def announce_call(self, ticket: Ticket, counter: Counter, recall: bool) -> None:
        self._calls.append((ticket, counter, recall))

    def today(self, centre_id: int):
        centre = self.session.get(Centre, centre_id)
        return local_day(self.now, centre.timezone)

    # -- sealing ---------------------------------------------------------------------------
    def seal(self) -> Change | None:
        if self._centre_id is None:
            return None
        self.session.flush()
        seq = self.session.execute(
            update(Centre).where(Centre.id == self._centre_id)
            .values(seq=Centre.seq + 1).returning(Centre.seq)).scalar_one()
        for event in [*self._ticket_events, *self._counter_events]:
            event.seq = seq
        self.session.add_all(self._ticket_events + self._counter_events)
        s = self.session
        change = Change(centre_id=self._centre_id, seq=seq, at=self.now)
        change.tickets = [views.ticket_view(s, t) for t in self._tickets.values()]
        touched_counters = dict(self._counters)
        for t in self._tickets.values():
            for counter_id in {t.counter_id, *(e.counter_id for e in self._ticket_events
                                               if e.ticket_id == t.id)} - {None}:
                touched_counters.setdefault(counter_id, s.get(Counter, counter_id))
        change.counters = [views.counter_view(s, c) for c in touched_counters.values()]
        change.calls = [views.call_view(s, t, c, recall) for t, c, recall in self._calls]
        change.queues = waiting_by_service(s, self._centre_id, self.today(self._centre_id))
        return change

    def _bind_centre(self, centre_id: int) -> None:
        if self._centre_id not in (None, centre_id):
            raise RuntimeError("one engine change spans one centre")
        self._centre_id = centre_id


def waiting_by_service(session, centre_id: int, day) -> dict[int, int]:
    rows = session.execute(
        select(Ticket.service_id, func.count()).where(
            Ticket.centre_id == centre_id, Ticket.local_day == day, Ticket.status == WAITING)
        .group_by(Ticket.service_id)).all()
    return {service_id: count for service_id, count in rows}


def transact(db, body: Callable[[Work], T]) -> T:
    """Run `body` in one write transaction, retrying what the database says is safe to retry."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with db.write() as session:
                work = Work(session, db.clock.now())
                result = body(work)
                change = work.seal()
            break
        except IntegrityError:
            # A unique index stopped a race the checks above could not see; run the checks again
            # on the new state so the caller gets the domain error that now applies.
            if attempt == ATTEMPTS:
                raise
            log.info("integrity conflict, retrying (attempt %d)", attempt)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in RETRYABLE_SQLSTATES or attempt == ATTEMPTS:
                raise
            time.sleep(0.005 * attempt)
    if change is not None:
        db.committed(change)
    return result
