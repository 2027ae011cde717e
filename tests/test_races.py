"""Many threads and processes issuing and calling at the same instant: no duplicate, nothing lost."""
from __future__ import annotations

import multiprocessing
import threading
from collections import Counter as Tally

import pytest
from sqlalchemy import select

from hangdoi import engine
from hangdoi.clock import FixedClock
from hangdoi.database import Database
from hangdoi.engine.replay import mismatches
from hangdoi.models import Ticket

from .centres import MONDAY_9AM, PASSWORD_HASH
from .conftest import build_centre, truncate_postgres

WORKERS = 16
ROUNDS = 120


def race_centre(workers: int) -> dict:
    return {
        "name": "Trung tâm đua",
        "settings": {"accept_outside_hours": True},
        "domains": [{"code": "HT", "name": "Hộ tịch", "series": {"first": 1, "last": 99999},
                     "services": [{"code": "HT01", "name": "Khai sinh"},
                                  {"code": "HT02", "name": "Kết hôn"}]}],
        "counters": [{"number": n, "primary": ["HT"]} for n in range(1, workers + 1)],
        "officers": [{"username": f"cb{n}", "full_name": f"Cán bộ {n}", "password_hash": PASSWORD_HASH}
                     for n in range(1, workers + 1)],
        "kiosks": [{"name": "k0"}, {"name": "k1"}],
    }


def work_at_counter(db, centre_id, counter_id, officer_id, rounds, start=None):
    """Issue one ticket and call one, `rounds` times; returns what this worker was handed."""
    if start is not None:
        start.wait()
    issued, called = [], []
    for i in range(rounds):
        ticket = engine.issue_ticket(db, centre_id, "HT01" if i % 2 else "HT02", kiosk=f"k{i % 2}")
        issued.append((ticket["id"], ticket["number"]))
        result = engine.call_next(db, counter_id, officer_id, previous="served")
        if result["ticket"] is not None:
            called.append(result["ticket"]["id"])
    return issued, called


def check_outcome(db, issued, called):
    numbers = [number for _, number in issued]
    assert len(numbers) == len(set(numbers)), "a number was issued twice"
    assert len(called) == len(set(called)), "a ticket was called twice"
    with db.read() as s:
        stored = {t.id: t for t in s.scalars(select(Ticket))}
        assert {tid for tid, _ in issued} == set(stored), "a ticket was lost or invented"
        assert {stored[tid].display_number for tid, _ in issued} == set(numbers)
        # Each counter holds at most its last call; everything called before it was finished.
        holders = Tally(t.counter_id for t in stored.values() if t.status in ("called", "serving"))
        assert all(n == 1 for n in holders.values())
        assert mismatches(s) == []


def sign_everyone_in(db, ids, workers):
    for n in range(1, workers + 1):
        engine.sign_in(db, ids.counter(n), ids.officer(f"cb{n}"))


def test_sixteen_threads_issue_and_call_on_sqlite(sqlite_url):
    db = Database(sqlite_url, clock=FixedClock(MONDAY_9AM), pool_size=WORKERS)
    ids = build_centre(db, race_centre(WORKERS))
    sign_everyone_in(db, ids, WORKERS)
    start = threading.Barrier(WORKERS)
    results, errors = [None] * WORKERS, []

    def run(n):
        try:
            results[n - 1] = work_at_counter(db, ids.centre, ids.counter(n), ids.officer(f"cb{n}"),
                                             ROUNDS, start)
        except Exception as exc:  # noqa: BLE001 — reported below, with the thread's number
            errors.append((n, repr(exc)))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(1, WORKERS + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    issued = [x for r in results for x in r[0]]
    called = [x for r in results for x in r[1]]
    assert len(issued) == WORKERS * ROUNDS
    check_outcome(db, issued, called)
    db.dispose()


def _process_worker(url, centre_id, counter_id, officer_id, rounds, start, out):
    db = Database(url, clock=FixedClock(MONDAY_9AM), pool_size=2)
    try:
        out.put(("ok", work_at_counter(db, centre_id, counter_id, officer_id, rounds, start)))
    except Exception as exc:  # noqa: BLE001
        out.put(("error", repr(exc)))
    finally:
        db.dispose()


@pytest.mark.postgres
def test_eight_processes_issue_and_call_on_postgres(postgres_schema_url):
    processes_count, rounds = 8, 250
    truncate_postgres(postgres_schema_url)
    db = Database(postgres_schema_url, clock=FixedClock(MONDAY_9AM))
    ids = build_centre(db, race_centre(processes_count))
    sign_everyone_in(db, ids, processes_count)
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(processes_count), ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(
        postgres_schema_url, ids.centre, ids.counter(n), ids.officer(f"cb{n}"), rounds, start, out))
        for n in range(1, processes_count + 1)]
    for p in procs:
        p.start()
    outcomes = [out.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert [o for o in outcomes if o[0] != "ok"] == []
    issued = [x for _, r in outcomes for x in r[0]]
    called = [x for _, r in outcomes for x in r[1]]
    assert len(issued) == processes_count * rounds
    check_outcome(db, issued, called)
    db.dispose()
