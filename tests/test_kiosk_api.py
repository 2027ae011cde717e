"""Issuing prints on the right printer, and a printer's trouble never costs a ticket."""
from __future__ import annotations

import time

import pytest
import socketio
from sqlalchemy import func, select

from hangdoi.app import create_app
from hangdoi.clock import SystemClock
from hangdoi.config import load_settings
from hangdoi.database import Database
from hangdoi.models import Ticket
from hangdoi.schema import upgrade
from hangdoi.fixtures.testing import LiveServer

from .centres import PASSWORD, SMALL_CENTRE, always_open
from .conftest import build_centre, kiosk_headers



def centre_with_printers(printer, default_printer=None):
    settings = {**SMALL_CENTRE.get("settings", {})}
    if default_printer:
        settings["printer"] = default_printer
    return {**SMALL_CENTRE, "settings": settings,
            "kiosks": [{"name": "k1", "printer": printer.settings}, {"name": "k2"}]}


@pytest.fixture
def app(db, tmp_path):
    return create_app(load_settings(env={}, data_dir=tmp_path / "data", kiosk_rate_limit_per_minute=1000), db=db)


def tickets_in(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Ticket))


def test_a_ticket_prints_on_the_printer_of_the_kiosk_that_asked(app, db, printer):
    ids = build_centre(db, centre_with_printers(printer))
    response = app.test_client().post("/api/v1/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k1"))
    assert response.status_code == 201
    assert response.json["print"] == {"printed": True, "state": "ready", "printer": f"network:127.0.0.1:{printer.port}"}
    assert len(printer.tickets) == 1
    # The QR code leads to the status page of this very ticket.
    assert response.json["public_id"]


def test_a_kiosk_without_its_own_printer_uses_the_centre_default(app, db, printer, tmp_path):
    ids = build_centre(db, centre_with_printers(printer, default_printer={"transport": "preview", "width": 384}))
    client = app.test_client()
    assert client.post("/api/v1/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k2")).json["print"]["printed"]
    assert client.post("/api/v1/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k2")).json["print"]["printed"]
    assert sorted(p.name[-8:] for p in (tmp_path / "data" / "printed").glob("*.png")) == ["1001.png", "1002.png"]
    assert printer.tickets == []


def test_with_no_printer_anywhere_the_answer_says_so(app, db):
    ids = build_centre(db, SMALL_CENTRE)
    assert app.test_client().post("/api/v1/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k1")).json["print"] is None


def test_paper_out_still_issues_the_ticket_and_says_so(app, db, printer):
    ids = build_centre(db, centre_with_printers(printer))
    printer.paper = False
    response = app.test_client().post("/api/v1/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k1"))
    assert response.status_code == 201 and response.json["number"] == "1001"
    assert response.json["print"]["printed"] is False and response.json["print"]["state"] == "paper_out"
    assert tickets_in(db) == 1 and printer.tickets == []


def test_a_dead_printer_answers_within_three_seconds(app, db, printer):
    ids = build_centre(db, centre_with_printers(printer))
    printer.stalled = True
    started = time.monotonic()
    response = app.test_client().post("/api/v1/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k1"))
    assert time.monotonic() - started < 3.0      # the kiosk never waits more than 3 s
    assert response.status_code == 201 and response.json["print"]["printed"] is False
    assert tickets_in(db) == 1


def test_an_unknown_kiosk_gets_no_ticket(app, db, printer):
    build_centre(db, centre_with_printers(printer))
    response = app.test_client().post("/api/v1/tickets", json={"service": "HT01"},
                                      headers={"X-Hangdoi-Kiosk-Key": "kiosk-nobody-knows"})
    assert response.status_code == 401 and response.json["error"]["code"] == "invalid_device_key"
    assert tickets_in(db) == 0 and printer.tickets == []


def test_a_kiosk_named_in_the_body_proves_nothing(app, db, printer):
    build_centre(db, centre_with_printers(printer))
    response = app.test_client().post("/api/v1/tickets", json={"service": "HT01", "kiosk": "k1"})
    assert response.status_code == 401 and response.json["error"]["code"] == "kiosk_key_required"
    assert tickets_in(db) == 0 and printer.tickets == []


