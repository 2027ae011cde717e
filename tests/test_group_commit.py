"""SQLite group commit: one transaction for many changes, each change still all-or-nothing."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from hangdoi import engine
from hangdoi.engine import DomainError
from hangdoi.engine.group_commit import GroupCommit, _Job
from hangdoi.engine.tickets import issue_ticket
from hangdoi.engine.work import Work
from hangdoi.models import Ticket, TicketEvent

from .centres import SMALL_CENTRE, always_open
from .conftest import build_centre


def captured_body(db, engine_function, *args, **kwargs):
    """The body an engine function runs, captured so a test can put several into one batch."""
    captured = {}

    class Capture:
        def run(self, body):
            captured["body"] = body

    db.group_commit, saved = Capture(), db.group_commit
    try:
        engine_function(db, *args, **kwargs)
    finally:
        db.group_commit = saved
    return captured["body"]


def issue_body(db, centre_id, service, **kwargs):
    return captured_body(db, issue_ticket, centre_id, service, **kwargs)


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


def test_a_change_alone_commits_in_its_callers_thread_and_changes_that_meet_are_batched(sqlite_url, clock):
    from hangdoi.database import Database
    db = Database(sqlite_url, clock=clock)
    ids = build_centre(db, always_open(SMALL_CENTRE))
    engine.issue_ticket(db, ids.centre, "HT01")
    writer = db.group_commit
    assert writer is not None and writer._thread is None      # no hand-off: no writer thread yet

    batches = []
    commit = writer._commit

    def recorded(batch):
        batches.append((threading.current_thread().name, len(batch)))
        commit(batch)

    writer._commit = recorded
    start = threading.Barrier(16)
    numbers, errors = [], []

    def kiosk():
        start.wait()
        for _ in range(30):
            try:
                numbers.append(engine.issue_ticket(db, ids.centre, "HT01")["number"])
            except Exception as exc:  # noqa: BLE001 — collected for the assertion
                errors.append(exc)

    threads = [threading.Thread(target=kiosk) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [str(n) for n in range(1002, 1002 + 480)]
    assert sum(size for _, size in batches) == 480
    by_writer = [size for name, size in batches if name == "hangdoi-writer"]
    alone = [size for name, size in batches if name != "hangdoi-writer"]
    assert by_writer and max(by_writer) > 1, batches       # changes that met were gathered
    assert all(size == 1 for size in alone)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 481
    db.dispose()


def test_the_queues_are_counted_once_per_batch_after_the_centres_last_change(sqlite_url, clock):
    from hangdoi.database import Database
    from hangdoi.web.realtime.projection import PendingState
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


def test_a_change_in_a_batch_sees_what_the_changes_before_it_changed(sqlite_url, clock):
    """The batch's changes share one cache of rows that stay put (service, kiosk): a service closed
    by one change is closed for the next, and a refused change leaves nothing stale behind."""
    from hangdoi.database import Database
    from hangdoi.engine.services import set_open_today
    db = Database(sqlite_url, clock=clock)
    ids = build_centre(db, always_open(SMALL_CENTRE))
    service, manager = ids.service("HT01"), ids.officer("dung")
    writer = GroupCommit(db, Work)
    jobs = [_Job(body) for body in (
        issue_body(db, ids.centre, "HT01"),
        captured_body(db, set_open_today, service, manager, False),
        issue_body(db, ids.centre, "HT01"),
        captured_body(db, set_open_today, service, manager, True),
        issue_body(db, ids.centre, "HT01"),
        issue_body(db, ids.centre, "HT01", kiosk="no such kiosk"),
        issue_body(db, ids.centre, "HT01"),
    )]
    writer._commit(jobs)
    outcomes = [type(j.error).__name__ if j.error else j.result.get("number", j.result.get("open_today"))
                for j in jobs]
    assert outcomes == ["1001", False, "Conflict", True, "1002", "NotFound", "1003"]
    assert jobs[2].error.code == "service_closed_today"
    db.dispose()


def test_a_counter_renamed_in_a_batch_is_announced_by_its_new_name_in_the_same_batch(sqlite_url, clock):
    from hangdoi.services.administration.change import administer
    from hangdoi.services.administration.counters import save_counter
    from hangdoi.database import Database
    db = Database(sqlite_url, clock=clock)
    ids = build_centre(db, always_open(SMALL_CENTRE))
    counter, officer = ids.counter(1), ids.officer("an")
    engine.sign_in(db, counter, officer)
    issue_ticket(db, ids.centre, "HT01")
    fields = {"number": 1, "name": "Quầy Hộ tịch", "active": True, "hardware": None,
              "primary": [ids.service("HT01"), ids.service("HT02")], "backup": []}
    writer = GroupCommit(db, Work)
    changes = []
    db.on_commit(changes.append)
    jobs = [_Job(body) for body in (
        captured_body(db, engine.call_next, counter, officer),
        captured_body(db, administer, ids.officer("quantri"), lambda change: save_counter(change, fields, counter)),
        captured_body(db, engine.recall, counter, officer),
    )]
    writer._commit(jobs)
    assert [j.error for j in jobs] == [None, None, None]
    announced = [call["counter"]["name"] for change in changes for call in change.calls]
    assert announced == ["Quầy 1", "Quầy Hộ tịch"]
    db.dispose()


def test_a_refused_change_alone_in_its_batch_leaves_nothing_behind(sqlite_url, clock):
    """A batch of one takes no savepoint: a refusal rolls back its whole transaction, the daily
    count its issue had already bumped included."""
    from hangdoi.database import Database
    from hangdoi.models import ServiceDay
    db = Database(sqlite_url, clock=clock)
    ids = build_centre(db, always_open(SMALL_CENTRE))
    writer = GroupCommit(db, Work)
    outcomes = []
    for _ in range(4):                       # XD01 takes two tickets a day
        job = _Job(issue_body(db, ids.centre, "XD01"))
        writer._commit([job])
        outcomes.append(job.error.code if job.error else job.result["number"])
    assert outcomes[:2] != ["daily_cap_reached"] * 2 and outcomes[2:] == ["daily_cap_reached"] * 2
    with db.read() as s:
        assert s.scalar(select(ServiceDay.issued).where(ServiceDay.service_id == ids.service("XD01"))) == 2
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2
    # The writer's connection is fine for the next change.
    job = _Job(issue_body(db, ids.centre, "HT01"))
    writer._commit([job])
    assert job.error is None and job.result["number"] == "1001"
    db.dispose()


def test_a_batch_that_fails_whole_leaves_nothing_and_the_next_one_commits(sqlite_url, clock):
    """The writer keeps its connection between batches. When the database refuses a batch (another
    program holds the file's lock) or the batch fails after its changes ran, every caller in it gets
    the error, nothing of it stays, and the next batch commits on a connection that works."""
    import sqlite3

    from hangdoi.database import Database
    db = Database(sqlite_url, clock=clock)
    ids = build_centre(db, always_open(SMALL_CENTRE))
    writer = GroupCommit(db, Work)
    first = _Job(issue_body(db, ids.centre, "HT01"))
    writer._commit([first])
    assert first.result["number"] == "1001"
    with db.sqlite_write_cursor() as cursor:       # the kept connection: give up on a lock at once
        cursor.execute("PRAGMA busy_timeout = 50")
    other_program = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    other_program.execute("BEGIN EXCLUSIVE")
    refused = [_Job(issue_body(db, ids.centre, "HT01")) for _ in range(2)]
    writer._commit(refused)
    assert all(isinstance(job.error, sqlite3.OperationalError) and job.done.is_set() for job in refused)
    other_program.execute("ROLLBACK")
    other_program.close()
    # A failure the batch cannot contain, after its changes ran: all of it is rolled back.
    issue = issue_body(db, ids.centre, "HT01")

    def issue_then_fail(work):
        issue(work)
        raise SystemExit("stopped mid-batch")

    failed = [_Job(issue_body(db, ids.centre, "HT01")), _Job(issue_then_fail)]
    writer._commit(failed)
    assert all(isinstance(job.error, SystemExit) for job in failed)
    after = _Job(issue_body(db, ids.centre, "HT01"))
    writer._commit([after])
    assert after.error is None and after.result["number"] == "1002"
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)) == 2
    db.dispose()
