"""The lobby board in real Chromium at 1920×1080, against a live server."""
from __future__ import annotations

import pytest

from hangdoi.clock import SystemClock
from hangdoi.database import Database
from hangdoi.demo import DEMO_CENTRE
from hangdoi.schema import upgrade
from hangdoi.testing import LiveServer

from .conftest import build_centre, screenshot

DISPLAY = {"width": 1920, "height": 1080}


@pytest.fixture
def demo_server(tmp_path):
    url = f"sqlite:///{tmp_path / 'hangdoi.sqlite3'}"
    upgrade(url)
    db = Database(url, clock=SystemClock())
    ids = build_centre(db, DEMO_CENTRE)
    db.dispose()
    server = LiveServer(tmp_path).start()
    yield server, ids
    server.stop()


def sign_in(server, ids, number):
    token = server.login(f"canbo{number}", f"matkhau{number}")
    server.post(f"/counters/{ids.counter(number)}/sign-in", token).raise_for_status()
    return token


def test_a_call_appears_on_the_board_and_survives_a_server_restart(browser, demo_server):
    server, ids = demo_server
    tokens = {n: sign_in(server, ids, n) for n in (1, 2, 4)}
    for code in ("HT01", "HT02", "CT01", "DD01", "KD01", "HT01"):
        server.post("/tickets", json={"service": code}).raise_for_status()
    page = browser.new_page(viewport=DISPLAY)
    page.goto(f"{server.url}/display")
    page.wait_for_selector(".card[data-counter='6']")
    assert page.locator("#latest-number").inner_text() == "—"

    called = server.post(f"/counters/{ids.counter(1)}/call-next", tokens[1]).json()["ticket"]["number"]
    page.wait_for_function("n => document.querySelector('#latest-number').textContent === n", arg=called,
                           timeout=2000)
    assert page.locator("#latest-counter").inner_text() == "Quầy 1"
    page.wait_for_function("() => document.querySelector(\".card[data-counter='1'] .ticket\").textContent !== '—'")
    assert page.locator(".card[data-counter='1'] .ticket").inner_text() == called
    server.post(f"/counters/{ids.counter(4)}/call-next", tokens[4])
    server.post(f"/counters/{ids.counter(2)}/call-next", tokens[2])
    page.wait_for_function("() => document.querySelectorAll('#recent li').length === 3")
    page.wait_for_timeout(3000)  # let the flash finish before the picture
    screenshot(page, "display-board")

    server.kill()
    page.wait_for_selector("body.offline", timeout=15000)
    assert page.locator(".offline-mark").is_visible()
    screenshot(page, "display-offline")
    server.start()
    page.wait_for_selector("body:not(.offline)", timeout=15000)
    server.post(f"/counters/{ids.counter(1)}/call-next", tokens[1])  # tokens outlive a restart
    page.wait_for_function("() => document.querySelectorAll('#recent li').length === 4", timeout=5000)
    page.close()


def test_assets_are_served_locally(demo_server):
    server, _ = demo_server
    import requests
    font = requests.get(f"{server.url}/assets/fonts/be-vietnam-pro-bold.ttf", timeout=5)
    assert font.status_code == 200 and len(font.content) > 50_000
    client = requests.get(f"{server.url}/assets/vendor/socket.io.min.js", timeout=5)
    assert client.status_code == 200 and b"io" in client.content
    assert requests.get(f"{server.url}/assets/vendor/nothing.js", timeout=5).status_code == 404
    assert requests.get(f"{server.url}/assets/fonts/be-vietnam-pro-comic.ttf", timeout=5).status_code == 404
