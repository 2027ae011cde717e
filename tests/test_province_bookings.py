"""Slots booked on the province's booking page at a linked centre: the province books from what the
centre said it has free, signs the booking's QR code with its Ed25519 key, and the centre's kiosk
takes the booking from that code even while the link is down; forged, altered, replayed and
foreign codes are refused. Bookings and cancellations come down the link once, in order, and
free or take their place at the centre (hangdoi/services/replication/bookings_at_province.py,
hangdoi/engine/bookings_from_province.py)."""
from __future__ import annotations

import base64
import json
import sqlite3
import time
from datetime import date

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hangdoi.app import create_app
from hangdoi.clock import SystemClock
from hangdoi.config import load_settings
from hangdoi.database import Database
from hangdoi.engine import bookings, ratings, signatures
from hangdoi.engine.bookings_from_province import accept, learn, offer_document
from hangdoi.engine.errors import Conflict, Invalid
from hangdoi.engine.sql import Tx
from hangdoi.services.replication import bookings_at_province as desk
from hangdoi.services.replication import ingest
from hangdoi.services.replication.pusher import Pusher

from .centres import MONDAY_9AM, SMALL_CENTRE, open_now, today_in
from .conftest import build_centre, fresh_sqlite_url, kiosk_headers, start_province
from .faults import FaultyLink

MONDAY = MONDAY_9AM.date()
BINH = ("0912345678", "Trần Thị Bình")
AN = ("0987654321", "Lê Văn An")


# -- the seal --------------------------------------------------------------------------------------
def test_a_sealed_claim_opens_only_with_its_key_and_unchanged(tmp_path):
    key = signatures.signing_key(tmp_path)
    assert signatures.signing_key(tmp_path).private_bytes_raw() == key.private_bytes_raw()   # kept, not remade
    assert (tmp_path / signatures.KEY_FILE).stat().st_mode & 0o777 == 0o600
    public = signatures.public_text(key)
    text = signatures.seal({"b": "abc", "n": "Nguyễn Thị Ánh"}, key)
    assert text.isascii() and text.startswith("HD1.")
    assert signatures.unseal(text, public) == {"b": "abc", "n": "Nguyễn Thị Ánh"}
    assert signatures.unseal(f"  {text}\n", public)["b"] == "abc"        # as a scanner types it
    body, signature = text[4:].split(".")
    altered = json.dumps({"b": "abd", "n": "Nguyễn Thị Ánh"}, ensure_ascii=False, separators=(",", ":"))
    forged = [
        f"HD1.{base64.urlsafe_b64encode(altered.encode()).decode().rstrip('=')}.{signature}",   # claims changed
        signatures.seal({"b": "abc", "n": "Nguyễn Thị Ánh"}, Ed25519PrivateKey.generate()),    # another key
        # One character of the signature changed (not its last: base64 pads its low bits, which decoders ignore).
        f"HD1.{body}.{signature[:10]}{'B' if signature[10] != 'B' else 'C'}{signature[11:]}", f"HD1.{body}.{signature}.x", f"HD1.{body}", "HD1.", "HD1..",
        f"HD1.{body}.{signature[:10]}!{signature[10:]}",      # a character outside the alphabet
        f"HD1.{body}.{signature}" + "A" * 1000, "ABCD2345", "", "HD1.é.é",
    ]
    # The same signature spelt otherwise: its last character's unused bits set.
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(signature[-1])
    forged.append(f"HD1.{body}.{signature[:-1]}{'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[last | 1]}")
    for text in forged:
        with pytest.raises(Invalid) as refused:
            signatures.unseal(text, public)
        assert refused.value.code == "booking_signature_invalid", text


# -- the province and one centre, without the network ----------------------------------------------
@pytest.fixture
def province_db(tmp_path, sqlite_template, clock):
    (tmp_path / "province").mkdir()
    database = Database(fresh_sqlite_url(sqlite_template, tmp_path / "province"), clock=clock)
    yield database
    database.dispose()


@pytest.fixture
def linked(db, centre, province_db, tmp_path):
    """The centre linked to the province, knowing its key, its offer sent up."""
    link_id, _ = ingest.add_centre(province_db, "Xã Phú Thịnh")
    keys = tmp_path / "province"
    assert learn(db, centre.centre, link_id, desk.public_key(keys))
    send_offer(db, centre.centre, province_db, link_id)
    return link_id, keys


def send_offer(db, centre_id, province_db, link_id):
    desk.store_offer(province_db, link_id, desk.check_offer(json.loads(json.dumps(offer_document(db, centre_id)))))


def free_at_province(province_db, link_id, start, service="HT01", day=MONDAY):
    view = desk.offer(province_db, link_id)
    svc = next(s for s in view["services"] if s["code"] == service)
    slots = next(d["slots"] for d in svc["days"] if d["date"] == day.isoformat())
    return next(s["free"] for s in slots if s["start"] == start)


def pull(db, centre_id, province_db, link_id):
    with db.read() as session:
        after = bookings.province_peer(Tx(session), centre_id)["bookings_through"]
    changes = desk.changes_after(province_db, link_id, after)
    return accept(db, centre_id, changes["items"], changes["through"])


def rows(db, sql, **params):
    with db.read() as session:
        return Tx(session).rows(sql, **params)


def slot_count(db, centre, start):
    found = rows(db, "SELECT used FROM booking_count WHERE what = :w", w=f"slot:{centre.service('HT01')}:{start}")
    return found[0]["used"] if found else 0


