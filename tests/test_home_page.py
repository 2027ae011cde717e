"""The first page staff open (http://<server>:5000/), in real Chromium."""
from __future__ import annotations

import requests

from .conftest import screenshot


def test_the_first_page_leads_officers_and_managers_to_their_pages_and_gives_no_device_key(browser, demo_server):
    server, ids = demo_server
    html = requests.get(server.url + "/", timeout=10).text
    for key in [*ids.kiosks.values(), *ids.displays.values()]:
        assert key not in html                      # a device's address is its key: admins only
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(server.url + "/")
    assert page.title() == "Hệ thống lấy số thứ tự"
    page.evaluate("document.fonts.ready")
    screenshot(page, "home-1366x768")
    # Citizens' own page, to put at the door as a QR code.
    page.get_by_role("link", name="Lấy số · Đặt lịch hẹn").click()
    page.wait_for_url(f"{server.url}/book")
    page.go_back()
    page.get_by_role("link", name="Quầy giao dịch").click()
    page.wait_for_url(f"{server.url}/counter")
    assert page.locator("input[name=username]").is_visible()
    page.go_back()
    page.get_by_role("link", name="Giám sát và quản lý").click()
    page.wait_for_url(f"{server.url}/admin*")
    page.fill("input[name=username]", "lanhdao")
    page.fill("input[name=password]", "lanhdao123")
    page.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(f"{server.url}/admin") and page.locator("input[name=password]").count() == 0
