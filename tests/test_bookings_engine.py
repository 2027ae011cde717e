"""Bookings and remote numbers in the engine: every transition and every refusal, on SQLite and
PostgreSQL, and the races a public page invites."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from hangdoi import engine
from hangdoi.engine import Conflict, Invalid, NotFound, bookings, state
from hangdoi.engine.booking_rules import bookable, code_of, mobile, rules_of

from .centres import MONDAY_9AM, NEIGHBOUR_CENTRE
from .conftest import build_centre

MONDAY = MONDAY_9AM.date()        # 09:00 local; the morning session is 07:30–11:30
PHONE, NAME = "0912345678", "Nguyễn Văn An"


def book(db, centre, start="10:00", phone=PHONE, day=MONDAY, service="HT01", **kw):
    return bookings.book(db, centre.centre, service, day, start, phone, kw.pop("name", NAME), **kw)


def at_counter(db, centre, number=1, username="an"):
    counter_id, officer_id = centre.counter(number), centre.officer(username)
    engine.sign_in(db, counter_id, officer_id)
    return counter_id, officer_id


def test_a_day_has_slots_from_its_sessions_with_half_of_the_counters_worth_bookable(db, centre):
    # HT01: counter 1 (primary) and counter 2 (backup); 2 × 30 min / 15 min = 4 a slot, half bookable.
    slots = bookings.slots(db, centre.service("HT01"), MONDAY)
    assert slots[0] == {"start": "09:30", "end": "10:00", "free": 2}       # 09:00 has begun
    assert [s["start"] for s in slots][-3:] == ["15:30", "16:00", "16:30"]
    assert "11:30" not in [s["start"] for s in slots] and "13:30" in [s["start"] for s in slots]
    tuesday = bookings.slots(db, centre.service("HT01"), MONDAY + timedelta(days=1))
    assert tuesday[0]["start"] == "07:30" and len(tuesday) == 15


@pytest.mark.parametrize("day, code", [(MONDAY - timedelta(days=1), "booking_day_past"),
                                       (MONDAY + timedelta(days=7), "booking_day_too_far"),
                                       (MONDAY + timedelta(days=5), "booking_day_closed")])   # a Saturday
def test_days_that_cannot_be_booked_say_why(db, centre, day, code):
    with pytest.raises((Invalid, Conflict)) as refused:
        bookings.slots(db, centre.service("HT01"), day)
    assert refused.value.code == code
    with pytest.raises((Invalid, Conflict)) as refused:
        book(db, centre, day=day, start="08:00")
    assert refused.value.code == code


def test_a_booking_takes_a_place_and_cancelling_gives_it_back(db, centre):
    made = book(db, centre)
    assert made["status"] == "booked" and made["start"] == "10:00" and made["end"] == "10:30"
    assert code_of(made["code"].lower()) == made["code"] and made["phone"] == "091****678"
    assert free_at(db, centre, "10:00") == 1
    assert bookings.cancel(db, made["public_id"])["status"] == "cancelled"
    assert free_at(db, centre, "10:00") == 2
    with pytest.raises(Conflict) as again:
        bookings.cancel(db, made["public_id"])
    assert again.value.code == "booking_not_open"
    # The person's count went back too: the same phone may book again.
    assert book(db, centre)["status"] == "booked"


def free_at(db, centre, start, service="HT01"):
    return next(s["free"] for s in bookings.slots(db, centre.service(service), MONDAY) if s["start"] == start)


def test_a_full_slot_a_past_slot_an_unknown_slot_are_refused(db, centre):
    book(db, centre, phone="0912000001")
    book(db, centre, phone="0912000002")
    for start, code in (("10:00", "booking_slot_full"), ("08:30", "booking_slot_past"),
                        ("10:10", "booking_slot_unknown"), ("12:00", "booking_slot_unknown")):
        with pytest.raises((Conflict, Invalid)) as refused:
            book(db, centre, start=start, phone="0912000003")
        assert refused.value.code == code, start


def test_one_person_books_at_most_two_a_day_and_one_open_per_procedure(db, centre):
    book(db, centre, start="10:00")
    with pytest.raises(Conflict) as refused:
        book(db, centre, start="10:30")
    assert refused.value.code == "booking_already_open"
    book(db, centre, start="10:30", service="CT01")
    with pytest.raises(Conflict) as refused:
        book(db, centre, start="11:00", service="DD01", phone="+84 912 345 678")    # the same phone, written otherwise
    assert refused.value.code == "booking_person_limit"
    # Another day counts apart.
    assert book(db, centre, day=MONDAY + timedelta(days=1), service="DD01")["status"] == "booked"


@pytest.mark.parametrize("phone, name, id_number, code", [
    ("012345678", NAME, None, "booking_phone_invalid"),
    ("0212345678", NAME, None, "booking_phone_invalid"),      # a landline prefix: no SMS can reach it
    (PHONE, "A", None, "booking_name_invalid"),
    (PHONE, "Nguyễn Văn 3", None, "booking_name_invalid"),
    (PHONE, NAME, "12345", "booking_id_invalid"),
])
def test_bad_contact_details_change_nothing(db, centre, phone, name, id_number, code):
    with pytest.raises(Invalid) as refused:
        bookings.book(db, centre.centre, "HT01", MONDAY, "10:00", phone, name, id_number)
    assert refused.value.code == code
    assert free_at(db, centre, "10:00") == 2


def test_mobile_numbers_are_read_as_people_write_them():
    assert {mobile(p) for p in ("0912345678", "0912.345.678", "+84912345678", "84 912 345 678")} == {"0912345678"}


def test_a_checked_in_appointment_is_called_at_its_slot_before_walk_ins(db, centre, clock):
    made = book(db, centre, start="09:30")
    walk_in = engine.issue_ticket(db, centre.centre, "HT01")
    clock.advance(minutes=20)                                   # 09:20, within 15 min of 09:30
    checked = bookings.check_in(db, centre.centre, made["code"], kiosk="k1")
    assert checked["checked_in"] and not checked["late"] and checked["origin"] == "booked"
    assert checked["due_at"].startswith("2026-11-23T09:30")
    counter_id, officer_id = at_counter(db, centre)
    # Before its slot the walk-in who came first is first.
    assert engine.call_next(db, counter_id, officer_id)["ticket"]["id"] == walk_in["id"]
    later_walk_in = engine.issue_ticket(db, centre.centre, "HT01")
    clock.advance(minutes=11)                                   # 09:31: the slot has begun
    engine.issue_ticket(db, centre.centre, "HT01")
    called = engine.call_next(db, counter_id, officer_id, previous="served")["ticket"]
    assert called["id"] == checked["id"]
    assert engine.call_next(db, counter_id, officer_id, previous="served")["ticket"]["id"] == later_walk_in["id"]


def test_statutory_priority_still_goes_before_an_appointment(db, centre, clock):
    made = book(db, centre, start="09:30")
    clock.advance(minutes=31)
    checked = bookings.check_in(db, centre.centre, made["code"])
    walk_in = engine.issue_ticket(db, centre.centre, "HT01")
    elderly = engine.issue_ticket(db, centre.centre, "HT01", priority="cao_tuoi")
    counter_id, officer_id = at_counter(db, centre)
    called = [engine.call_next(db, counter_id, officer_id, previous="served")["ticket"]["id"] for _ in range(3)]
    assert called == [elderly["id"], checked["id"], walk_in["id"]]


def test_check_in_too_early_late_twice_another_day_another_centre(db, centre, clock):
    made = book(db, centre, start="10:30")
    with pytest.raises(Conflict) as early:
        bookings.check_in(db, centre.centre, made["code"])
    assert early.value.code == "booking_too_early" and early.value.params["at"] == "10:15"
    clock.advance(minutes=100)                                   # 10:40: the window closed at 10:40
    clock.advance(seconds=1)
    late = bookings.check_in(db, centre.centre, made["code"].lower())
    assert late["late"] and late["due_at"] is None and late["status"] == "waiting"
    with pytest.raises(Conflict) as twice:
        bookings.check_in(db, centre.centre, made["code"])
    assert twice.value.code == "booking_already_checked_in"
    tomorrow = book(db, centre, day=MONDAY + timedelta(days=1), start="09:00", service="CT01")
    with pytest.raises(Conflict) as other_day:
        bookings.check_in(db, centre.centre, tomorrow["code"])
    assert other_day.value.code == "booking_other_day"
    neighbour = build_centre(db, NEIGHBOUR_CENTRE)
    with pytest.raises(NotFound):
        bookings.check_in(db, neighbour.centre, tomorrow["code"])        # codes are per centre
    with pytest.raises(Conflict) as elsewhere:
        bookings.check_in(db, neighbour.centre, f"http://x/b/{tomorrow['public_id']}")
    assert elsewhere.value.code == "booking_other_centre"
    for junk in ("", "hello", "001|2|3", "ZZZZ-ZZZZ-Z"):
        with pytest.raises((Invalid, NotFound)):
            bookings.check_in(db, centre.centre, junk)


def test_a_remote_number_keeps_its_place_until_checked_in_and_is_passed_over_meanwhile(db, centre, clock):
    first = engine.issue_ticket(db, centre.centre, "HT01")
    remote = bookings.take_remote(db, centre.centre, "HT01", PHONE, NAME)
    ticket = remote["ticket"]
    assert remote["kind"] == "remote" and ticket["status"] == "remote" and ticket["origin"] == "remote"
    assert remote["public_id"] == ticket["public_id"] and ticket["number"] == "1002"
    assert ticket["position"] == 1
    after = engine.issue_ticket(db, centre.centre, "HT01")
    counter_id, officer_id = at_counter(db, centre)
    assert engine.call_next(db, counter_id, officer_id)["ticket"]["id"] == first["id"]
    assert engine.call_next(db, counter_id, officer_id, previous="served")["ticket"]["id"] == after["id"]
    engine.issue_ticket(db, centre.centre, "HT01")
    checked = bookings.check_in(db, centre.centre, remote["code"])
    assert checked["status"] == "waiting" and checked["number"] == "1002"
    # Its place came before the walk-in who came after it.
    assert engine.call_next(db, counter_id, officer_id, previous="served")["ticket"]["id"] == ticket["id"]
    assert state.ticket_status(db, remote["public_id"])["status"] == "called"


def test_a_remote_number_whose_turn_passed_thirty_minutes_ago_is_cancelled(db, centre, clock):
    remote = bookings.take_remote(db, centre.centre, "HT01", PHONE, NAME)
    engine.issue_ticket(db, centre.centre, "HT01")
    counter_id, officer_id = at_counter(db, centre)
    engine.call_next(db, counter_id, officer_id)               # its turn came
    clock.advance(minutes=29)
    assert bookings.expire_due(db, centre.centre) == []
    clock.advance(minutes=2)
    ended = bookings.expire_due(db, centre.centre)
    assert [b["public_id"] for b in ended] == [remote["public_id"]] and ended[0]["status"] == "expired"
    assert state.ticket_status(db, remote["public_id"])["status"] == "cancelled"
    with pytest.raises(Conflict):
        bookings.check_in(db, centre.centre, remote["code"])


def test_a_booking_never_checked_in_expires_after_its_window(db, centre, clock):
    made = book(db, centre, start="09:30")
    clock.advance(minutes=40)
    assert bookings.expire_due(db, centre.centre) == []
    clock.advance(minutes=1)
    assert [b["status"] for b in bookings.expire_due(db, centre.centre)] == ["expired"]
    assert bookings.status(db, made["public_id"])["status"] == "expired"


def test_closing_the_day_ends_remote_numbers_never_checked_in(db, centre):
    remote = bookings.take_remote(db, centre.centre, "HT01", PHONE, NAME)
    engine.close_day(db, centre.centre)
    assert state.ticket_status(db, remote["public_id"])["status"] == "closed"
    assert bookings.expire_due(db, centre.centre)[0]["status"] == "expired"


def test_remote_numbers_need_the_centre_open_and_a_service_that_takes_numbers(db, centre):
    for service, code in (("XD02", "service_inactive"), ("NOPE", "service_not_found")):
        with pytest.raises((Conflict, NotFound)) as refused:
            bookings.take_remote(db, centre.centre, service, PHONE, NAME)
        assert refused.value.code == code


def test_sixteen_clients_racing_for_the_last_place_get_one_booking(db, centre):
    book(db, centre, phone="0912000001")
    results, start = [], threading.Barrier(16)

    def attempt(i):
        start.wait()
        try:
            results.append(book(db, centre, phone=f"09130000{i:02d}")["code"])
        except Conflict as refused:
            results.append(refused.code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r for r in results if r == "booking_slot_full") == ["booking_slot_full"] * 15
    assert free_at(db, centre, "10:00") == 0


def test_checking_in_twice_at_once_gives_one_ticket(db, centre, clock):
    made = book(db, centre, start="09:30")
    clock.advance(minutes=20)
    results, start = [], threading.Barrier(8)

    def attempt():
        start.wait()
        try:
            results.append(bookings.check_in(db, centre.centre, made["code"])["id"])
        except Conflict as refused:
            results.append(refused.code)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tickets = [r for r in results if isinstance(r, int)]
    assert len(tickets) == 1 and results.count("booking_already_checked_in") == 7


def test_capacity_is_the_centres_figure_or_its_counters_worth():
    rules = rules_of({"booking": {"capacity": {"HT01": 9}, "bookable_share": 0.5}})
    assert bookable(rules, "HT01", 2) == 4 and bookable(rules, "CT01", 3) == 3
    assert bookable(rules_of({}), "CT01", 0) == 0
    assert rules_of({"booking": {"days_ahead": "lots"}}).days_ahead == 6     # a bad file falls back


def test_unknown_ids_are_not_found(db, centre):
    with pytest.raises(NotFound):
        bookings.cancel(db, "x" * 16)
    with pytest.raises(NotFound):
        bookings.status(db, "x" * 16)


def test_reports_count_where_visits_began_how_punctual_appointments_were_and_the_messages(db, centre, clock):
    from hangdoi.services.reports.figures import build_report
    on_time = book(db, centre, start="09:30", phone="0912000001")
    never = book(db, centre, start="09:30", phone="0912000002")
    remote = bookings.take_remote(db, centre.centre, "HT01", "0912000003", NAME)
    engine.issue_ticket(db, centre.centre, "HT01")                       # a walk-in
    clock.advance(minutes=25)                                             # 09:25
    booked_ticket = bookings.check_in(db, centre.centre, on_time["code"])
    claimed = bookings.claim_notice(db, remote_booking_id(db, remote), "near")
    bookings.record_notice(db, claimed["id"], "near", "gsm", "sent", "1 message(s): 1")
    counter_id, officer_id = at_counter(db, centre)
    clock.advance(minutes=7)                                              # 09:32: the slot has begun
    assert engine.call_next(db, counter_id, officer_id)["ticket"]["id"] == booked_ticket["id"]
    bookings.check_in(db, centre.centre, remote["code"])
    clock.advance(minutes=5)
    assert engine.call_next(db, counter_id, officer_id, previous="served")["ticket"]["id"] == remote["ticket"]["id"]
    clock.advance(minutes=10)                                             # 09:47: the window of 09:30 closed
    assert [b["code"] for b in bookings.expire_due(db, centre.centre)] == [never["code"]]
    totals = build_report(db, centre.centre)["totals"]
    assert totals["origins"] == {"walk_in": 1, "remote": 1, "booked": 1}
    assert totals["punctuality_minutes"] == {"median": 2.0, "p90": 2.0, "n": 1}
    assert totals["notifications"]["sent"] == 1 and totals["notifications"]["failed"] == 0
    assert totals["notifications"]["lead_minutes"]["median"] == 12.0          # 09:25 told, 09:37 called
    assert totals["bookings"]["no_show"] == 1 and totals["bookings"]["no_show_rate"] == 0.5
    assert totals["bookings"]["remote_came"] == 1
    # The remote citizen waited in the hall from check-in (09:32) to the call (09:37), not from 09:00;
    # the booked one from check-in (09:25) to the call (09:32).
    assert (totals["wait_minutes"]["mean"], totals["wait_minutes"]["max"]) == (6.0, 7.0)
    # The exports carry the same: a column each, and the bookings of the period a line each.
    import csv
    import io

    from openpyxl import load_workbook

    from hangdoi.services.reports.export import to_csv, to_xlsx
    report = build_report(db, centre.centre)
    rows = list(csv.reader(io.StringIO(to_csv(report).decode("utf-8-sig"))))
    header, total = rows[0], next(r for r in rows if r and r[0] == "Tổng cộng")
    figures = dict(zip(header, total))
    assert (figures["Trực tiếp"], figures["Lấy số qua mạng"], figures["Theo lịch hẹn"]) == ("1", "1", "1")
    assert figures["Gọi so với giờ hẹn, P90 (phút)"] == "2.0" and figures["Tin nhắn đã gửi"] == "1"
    assert figures["Báo trước khi gọi, trung vị (phút)"] == "12.0"
    lines = {r[0]: r[1] for r in rows[rows.index(total) + 1:] if r}
    assert lines["Tỷ lệ không đến (%)"] == "50.0" and lines["Số qua mạng đã đến"] == "1"
    sheet = load_workbook(io.BytesIO(to_xlsx(report))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1] == header and ["Tỷ lệ không đến (%)", 50.0] in [v[:2] for v in values]
    assert sheet.cell(len(report["rows"]) + 3, 1).font.bold                # the totals, not the last line


def remote_booking_id(db, remote):
    return bookings.of_ticket(db, remote["ticket"]["id"])["id"]


def test_numbers_from_phones_never_take_more_than_the_bookable_share_of_a_day(db, centre):
    from sqlalchemy import update

    from hangdoi.models import Centre
    with db.write() as s:      # CT01: two citizens a slot, 15 slots on a Monday: 15 bookable from phones
        s.execute(update(Centre).where(Centre.id == centre.centre).values(settings={"booking": {"capacity": {"CT01": 2}}}))
    book(db, centre, start="10:00", service="CT01", phone="0912000099")   # a slot taken: 14 left for numbers
    for i in range(14):
        bookings.take_remote(db, centre.centre, "CT01", f"09130000{i:02d}", NAME)
    with pytest.raises(Conflict) as refused:
        bookings.take_remote(db, centre.centre, "CT01", "0913000099", NAME)
    assert refused.value.code == "remote_full"
    # A kiosk still gives walk-ins their numbers; a number given back is free again.
    assert engine.issue_ticket(db, centre.centre, "CT01")["status"] == "waiting"
    first = bookings.open_remote(db, centre.centre)[0]
    bookings.cancel(db, first["public_id"])
    assert bookings.take_remote(db, centre.centre, "CT01", "0913000099", NAME)["ticket"]["status"] == "remote"


def test_a_holder_told_to_come_keeps_the_number_for_their_way_here_and_the_grace(db, centre, clock):
    remote = bookings.take_remote(db, centre.centre, "HT01", PHONE, NAME, travel_minutes=45)   # told 50 min ahead
    booking_id = bookings.of_ticket(db, remote["ticket"]["id"])["id"]
    bookings.claim_notice(db, booking_id, "near")                                             # told at 09:00
    engine.issue_ticket(db, centre.centre, "HT01")
    counter_id, officer_id = at_counter(db, centre)
    engine.call_next(db, counter_id, officer_id)                                              # its turn came at once
    clock.advance(minutes=79)                                                                  # 09:50 + 30 min grace
    assert bookings.expire_due(db, centre.centre) == []
    clock.advance(minutes=2)
    assert [b["public_id"] for b in bookings.expire_due(db, centre.centre)] == [remote["public_id"]]


def test_the_forecast_puts_a_checked_in_appointment_ahead_of_the_walk_ins(db, centre, clock):
    from hangdoi.engine.sql import Tx
    from hangdoi.services.estimates.state import read_state
    made = book(db, centre, start="09:30")
    walk_in = engine.issue_ticket(db, centre.centre, "HT01")
    clock.advance(minutes=20)
    checked = bookings.check_in(db, centre.centre, made["code"])
    with db.read() as session:
        order = [t.id for t in read_state(Tx(session), centre.centre, clock.now()).waiting]
    assert order == [checked["id"], walk_in["id"]]


def test_the_forecast_counts_remote_numbers_at_their_place_and_the_bookings_still_to_come(db, centre, clock):
    from hangdoi.engine.sql import Tx
    from hangdoi.services.estimates.state import read_state
    remote = bookings.take_remote(db, centre.centre, "HT01", PHONE, NAME)
    walk_in = engine.issue_ticket(db, centre.centre, "HT01")
    book(db, centre, "10:00", phone="0912000008")
    book(db, centre, "09:30", phone="0912000009", name="Đỗ Văn Hải")
    with db.read() as session:
        seen = read_state(Tx(session), centre.centre, clock.now())
    assert [t.id for t in seen.waiting] == [remote["ticket"]["id"], walk_in["id"]]
    assert sorted(seen.expected) == [(centre.service("HT01"), 570.0), (centre.service("HT01"), 600.0)]
    assert seen.booked_show == 0.85                 # no history yet
    clock.advance(minutes=41)                        # 09:41: the 09:30 booking can no longer come on time
    with db.read() as session:
        later = read_state(Tx(session), centre.centre, clock.now())
    assert later.expected == [(centre.service("HT01"), 600.0)]
    assert state.session_left(db, centre.centre) == pytest.approx(109.0)    # the morning ends at 11:30


def test_the_forecast_counts_the_last_hours_walk_ins_and_remote_numbers_but_not_the_booked(db, centre, clock):
    from hangdoi.engine.sql import Tx
    from hangdoi.services.estimates.state import read_state
    engine.issue_ticket(db, centre.centre, "HT01")                         # 09:00: over an hour ago by 10:01
    clock.advance(minutes=30)
    bookings.take_remote(db, centre.centre, "HT01", PHONE, NAME)
    engine.issue_ticket(db, centre.centre, "CT01")
    made = book(db, centre, start="10:00", phone="0912000008")
    clock.advance(minutes=31)                                                # 10:01
    bookings.check_in(db, centre.centre, made["code"])                      # booked: counted by `expected`
    engine.issue_ticket(db, centre.centre, "HT01")
    with db.read() as session:
        assert read_state(Tx(session), centre.centre, clock.now()).recent_arrivals == 3
