"""One engine change = one database transaction = one realtime sequence number.

`transact(db, body)` runs `body(work)` inside a write transaction. The body reads and changes rows
and records timeline events on `work`; when it returns, the centre's `seq` is bumped (the last
statement, so the row lock on PostgreSQL is held only for the commit), the events get that seq,
the transaction commits, and only then is the `Change` handed to the database's commit listeners.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError

from hangdoi.clock import local_day
from hangdoi.database import ConnectionDropped
from hangdoi.engine import views
from hangdoi.engine.sql import Tx

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
    # Tickets waiting per service after this change; None when a later change in the same group
    # commit (hangdoi/engine/group_commit.py) carries the count instead.
    queues: dict[int, int] | None = field(default_factory=dict)
    finished: list[dict] = field(default_factory=list)     # tickets finished now: ask for a rating


class Work:
    """What one transaction has done so far; `seal` turns it into the committed Change."""

    def __init__(self, tx: Tx, now: datetime):
        self.tx = tx
        self.now = now
        self._centre_id: int | None = None
        self._ticket_events: list[dict] = []
        self._counter_events: list[dict] = []
        self._audit_entries: list[dict] = []
        self._tickets: dict[int, dict] = {}
        self._counters: set[int] = set()
        self._calls: list[tuple[dict, int, bool]] = []
        self._finished: list[int] = []

    # -- recording -------------------------------------------------------------------------
    def ticket_event(self, ticket: dict, kind: str, officer_id: int | None = None,
                     counter_id: int | None = None, **data) -> None:
        self._bind_centre(ticket["centre_id"])
        self._tickets[ticket["id"]] = ticket
        if kind == "finished":
            self._finished.append(ticket["id"])
        at_counter = counter_id if counter_id is not None else ticket["counter_id"]
        if at_counter is not None:
            self._counters.add(at_counter)
        self._ticket_events.append({
            "centre_id": ticket["centre_id"], "ticket_id": ticket["id"], "kind": kind,
            "at": self.tx.instant(self.now), "status": ticket["status"],
            "service_id": ticket["service_id"], "counter_id": at_counter, "officer_id": officer_id,
            "data": self.tx.json(data)})

    def counter_event(self, counter: dict, kind: str, officer_id: int | None = None, **data) -> None:
        self.counter_changed(counter)
        self._counter_events.append({
            "centre_id": counter["centre_id"], "counter_id": counter["id"], "kind": kind,
            "at": self.tx.instant(self.now), "officer_id": officer_id, "data": self.tx.json(data)})

    def audit_entry(self, entry: dict) -> None:
        """An audit log row (hangdoi/engine/audit.py), written with this change's seq."""
        self._bind_centre(entry["centre_id"])
        self._audit_entries.append(entry)

    def counter_changed(self, counter: dict) -> None:
        self._bind_centre(counter["centre_id"])
        self._counters.add(counter["id"])

    def centre_changed(self, centre_id: int) -> None:
        """Something every screen should re-read (a service closed, say): bump the seq."""
        self._bind_centre(centre_id)

    def announce_call(self, ticket: dict, counter_id: int, recall: bool) -> None:
        self._calls.append((ticket, counter_id, recall))

    def today(self, centre_id: int):
        return local_day(self.now, self.tx.centre(centre_id)["timezone"])

    # -- sealing ---------------------------------------------------------------------------
    def seal(self, count_queues: bool = True) -> Change | None:
        if self._centre_id is None:
            return None
        tx, cid = self.tx, self._centre_id
        seq = tx.value("UPDATE centre SET seq = seq + 1 WHERE id = :centre RETURNING seq", centre=cid)
        for event in [*self._ticket_events, *self._counter_events, *self._audit_entries]:
            event["seq"] = seq
        tx.execute_many(
            "INSERT INTO ticket_event (centre_id, ticket_id, seq, kind, at, status, service_id, "
            "counter_id, officer_id, data) VALUES (:centre_id, :ticket_id, :seq, :kind, :at, :status, "
            ":service_id, :counter_id, :officer_id, :data)", self._ticket_events)
        tx.execute_many(
            "INSERT INTO counter_event (centre_id, counter_id, seq, kind, at, officer_id, data) "
            "VALUES (:centre_id, :counter_id, :seq, :kind, :at, :officer_id, :data)", self._counter_events)
        tx.execute_many(
            "INSERT INTO audit_log (centre_id, officer_id, at, entity, entity_id, action, before, after, seq) "
            "VALUES (:centre_id, :officer_id, :at, :entity, :entity_id, :action, :before, :after, :seq)",
            self._audit_entries)
        tickets = {t["id"]: views.ticket_view(tx, t) for t in self._tickets.values()}
        return Change(
            centre_id=cid, seq=seq, at=self.now,
            tickets=list(tickets.values()),
            finished=[tickets[i] for i in self._finished],
            counters=[views.counter_view(tx, c) for c in sorted(self._counters)],
            calls=[views.call_view(tx, t, c, recall) for t, c, recall in self._calls],
            queues=self.count_queues(cid) if count_queues else None)

    def count_queues(self, centre_id: int) -> dict[int, int]:
        return views.waiting_by_service(self.tx, centre_id, self.today(centre_id))

    def _bind_centre(self, centre_id: int) -> None:
        if self._centre_id not in (None, centre_id):
            raise RuntimeError("one engine change spans one centre")
        self._centre_id = centre_id


def transact(db, body: Callable[[Work], T]) -> T:
    """Run `body` in one write transaction, retrying what the database says is safe to retry.

    On SQLite the change joins the writer thread's next group commit (see group_commit.py)."""
    if db.is_sqlite:
        return _group_commit(db).run(body)
    dbapi = db.engine.dialect.dbapi
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with db.postgres_write_cursor() as cursor:
                work = Work(Tx.on_cursor(cursor, postgres=True), db.clock.now())
                result = body(work)
                change = work.seal()
            break
        except ConnectionDropped:
            # A connection the server dropped while it rested in the pool (a restart, say).
            if attempt == ATTEMPTS:
                raise
            log.info("connection dropped before commit, retrying (attempt %d)", attempt)
        except (IntegrityError, dbapi.IntegrityError):
            # A unique index stopped a race the checks above could not see; run the checks again
            # on the new state so the caller gets the domain error that now applies.
            if attempt == ATTEMPTS:
                raise
            log.info("integrity conflict, retrying (attempt %d)", attempt)
        except (DBAPIError, dbapi.Error) as exc:
            original = getattr(exc, "orig", exc)
            if getattr(original, "sqlstate", None) not in RETRYABLE_SQLSTATES or attempt == ATTEMPTS:
                raise
            time.sleep(0.005 * attempt)
    if change is not None:
        db.committed(change)
    return result


def _group_commit(db):
    if db.group_commit is None:
        with _writer_creation:
            if db.group_commit is None:
                from hangdoi.engine.group_commit import GroupCommit
                db.group_commit = GroupCommit(db, Work)
    return db.group_commit


_writer_creation = threading.Lock()
