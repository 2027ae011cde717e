"""Messages to citizens: the GSM modem on a pty that answers like a real one (errors, a SIM with no
credit, silence), a local HTTP gateway, and the notifier that decides what is due and never lets a
failed channel hold the queue."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from drivers.sms.fake import FakeModem
from drivers.sms.gateway import HttpGateway
from drivers.sms.modem import GsmModem
from drivers.sms.text import parts, without_diacritics
from hangdoi import engine
from hangdoi.engine import bookings
from hangdoi.models import Centre, TicketEvent
from hangdoi.services.estimates.live import LiveEstimates
from hangdoi.services.notify import Notifier

PHONE, NAME = "0912345678", "Nguyễn Văn An"


@pytest.fixture
def modem():
    fake = FakeModem()
    yield fake
    fake.close()


def test_a_plain_message_goes_in_gsm_text_mode(modem):
    sent = GsmModem(modem.device, timeout=3).send(PHONE, "Moi quy vi co so 1005 den quay 3.")
    assert sent.ok and sent.detail == "1 message(s): 1"
    assert modem.sent == [(PHONE, "Moi quy vi co so 1005 den quay 3.")]
    assert modem.commands[:3] == ["AT", "AT+CMGF=1", 'AT+CSCS="GSM"']


def test_diacritics_go_as_ucs2_and_a_long_text_as_numbered_parts(modem):
    text = "Mời quý vị có số 1005 đến quầy 3. " * 4
    sent = GsmModem(modem.device, timeout=3).send(PHONE, text.strip())
    assert sent.ok
    assert [t for _, t in modem.sent] == parts(text.strip()) and len(modem.sent) == 3
    assert all(len(t) <= 70 for _, t in modem.sent) and modem.sent[0][1].endswith("(1/3)")
    assert 'AT+CSCS="UCS2"' in modem.commands
    assert without_diacritics("Mời quý vị đến quầy") == "Moi quy vi den quay"


def test_a_sim_without_credit_no_network_silence_and_no_port_each_say_why():
    broke = FakeModem(credit=0)
    offline = FakeModem(network=False)
    silent = FakeModem(silent=True)
    try:
        assert GsmModem(broke.device, timeout=3).send(PHONE, "x").detail == "send: +CMS ERROR: 21"
        assert GsmModem(offline.device, timeout=3).send(PHONE, "x").detail == "send: +CMS ERROR: 331"
        quiet = GsmModem(silent.device, timeout=0.5).send(PHONE, "x")
        assert not quiet.ok and "no answer" in quiet.detail
        assert broke.sent == [] and offline.sent == []
    finally:
        for fake in (broke, offline, silent):
            fake.close()
    unplugged = GsmModem("/dev/ttyUSB-missing").send(PHONE, "x")
    assert not unplugged.ok and unplugged.detail.startswith("port:")


class Gateway:
    """A provider's SMS API on a loopback port: answers {"status": "ok"} or an error, as told."""

    def __init__(self):
        self.received: list[dict] = []
        self.answer = (200, '{"status":"ok","id":"abc"}')
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                outer.received.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
                status, reply = outer.answer
                self.send_response(status)
                self.end_headers()
                self.wfile.write(reply.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    fake = Gateway()
    yield fake
    fake.close()


def test_the_http_gateway_fills_its_template_and_reads_the_answer(gateway):
    channel = HttpGateway(gateway.url, headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
                          body='{"to": "{phone84}", "text": {text_json}, "brand": "TTHCC"}', success='"status":"ok"')
    assert channel.send(PHONE, 'Số 1005 "mời" đến quầy 3').ok
    sent = json.loads(gateway.received[0]["body"])
    assert sent == {"to": "84912345678", "text": 'Số 1005 "mời" đến quầy 3', "brand": "TTHCC"}
    assert gateway.received[0]["auth"] == "Bearer k"
    gateway.answer = (200, '{"status":"error","reason":"balance"}')
    refused = channel.send(PHONE, "x")
    assert not refused.ok and "balance" in refused.detail
    gateway.answer = (503, "busy")
    assert channel.send(PHONE, "x").detail == "HTTP 503: busy"
    assert not HttpGateway("http://127.0.0.1:9/none").send(PHONE, "x").ok


# -- the notifier, on the engine -----------------------------------------------------------------
def with_sms(db, centre, settings):
    with db.write() as s:
        current = s.scalar(select(Centre.settings).where(Centre.id == centre.centre)) or {}
        s.execute(update(Centre).where(Centre.id == centre.centre).values(settings={**current, "sms": settings}))


def notified(db, ticket_id):
    with db.read() as s:
        return [e.data for e in s.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "notified").order_by(TicketEvent.id))]


@pytest.fixture
def notifier(db):
    estimates = LiveEstimates(db)
    estimates.min_interval = 0              # every look computes the forecast afresh
    told = Notifier(db, estimates, autostart=False)
    db.on_commit(told.on_commit)
    return told