def test_managers_list_kiosks_and_reprint_the_last_ticket(app, db, printer):
    ids = build_centre(db, centre_with_printers(printer))
    client = app.test_client()
    printer.paper = False
    client.post("/api/v1/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k1"))
    printer.paper = True
    manager = client.post("/api/v1/auth/login", json={"username": "dung", "password": PASSWORD}).json["token"]
    officer = client.post("/api/v1/auth/login", json={"username": "an", "password": PASSWORD}).json["token"]
    kiosks = client.get("/api/v1/kiosks", headers={"Authorization": f"Bearer {manager}"}).json
    k1 = next(k for k in kiosks if k["name"] == "k1")
    assert k1["printer_state"] == "paper_out"
    assert client.get("/api/v1/kiosks", headers={"Authorization": f"Bearer {officer}"}).status_code == 403
    assert client.post(f"/api/v1/kiosks/{k1['id']}/reprint",
                       headers={"Authorization": f"Bearer {officer}"}).status_code == 403
    again = client.post(f"/api/v1/kiosks/{k1['id']}/reprint", headers={"Authorization": f"Bearer {manager}"})
    assert again.status_code == 200 and again.json["ticket"]["number"] == "1001" and again.json["print"]["printed"]
    assert len(printer.tickets) == 1 and tickets_in(db) == 1      # printed again, not issued again
    k2 = ids.kiosks["k2"] and next(k for k in kiosks if k["name"] == "k2")
    nothing = client.post(f"/api/v1/kiosks/{k2['id']}/reprint", headers={"Authorization": f"Bearer {manager}"})
    assert nothing.status_code == 404
    assert client.post("/api/v1/kiosks/999/reprint", headers={"Authorization": f"Bearer {manager}"}).status_code == 404


def test_kiosk_and_status_pages_refuse_what_they_do_not_know(app, db, printer):
    ids = build_centre(db, centre_with_printers(printer))
    client = app.test_client()
    assert client.get("/kiosk/not-a-key").status_code == 403
    assert client.get("/kiosk").status_code == 403
    page = client.get(f"/kiosk/{ids.kiosks['k1']}")
    assert page.status_code == 200 and "Lấy số thứ tự" in page.text
    assert client.get("/t/AAAAAAAAAAAAAAAA").status_code == 404
    assert client.get("/t/<script>").status_code == 404
    ticket = client.post("/api/v1/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k2")).json
    assert client.get(f"/t/{ticket['public_id']}").status_code == 200
    qr = client.get(f"/kiosk/qr/{ticket['public_id']}.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    assert client.get("/kiosk/qr/x.svg").status_code == 404


def test_a_printer_fault_reaches_managers_live(tmp_path, printer):
    url = f"sqlite:///{tmp_path / 'hangdoi.sqlite3'}"
    upgrade(url)
    db = Database(url, clock=SystemClock())
    ids = build_centre(db, always_open(centre_with_printers(printer)))
    db.dispose()
    server = LiveServer(tmp_path).start()
    events, officer_events = [], []
    manager, officer = socketio.Client(), socketio.Client()
    manager.on("device_status", events.append)
    officer.on("device_status", officer_events.append)
    try:
        manager.connect(server.url, transports=["websocket"], auth={"token": server.login("dung", PASSWORD)})
        officer.connect(server.url, transports=["websocket"], auth={"token": server.login("an", PASSWORD)})
        ack = manager.call("subscribe", {"room": "supervision"})
        assert {k["name"] for k in ack["snapshot"]["devices"]} == {"k1", "k2"}
        refused = officer.call("subscribe", {"room": "supervision"})
        assert refused["status"] == 403
        printer.paper = False
        assert server.post("/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k1")).status_code == 201
        deadline = time.monotonic() + 5
        while not events and time.monotonic() < deadline:
            time.sleep(0.02)
        assert events and events[-1]["state"] == "paper_out" and events[-1]["ok"] is False
        assert officer_events == []
    finally:
        manager.disconnect()
        officer.disconnect()
        server.stop()


def test_the_printed_ticket_says_the_same_wait_as_the_answer(app, db, printer):
    ids = build_centre(db, centre_with_printers(printer))
    from hangdoi import engine
    engine.sign_in(db, ids.counter(1), ids.officer("an"))
    client = app.test_client()
    printed = []
    pool = app.extensions["hangdoi"].printing.pool
    real_print = pool.print

    def spy(settings, paper, **kwargs):         # the real printer still prints; we keep what it was given
        printed.append(paper)
        return real_print(settings, paper, **kwargs)

    pool.print = spy
    answers = [client.post("/api/v1/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k1")).json for _ in range(4)]
    assert len(printer.tickets) == 4
    for answer, paper in zip(answers, printed, strict=True):
        assert answer["estimated_wait"]["text"]["vi"] and paper.wait == answer["estimated_wait"]["text"]["vi"]
    assert answers[0]["estimated_wait"]["text"]["vi"] == "dưới 5 phút"            # the counter is free
    # The citizen's phone shows the same figure as long as nothing has moved.
    status = client.get(f"/api/v1/tickets/{answers[-1]['public_id']}").json
    assert status["estimated_wait"] == answers[-1]["estimated_wait"]