def test_a_province_booking_is_taken_from_its_qr_code_before_it_comes_down_the_link(db, centre, clock, linked,
                                                                                    province_db):
    link_id, keys = linked
    # HT01 has counters 1 and 2: four citizens a half-hour slot, half of it bookable.
    assert free_at_province(province_db, link_id, "09:30") == 2
    made = desk.book(province_db, keys, link_id, "HT01", MONDAY, "09:30", *BINH)
    assert (made["status"], made["start"], made["end"], made["service"]["name"]) == (
        "booked", "09:30", "10:00", "Đăng ký khai sinh")
    assert made["phone"] == "091****678" and len(made["code"]) == 8
    assert free_at_province(province_db, link_id, "09:30") == 1       # counted before the centre hears of it
    assert len(made["qr"]) < 400                                      # a QR code a phone shows well

    clock.advance(minutes=20)                                         # 09:20: the window opens at 09:15
    ticket = bookings.check_in(db, centre.centre, made["qr"], kiosk="k1")
    assert ticket["checked_in"] and not ticket["late"]
    assert ticket["booking"]["full_name"] == "Trần Thị Bình" and ticket["booking"]["start"] == "09:30"
    assert slot_count(db, centre, "09:30") == 1
    with pytest.raises(Conflict) as again:                            # the same code shown twice
        bookings.check_in(db, centre.centre, made["qr"], kiosk="k2")
    assert again.value.code == "booking_already_checked_in"

    # Later the link brings the booking itself: the same booking, its contact added, nothing twice.
    assert pull(db, centre.centre, province_db, link_id) == 0
    found = rows(db, "SELECT status, phone, from_province FROM booking WHERE public_id = :p", p=made["public_id"])
    assert [(r["status"], r["phone"], bool(r["from_province"])) for r in found] == [("checked_in", BINH[0], True)]
    assert slot_count(db, centre, "09:30") == 1
    assert rows(db, "SELECT what FROM booking_count WHERE what LIKE :p", p="phone:%") == []   # counted at the province
    # The centre's next offer counts it; the province does not subtract it a second time.
    send_offer(db, centre.centre, province_db, link_id)
    assert free_at_province(province_db, link_id, "09:30") == 1


def test_forged_altered_and_foreign_codes_are_refused_and_change_nothing(db, centre, clock, linked, province_db,
                                                                        tmp_path):
    link_id, keys = linked
    made = desk.book(province_db, keys, link_id, "HT01", MONDAY, "09:30", *BINH)
    clock.advance(minutes=20)
    claims = {"l": link_id, "b": "x" * 16, "k": "ABCDEFGH", "s": "HT01", "d": MONDAY.isoformat(), "t": "09:30",
              "e": "10:00", "n": "Kẻ Giả Mạo"}
    own_key = signatures.signing_key(keys)
    attempts = {
        "booking_signature_invalid": [
            signatures.seal(claims, Ed25519PrivateKey.generate()),             # signed by someone else
            made["qr"][:-3] + ("AAA" if not made["qr"].endswith("AAA") else "BBB"),
            made["qr"].replace(made["qr"].split(".")[1], made["qr"].split(".")[1][:-4] + "AAAA"),
            signatures.seal({"l": link_id, "b": "y" * 16}, own_key),           # the province's key, claims cut
            signatures.seal({**claims, "d": "yesterday"}, own_key),
        ],
        "booking_other_centre": [signatures.seal({**claims, "l": link_id + 1}, own_key)],
        "booking_service_unknown": [signatures.seal({**claims, "s": "ZZ99"}, own_key)],
    }
    for code, texts in attempts.items():
        for text in texts:
            with pytest.raises((Invalid, Conflict)) as refused:
                bookings.check_in(db, centre.centre, text, kiosk="k1")
            assert refused.value.code == code, text
    assert rows(db, "SELECT id FROM booking") == [] and rows(db, "SELECT id FROM ticket") == []
    # A centre that has not heard from its province yet cannot tell: it says so.
    with db.write() as session:
        Tx(session).execute("DELETE FROM province_peer")
    with pytest.raises(Conflict) as unknown:
        bookings.check_in(db, centre.centre, made["qr"], kiosk="k1")
    assert unknown.value.code == "booking_province_unknown"


def test_bookings_and_cancellations_come_down_once_in_order_and_free_their_place(db, centre, clock, linked,
                                                                                province_db):
    link_id, keys = linked
    first = desk.book(province_db, keys, link_id, "HT01", MONDAY, "10:00", *BINH)
    second = desk.book(province_db, keys, link_id, "HT01", MONDAY, "10:00", *AN)
    assert free_at_province(province_db, link_id, "10:00") == 0
    with pytest.raises(Conflict) as full:
        desk.book(province_db, keys, link_id, "HT01", MONDAY, "10:00", "0934567890", "Phạm Thị Cúc")
    assert full.value.code == "booking_slot_full"
    cancelled = desk.cancel(province_db, keys, second["public_id"])
    assert cancelled["status"] == "cancelled" and cancelled["qr"] is None
    assert free_at_province(province_db, link_id, "10:00") == 1

    assert pull(db, centre.centre, province_db, link_id) == 1         # the cancelled one never comes
    assert pull(db, centre.centre, province_db, link_id) == 0         # the same pull again: nothing new
    day = {b["full_name"]: b["status"] for b in bookings.day_list(db, centre.centre, MONDAY)}
    assert day == {"Trần Thị Bình": "booked"}
    assert slot_count(db, centre, "10:00") == 1
    # Its citizen gives it back at the province: the place here is free again.
    desk.cancel(province_db, keys, first["public_id"])
    pull(db, centre.centre, province_db, link_id)
    assert {b["full_name"]: b["status"] for b in bookings.day_list(db, centre.centre, MONDAY)} == {
        "Trần Thị Bình": "cancelled"}
    assert slot_count(db, centre, "10:00") == 0
    clock.advance(minutes=50)
    with pytest.raises(Conflict) as gone:
        bookings.check_in(db, centre.centre, first["qr"], kiosk="k1")
    assert gone.value.code == "booking_not_open"
    with pytest.raises(Conflict):
        desk.cancel(province_db, keys, first["public_id"])            # cancelled once is enough


