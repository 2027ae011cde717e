"""The live estimates cache: requests read figures a background thread keeps fresh, and that
thread's work is paced so a long queue's arithmetic never holds the interpreter for long."""
from __future__ import annotations

import time

from hangdoi import engine
from hangdoi.engine.state import centre_seq
from hangdoi.services.estimates.live import LiveEstimates, Pacer

from .test_realtime import wait_for


def test_a_request_reads_the_figures_of_the_moment_without_computing(db, centre):
    engine.sign_in(db, centre.counter(1), centre.officer("an"))
    first = engine.issue_ticket(db, centre.centre, "HT01")
    live = LiveEstimates(db)
    live.min_interval = 60.0                            # no refresh during this test
    before = live.current(centre.centre)                # the first read computes
    assert first["id"] in before.tickets
    later = engine.issue_ticket(db, centre.centre, "HT01")
    # A new ticket gets the newcomer estimate its kiosk button showed, from the same figures.
    assert live.current(centre.centre) is before
    assert live.for_ticket(centre.centre, later["id"], centre.service("HT01")) == before.services[centre.service("HT01")]


def test_the_background_refreshes_the_figures_after_a_change(db, centre):
    engine.sign_in(db, centre.counter(1), centre.officer("an"))
    first = engine.issue_ticket(db, centre.centre, "HT01")
    live = LiveEstimates(db)
    live.current(centre.centre)
    later = [engine.issue_ticket(db, centre.centre, "HT01") for _ in range(3)]
    seq = centre_seq(db, centre.centre)
    assert wait_for(lambda: live._snapshots[centre.centre].seq == seq, timeout=10)
    fresh = live.current(centre.centre)
    assert {t["id"] for t in later} <= set(fresh.tickets)
    assert fresh.tickets[later[-1]["id"]].minutes > fresh.tickets[first["id"]].minutes


def test_changes_made_by_another_process_are_noticed_through_the_seq(db, centre, db_url, clock):
    from hangdoi.database import Database
    engine.sign_in(db, centre.counter(1), centre.officer("an"))
    live = LiveEstimates(db)
    assert live.current(centre.centre).tickets == {}
    other = Database(db_url, clock=clock)           # another server process: no commit hook here
    try:
        issued = engine.issue_ticket(other, centre.centre, "HT01")
    finally:
        other.dispose()
    assert wait_for(lambda: issued["id"] in live.current(centre.centre).tickets, timeout=10)


def test_new_figures_are_published_to_the_centres_screens(db, centre):
    sent = []
    live = LiveEstimates(db, emit=lambda centre_id, payload: sent.append((centre_id, payload)))
    engine.sign_in(db, centre.counter(1), centre.officer("an"))
    db.on_commit(live.on_commit)
    engine.issue_ticket(db, centre.centre, "HT01")
    assert wait_for(lambda: sent, timeout=10)
    centre_id, payload = sent[-1]
    assert centre_id == centre.centre
    assert payload["services"][str(centre.service("HT01"))]["minutes"] is not None


def test_the_background_thread_stops_when_the_database_closes(db, centre):
    live = LiveEstimates(db)
    live.current(centre.centre)
    thread = live._thread
    assert thread.is_alive()
    db.dispose()
    thread.join(timeout=5)       # it looks at the centre's seq every MIN_INTERVAL
    assert not thread.is_alive()


def test_the_pacer_rests_in_proportion_to_the_work():
    rests = []
    pacer = Pacer(piece=0.002, share=0.25, sleep=rests.append)     # rests recorded, not taken
    for _ in range(40):
        busy_until = time.perf_counter() + 0.0005
        while time.perf_counter() < busy_until:
            pass
        pacer()
    assert pacer.worked >= 40 * 0.0005
    assert len(rests) >= 5                                     # a rest after each 2 ms of work
    # Three times the work was rested (a quarter of the time working), give or take the last piece.
    assert 3 * (pacer.worked - 0.003) <= sum(rests) <= 3 * pacer.worked + 1e-9


def test_without_a_piece_the_pacer_only_counts():
    rests = []
    pacer = Pacer(sleep=rests.append)
    for _ in range(5):
        pacer()
    assert rests == [] and pacer.worked > 0


def test_the_waiting_queue_is_read_in_pieces_with_a_pause_after_each(db, centre, monkeypatch):
    from hangdoi.engine.sql import Tx
    from hangdoi.services.estimates import state as queue_state

    monkeypatch.setattr(queue_state, "PIECE", 4)
    issued = [engine.issue_ticket(db, centre.centre, code)["id"] for code in ["HT01", "CT01"] * 5]
    pauses = []
    with db.read() as session:
        tx = Tx(session)
        read = queue_state.read_state(tx, centre.centre, db.clock.now(),
                                      pause=lambda: pauses.append(1))
    assert [t.id for t in read.waiting] == issued            # all of them, in queue order
    assert len(pauses) == 3                                  # pieces of 4, 4 and 2
