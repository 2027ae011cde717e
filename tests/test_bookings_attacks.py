"""The public booking endpoints against a real server, attacked as a curious citizen or a broken phone
would: floods from one address and from many, claimed identities, replays, guessing, huge and odd
input. Each must harm nothing and answer a clear error. (POST /bookings has its own in
test_bookings_api.py.)"""
from __future__ import annotations

import secrets
import sqlite3

import pytest

from hangdoi.fixtures.testing import LiveServer

from .centres import SMALL_CENTRE, open_now, today_in
from .conftest import build_centre

# HT01 takes one citizen a slot: 20 slots in the centre's 07:00–17:00, half bookable, so ten numbers
# from phones a day, whatever a flood does; walk-ins keep the rest.
SPEC = {**open_now(SMALL_CENTRE), "settings": {"booking": {"capacity": {"HT01": 1}}}}
REMOTE_A_DAY = 10


@pytest.fixture
def live(tmp_path):
    from hangdoi.database import Database
    from hangdoi.schema import upgrade
    data = tmp_path / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'hangdoi.sqlite3'}"
    upgrade(url)
    database = Database(url)
    ids = build_centre(database, SPEC)
    database.dispose()
    server = LiveServer(data, extra_env={
        "HANGDOI_PROXIES": "1",                          # each test names its addresses
        "HANGDOI_BOOKING_RATE_LIMIT": "3/hour", "HANGDOI_BOOKING_CANCEL_RATE_LIMIT": "4/hour",
        "HANGDOI_PUBLIC_READ_RATE_LIMIT": "20/minute", "HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "15"}).start()
    server.ids, server.database = ids, data / "hangdoi.sqlite3"
    yield server
    server.stop()


def remote(live, address, phone, service="HT01", **extra):
    return live.post("/remote-tickets", headers={"X-Forwarded-For": address},
                     json={"service": live.ids.service(service), "phone": phone, "full_name": "Trần Văn Bình", **extra})


def count(live, sql: str) -> int:
    with sqlite3.connect(live.database) as db:
        return db.execute(sql).fetchone()[0]


def test_a_flood_of_remote_numbers_from_many_addresses_leaves_the_walk_ins_their_share(live):
    # One address: three an hour, then a clear 429 whatever phones it names.
    one = [remote(live, "203.0.113.9", f"09120000{i:02d}").status_code for i in range(5)]
    assert one == [201, 201, 201, 429, 429]
    refused = remote(live, "203.0.113.9", "0912000099")
    assert refused.json()["error"]["code"] == "rate_limited" and refused.json()["error"]["message"]
    # Forty addresses, a phone each: the day's share for phones and not one more.
    answers = [remote(live, f"198.51.100.{i}", f"09130000{i:02d}") for i in range(40)]
    taken = [a for a in answers if a.status_code == 201]
    assert len(taken) == REMOTE_A_DAY - 3
    assert {a.json()["error"]["code"] for a in answers if a.status_code != 201} == {"remote_full"}
    assert "qua mạng" in next(a for a in answers if a.status_code == 409).json()["error"]["message"]
    # Many addresses claiming one person: two a day for that phone, never two open for one procedure.
    claimed = [remote(live, f"192.0.2.{i}", "0987654321", service=("CT01", "DD01")[i % 2]) for i in range(8)]
    assert [a.status_code for a in claimed].count(201) == 2
    assert {a.json()["error"]["code"] for a in claimed if a.status_code != 201} <= {"booking_person_limit",
                                                                                     "booking_already_open"}
    # The kiosk still gives the walk-ins their numbers, and nothing was handed out twice.
    walk_in = live.post("/tickets", headers={"X-Hangdoi-Kiosk-Key": live.ids.kiosks["k1"]},
                        json={"service": live.ids.service("HT01")})
    assert walk_in.status_code == 201, walk_in.text
    assert count(live, "SELECT count(*) FROM ticket WHERE origin = 'remote'") == REMOTE_A_DAY + 2
    assert count(live, "SELECT count(*) - count(DISTINCT number || service_id) FROM ticket") == 0


def test_remote_numbers_refuse_odd_and_huge_input_and_change_nothing(live):
    cases = [({"travel_minutes": 7}, "booking_travel_invalid"), ({"travel_minutes": "30"}, "invalid_field"),
             ({"phone": "０９１２３４５６７８"}, "booking_phone_invalid"), ({"full_name": "x" * 5000}, "invalid_field"),
             ({"service": 10 ** 30}, "invalid_field"), ({"service": "١"}, "service_not_found"),
             ({"admin": True}, "unknown_field")]
    for i, (changes, code) in enumerate(cases):
        body = {"service": live.ids.service("HT01"), "phone": f"09140000{i:02d}", "full_name": "Lê Thị Thu", **changes}
        answer = live.post("/remote-tickets", headers={"X-Forwarded-For": f"10.1.0.{i}"}, json=body)
        assert answer.status_code in (404, 413, 422), (changes, answer.status_code, answer.text)
        assert answer.json()["error"]["code"] == code, (changes, answer.json())
    huge = live.post("/remote-tickets", headers={"X-Forwarded-For": "10.1.1.1", "Content-Type": "application/json"},
                     data=b'{"full_name": "' + b"a" * 3_000_000 + b'"}')
    assert huge.status_code == 413
    assert count(live, "SELECT count(*) FROM booking") == 0


def test_cancelling_is_safe_to_replay_and_guessing_is_stopped(live):
    day = today_in(SPEC).isoformat()
    start = next(s for s in live.get(f"/services/{live.ids.service('CT01')}/slots?date={day}").json() if s["free"])
    made = live.post("/bookings", headers={"X-Forwarded-For": "10.2.0.1"},
                     json={"service": live.ids.service("CT01"), "date": day, "start": start["start"],
                           "phone": "0915000001", "full_name": "Phạm Thị Lan"}).json()
    first = live.post(f"/bookings/{made['public_id']}/cancel", headers={"X-Forwarded-For": "10.2.0.2"})
    assert first.status_code == 200 and first.json()["status"] == "cancelled"
    again = live.post(f"/bookings/{made['public_id']}/cancel", headers={"X-Forwarded-For": "10.2.0.2"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "booking_not_open"
    # The slot came back once, not twice.
    slots = live.get(f"/services/{live.ids.service('CT01')}/slots?date={day}").json()
    assert next(s for s in slots if s["start"] == start["start"])["free"] == start["free"]
    # Guessing other people's bookings: not found, then stopped at the address's limit.
    guesses = [live.post(f"/bookings/{secrets.token_urlsafe(12)}/cancel", headers={"X-Forwarded-For": "10.2.0.3"})
               for _ in range(6)]
    assert [g.status_code for g in guesses] == [404, 404, 404, 404, 429, 429]
    assert guesses[0].json()["error"]["code"] == "booking_not_found"
    for odd in ("x" * 3000, "%00", "..%2F..%2Fadmin", "١٢٣"):
        answer = live.post(f"/bookings/{odd}/cancel", headers={"X-Forwarded-For": "10.2.0.4"})
        assert answer.status_code in (404, 429) and answer.json()["error"]["code"] in ("booking_not_found", "not_found",
                                                                                       "rate_limited")
    assert count(live, "SELECT count(*) FROM booking WHERE status = 'cancelled'") == 1


def test_reading_slots_and_bookings_is_bounded_per_address_and_odd_input_is_refused(live):
    service = live.ids.service("HT01")
    for query, status in (("date=2026-02-30", 422), ("date=" + "9" * 3000, 422), ("date=２０２６-12-07", 422),
                          ("date=1900-01-01", 422), ("date=9999-12-31", 422)):
        answer = live.get(f"/services/{service}/slots?{query}", headers={"X-Forwarded-For": "10.3.0.1"})
        assert answer.status_code == status, (query, answer.status_code, answer.text[:200])
        assert answer.json()["error"]["message"]
    assert live.get("/services/١/slots", headers={"X-Forwarded-For": "10.3.0.1"}).status_code == 404
    assert live.get("/services/99999999999999999999/slots", headers={"X-Forwarded-For": "10.3.0.1"}).status_code == 404
    # A flood of reads from one address is cut at its limit; a neighbour reads as usual.
    flood = [live.get(f"/services/{service}/slots?date={today_in(SPEC)}", headers={"X-Forwarded-For": "10.3.0.2"}).status_code
             for _ in range(22)]
    assert flood[:20] == [200] * 20 and flood[20:] == [429, 429]
    peeks = [live.get(f"/bookings/{secrets.token_urlsafe(12)}", headers={"X-Forwarded-For": "10.3.0.3"}).status_code
             for _ in range(22)]
    assert peeks[:20] == [404] * 20 and peeks[20:] == [429, 429]
    assert live.get(f"/services/{service}/slots?date={today_in(SPEC)}",
                    headers={"X-Forwarded-For": "10.3.0.4"}).status_code == 200
    # IPv6: one household's /64 is one address, however many it rotates through.
    rotating = [live.get(f"/services/{service}/slots?date={today_in(SPEC)}", headers={"X-Forwarded-For": f"2001:db8:1:2::{i:x}"}).status_code
                for i in range(22)]
    assert rotating[20:] == [429, 429]


def test_check_in_takes_only_real_kiosks_and_officers_and_a_replay_makes_no_second_ticket(live):
    taken = remote(live, "10.4.0.1", "0916000001").json()
    for headers in ({}, {"X-Hangdoi-Kiosk-Key": "k1"}, {"X-Hangdoi-Kiosk-Key": secrets.token_urlsafe(24)},
                    {"X-Hangdoi-Kiosk": "k1"}):
        answer = live.post("/check-in", headers=headers, json={"code": taken["code"]})
        assert answer.status_code == 401, (headers, answer.status_code)
    kiosk = {"X-Hangdoi-Kiosk-Key": live.ids.kiosks["k1"]}
    first = live.post("/check-in", headers=kiosk, json={"code": taken["code"]})
    assert first.status_code == 200 and first.json()["status"] == "waiting"
    replay = live.post("/check-in", headers={"X-Hangdoi-Kiosk-Key": live.ids.kiosks["k2"]}, json={"code": taken["code"]})
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "booking_already_checked_in"
    assert count(live, f"SELECT count(*) FROM ticket WHERE id = {taken['id']} AND status = 'waiting'") == 1
    for code, expected in (("", "invalid_field"), ("A" * 1001, "invalid_field"), ("AB-CD", "booking_code_invalid"),
                           ("A" * 500, "booking_code_invalid"), ("HD1." + "A" * 600, "booking_province_unknown"),
                           ("'; DROP TABLE booking; --", "booking_code_invalid"), (12345678, "invalid_field")):
        answer = live.post("/check-in", headers=kiosk, json={"code": code})
        assert answer.status_code in (404, 409, 422) and answer.json()["error"]["code"] == expected, (code, answer.json())
    # A kiosk guessing codes is stopped at the kiosk's own limit; the other kiosk goes on.
    guesses = [live.post("/check-in", headers=kiosk, json={"code": secrets.token_hex(4).upper()}).status_code
               for _ in range(16)]
    assert set(guesses) <= {404, 422, 429} and guesses[-1] == 429   # (422: a letter codes never use)
    assert live.post("/tickets", headers={"X-Hangdoi-Kiosk-Key": live.ids.kiosks["k2"]},
                     json={"service": live.ids.service("CT01")}).status_code == 201
    assert count(live, "SELECT count(*) FROM booking") == 1
