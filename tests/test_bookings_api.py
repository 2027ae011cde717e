"""The booking API as the open internet meets it: each bad-input class gets a clear error and
changes nothing; floods, claimed identities and races against a real server."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from hangdoi.app import create_app
from hangdoi.config import load_settings
from hangdoi.fixtures.testing import LiveServer

from .centres import MONDAY_9AM, PASSWORD, SMALL_CENTRE, open_now
from .conftest import build_centre, kiosk_headers

MONDAY = MONDAY_9AM.date().isoformat()
PERSON = {"phone": "0912345678", "full_name": "Trần Thị Bình"}


@pytest.fixture
def app(db, tmp_path):
    return create_app(load_settings(env={}, data_dir=tmp_path / "data", kiosk_rate_limit_per_minute=1000,
                                    booking_rate_limit="1000/hour"), db=db)


@pytest.fixture
def client(app):
    return app.test_client()


def booking(ids, **changes):
    return {"service": ids.service("HT01"), "date": MONDAY, "start": "10:00", **PERSON, **changes}


def free(client, ids, start="10:00", day=MONDAY):
    slots = client.get(f"/api/v1/services/{ids.service('HT01')}/slots?date={day}").json
    return next(s["free"] for s in slots if s["start"] == start)


def test_book_see_cancel_through_the_api(client, centre):
    assert free(client, centre) == 2
    made = client.post("/api/v1/bookings", json=booking(centre))
    assert made.status_code == 201
    body = made.json
    assert {k: body[k] for k in ("date", "start", "end", "status")} == {
        "date": MONDAY, "start": "10:00", "end": "10:30", "status": "booked"}
    assert len(body["code"]) == 8 and len(body["public_id"]) >= 16 and "centre_id" not in body
    assert body["phone"] == "091****678"
    assert free(client, centre) == 1
    page = client.get(f"/api/v1/bookings/{body['public_id']}")
    assert page.status_code == 200 and page.json["code"] == body["code"]
    cancelled = client.post(f"/api/v1/bookings/{body['public_id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert free(client, centre) == 2
    again = client.post(f"/api/v1/bookings/{body['public_id']}/cancel")
    assert again.status_code == 409 and again.json["error"]["code"] == "booking_not_open"


def test_a_remote_number_answers_like_a_ticket_and_its_status_page_follows_it(client, centre):
    taken = client.post("/api/v1/remote-tickets", json={"service": centre.service("HT01"), **PERSON})
    assert taken.status_code == 201
    ticket = taken.json
    assert ticket["status"] == "remote" and ticket["checked_in"] is False and ticket["number"] == "1001"
    assert ticket["origin"] == "remote" and len(ticket["code"]) == 8 and "estimated_wait" in ticket
    assert client.get(f"/api/v1/tickets/{ticket['public_id']}").json["status"] == "remote"
    checked = client.post("/api/v1/check-in", json={"code": ticket["code"]}, headers=kiosk_headers(centre, "k1"))
    assert checked.status_code == 200
    assert checked.json["checked_in"] is True and checked.json["status"] == "waiting"
    assert client.get(f"/api/v1/tickets/{ticket['public_id']}").json["status"] == "waiting"


def test_a_checked_in_booking_is_followed_at_the_bookings_address_too(client, centre, clock):
    made = client.post("/api/v1/bookings", json=booking(centre, start="09:30")).json
    clock.advance(minutes=20)
    checked = client.post("/api/v1/check-in", json={"code": f"https://centre.example/b/{made['public_id']}"},
                          headers=kiosk_headers(centre, "k1"))
    assert checked.status_code == 200 and checked.json["late"] is False
    assert checked.json["booking"]["status"] == "checked_in"
    status = client.get(f"/api/v1/tickets/{made['public_id']}")
    assert status.status_code == 200 and status.json["number"] == checked.json["number"]


@pytest.mark.parametrize("changes, status, code", [
    ({"phone": "0123"}, 422, "booking_phone_invalid"),
    ({"phone": "0912345678" * 3}, 422, "invalid_field"),
    ({"full_name": "X"}, 422, "booking_name_invalid"),
    ({"full_name": "Robert'); DROP TABLE booking;--"}, 422, "booking_name_invalid"),
    ({"full_name": "An\u0000"}, 422, "invalid_field"),
    ({"id_number": "12345678901"}, 422, "booking_id_invalid"),
    ({"date": "2026-11-22"}, 422, "booking_day_past"),
    ({"date": "2026-12-23"}, 422, "booking_day_too_far"),
    ({"date": "2026-11-28"}, 409, "booking_day_closed"),
    ({"date": "23/11/2026"}, 422, "invalid_field"),
    ({"date": "2026-02-30"}, 422, "invalid_field"),
    ({"start": "10:05"}, 422, "booking_slot_unknown"),
    ({"start": "08:00"}, 409, "booking_slot_past"),
    ({"service": 99999}, 404, "service_not_found"),
    ({"service": "NOPE"}, 404, "service_not_found"),
    ({"service": True}, 422, "invalid_field"),
    ({"extra": 1}, 422, "unknown_field"),
])
def test_each_bad_booking_gets_its_own_clear_error_and_changes_nothing(client, centre, changes, status, code):
    response = client.post("/api/v1/bookings", json=booking(centre, **changes))
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert " / " in response.json["error"]["message"]        # Vietnamese / English
    assert free(client, centre) == 2


def test_a_full_slot_and_a_second_booking_of_the_same_person(client, centre):
    assert client.post("/api/v1/bookings", json=booking(centre, phone="0912000001")).status_code == 201
    assert client.post("/api/v1/bookings", json=booking(centre, phone="0912000002")).status_code == 201
    full = client.post("/api/v1/bookings", json=booking(centre, phone="0912000003"))
    assert full.status_code == 409 and full.json["error"]["code"] == "booking_slot_full"
    twice = client.post("/api/v1/bookings", json=booking(centre, phone="0912000001", start="10:30"))
    assert twice.status_code == 409 and twice.json["error"]["code"] == "booking_already_open"


def test_check_in_needs_a_kiosk_or_an_officer_and_a_real_code(client, centre):
    anonymous = client.post("/api/v1/check-in", json={"code": "ABCDEFGH"})
    assert anonymous.status_code == 401
    forged = client.post("/api/v1/check-in", json={"code": "ABCDEFGH"}, headers={"X-Hangdoi-Kiosk-Key": "x" * 20})
    assert forged.status_code == 401
    for junk, code in (("ABCDEFGH", "booking_not_found"), ("079123456789|123456789|Nguyễn Văn A|01011950|Nam|Hà Nội|01012021",
                                                           "booking_code_invalid"), ("hello", "booking_code_invalid")):
        response = client.post("/api/v1/check-in", json={"code": junk}, headers=kiosk_headers(centre, "k1"))
        assert response.json["error"]["code"] == code
    token = client.post("/api/v1/auth/login", json={"username": "an", "password": PASSWORD}).json["token"]
    taken = client.post("/api/v1/remote-tickets", json={"service": "HT01", **PERSON}).json
    by_officer = client.post("/api/v1/check-in", json={"code": taken["code"]}, headers={"Authorization": f"Bearer {token}"})
    assert by_officer.status_code == 200 and by_officer.json["print"] is None


def test_a_booking_page_reveals_nobody_else(client, centre):
    made = client.post("/api/v1/bookings", json=booking(centre)).json
    last = made["public_id"][-1]
    other = client.get(f"/api/v1/bookings/{made['public_id'][:-1]}{'A' if last != 'A' else 'B'}")
    assert other.status_code == 404 and other.json["error"]["code"] == "booking_not_found"
    assert client.get("/api/v1/bookings/" + "a" * 65).status_code == 404
    assert client.get(f"/api/v1/bookings?date={MONDAY}").status_code == 401     # the day's list: managers only


def test_the_manager_sees_the_days_bookings(client, centre):
    client.post("/api/v1/bookings", json=booking(centre))
    token = client.post("/api/v1/auth/login", json={"username": "dung", "password": PASSWORD}).json["token"]
    listed = client.get(f"/api/v1/bookings?date={MONDAY}", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and [b["start"] for b in listed.json] == ["10:00"]
    assert listed.json[0]["status"] == "booked" and listed.json[0]["number"] is None


def test_the_openapi_document_describes_the_booking_routes(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/services/{service_id}/slots", "/bookings", "/remote-tickets", "/bookings/{public_id}/cancel",
                 "/check-in", "/bookings/{public_id}"):
        assert path in paths, path


# -- against a real server ----------------------------------------------------------------------
@pytest.fixture
def server(tmp_path):
    from hangdoi.database import Database
    from hangdoi.schema import upgrade
    url = f"sqlite:///{tmp_path / 'data' / 'hangdoi.sqlite3'}"
    (tmp_path / "data").mkdir()
    upgrade(url)
    database = Database(url)
    ids = build_centre(database, open_now(SMALL_CENTRE))
    database.dispose()
    live = LiveServer(tmp_path / "data", extra_env={"HANGDOI_PROXIES": "1", "HANGDOI_BOOKING_RATE_LIMIT": "3/hour"}).start()
    yield live, ids
    live.stop()


def test_one_address_is_stopped_and_a_flood_from_many_cannot_take_a_persons_places(server):
    live, ids = server
    slots = live.get(f"/services/{ids.service('HT01')}/slots?date={_a_weekday_ahead()}").json()
    start = slots[0]["start"]

    def attempt(address, phone):
        return live.post("/bookings", headers={"X-Forwarded-For": address},
                         json={"service": ids.service("HT01"), "date": _a_weekday_ahead(), "start": start,
                               "phone": phone, "full_name": "Lê Văn Cường"})

    # One address: three requests an hour, then 429 with a clear message, whatever phones it names.
    answers = [attempt("203.0.113.7", f"09120000{i:02d}").status_code for i in range(5)]
    assert answers[3:] == [429, 429]
    # Many addresses claiming one person: the person's two a day, and never two for one procedure.
    answers = [attempt(f"198.51.100.{i}", "0987654321") for i in range(10)]
    assert [a.status_code for a in answers].count(201) <= 1
    assert {a.json()["error"]["code"] for a in answers if a.status_code != 201} <= {"booking_already_open", "booking_slot_full"}


def test_sixteen_phones_racing_through_http_for_one_place_get_one(server):
    live, ids = server
    day = _a_weekday_ahead()
    start = live.get(f"/services/{ids.service('CT01')}/slots?date={day}").json()[-1]["start"]
    # CT01: counter 2 primary, counter 1 backup: 2 places a slot. Take one first.
    first = live.post("/bookings", headers={"X-Forwarded-For": "192.0.2.200"},
                      json={"service": ids.service("CT01"), "date": day, "start": start,
                            "phone": "0911111111", "full_name": "Người Đầu"})
    assert first.status_code == 201

    def attempt(i):
        return live.post("/bookings", headers={"X-Forwarded-For": f"192.0.2.{i}"},
                         json={"service": ids.service("CT01"), "date": day, "start": start,
                               "phone": f"09220000{i:02d}", "full_name": "Người Thứ Hai"}).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(attempt, range(16)))
    assert sorted(codes) == [201] + [409] * 15
    assert live.get(f"/services/{ids.service('CT01')}/slots?date={day}").json()[-1]["free"] == 0


def _a_weekday_ahead() -> str:
    """A day within the booking window on which the test centre (open every day) is open."""
    from datetime import date, timedelta
    return (date.today() + timedelta(days=2)).isoformat()