def test_the_province_learns_from_the_timeline_that_its_citizen_came(db, centre, clock, linked, province_db):
    from .test_province_push import push_all
    link_id, keys = linked
    came = desk.book(province_db, keys, link_id, "HT01", MONDAY, "09:30", *BINH)
    other = desk.book(province_db, keys, link_id, "HT01", MONDAY, "10:00", *AN)
    clock.advance(minutes=20)
    ticket = bookings.check_in(db, centre.centre, came["qr"], kiosk="k1")
    # Another centre's key pushing the same rows (a claimed identity) changes nothing of this one's bookings.
    stranger, _ = ingest.add_centre(province_db, "Xã khác")
    push_all(db, centre.centre, province_db, stranger)
    assert desk.status(province_db, keys, came["public_id"])["status"] == "booked"
    push_all(db, centre.centre, province_db, link_id)
    seen = desk.status(province_db, keys, came["public_id"])
    assert (seen["status"], seen["ticket"], seen["qr"]) == ("checked_in", {"number": ticket["number"]}, None)
    assert desk.status(province_db, keys, other["public_id"])["status"] == "booked"
    with pytest.raises(Conflict) as refused:                    # given back after the visit: no
        desk.cancel(province_db, keys, came["public_id"])
    assert refused.value.code == "booking_already_checked_in"
    # Nothing of it goes down the link again, and the visit stays.
    assert pull(db, centre.centre, province_db, link_id) == 1       # An's booking only
    assert rows(db, "SELECT status FROM booking WHERE public_id = :p", p=came["public_id"])[0]["status"] == "checked_in"
    # Her day still counts the booking she came for: one more today, not two.
    desk.book(province_db, keys, link_id, "HT01", MONDAY, "11:00", *BINH)
    with pytest.raises(Conflict) as limit:
        desk.book(province_db, keys, link_id, "CT01", MONDAY, "10:30", *BINH)
    assert limit.value.code == "booking_person_limit"


