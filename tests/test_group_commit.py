"""SQLite group commit: one transaction for many changes, each change still all-or-nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from hangdoi import engine
from hangdoi.engine import DomainError
from hangdoi.engine.group_commit import GroupCommit, _Job
from hangdoi.engine.tickets import issue_ticket
from hangdoi.engine.work import Work
from hangdoi.models import Ticket, TicketEvent

from .centres import SMALL_CENTRE, always_open
from .conftest import build_centre


def issue_body(db, centre_id, service):
    """The body `issue_ticket` runs, captured so a test can put several into one batch."""
    captured = {}

    class Capture:
        def run(self, body):
            captured["body"] = body

    db.group_commit, saved = Capture(), db.group_commit
    try:
        issue_ticket(db, centre_id, service)
    finally:
        db.group_commit = saved
    return captured["body"]


def test_a_refused_change_rolls_back_alone_and_the_rest_commit_together(sqlite_url, clock):
    from hangdoi.database import Database
    db = Database(sqlite_url, clock=clock)
    ids = build_centre(db, always_open(SMALL_CENTRE))
    published = []
    db.on_commit(published.append)
    writer = GroupCommit(db, Work)
    jobs = [_Job(issue_body(db, ids.centre, code)) for code in ("HT01", "NOPE", "HT01", "XD02", "CT01")]
    writer._commit(jobs)
    assert [type(j.error).__name__ if j.error else j.result["number"] for j in jobs] == [
        "1001", "NotFound", "1002", "Conflict", "A001"]
    assert all(isinstance(j.error, DomainError) for j in jobs if j.error)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 3
        assert s.scalar(select(func.count()).select_from(TicketEvent)) == 3
    # Published in seq order, once each, only what committed.
    assert [c.seq for c in published] == [1, 2, 3]
    db.dispose()


def test_engine_calls_on_sqlite_go_through_the_writer_thread(sqlite_url, clock):
    from hangdoi.database import Database
    db = Database(sqlite_url, clock=clock)
    ids = build_centre(db, always_open(SMALL_CENTRE))
    engine.issue_ticket(db, ids.centre, "HT01")
    assert db.group_commit is not None and db.group_commit._thread.is_alive()
    db.dispose()


def test_the_queues_are_counted_once_per_batch_after_the_centres_last_change(sqlite_url, clock):
    from hangdoi.database import Database
    from hangdoi.realtime.projection import PendingState
    db = Database(sqlite_url, clock=clock)
    ids = build_centre(db, always_open(SMALL_CENTRE))
    writer = GroupCommit(db, Work)
    jobs = [_Job(issue_body(db, ids.centre, code)) for code in ("HT01", "HT01", "CT01", "NOPE")]
    writer._commit(jobs)
    changes = [j.change for j in jobs]
    assert [c.queues for c in changes[:2]] == [None, None] and changes[3] is None
    assert changes[2].queues == {ids.service("HT01"): 2, ids.service("CT01"): 1}
    # Screens keep the newest count they were sent; a message without one says nothing of queues.
    early = PendingState()
    early.add(changes[0])
    assert early.message()["queues"] is None
    early.add(changes[2])
    assert early.message()["queues"] == {"seq": changes[2].seq, "waiting": [
        {"service_id": sid, "waiting": n} for sid, n in sorted(changes[2].queues.items())]}
    db.dispose()
