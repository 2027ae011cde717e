"""Who is called next: priority first, longest wait, primary before backup, interleave."""
from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hangdoi import engine
from hangdoi.engine import state

from .centres import SMALL_CENTRE
from .conftest import build_centre
from .test_engine_lifecycle import at_counter


def numbers_called(db, counter, officer, times):
    called = []
    for _ in range(times):
        ticket = engine.call_next(db, counter, officer, previous="served")["ticket"]
        called.append(ticket["number"] if ticket else None)
    return called


def test_longest_waiting_across_primary_services(db, centre, clock):
    counter, officer = at_counter(db, centre)
    engine.issue_ticket(db, centre.centre, "HT02")         # 1001, first
    clock.advance(minutes=1)
    engine.issue_ticket(db, centre.centre, "HT01")         # 1002
    clock.advance(minutes=1)
    engine.issue_ticket(db, centre.centre, "HT02")         # 1003
    assert numbers_called(db, counter, officer, 4) == ["1001", "1002", "1003", None]


def test_priority_ticket_issued_later_overtakes(db, centre, clock):
    counter, officer = at_counter(db, centre)
    engine.issue_ticket(db, centre.centre, "HT01")
    clock.advance(minutes=1)
    engine.issue_ticket(db, centre.centre, "HT01")
    clock.advance(minutes=1)
    elderly = engine.issue_ticket(db, centre.centre, "HT01", priority="cao_tuoi")
    assert elderly["position"] == 0
    assert numbers_called(db, counter, officer, 3) == ["1003", "1001", "1002"]


def test_backup_services_only_when_primary_is_empty(db, centre, clock):
    counter, officer = at_counter(db, centre)  # counter 1: primary HT, backup CT
    engine.issue_ticket(db, centre.centre, "CT01")          # A001, waiting longest
    clock.advance(minutes=3)
    engine.issue_ticket(db, centre.centre, "HT01")          # 1001
    assert numbers_called(db, counter, officer, 3) == ["1001", "A001", None]


def test_a_ticket_sent_to_this_counter_goes_before_its_services_even_priority(db, centre, clock):
    """Counter 2 (primary CT) sends an HT ticket to counter 1; counter 1 calls it before its own
    HT queue, a priority ticket included. A ticket sent to another counter is never called here."""
    counter, officer = at_counter(db, centre)
    other, other_officer = at_counter(db, centre, number=2, username="binh")
    engine.issue_ticket(db, centre.centre, "HT01")                                   # 1001
    clock.advance(minutes=1)
    engine.issue_ticket(db, centre.centre, "HT01", priority="cao_tuoi")              # 1002
    clock.advance(minutes=1)
    engine.issue_ticket(db, centre.centre, "HT02")                                   # 1003
    engine.issue_ticket(db, centre.centre, "CT01")                                   # A001
    engine.issue_ticket(db, centre.centre, "CT01")                                   # A002
    assert engine.call_next(db, other, other_officer, previous="served")["ticket"]["number"] == "A001"
    engine.transfer(db, other, other_officer, service_id=centre.service("HT01"), to_counter_id=counter)
    assert engine.call_next(db, other, other_officer, previous="served")["ticket"]["number"] == "A002"
    engine.transfer(db, other, other_officer, to_counter_id=centre.counter(3))

    assert numbers_called(db, counter, officer, 5) == ["A001", "1002", "1001", "1003", None]


def test_counter_without_the_service_never_calls_it(db, centre):
    counter, officer = at_counter(db, centre, 3, "chi")
    engine.issue_ticket(db, centre.centre, "HT01")
    engine.issue_ticket(db, centre.centre, "CT01")
    assert numbers_called(db, counter, officer, 1) == [None]


def test_interleave_limits_priority_calls_in_a_row(db, clock):
    ids = build_centre(db, {**SMALL_CENTRE, "settings": {"priority_streak_limit": 2}})
    counter, officer = at_counter(db, ids)
    for _ in range(2):
        engine.issue_ticket(db, ids.centre, "HT01")          # 1001, 1002 normal
        clock.advance(minutes=1)
    for _ in range(4):
        engine.issue_ticket(db, ids.centre, "HT01", priority="khuyet_tat")  # 1003..1006
        clock.advance(minutes=1)
    # Two priority calls, then a normal one, two priority, a normal one, then the rest.
    assert numbers_called(db, counter, officer, 7) == ["1003", "1004", "1001", "1005", "1006",
                                                       "1002", None]


def test_without_interleave_priority_always_goes_first(db, centre, clock):
    counter, officer = at_counter(db, centre)
    engine.issue_ticket(db, centre.centre, "HT01")
    for _ in range(3):
        clock.advance(minutes=1)
        engine.issue_ticket(db, centre.centre, "HT01", priority="mang_thai")
    assert numbers_called(db, counter, officer, 4) == ["1002", "1003", "1004", "1001"]


def test_counter_snapshot_lists_the_queue_in_call_order(db, centre, clock):
    counter, _ = at_counter(db, centre)
    engine.issue_ticket(db, centre.centre, "CT01")          # backup
    clock.advance(minutes=1)
    engine.issue_ticket(db, centre.centre, "HT01")
    clock.advance(minutes=1)
    engine.issue_ticket(db, centre.centre, "HT02", priority="cao_tuoi")
    snapshot = state.counter_state(db, counter)
    assert [t["number"] for t in snapshot["waiting"]] == ["1002", "1001", "A001"]


EXAMPLES = itertools.count()
ISSUE = st.tuples(st.just("issue"), st.sampled_from(["HT01", "HT02", "CT01"]),
                  st.sampled_from([None, None, "cao_tuoi"]), st.sampled_from([0, 0, 1]))
SEND = st.tuples(st.just("send"), st.none(), st.none(), st.sampled_from([0, 1]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(ISSUE, ISSUE, SEND), min_size=1, max_size=14), streak_limit=st.sampled_from([0, 1, 2]))
def test_call_next_takes_the_first_ticket_of_the_counters_queue_in_call_order(db, clock, steps, streak_limit):
    """On SQLite a call looks only at the head of each queue; on PostgreSQL it sorts them all. Either
    way it must take what the counter's snapshot lists first (every ticket, sorted), call after
    call, as priority streaks build up: tickets sent to the counter, priority and normal tickets
    of its primary and backup services, and tickets issued in the same instant."""
    n = next(EXAMPLES)    # a centre of its own each time; usernames are unique across centres
    ids = build_centre(db, {**SMALL_CENTRE, "settings": {"priority_streak_limit": streak_limit},
                            "officers": [{**o, "username": f"{o['username']}{n}"} for o in SMALL_CENTRE["officers"]]})
    counter, officer = at_counter(db, ids, username=f"an{n}")
    other, other_officer = at_counter(db, ids, number=2, username=f"binh{n}")
    for kind, service, priority, minutes in steps:
        if kind == "issue":
            engine.issue_ticket(db, ids.centre, service, priority=priority)
        elif engine.call_next(db, other, other_officer, previous="served")["ticket"] is not None:
            engine.transfer(db, other, other_officer, to_counter_id=counter)
        clock.advance(minutes=minutes)
    for _ in range(len(steps) + 1):
        listed = [t["number"] for t in state.counter_state(db, counter)["waiting"]]
        called = engine.call_next(db, counter, officer, previous="served")["ticket"]
        assert (called and called["number"]) == (listed[0] if listed else None)
        if called is None:
            break
