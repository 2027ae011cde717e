"""Every ticket transition, legal and illegal, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from hangdoi import engine
from hangdoi.engine import Conflict, Forbidden, Invalid, NotFound, state
from hangdoi.engine.replay import mismatches
from hangdoi.models import Ticket, TicketEvent


def at_counter(db, centre, number=1, username="an"):
    counter_id, officer_id = centre.counter(number), centre.officer(username)
    engine.sign_in(db, counter_id, officer_id)
    return counter_id, officer_id


def timeline(db, ticket_id):
    with db.read() as s:
        return [(e.kind, e.status) for e in s.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))]


def table_counts(db):
    with db.read() as s:
        return (s.scalar(select(func.count()).select_from(Ticket)),
                s.scalar(select(func.count()).select_from(TicketEvent)))


def test_issue_gives_a_waiting_ticket_with_its_number_and_place(db, centre):
    first = engine.issue_ticket(db, centre.centre, "HT01")
    second = engine.issue_ticket(db, centre.centre, centre.service("HT02"))
    assert (first["number"], first["status"], first["position"]) == ("1001", "waiting", 0)
    # HT02 shares the HT series but is its own queue.
    assert (second["number"], second["position"]) == ("1002", 0)
    assert first["issued_at"].endswith("+07:00")
    assert len(first["public_id"]) >= 16 and first["public_id"] != second["public_id"]
    assert timeline(db, first["id"]) == [("issued", "waiting")]


def test_prefixed_series_is_zero_padded(db, centre):
    assert engine.issue_ticket(db, centre.centre, "CT01")["number"] == "A001"


def test_full_happy_path_is_recorded_in_the_timeline(db, centre):
    counter, officer = at_counter(db, centre)
    ticket = engine.issue_ticket(db, centre.centre, "HT01")
    called = engine.call_next(db, counter, officer)
    assert called["ticket"]["id"] == ticket["id"]
    assert called["ticket"]["status"] == "called"
    assert called["counter"]["status"] == "calling" and called["counter"]["ticket"] == "1001"
    assert engine.recall(db, counter, officer)["ticket"]["call_count"] == 2
    assert engine.start(db, counter, officer)["ticket"]["status"] == "serving"
    done = engine.finish(db, counter, officer)
    assert done["ticket"]["status"] == "done" and done["counter"]["status"] == "open"
    assert timeline(db, ticket["id"]) == [
        ("issued", "waiting"), ("called", "called"), ("recalled", "called"),
        ("started", "serving"), ("finished", "done")]


def test_call_next_with_nothing_waiting_returns_no_ticket(db, centre):
    counter, officer = at_counter(db, centre, 3, "chi")
    engine.issue_ticket(db, centre.centre, "HT01")  # not served at counter 3
    assert engine.call_next(db, counter, officer)["ticket"] is None


def test_call_next_finishes_the_ticket_being_served_first(db, centre):
    counter, officer = at_counter(db, centre)
    first = engine.issue_ticket(db, centre.centre, "HT01")
    second = engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, counter, officer)
    engine.start(db, counter, officer)
    assert engine.call_next(db, counter, officer)["ticket"]["id"] == second["id"]
    assert timeline(db, first["id"])[-1] == ("finished", "done")


def test_a_ticket_only_called_is_never_counted_served_behind_the_officers_back(db, centre):
    """Pressing "next" while the citizen was only called recorded a priority ticket that was never
    served under "Đã phục vụ"."""
    counter, officer = at_counter(db, centre)
    tickets = [engine.issue_ticket(db, centre.centre, "HT01") for _ in range(4)]
    engine.call_next(db, counter, officer)
    with pytest.raises(Conflict) as refused:
        engine.call_next(db, counter, officer)
    assert refused.value.code == "current_not_started" and refused.value.params["number"] == tickets[0]["number"]
    assert timeline(db, tickets[0]["id"])[-1] == ("called", "called")          # nothing changed
    with pytest.raises(Invalid):
        engine.call_next(db, counter, officer, previous="finished")
    # The officer says what became of them: a no-show, back to the queue, or served after all.
    assert engine.call_next(db, counter, officer, previous="no_show")["ticket"]["id"] == tickets[1]["id"]
    assert timeline(db, tickets[0]["id"])[-1] == ("no_show", "no_show")
    assert engine.call_next(db, counter, officer, previous="requeue")["ticket"]["id"] == tickets[1]["id"]
    assert timeline(db, tickets[1]["id"])[-2:] == [("requeued", "waiting"), ("called", "called")]
    engine.call_next(db, counter, officer, previous="served")
    assert timeline(db, tickets[1]["id"])[-1] == ("finished", "done")
    # Calling a chosen ticket (a no-show back at the counter) settles the current one the same way.
    with pytest.raises(Conflict):
        engine.call_ticket(db, counter, officer, tickets[0]["id"])
    again = engine.call_ticket(db, counter, officer, tickets[0]["id"], previous="requeue")
    assert again["ticket"]["id"] == tickets[0]["id"] and timeline(db, tickets[2]["id"])[-1] == ("requeued", "waiting")


def test_no_show_then_the_citizen_comes_back_and_is_called_by_number(db, centre):
    counter, officer = at_counter(db, centre)
    ticket = engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, counter, officer)
    assert engine.no_show(db, counter, officer)["ticket"]["status"] == "no_show"
    assert engine.call_next(db, counter, officer)["ticket"] is None
    again = engine.call_ticket(db, counter, officer, ticket["id"])
    assert again["ticket"]["status"] == "called" and again["ticket"]["call_count"] == 2


def test_requeue_keeps_the_place_in_the_queue(db, centre, clock):
    counter, officer = at_counter(db, centre)
    early = engine.issue_ticket(db, centre.centre, "HT01")
    clock.advance(minutes=5)
    late = engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, counter, officer)
    requeued = engine.requeue(db, counter, officer)
    assert requeued["ticket"]["status"] == "waiting" and requeued["counter"]["status"] == "open"
    assert engine.call_next(db, counter, officer)["ticket"]["id"] == early["id"]
    assert late["id"] != early["id"]


def test_transfer_to_a_service_keeps_the_original_issue_time(db, centre, clock):
    one, an = at_counter(db, centre, 1, "an")
    two, binh = at_counter(db, centre, 2, "binh")
    moved = engine.issue_ticket(db, centre.centre, "HT01")
    clock.advance(minutes=10)
    newer = engine.issue_ticket(db, centre.centre, "CT01")
    engine.call_next(db, one, an)
    result = engine.transfer(db, one, an, service_id=centre.service("CT01"), reason="sai lĩnh vực")
    assert result["ticket"]["status"] == "waiting"
    assert result["ticket"]["service"]["code"] == "CT01"
    # Counter 2 serves CT01 first; the transferred ticket was issued earlier, so it goes first.
    assert engine.call_next(db, two, binh, previous="served")["ticket"]["id"] == moved["id"]
    assert engine.call_next(db, two, binh, previous="served")["ticket"]["id"] == newer["id"]
    assert ("transferred", "waiting") in timeline(db, moved["id"])


def test_transfer_to_a_counter_is_called_only_there(db, centre):
    one, an = at_counter(db, centre, 1, "an")
    three, chi = at_counter(db, centre, 3, "chi")
    ticket = engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, one, an)
    engine.transfer(db, one, an, to_counter_id=three)
    assert engine.call_next(db, one, an)["ticket"] is None
    assert engine.call_next(db, three, chi)["ticket"]["id"] == ticket["id"]


def test_cancel_frees_the_counter(db, centre):
    counter, officer = at_counter(db, centre)
    ticket = engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, counter, officer)
    result = engine.cancel_ticket(db, ticket["id"], officer, reason="công dân về")
    assert result["ticket"]["status"] == "cancelled" and result["counter"]["status"] == "open"
    with pytest.raises(Conflict) as err:
        engine.cancel_ticket(db, ticket["id"])
    assert err.value.code == "illegal_transition"


def test_close_day_closes_open_tickets_and_frees_counters(db, centre):
    counter, officer = at_counter(db, centre)
    engine.issue_ticket(db, centre.centre, "HT01")
    engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, counter, officer)
    result = engine.close_day(db, centre.centre)
    assert result == {"day": "2026-11-23", "closed_tickets": 2, "ended_sessions": 1, "purged_personal_data": 0}
    with db.read() as s:
        assert set(s.scalars(select(Ticket.status))) == {"closed"}
        assert mismatches(s) == []


def test_pause_and_resume(db, centre):
    counter, officer = at_counter(db, centre)
    engine.issue_ticket(db, centre.centre, "HT01")
    paused = engine.pause(db, counter, officer, "họp giao ban")
    assert paused["counter"]["status"] == "paused"
    assert paused["counter"]["pause_reason"] == "họp giao ban"
    with pytest.raises(Conflict) as err:
        engine.call_next(db, counter, officer)
    assert err.value.code == "counter_paused"
    assert engine.resume(db, counter, officer)["counter"]["status"] == "open"
    assert engine.call_next(db, counter, officer)["ticket"] is not None


@pytest.mark.parametrize("action", [engine.recall, engine.start, engine.finish, engine.no_show,
                                    engine.requeue])
def test_actions_without_a_current_ticket_are_refused(db, centre, action):
    counter, officer = at_counter(db, centre)
    before = table_counts(db)
    with pytest.raises(Conflict) as err:
        action(db, counter, officer)
    assert err.value.code == "no_current_ticket"
    assert table_counts(db) == before


@pytest.mark.parametrize("action, code", [
    (engine.recall, "illegal_transition"), (engine.start, "illegal_transition"),
    (engine.no_show, "illegal_transition")])
def test_actions_that_need_a_called_ticket_refuse_a_serving_one(db, centre, action, code):
    counter, officer = at_counter(db, centre)
    engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, counter, officer)
    engine.start(db, counter, officer)
    before = table_counts(db)
    with pytest.raises(Conflict) as err:
        action(db, counter, officer)
    assert err.value.code == code
    assert "serving" in err.value.params["status"]
    assert table_counts(db) == before


def test_officer_not_signed_in_here_cannot_act(db, centre):
    counter, _ = at_counter(db, centre, 1, "an")
    engine.issue_ticket(db, centre.centre, "HT01")
    with pytest.raises(Forbidden):
        engine.call_next(db, counter, centre.officer("binh"))
    with pytest.raises(NotFound):
        engine.call_next(db, 999, centre.officer("an"))


def test_a_counter_has_one_officer_and_an_officer_one_counter(db, centre):
    at_counter(db, centre, 1, "an")
    with pytest.raises(Conflict) as taken:
        engine.sign_in(db, centre.counter(1), centre.officer("binh"))
    with pytest.raises(Conflict) as elsewhere:
        engine.sign_in(db, centre.counter(2), centre.officer("an"))
    assert (taken.value.code, elsewhere.value.code) == ("counter_taken", "officer_elsewhere")
    # Signing in again where one already is changes nothing and is not an error.
    assert engine.sign_in(db, centre.counter(1), centre.officer("an"))["counter"]["status"] == "open"


def test_sign_out_refused_while_holding_a_ticket_then_allowed(db, centre):
    counter, officer = at_counter(db, centre)
    engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, counter, officer)
    with pytest.raises(Conflict):
        engine.sign_out(db, counter, officer)
    engine.finish(db, counter, officer)
    assert engine.sign_out(db, counter, officer)["counter"]["status"] == "closed"


def test_manager_ends_a_session_and_the_ticket_returns_to_the_queue(db, centre):
    counter, officer = at_counter(db, centre)
    ticket = engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, counter, officer)
    with pytest.raises(Forbidden):
        engine.end_session(db, counter, centre.officer("binh"))
    result = engine.end_session(db, counter, centre.officer("dung"))
    assert result["counter"]["status"] == "closed"
    status = state.ticket_status(db, ticket["public_id"])
    assert status["status"] == "waiting"


def test_calling_a_ticket_that_is_not_waiting_is_refused(db, centre):
    counter, officer = at_counter(db, centre)
    ticket = engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, counter, officer)
    engine.finish(db, counter, officer)
    with pytest.raises(Conflict) as err:
        engine.call_ticket(db, counter, officer, ticket["id"])
    assert err.value.code == "not_callable"
    with pytest.raises(NotFound):
        engine.call_ticket(db, counter, officer, 424242)


def test_transfer_bad_targets_change_nothing(db, centre):
    counter, officer = at_counter(db, centre)
    engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, counter, officer)
    before = table_counts(db)
    cases = [({}, Invalid, "transfer_target_required"),
             ({"service_id": 9999}, NotFound, "service_not_found"),
             ({"service_id": centre.service("XD02")}, Conflict, "service_inactive"),
             ({"service_id": centre.service("HT01")}, Conflict, "transfer_same_place"),
             ({"to_counter_id": counter}, Conflict, "transfer_same_place"),
             ({"to_counter_id": 9999}, NotFound, "counter_not_found")]
    for kwargs, error, code in cases:
        with pytest.raises(error) as err:
            engine.transfer(db, counter, officer, **kwargs)
        assert err.value.code == code
    assert table_counts(db) == before
    assert state.counter_state(db, counter)["ticket"]["status"] == "called"


def test_issue_refusals_create_nothing(db, centre):
    before = table_counts(db)
    for service, priority, error, code in [
        ("NOPE", None, NotFound, "service_not_found"),
        (99999, None, NotFound, "service_not_found"),
        ("XD02", None, Conflict, "service_inactive"),
        ("HT01", "khong_co", Invalid, "priority_not_found"),
    ]:
        with pytest.raises(error) as err:
            engine.issue_ticket(db, centre.centre, service, priority=priority)
        assert err.value.code == code
    assert table_counts(db) == before


def test_every_stored_ticket_replays_from_its_timeline(db, centre):
    one, an = at_counter(db, centre, 1, "an")
    three, chi = at_counter(db, centre, 3, "chi")
    for _ in range(3):
        engine.issue_ticket(db, centre.centre, "HT01")
    engine.call_next(db, one, an)
    engine.transfer(db, one, an, to_counter_id=three, reason="đất đai")
    engine.call_next(db, one, an)
    engine.no_show(db, one, an)
    engine.call_next(db, three, chi)
    engine.start(db, three, chi)
    with db.read() as s:
        assert mismatches(s) == []
