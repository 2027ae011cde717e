"""Every answer carries the security headers, and every page works under its content policy."""
from __future__ import annotations

import requests

from hangdoi.security import HEADERS

from .conftest import screenshot  # noqa: F401 — pages here are looked at by other tests

PAGES = ["/kiosk/{kiosk}", "/display/{display}", "/counter", "/admin", "/admin/reports", "/admin/settings",
         "/admin/audit", "/rate/1"]


def test_pages_api_answers_and_errors_carry_the_headers(demo_server):
    server, ids = demo_server
    kiosk = next(iter(ids.kiosks.values()))
    for path in (f"/kiosk/{kiosk}", "/api/v1/services", "/api/v1/openapi.json", "/no/such/page", "/kiosk/wrong-key"):
        response = requests.get(server.url + path, timeout=10)
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
    assert "script-src 'self'" in HEADERS["Content-Security-Policy"]
    assert "unsafe-inline" not in HEADERS["Content-Security-Policy"]


def test_no_page_breaks_the_content_policy(browser, demo_server):
    server, ids = demo_server
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{server.url}/admin")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "quantri123")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    keys = {"kiosk": next(iter(ids.kiosks.values())), "display": next(iter(ids.displays.values()))}
    for path in PAGES:
        page.goto(server.url + path.format(**keys))
        page.wait_for_load_state("networkidle")
    page.goto(f"{server.url}/admin/reports")
    page.wait_for_selector("canvas")                           # the charts drew under the policy
    assert violations == []