def test_a_number_for_today_asked_at_the_province_is_issued_or_refused_by_the_centre(db, centre, clock, linked,
                                                                                     province_db, tmp_path):
    from hangdoi import engine

    from .test_province_push import push_all
    link_id, keys = linked
    with pytest.raises(Conflict) as unheard:                # no word from the centre yet: its queue is unknown
        desk.take_remote(province_db, keys, link_id, "HT01", *BINH)
    assert unheard.value.code == "province_remote_unreachable"
    walk_in = engine.issue_ticket(db, centre.centre, "HT01")
    push_all(db, centre.centre, province_db, link_id)          # heard from just now
    assert {r["code"] for r in desk.offer(province_db, link_id)["remote"]} >= {"HT01", "CT01"}
    asked = desk.take_remote(province_db, keys, link_id, "HT01", *BINH)
    assert (asked["status"], asked["kind"], asked["qr"], asked["ticket"]) == ("asked", "remote", None, None)
    with pytest.raises(Conflict) as twice:
        desk.take_remote(province_db, keys, link_id, "HT01", "0912 345 678", "Trần Thị Bình")
    assert twice.value.code == "booking_already_open"

    # The centre's next pull issues it: a real place in its queue, held until she checks in.
    assert pull(db, centre.centre, province_db, link_id) == 1
    held = rows(db, "SELECT t.status, t.display_number, b.kind, b.from_province FROM booking b "
                    "JOIN ticket t ON t.id = b.ticket_id WHERE b.public_id = :p", p=asked["public_id"])
    assert [(r["status"], r["kind"], bool(r["from_province"])) for r in held] == [("remote", "remote", True)]
    assert pull(db, centre.centre, province_db, link_id) == 0                 # pulled again: nothing twice
    # The offer's list, read in bulk, is what each procedure's own allowance says; one whose share is used
    # up leaves it.
    from hangdoi.engine.bookings import _remote_allowance, remote_codes
    from hangdoi.engine.booking_rules import rules_of

    def offered_now():
        with db.read() as session:
            tx = Tx(session)
            here, now = tx.centre(centre.centre), clock.now()
            rules, today = rules_of(here["settings"]), now.date()
            used = {r["what"]: r["used"] for r in tx.rows("SELECT what, used FROM booking_count WHERE what LIKE :r",
                                                          r="remote:%")}
            one_by_one = [s["code"] for s in tx.rows("SELECT id, code, daily_cap FROM service WHERE centre_id = :c "
                                                     "AND active = :yes ORDER BY position, id", c=centre.centre, yes=True)
                          if used.get(f"remote:{s['id']}", 0) < _remote_allowance(tx, here, rules, s, today)]
            return [r["code"] for r in remote_codes(tx, here, rules, now)], one_by_one
    bulk, one_by_one = offered_now()
    assert bulk == one_by_one and "HT01" in bulk
    with db.write() as session:
        Tx(session).execute("UPDATE booking_count SET used = used + 1000 WHERE what = :w",
                            w=f"remote:{centre.service('HT01')}")
    bulk, one_by_one = offered_now()
    assert bulk == one_by_one and "HT01" not in bulk
    with db.write() as session:
        Tx(session).execute("UPDATE booking_count SET used = used - 1000 WHERE what = :w",
                            w=f"remote:{centre.service('HT01')}")
    push_all(db, centre.centre, province_db, link_id)
    seen = desk.status(province_db, keys, asked["public_id"])
    assert seen["status"] == "issued" and seen["ticket"] == {"number": held[0]["display_number"], "ahead": 1}
    assert seen["qr"] and walk_in["number"] != held[0]["display_number"]
    # Her QR code checks her in at the kiosk; the province hears so.
    checked = bookings.check_in(db, centre.centre, seen["qr"], kiosk="k1")
    assert checked["checked_in"] and checked["number"] == held[0]["display_number"]
    push_all(db, centre.centre, province_db, link_id)
    assert desk.status(province_db, keys, asked["public_id"])["status"] == "checked_in"
    # A number its holder never came for ends at the centre (here an officer cancels it): the province shows so.
    unused = desk.take_remote(province_db, keys, link_id, "CT01", "0934567890", "Phạm Thị Cúc")
    pull(db, centre.centre, province_db, link_id)
    ticket_id = rows(db, "SELECT ticket_id FROM booking WHERE public_id = :p", p=unused["public_id"])[0]["ticket_id"]
    engine.cancel_ticket(db, ticket_id, centre.officer("an"), reason="no_show")
    push_all(db, centre.centre, province_db, link_id)
    assert desk.status(province_db, keys, unused["public_id"])["status"] == "expired"

    # The centre stopped numbers from phones before the province heard: refused, and why, nothing held.
    with db.write() as session:
        Tx(session).execute("UPDATE centre SET settings = :s WHERE id = :c", s=json.dumps({"booking": {"remote": False}}),
                            c=centre.centre)
    refused = desk.take_remote(province_db, keys, link_id, "CT01", *AN)
    assert pull(db, centre.centre, province_db, link_id) == 0
    assert rows(db, "SELECT id FROM booking WHERE public_id = :p", p=refused["public_id"]) == []
    push_all(db, centre.centre, province_db, link_id)
    told = desk.status(province_db, keys, refused["public_id"])
    assert (told["status"], told["refusal"], told["qr"]) == ("refused", "remote_off", None)
    # The centre's admin reads the refusal in its audit log, in words.
    app = create_app(load_settings(env={}, data_dir=tmp_path / "site"), db=db)
    admin = app.test_client()
    with admin.session_transaction() as session:
        session["officer_id"], session["session_version"] = centre.officer("quantri"), 0
    audit_page = admin.get("/admin/audit")
    assert audit_page.status_code == 200
    shown = audit_page.get_data(as_text=True)
    assert "Không cấp" in shown and "Số thứ tự hôm nay đặt qua cổng tỉnh" in shown
    assert "Trung tâm chưa cấp số thứ tự qua mạng." in shown and refused["code"] in shown
    # And a number given back at the province frees its place at the centre.
    with db.write() as session:
        Tx(session).execute("UPDATE centre SET settings = :s WHERE id = :c", s=json.dumps({}), c=centre.centre)
    again = desk.take_remote(province_db, keys, link_id, "CT01", *AN)
    pull(db, centre.centre, province_db, link_id)
    desk.cancel(province_db, keys, again["public_id"])
    pull(db, centre.centre, province_db, link_id)
    gone = rows(db, "SELECT b.status AS booking, t.status AS ticket FROM booking b JOIN ticket t ON t.id = b.ticket_id "
                    "WHERE b.public_id = :p", p=again["public_id"])
    assert [(r["booking"], r["ticket"]) for r in gone] == [("cancelled", "cancelled")]


def test_the_province_books_only_what_is_offered_and_each_person_within_limits(db, centre, clock, linked,
                                                                              province_db):
    link_id, keys = linked

    def refused(*args, **kw):
        with pytest.raises((Invalid, Conflict)) as error:
            desk.book(province_db, keys, link_id, *args, **kw)
        return error.value.code

    assert refused("ZZ99", MONDAY, "10:00", *BINH) == "booking_service_unknown"
    assert refused("XD02", MONDAY, "10:00", *BINH) == "booking_service_unknown"      # not active there
    assert refused("HT01", date(2026, 11, 22), "10:00", *BINH) == "booking_day_closed"   # a Sunday
    assert refused("HT01", MONDAY, "08:30", *BINH) == "booking_slot_unknown"     # already begun
    assert refused("HT01", MONDAY, "10:05", *BINH) == "booking_slot_unknown"
    assert refused("HT01", MONDAY, "10:00", "12345", BINH[1]) == "booking_phone_invalid"
    assert refused("HT01", MONDAY, "10:00", BINH[0], "<script>") == "booking_name_invalid"
    desk.book(province_db, keys, link_id, "HT01", MONDAY, "10:00", *BINH)
    assert refused("HT01", MONDAY, "14:00", *BINH) == "booking_already_open"    # one open per procedure
    desk.book(province_db, keys, link_id, "CT01", MONDAY, "10:00", "+84 912 345 678", BINH[1])
    assert refused("DD01", MONDAY, "10:00", *BINH) == "booking_person_limit"     # two a day
    with pytest.raises(Exception):
        desk.offer(province_db, link_id + 5)
    assert len(desk.changes_after(province_db, link_id, 0)["items"]) == 2