def test_a_remote_number_is_told_when_near_and_when_called_once_each(db, centre, modem, notifier):
    with_sms(db, centre, {"channel": "gsm", "port": modem.device})
    remote = bookings.take_remote(db, centre.centre, "HT01", PHONE, NAME)
    ticket_id = remote["ticket"]["id"]
    engine.sign_in(db, centre.counter(1), centre.officer("an"))
    notifier.look(centre.centre)                  # a counter free, nobody ahead: the call is near
    notifier.look(centre.centre)                  # and said once
    assert notifier.send_pending() == 2 and len(modem.sent) == 1
    assert modem.sent == [(PHONE, "[Trung tam thu nghiem] So 1001 (Dang ky khai sinh): sap den luot quy vi. "
                                  f"Moi den trung tam va quet ma {remote['code']} tai ki-ot.")]
    assert notified(db, ticket_id) == [{"what": "near", "channel": "gsm", "outcome": "sent", "detail": "1 message(s): 1"}]
    bookings.check_in(db, centre.centre, remote["code"])
    called = engine.call_next(db, centre.counter(1), centre.officer("an"))
    assert called["ticket"]["id"] == ticket_id
    notifier.send_pending()
    assert modem.sent[-1] == (PHONE, "[Trung tam thu nghiem] Moi quy vi co so 1001 den quay 1.")
    assert [e["what"] for e in notified(db, ticket_id)] == ["near", "called"]


def test_a_walk_in_call_sends_nothing(db, centre, modem, notifier):
    with_sms(db, centre, {"channel": "gsm", "port": modem.device})
    engine.issue_ticket(db, centre.centre, "HT01")
    engine.sign_in(db, centre.counter(1), centre.officer("an"))
    engine.call_next(db, centre.counter(1), centre.officer("an"))
    assert notifier.send_pending() == 0 and modem.sent == []


def test_a_failed_channel_is_recorded_and_never_holds_the_queue(db, centre, notifier):
    broke = FakeModem(credit=0)
    try:
        with_sms(db, centre, {"channel": "gsm", "port": broke.device})
        remote = bookings.take_remote(db, centre.centre, "HT01", PHONE, NAME)
        engine.sign_in(db, centre.counter(1), centre.officer("an"))
        notifier.look(centre.centre)
        notifier.send_pending()
        assert notified(db, remote["ticket"]["id"]) == [
            {"what": "near", "channel": "gsm", "outcome": "failed", "detail": "send: +CMS ERROR: 21"}]
        checked = bookings.check_in(db, centre.centre, remote["code"])
        assert engine.call_next(db, centre.counter(1), centre.officer("an"))["ticket"]["id"] == checked["id"]
    finally:
        broke.close()


def test_a_booking_that_expired_tells_its_holder(db, centre, modem, notifier, clock):
    with_sms(db, centre, {"channel": "gsm", "port": modem.device, "ascii": False})
    made = bookings.book(db, centre.centre, "HT01", clock.now().date(), "09:30", PHONE, NAME)
    clock.advance(minutes=41)
    notifier.look(centre.centre)
    notifier.send_pending()
    # With its diacritics (the centre's choice) the message is UCS-2: 70 characters a part.
    assert modem.sent == [(PHONE, f"[Trung tâm thử nghiệm] Lịch hẹn {made['code']} đã bị huỷ vì quý vị (1/2)"),
                          (PHONE, "không có mặt đúng giờ. Xin cảm ơn. (2/2)")]


def test_without_a_channel_the_page_is_the_signal(db, centre, notifier):
    remote = bookings.take_remote(db, centre.centre, "HT01", PHONE, NAME)
    notifier.look(centre.centre)                   # no counter open: no forecast, nothing said
    assert notifier.send_pending() == 0
    engine.sign_in(db, centre.counter(1), centre.officer("an"))
    notifier.look(centre.centre)
    notifier.send_pending()
    assert notified(db, remote["ticket"]["id"]) == [{"what": "near", "channel": "page", "outcome": "shown", "detail": None}]


def test_a_holder_who_lives_far_is_told_earlier(db, centre, notifier):
    from hangdoi.services.notify import near
    assert near({"minutes": 9, "high": 14}, 15) and near({"minutes": 9, "high": 15}, 15)
    assert not near({"minutes": 9, "high": 16}, 15) and not near(None, 15) and not near({"minutes": None}, 15)
    far = bookings.take_remote(db, centre.centre, "HT01", PHONE, NAME, travel_minutes=45)
    assert bookings.status(db, far["public_id"])["lead_minutes"] == 50
    near_by = bookings.take_remote(db, centre.centre, "HT02", "0912000001", NAME, travel_minutes=10)
    assert bookings.status(db, near_by["public_id"])["lead_minutes"] == 15      # the centre's near_minutes
    with pytest.raises(engine.Invalid) as refused:
        bookings.take_remote(db, centre.centre, "CT01", "0912000002", NAME, travel_minutes=7)
    assert refused.value.code == "booking_travel_invalid"


def test_the_late_end_of_the_range_says_when_and_a_closing_session_waits_for_the_next():
    """Told when the forecast's P80 is within the lead (its P60 alone made the urban ward's remote
    citizens wait 22 minutes in the hall at the p90); not while the call falls in the session under
    way but the holder could not get here before it ends."""
    from hangdoi.services.notify import near
    assert not near({"minutes": 10, "high": 25}, 20)              # the P60 is near, the P80 not yet
    assert near({"minutes": 25, "high": None}, 30)                # no P80 today: the P60 says
    # 11:12, the session ends at 11:30 (18 minutes left), 25 minutes' lead: they would find it closed.
    assert not near({"minutes": 8, "high": 12}, 25, session_left=18)
    assert near({"minutes": 8, "high": 12}, 15, session_left=18)   # close enough to make it
    # The call comes after the break (its forecast spans it): told as the afternoon comes near.
    assert near({"minutes": 20, "high": 24}, 25, session_left=18)
