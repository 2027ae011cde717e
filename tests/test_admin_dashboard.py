"""The manager's live dashboard and its actions: permissions, bad input, and in real Chromium."""
from __future__ import annotations

import time

import pytest
import requests
import socketio

from hangdoi.fixtures.demo import DEMO_CENTRE

from .conftest import screenshot, start_demo

DESKTOP = {"width": 1366, "height": 768}



@pytest.fixture
def centre(tmp_path, printer):
    spec = {**DEMO_CENTRE, "settings": {**DEMO_CENTRE["settings"], "sla_minutes": 0},
            "kiosks": [{"name": "Kiosk sảnh", "printer": printer.settings}]}
    server, ids = start_demo(tmp_path, spec=spec)
    yield server, ids
    server.stop()


def sign_in(browser, server, username, password):
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(f"{server.url}/admin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    return page


def test_only_managers_and_admins_get_the_dashboard(browser, centre):
    server, ids = centre
    officer = sign_in(browser, server, "canbo1", "matkhau1")
    assert "dành cho lãnh đạo" in officer.content()
    for who in (None, server.login("canbo1", "matkhau1")):
        headers = {"Authorization": f"Bearer {who}"} if who else {}
        assert requests.get(f"{server.url}/api/v1/supervision", headers=headers).status_code in (401, 403)
        for path in (f"/services/{ids.service('HT01')}/close-today", "/close-day"):
            assert requests.post(f"{server.url}/api/v1{path}", headers=headers).status_code in (401, 403)
    assert server.post("/tickets", json={"service": "HT01"}).status_code == 201   # nothing was closed


def test_bad_service_actions_are_refused(centre):
    server, ids = centre
    manager = server.login("lanhdao", "lanhdao123")
    assert server.post("/services/999999/close-today", manager).status_code == 404
    assert server.post(f"/services/{ids.service('HT01')}/delete", manager).status_code == 404
    assert server.post("/services/0/close-today", manager).status_code == 404


def test_a_manager_watches_and_acts_live(browser, centre, printer):
    server, ids = centre
    officer = server.login("canbo1", "matkhau1")
    server.post(f"/counters/{ids.counter(1)}/sign-in", officer).raise_for_status()
    for code in ("HT01", "HT02", "DD01"):
        server.post("/tickets", json={"service": code}).raise_for_status()
    page = sign_in(browser, server, "lanhdao", "lanhdao123")
    page.wait_for_selector(".counter[data-counter='1'] .officer:has-text('Nguyễn Thị Lan')")
    # A call elsewhere shows up without reloading.
    server.post(f"/counters/{ids.counter(1)}/call-next", officer).raise_for_status()
    page.wait_for_selector(".counter[data-counter='1'].calling")
    # Waits over the target (0 minutes here) are alerts.
    page.wait_for_selector(".alert:has-text('Đăng ký biến động')")
    # A printer running out of paper is an alert the moment it happens.
    printer.paper = False
    printed_before = len(printer.tickets)
    server.post("/tickets", json={"service": "HT01"}).raise_for_status()
    page.wait_for_selector(".alert:has-text('Kiosk sảnh: hết giấy')", timeout=5000)
    page.wait_for_timeout(300)
    screenshot(page, "admin-dashboard")
    # Refill, reprint the last ticket from here.
    printer.paper = True
    page.click(".device[data-kiosk='Kiosk sảnh'] button")
    page.wait_for_function("() => !document.querySelector(\".device[data-kiosk='Kiosk sảnh'] .state\")"
                           ".textContent.includes('hết giấy')", timeout=5000)
    assert len(printer.tickets) == printed_before + 1
    # Close a service for the day: asked first (it cannot be undone for those turned away); a
    # manager who says no changes nothing, then the kiosk refuses it from now on.
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("tr[data-service='XD01'] button >> nth=0")
    assert asked and "Ngừng nhận hồ sơ" in asked[0]
    assert server.post("/tickets", json={"service": "XD01"}).status_code == 201
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("tr[data-service='XD01'] button >> nth=0")
    page.wait_for_selector("tr[data-service='XD01'].closed")
    refused = server.post("/tickets", json={"service": "XD01"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "service_closed_today"
    page.click("tr[data-service='XD01'] button >> nth=0")
    page.wait_for_selector("tr[data-service='XD01']:not(.closed)")
    assert server.post("/tickets", json={"service": "XD01"}).status_code == 201
    # End the officer's session at counter 1: the citizen goes back to the queue.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(".counter[data-counter='1'] button")
    page.wait_for_selector(".counter[data-counter='1'].closed")
    assert server.get(f"/counters/{ids.counter(1)}/state", server.login("lanhdao", "lanhdao123")).json()["ticket"] is None


def test_a_manager_moves_the_waiting_tickets_of_a_service_to_another(browser, centre):
    server, ids = centre
    first = server.post("/tickets", json={"service": "HT04"}).json()
    server.post("/tickets", json={"service": "HT04"}).raise_for_status()
    page = sign_in(browser, server, "lanhdao", "lanhdao123")
    page.click("tr[data-service='HT04'] [data-move]")
    assert "2" in page.locator("#move-title").inner_text()
    page.select_option("#move-target", label="HT01 — Đăng ký khai sinh")
    screenshot(page, "admin-dashboard-move")
    page.click("#move-confirm")
    page.wait_for_selector("tr[data-service='HT04'] td.waiting:has-text('0')")
    page.wait_for_selector("tr[data-service='HT01'] td.waiting:has-text('2')")
    assert server.get(f"/tickets/{first['public_id']}").json()["service"]["code"] == "HT01"


def wait_for(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_managers_see_kiosks_and_displays_come_online_and_go_offline(centre):
    server, ids = centre
    manager_token = server.login("lanhdao", "lanhdao123")
    news, manager, screen, stranger = [], socketio.Client(), socketio.Client(), socketio.Client()
    manager.on("device_status", news.append)
    try:
        manager.connect(server.url, transports=["websocket"], auth={"token": manager_token})
        snapshot = manager.call("subscribe", {"room": "supervision"})["snapshot"]
        assert [(d["name"], d["online"]) for d in snapshot["displays"]][0] == ("Sảnh chờ chính", False)
        screen.connect(server.url, transports=["websocket"])
        assert "snapshot" in screen.call("subscribe", {"room": "display", "device": ids.displays["Sảnh chờ chính"]})
        assert wait_for(lambda: any(n.get("presence") == "display" and n["online"] for n in news))
        listed = server.get("/supervision", manager_token).json()["displays"]
        assert {d["name"]: d["online"] for d in listed}["Sảnh chờ chính"] is True
        stranger.connect(server.url, transports=["websocket"])
        refused = stranger.call("subscribe", {"room": "display", "device": "not-a-key"})
        assert refused["status"] == 422 and refused["error"]["code"] == "invalid_field"
        assert stranger.call("subscribe", {"room": "supervision", "device": "x"})["status"] == 401
        screen.disconnect()
        assert wait_for(lambda: any(n.get("presence") == "display" and not n["online"] for n in news))
        listed = server.get("/supervision", manager_token).json()["displays"]
        assert {d["name"]: d["online"] for d in listed}["Sảnh chờ chính"] is False
    finally:
        for client in (manager, screen, stranger):
            if client.connected:
                client.disconnect()