# -- through a live province server and a link that fails --------------------------------------------
@pytest.fixture
def province(tmp_path, sqlite_template):
    # The province chose five levels of satisfaction for its centres.
    server = start_province(tmp_path / "province-server", sqlite_template, "Phường Ba Đình", "Quận Ba Đình (cũ)",
                            extra_env={"HANGDOI_PROXIES": "1", "HANGDOI_PROVINCE_RATING_SCALE": "5",
                                       "HANGDOI_BOOKING_RATE_LIMIT": "4/hour"})
    yield server
    server.stop()


# Open now, and booking opens an hour ahead, so whichever slot the citizen takes can check in now.
LIVE_CENTRE = {**open_now(SMALL_CENTRE), "settings": {"booking": {"early_minutes": 60}}}


def test_a_citizen_books_at_the_province_and_checks_in_at_the_kiosk_while_the_link_is_down(
        province, tmp_path, sqlite_template):
    (tmp_path / "centre").mkdir()
    db = Database(fresh_sqlite_url(sqlite_template, tmp_path / "centre"), clock=SystemClock())
    ids = build_centre(db, LIVE_CENTRE)
    kiosk = create_app(load_settings(env={}, data_dir=tmp_path / "centre"), db=db).test_client()
    link = FaultyLink(province.port)
    pusher = Pusher(db, link.url, province.key, ids.centre, timeout=3)
    api = f"{province.url}/api/v1/province/booking"
    try:
        assert ratings.scale_at(db, ids.centre) == 3
        assert pusher.exchange_bookings() == 0                 # learns the key, sends its free slots
        assert ratings.scale_at(db, ids.centre) == 5           # and the province's rating scale
        listed = requests.get(f"{api}/centres", timeout=5).json()
        assert listed == [{"id": province.link_id, "name": "Phường Ba Đình", "area": "Quận Ba Đình (cũ)",
                           "bookable": True}]
        offer = requests.get(f"{api}/centres/{province.link_id}", timeout=5).json()
        today = next(d for s in offer["services"] if s["code"] == "HT01" for d in s["days"]
                     if d["date"] == today_in(LIVE_CENTRE).isoformat())
        slot = next(s for s in today["slots"] if s["free"])
        made = requests.post(f"{api}/centres/{province.link_id}/bookings", timeout=5, json={
            "service": "HT01", "date": today["date"], "start": slot["start"], "phone": BINH[0],
            "full_name": BINH[1]}, headers={"X-Forwarded-For": "10.9.0.1"})
        assert made.status_code == 201, made.text
        qr = made.json()["qr"]

        link.cut_link()                                        # the line goes down; the citizen arrives
        with pytest.raises(Exception):
            pusher.exchange_bookings()
        forged = qr.replace(qr.split(".")[1], qr.split(".")[1][::-1])
        refused = kiosk.post("/api/v1/check-in", json={"code": forged}, headers=kiosk_headers(ids))
        assert refused.status_code == 422 and refused.json["error"]["code"] == "booking_signature_invalid"
        assert "tỉnh" in refused.json["error"]["message"]
        checked = kiosk.post("/api/v1/check-in", json={"code": qr}, headers=kiosk_headers(ids))
        assert checked.status_code == 200, checked.json
        assert checked.json["booking"]["start"] == slot["start"] and checked.json["number"] == "1001"
        replay = kiosk.post("/api/v1/check-in", json={"code": qr}, headers=kiosk_headers(ids, "k2"))
        assert replay.status_code == 409 and replay.json["error"]["code"] == "booking_already_checked_in"

        link.restore()                                         # back: the booking comes, the same one
        assert pusher.exchange_bookings() == 0
        assert [(r["status"], r["phone"]) for r in rows(db, "SELECT status, phone FROM booking")] == [
            ("checked_in", BINH[0])]
        assert len(rows(db, "SELECT id FROM ticket")) == 1
        status = requests.get(f"{api}/bookings/{made.json()['public_id']}", timeout=5).json()
        assert status["status"] == "booked" and status["qr"] == qr
    finally:
        link.close()
        db.dispose()


def test_the_province_booking_routes_refuse_bad_input_floods_and_wrong_keys(province):
    api = f"{province.url}/api/v1/province"
    key = {"X-Hangdoi-Centre-Key": province.key}

    def post(path, address, **kw):
        return requests.post(f"{api}{path}", headers={"X-Forwarded-For": address, **kw.pop("headers", {})},
                             timeout=5, **kw)

    def code(answer):
        return answer.json()["error"]["code"]

    # Nothing offered yet: no slot to book.
    booking = {"service": "HT01", "date": "2026-12-08", "start": "09:00", "phone": BINH[0], "full_name": BINH[1]}
    assert code(post(f"/booking/centres/{province.link_id}/bookings", "10.8.0.1", json=booking)) == \
        "booking_service_unknown"
    assert post("/booking/centres/999/bookings", "10.8.0.2", json=booking).status_code == 404
    assert post("/booking/centres/99999999999999999999/bookings", "10.8.0.2", json=booking).status_code == 404
    assert code(post(f"/booking/centres/{province.link_id}/bookings", "10.8.0.3", data=b"{x",
                     headers={"Content-Type": "application/json"})) == "malformed_json"
    assert post(f"/booking/centres/{province.link_id}/bookings", "10.8.0.4",
                json={**booking, "extra": 1}).status_code == 422
    assert post(f"/booking/centres/{province.link_id}/bookings", "10.8.0.5",
                json={**booking, "service": "H" * 40}).status_code == 422
    assert requests.get(f"{api}/booking/bookings/{'x' * 70}", timeout=5).status_code == 404
    assert code(requests.get(f"{api}/booking/bookings/nope", timeout=5)) == "booking_not_found"
    # One address flooding: the fifth request an hour is refused.
    flood = [post(f"/booking/centres/{province.link_id}/bookings", "10.8.1.1", json=booking).status_code
             for _ in range(6)]
    assert flood[:4] == [409] * 4 and flood[4:] == [429, 429]
    # The centres' side takes the centre's key only, and checks what it is sent whole.
    assert requests.get(f"{api}/bookings?after=0", timeout=5).status_code == 401
    assert requests.get(f"{api}/bookings?after=0", headers={"X-Hangdoi-Centre-Key": "1.wrong"},
                        timeout=5).status_code == 401
    for after in ("-1", "x", "1" * 12):
        assert requests.get(f"{api}/bookings?after={after}", headers=key, timeout=5).status_code == 422
    good = {"through": 0, "timezone": "Asia/Ho_Chi_Minh", "ask_id_number": False, "early_minutes": 15,
            "late_minutes": 10, "days": {"2099-01-05": [["08:00", "08:30"], ["08:30", "09:00"]]},
            "services": [{"code": "HT01", "name": "Đăng ký khai sinh", "free": {"2099-01-05": [2, 0]}}]}
    bad = [{**good, "through": -1}, {**good, "timezone": "Mars/Olympus"}, {**good, "extra": 1},
           {**good, "days": {"2099-01-05": [["8h", "08:30"], ["08:30", "09:00"]]}},
           {**good, "days": {"soon": [["08:00", "08:30"]]}},
           {**good, "services": [{**good["services"][0], "free": {"2099-01-05": [2]}}]},        # a slot short
           {**good, "services": [{**good["services"][0], "free": {"2099-01-06": [2, 2]}}]},     # a day not offered
           {**good, "services": [{**good["services"][0], "free": {"2099-01-05": [2, -1]}}]},
           {**good, "services": "all"}, [good]]
    for body in bad:
        answer = requests.put(f"{api}/offer", json=body, headers=key, timeout=5)
        assert (answer.status_code, code(answer)) == (422, "invalid_offer"), body
    assert requests.put(f"{api}/offer", json=good, timeout=5).status_code == 401
    assert requests.get(f"{api}/booking/centres", timeout=5).json()[0]["bookable"] is False   # nothing stored
    assert requests.put(f"{api}/offer", json=good, headers=key, timeout=5).json() == {"stored": True}
    assert requests.get(f"{api}/booking/centres", timeout=5).json()[0]["bookable"] is True
    assert requests.put(f"{api}/offer", json={**good, "services": []}, headers=key, timeout=5).status_code == 200
    assert requests.get(f"{api}/booking/centres", timeout=5).json()[0]["bookable"] is False    # nothing left to book
    answer = requests.get(f"{api}/bookings?after=0", headers=key, timeout=5).json()
    assert answer["items"] == [] and answer["link"] == province.link_id and signatures.valid_public(
        answer["signing_key"])
    assert requests.put(f"{api}/offer", json=good, headers=key, timeout=5).status_code == 200
    # One person from many addresses gets one place; the slot's two places go, then it is full.
    wanted = {"service": "HT01", "date": "2099-01-05", "start": "08:00", "full_name": BINH[1]}
    same = [post(f"/booking/centres/{province.link_id}/bookings", f"10.8.2.{i}", json={**wanted, "phone": BINH[0]})
            for i in range(5)]
    assert [a.status_code for a in same] == [201, 409, 409, 409, 409]
    assert {code(a) for a in same[1:]} == {"booking_already_open"}
    other = post(f"/booking/centres/{province.link_id}/bookings", "10.8.3.1", json={**wanted, "phone": AN[0]})
    assert other.status_code == 201
    third = post(f"/booking/centres/{province.link_id}/bookings", "10.8.3.2", json={**wanted, "phone": "0934567890"})
    assert (third.status_code, code(third)) == (409, "booking_slot_full")
    # Giving the place back is answered once; the replay changes nothing.
    first = same[0].json()["public_id"]
    assert post(f"/booking/bookings/{first}/cancel", "10.8.3.3").json()["status"] == "cancelled"
    replay = post(f"/booking/bookings/{first}/cancel", "10.8.3.3")
    assert (replay.status_code, code(replay)) == (409, "booking_not_open")
    assert requests.get(f"{api}/bookings?after=0", headers=key, timeout=5).json()["through"] == 3
    # A number for today: only what the offer lists under "remote", only while the centre is heard from.
    number = {"service": "HT01", "phone": "0945678901", "full_name": "Đỗ Văn Hùng"}
    numbers = f"/booking/centres/{province.link_id}/numbers"
    assert code(post(numbers, "10.8.4.1", json=number)) == "province_remote_none"
    remote = {**good, "remote": ["HT01", {"code": "CT01", "name": "Chứng thực bản sao"}]}
    for body in ({**good, "remote": "HT01"}, {**good, "remote": [{"code": "HT01"}]}, {**good, "remote": [["HT01"]]},
                 {**good, "remote": ["ZZ99"]}):                     # a bare code names one with slots only
        assert requests.put(f"{api}/offer", json=body, headers=key, timeout=5).status_code == 422, body
    # Numbers for today only, but the centre has not pushed within the minute: its live queue is unknown,
    # and the list says there is nothing to take there.
    numbers_only = {**good, "services": [], "remote": [{"code": "HT01", "name": "Đăng ký khai sinh"}]}
    assert requests.put(f"{api}/offer", json=numbers_only, headers=key, timeout=5).status_code == 200
    assert code(post(numbers, "10.8.4.2", json=number)) == "province_remote_unreachable"
    assert requests.get(f"{api}/booking/centres", timeout=5).json()[0]["bookable"] is False
    assert requests.post(f"{api}/push", json={"centre": 1, "after": 0, "through": 0, "rows": []}, headers=key,
                         timeout=5).status_code == 200                       # a heartbeat: heard from now
    assert requests.get(f"{api}/booking/centres", timeout=5).json()[0]["bookable"] is True
    assert requests.put(f"{api}/offer", json=remote, headers=key, timeout=5).status_code == 200
    for body, status in (({**number, "date": "2099-01-05"}, 422), ({**number, "service": "X" * 40}, 422),
                         ({**number, "phone": "12"}, 422), ({"service": "HT01"}, 422)):
        assert post(numbers, "10.8.4.3", json=body).status_code == status, body
    assert post("/booking/centres/999/numbers", "10.8.4.4", json=number).status_code == 404
    asked = post(numbers, "10.8.4.5", json=number)
    assert (asked.status_code, asked.json()["status"], asked.json()["qr"]) == (201, "asked", None)
    again = post(numbers, "10.8.4.6", json={**number, "phone": "+84 945 678 901"})        # the same phone
    assert (again.status_code, code(again)) == (409, "booking_already_open")
    # One address asking again and again: the fifth request an hour is refused, as for bookings.
    flood = [post(numbers, "10.8.5.1", json={**number, "phone": f"09123450{i:02d}"}).status_code for i in range(6)]
    assert flood[:4] == [201] * 4 and flood[4:] == [429, 429]
    pulled = requests.get(f"{api}/bookings?after=3", headers=key, timeout=5).json()["items"]
    assert [(i["kind"], i["status"], i["start"]) for i in pulled] == [("remote", "booked", "")] * 5


# -- the province's booking page, in real Chromium at phone size --------------------------------------
PHONE = {"width": 390, "height": 844}


def test_a_citizen_books_on_the_provinces_page_and_the_centre_takes_its_qr_code(browser, province, tmp_path,
                                                                                 sqlite_template):
    from playwright.sync_api import expect

    from .conftest import screenshot
    (tmp_path / "centre").mkdir()
    db = Database(fresh_sqlite_url(sqlite_template, tmp_path / "centre"), clock=SystemClock())
    ids = build_centre(db, LIVE_CENTRE)
    pusher = Pusher(db, province.url, province.key, ids.centre)
    pusher.exchange_bookings()
    page = browser.new_page(viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2)
    try:
        page.goto(f"{province.url}/province/book")
        page.wait_for_selector("body[data-ready='1'] #centre-list .choice")
        screenshot(page, "province-book-centres-390x844")
        page.fill("#search-centre", "ba dinh")                          # without diacritics is found too
        page.tap("#centre-list .choice:has-text('Phường Ba Đình')")
        page.wait_for_selector("#procedures[data-ready='1'] .choice")
        page.tap("#procedures .choice:has-text('Đăng ký khai sinh')")
        page.wait_for_selector("#slots[data-ready='1'] .slot:not([disabled])")
        screenshot(page, "province-book-slots-390x844")
        page.locator("#slots .slot:not([disabled])").first.tap()
        page.fill("#full_name", "Nguyễn Thị Hoa")
        page.fill("#phone", "012")                                     # a wrong number: told plainly
        page.tap("#submit")
        expect(page.locator("#error")).to_contain_text("10 chữ số")
        page.fill("#phone", "0912 345 678")
        page.tap("#submit")
        page.wait_for_url("**/province/b/*")
        page.wait_for_selector("body[data-ready='1'] img.qr.signed")
        expect(page.locator("#state")).to_contain_text("Đã đặt lịch")
        expect(page.locator(".signed-note")).to_contain_text("chữ ký số")
        assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 0       # the SVG loaded
        screenshot(page, "province-booking-390x844")
        booking = json.loads(page.inner_text("#booking"))
        # What the QR code holds checks in at the centre's kiosk.
        ticket = bookings.check_in(db, ids.centre, booking["qr"], kiosk="k1")
        assert ticket["booking"]["full_name"] == "Nguyễn Thị Hoa"
        # Given back at the province before the centre's timeline arrives: the visit that happened stays.
        page.tap("#cancel")
        page.tap("#cancel-yes")
        expect(page.locator("#state")).to_contain_text("đã huỷ")
        assert page.locator("img.qr").count() == 0
        screenshot(page, "province-booking-cancelled-390x844")
        pusher.exchange_bookings()
        assert [r["status"] for r in rows(db, "SELECT status FROM booking")] == ["checked_in"]
        # The pushed timeline tells the province she came, with her number: the page says so.
        pusher.catch_up()
        page.reload()
        expect(page.locator("#state")).to_contain_text(f"Đã có mặt: số thứ tự {ticket['number']}")
        assert page.locator("#cancel").count() == 0 and page.locator("a.primary").count() == 0
        screenshot(page, "province-booking-checked-in-390x844")
    finally:
        page.close()
        db.dispose()


def test_a_centre_linked_to_a_five_level_province_asks_on_five_levels(browser, province, tmp_path):
    """The centre as installed, linked by its settings: its push process brings the province's choice,
    and the rating tablet at its counter shows five faces."""
    from .conftest import screenshot, start_demo
    from .test_counter_page import TABLET, issue, open_terminal, ready
    from hangdoi.fixtures.demo import DEMO_CENTRE
    (tmp_path / "centre").mkdir()
    server, ids = start_demo(tmp_path / "centre", spec=open_now(DEMO_CENTRE), extra_env={
        "HANGDOI_PROVINCE_URL": province.url, "HANGDOI_PROVINCE_KEY": province.key})
    tablet = browser.new_page(viewport=TABLET)
    try:
        deadline = time.monotonic() + 60
        while True:                                  # the push process pulls every 10 seconds
            tablet.goto(f"{server.url}/rate/{ids.tablets[1]}")
            if tablet.locator(".level").count() == 5 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert tablet.locator(".level").count() == 5
        tablet.wait_for_selector("#idle:not([hidden])")
        issue(server, "HT01")
        page = open_terminal(browser, server, 1)
        page.click("#call-next")
        ready(page, "[data-action=start]")
        page.click("[data-action=start]")
        page.wait_for_function("() => document.querySelector('#current').classList.contains('serving')")
        page.click("[data-action=finish]")
        tablet.wait_for_selector("#ask:not([hidden])", timeout=5000)
        screenshot(tablet, "rate-ask-five-levels-1024x768")
        tablet.click(".level[data-level='2']")        # "Không hài lòng": asked why, as on three levels
        tablet.click(".reason[data-reason='cho_lau']")
        tablet.click("#send")
        tablet.wait_for_function("() => window.hangdoiRating.sent === 1")
        with sqlite3.connect(tmp_path / "centre" / "hangdoi.sqlite3") as centre_db:
            data = centre_db.execute("SELECT data FROM ticket_event WHERE kind = 'rated'").fetchone()[0]
        assert json.loads(data) == {"level": 2, "reasons": ["cho_lau"], "scale": 5}
    finally:
        tablet.close()
        server.stop()


def test_a_citizen_asks_the_province_for_a_number_for_today_and_the_centre_gives_it(browser, province, tmp_path,
                                                                                   sqlite_template):
    from playwright.sync_api import expect

    from .conftest import screenshot
    (tmp_path / "centre").mkdir()
    db = Database(fresh_sqlite_url(sqlite_template, tmp_path / "centre"), clock=SystemClock())
    ids = build_centre(db, LIVE_CENTRE)
    walk_in = bookings_engine_issue(db, ids)
    pusher = Pusher(db, province.url, province.key, ids.centre)
    pusher.catch_up()                                    # heard from just now, its queue pushed
    pusher.exchange_bookings()                           # its offer: numbers for today too
    page = browser.new_page(viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2)
    try:
        page.goto(f"{province.url}/province/book")
        page.wait_for_selector("body[data-ready='1'] #centre-list .choice")
        page.tap("#centre-list .choice:has-text('Phường Ba Đình')")
        page.wait_for_selector("#procedures[data-ready='1'] .choice")
        expect(page.locator("#procedures .choice:has-text('Đăng ký khai sinh')")).to_contain_text("Lấy số hôm nay")
        page.tap("#procedures .choice:has-text('Đăng ký khai sinh')")
        expect(page.locator("#way-remote")).to_be_visible()
        screenshot(page, "province-book-number-390x844")
        page.tap("#way-remote")
        expect(page.locator("#form-when")).to_have_text("Số thứ tự hôm nay")
        page.fill("#full_name", "Lê Thị Mai")
        page.fill("#phone", "0987 654 321")
        page.tap("#submit")
        page.wait_for_url("**/province/b/*")
        expect(page.locator("#state")).to_contain_text("Đang chờ trung tâm cấp số")
        assert page.locator("img.qr").count() == 0                       # no place yet: nothing to show
        screenshot(page, "province-number-asked-390x844")
        # The centre's next pull gives the number; its pushed timeline tells the province; the page follows.
        pusher.exchange_bookings()
        pusher.catch_up()
        expect(page.locator("#state")).to_contain_text("còn khoảng 1 người trước", timeout=15000)
        page.wait_for_selector("img.qr.signed")
        assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 0
        screenshot(page, "province-number-issued-390x844")
        asked = json.loads(page.inner_text("#booking"))
        assert asked["ticket"]["number"] != walk_in["number"]
        ticket = bookings.check_in(db, ids.centre, asked["qr"], kiosk="k1")     # she arrives and scans it
        assert ticket["number"] == asked["ticket"]["number"] and ticket["status"] == "waiting"
        pusher.catch_up()
        page.reload()
        expect(page.locator("#state")).to_contain_text(f"Đã có mặt: số thứ tự {ticket['number']}")
    finally:
        page.close()
        db.dispose()


def bookings_engine_issue(db, ids):
    from hangdoi import engine
    return engine.issue_ticket(db, ids.centre, "HT01")
