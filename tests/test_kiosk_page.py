"""The kiosk in real Chromium at 1080×1920 (portrait), against a live server."""
from __future__ import annotations

import time

import pytest

from hangdoi.fixtures import large_catalogue
from hangdoi.fixtures.demo import DEMO_CENTRE, demo_centre

from .centres import open_now
from .conftest import screenshot, start_demo

KIOSK = {"width": 1080, "height": 1920}
PHONE = {"width": 390, "height": 844}



@pytest.fixture
def kiosk_server(tmp_path, printer):
    # What the kiosk shows must not depend on the hour the tests run at (near closing, estimates
    # rightly say "may not be served today").
    spec = {**open_now(DEMO_CENTRE), "kiosks": [
        {"name": "Kiosk sảnh", "printer": printer.settings},
        {"name": "Kiosk nhanh", "printer": printer.settings, "options": {"idle_seconds": 2, "ticket_seconds": 2}},
        {"name": "Kiosk hỏng", "printer": {"transport": "network", "host": "127.0.0.1", "port": 9}}]}
    server, ids = start_demo(tmp_path, extra_env={"HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "1000"}, spec=spec)
    yield server, ids
    server.stop()


def open_kiosk(browser, server, ids, name="Kiosk sảnh"):
    page = browser.new_page(viewport=KIOSK, has_touch=True)
    page.goto(f"{server.url}/kiosk/{ids.kiosks[name]}")
    page.wait_for_selector(".domain")
    return page


def take_ticket(page, domain: str, service: str | None = None) -> None:
    """The three taps: a domain, a service (the first one unless named), no priority."""
    page_to(page, "domains", f".domain:has-text('{domain}')")
    page.tap(f".domain:has-text('{domain}')")
    page.tap(f"#service-list .service:has-text('{service}')" if service else "#service-list .service >> nth=0")
    page.tap("#no-priority")


def page_to(page, list_id: str, selector: str) -> None:
    """Back to the list's first page, then "Xem thêm" until what `selector` names is on the screen."""
    first_page(page, list_id)
    while page.locator(f"#{list_id} {selector}").count() == 0:
        assert page.locator(f"#{list_id}-pager .page-next").is_enabled(), f"{selector} is on no page"
        page.tap(f"#{list_id}-pager .page-next")


def first_page(page, list_id: str) -> None:
    back = page.locator(f"#{list_id}-pager .page-prev")
    while back.is_visible() and back.is_enabled():
        back.tap()


def every_page(page, list_id: str, item: str) -> list[str]:
    """The names on every page of a list, from the first page to the last by "Xem thêm", each
    page checked: every card lies wholly inside the list (nothing cut or hidden under the pager)
    and the pager names this page."""
    first_page(page, list_id)
    names, n = [], 1
    while True:
        outside = page.evaluate("""([list, item]) => {
            const box = document.getElementById(list).getBoundingClientRect();
            const pager = document.getElementById(list + '-pager').getBoundingClientRect();
            return [...document.querySelectorAll('#' + list + ' ' + item)].map(e => e.getBoundingClientRect())
                .filter(r => r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5 || r.bottom > pager.top
                             || r.left < box.left - 0.5 || r.right > box.right + 0.5).length }""", [list_id, item])
        assert outside == 0, f"page {n}: {outside} cards not wholly shown"
        names += page.locator(f"#{list_id} {item} .name").all_inner_texts()
        assert page.locator(f"#{list_id}").get_attribute("data-page") == str(n)
        pager = page.locator(f"#{list_id}-pager")
        if not pager.is_visible() or not pager.locator(".page-next").is_enabled():
            return names
        page.tap(f"#{list_id}-pager .page-next")
        n += 1


def ticket_count(server) -> int:
    return sum(s["waiting"] for s in server.get("/services").json())


def test_idle_to_ticket_in_three_taps(browser, kiosk_server, printer):
    server, ids = kiosk_server
    page = open_kiosk(browser, server, ids)
    screenshot(page, "kiosk-1-home")
    assert "XÃ TÂN HÒA" in page.locator(".centre").inner_text().upper()
    page.tap(".domain:has-text('Tư pháp – Hộ tịch')")
    screenshot(page, "kiosk-2-services")
    page.tap("#service-list .service:has-text('Đăng ký kết hôn')")
    screenshot(page, "kiosk-3-priority")
    page.tap("#no-priority")
    page.wait_for_selector("#ticket:not([hidden])")
    screenshot(page, "kiosk-4-ticket")
    assert page.locator("#ticket-number").inner_text() == "1001"
    assert page.locator("#ticket-service").inner_text() == "Đăng ký kết hôn"
    assert page.locator("#ticket-counters").inner_text() == "1, 2"
    assert page.locator("#ticket-ahead").inner_text() == "0"
    assert page.locator("#print-problem").is_hidden()
    assert page.locator("#ticket-qr").evaluate("img => img.complete && img.naturalWidth > 0")
    assert len(printer.tickets) == 1
    # Every touch target is at least 60 px each way.
    small = page.evaluate("""() => [...document.querySelectorAll('button')].filter(b => b.offsetParent)
        .map(b => b.getBoundingClientRect()).filter(r => r.width < 60 || r.height < 60).length""")
    assert small == 0


def test_a_priority_citizen_is_marked_and_served_first(browser, kiosk_server):
    server, ids = kiosk_server
    server.post("/tickets", json={"service": "HT02"}).raise_for_status()
    page = open_kiosk(browser, server, ids)
    page.tap(".domain:has-text('Tư pháp – Hộ tịch')")
    page.tap("#service-list .service:has-text('Đăng ký kết hôn')")
    page.tap(".priority:has-text('Người cao tuổi')")
    page.wait_for_selector("#ticket:not([hidden])")
    assert page.locator("#ticket-priority").inner_text() == "Người cao tuổi"
    assert page.locator("#ticket-ahead").inner_text() == "0"     # ahead of the earlier ordinary ticket


def test_search_without_diacritics(browser, kiosk_server):
    server, ids = kiosk_server
    page = open_kiosk(browser, server, ids)
    page.tap("#search-open")
    for key in "ho tich":
        page.tap(f".key[data-key='{key}']")
    results = page.locator("#search-results .service .name").all_inner_texts()
    screenshot(page, "kiosk-5-search")
    assert len(results) == 5 and "Đăng ký khai sinh" in results       # all of Hộ tịch
    page.tap(".key[data-key='clear']")
    for key in "khaitu":
        page.tap(f".key[data-key='{key}']")
    assert page.locator("#search-results .service .name").all_inner_texts() == ["Đăng ký khai tử"]
    for key in "zz":
        page.tap(f".key[data-key='{key}']")
    assert page.locator(".no-results").is_visible()


def test_a_double_tap_gives_one_ticket(browser, kiosk_server, printer):
    server, ids = kiosk_server
    page = open_kiosk(browser, server, ids)
    page.tap(".domain:has-text('Chứng thực')")
    page.tap("#service-list .service >> nth=0")
    page.locator("#no-priority").dblclick()
    page.wait_for_selector("#ticket:not([hidden])")
    # Past the kiosk's quiet after a ticket, a second tap would have been taken; and the slip may
    # reach the fake printer a moment after the screen shows the number (a busy machine).
    page.wait_for_function("() => window.hangdoiKiosk.ready()")
    deadline = time.monotonic() + 10
    while not printer.tickets and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ticket_count(server) == 1 and len(printer.tickets) == 1
    assert page.evaluate("window.hangdoiKiosk.issued") == 1


def test_printer_trouble_is_told_and_the_number_still_given(browser, kiosk_server, printer):
    server, ids = kiosk_server
    printer.paper = False
    page = open_kiosk(browser, server, ids)
    take_ticket(page, "Đất đai")
    page.wait_for_selector("#ticket:not([hidden])")
    screenshot(page, "kiosk-6-paper-out")
    assert page.locator("#ticket-number").inner_text() == "3001"
    assert page.locator("#print-problem").inner_text() == "Máy in hết giấy — vui lòng ghi nhớ số hoặc quét mã QR"
    broken = open_kiosk(browser, server, ids, "Kiosk hỏng")
    take_ticket(broken, "Đất đai")
    broken.wait_for_selector("#ticket:not([hidden])")
    assert broken.locator("#ticket-number").inner_text() == "3002"
    assert "Không in được phiếu" in broken.locator("#print-problem").inner_text()


def test_it_returns_to_the_welcome_screen_when_left_alone(browser, kiosk_server):
    server, ids = kiosk_server
    page = open_kiosk(browser, server, ids, "Kiosk nhanh")
    page.tap(".domain >> nth=0")
    assert page.locator("#services").is_visible()
    page.wait_for_selector("#home:not([hidden])", timeout=4000)
    take_ticket(page, "Tư pháp – Hộ tịch")
    page.wait_for_selector("#ticket:not([hidden])")
    page.wait_for_selector("#home:not([hidden])", timeout=4000)


def test_closed_services_and_the_daily_cap_get_a_message_not_a_ticket(browser, kiosk_server):
    server, ids = kiosk_server
    for _ in range(40):   # the demo caps DD02 at 40 a day
        server.post("/tickets", json={"service": "DD02"}).raise_for_status()
    page = open_kiosk(browser, server, ids)
    take_ticket(page, "Đất đai", "cấp Giấy chứng nhận lần đầu")
    page.wait_for_selector("#message:not([hidden])")
    screenshot(page, "kiosk-7-cap-reached")
    assert page.locator("#message-text").inner_text() == "Đã hết số hôm nay"
    assert ticket_count(server) == 40
    page.tap("#message .done")
    page.tap("#lang")
    assert page.locator("#home h1").inner_text() == "Welcome"


def test_the_status_page_follows_the_ticket_live(browser, kiosk_server):
    server, ids = kiosk_server
    ticket = server.post("/tickets", json={"service": "HT01"}).json()
    server.post("/tickets", json={"service": "HT01"}).raise_for_status()
    second = server.post("/tickets", json={"service": "HT01"}).json()
    phone = browser.new_page(viewport=PHONE, device_scale_factor=2)
    phone.goto(f"{server.url}/t/{second['public_id']}")
    phone.wait_for_function("() => document.querySelector('#state').textContent.includes('2')")
    assert phone.locator("#state").inner_text() == "Còn 2 người trước quý vị"
    token = server.login("canbo1", "matkhau1")
    server.post(f"/counters/{ids.counter(1)}/sign-in", token).raise_for_status()
    server.post(f"/counters/{ids.counter(1)}/call", token, json={"ticket": second["id"]}).raise_for_status()
    phone.wait_for_function("() => document.querySelector('#card').dataset.status === 'called'", timeout=3000)
    assert phone.locator("#state").inner_text() == "Mời quý vị đến quầy 1"
    screenshot(phone, "status-called")
    assert ticket["number"] == "1001"


def test_the_estimated_wait_is_on_the_buttons_and_the_ticket(browser, kiosk_server):
    server, ids = kiosk_server
    token = server.login("canbo1", "matkhau1")                       # counter 1: Hộ tịch
    assert server.post(f"/counters/{ids.counter(1)}/sign-in", token).status_code == 200
    for _ in range(5):
        server.post("/tickets", json={"service": "HT01"})
    page = open_kiosk(browser, server, ids)
    page.tap(".domain:has-text('Tư pháp – Hộ tịch')")
    button = page.locator("#service-list .service:has-text('Đăng ký khai sinh')")
    button.locator(".estimate").wait_for()
    assert button.locator(".estimate").inner_text().startswith("Chờ khoảng")
    # Land matters have no counter open: nothing is promised there.
    page = open_kiosk(browser, server, ids)
    page.tap(".domain:has-text('Đất đai')")
    assert page.locator("#service-list .service").count() > 0
    assert page.locator("#service-list .service .estimate").count() == 0
    page = open_kiosk(browser, server, ids)
    take_ticket(page, "Tư pháp – Hộ tịch", "Đăng ký khai sinh")
    page.wait_for_selector("#ticket:not([hidden])")
    wait = page.locator("#ticket-wait").inner_text()
    assert page.locator("#ticket-wait-fact").is_visible() and wait.startswith("khoảng")
    public_id = page.locator("#ticket-qr").get_attribute("src").split("/")[-1].removesuffix(".svg")
    assert server.get(f"/tickets/{public_id}").json()["estimated_wait"]["text"]["vi"] == wait
    page.tap("#lang")
    assert page.locator("#ticket-wait").inner_text().startswith("about")


@pytest.fixture
def large_kiosk(tmp_path, printer):
    spec = {**open_now(demo_centre("large")), "kiosks": [{"name": "Kiosk sảnh", "printer": printer.settings}]}
    server, ids = start_demo(tmp_path, spec=spec)
    yield server, ids
    server.stop()


def test_every_field_and_procedure_of_a_real_catalogue_is_reached_by_touch(browser, large_kiosk, printer):
    """70 fields and 399 procedures: the small demo's seventh card was already half hidden behind
    the footer, and fields past it could not be reached at all."""
    server, ids = large_kiosk
    page = open_kiosk(browser, server, ids)
    page.wait_for_selector("body[data-laid-out]")
    fields = [name for _, _, group in large_catalogue.GROUPS for _, name, _ in group]
    assert len(fields) == 70
    assert every_page(page, "domains", ".domain") == fields
    pages = int(page.locator("#domains").get_attribute("data-pages"))
    assert 2 <= pages <= 7 and page.locator("#domains-pager .page-n").inner_text() == f"Trang {pages} / {pages}"
    page.tap("#domains-pager .page-prev")
    screenshot(page, "kiosk-large-fields-1080x1920")
    page.tap("#lang")                      # English names are longer: still every field, whole
    page.wait_for_selector("#domains-pager .page-n:has-text('Page')")
    assert every_page(page, "domains", ".domain") == fields
    page.tap("#lang")

    # The biggest field, page by page, to its last procedure, then a ticket for it: one tap for the
    # field, "Xem thêm" until it shows, one tap for the procedure, one for "no priority".
    civil = next(procedures for _, _, group in large_catalogue.GROUPS for code, _, procedures in group if code == "HT")
    page_to(page, "domains", ".domain:has-text('Hộ tịch')")
    page.tap(".domain:has-text('Hộ tịch')")
    assert page.locator("#service-list").get_attribute("data-page") == "1"
    assert every_page(page, "service-list", ".service") == civil
    screenshot(page, "kiosk-large-procedures-last-page-1080x1920")
    page.tap(f"#service-list .service:has-text('{civil[-1]}')")
    page.tap("#no-priority")
    page.wait_for_selector("#ticket:not([hidden])")
    assert page.locator("#ticket-service").inner_text() == civil[-1]
    assert page.locator("#ticket-number").inner_text() == "A001"      # counter 1's series
    assert len(printer.tickets) == 1

    # Search stays first, and a word found in 100 procedures shows them all, a page at a time.
    page.tap("#ticket .done")
    page.tap("#search-open")
    for key in "dang ky":
        page.tap(f".key[data-key='{key}']")
    found = every_page(page, "search-results", ".service")
    assert len(found) == len(set(found)) >= 90 and all("ng k" in name.lower() or "ng ký" in name.lower() for name in found[:3])
    screenshot(page, "kiosk-large-search-1080x1920")
    small = page.evaluate("""() => [...document.querySelectorAll('button')].filter(b => b.offsetParent)
        .map(b => b.getBoundingClientRect()).filter(r => r.width < 60 || r.height < 60).length""")
    assert small == 0


def test_closing_a_procedure_for_the_day_reaches_every_kiosk_at_once(browser, kiosk_server):
    """A citizen went through the priority step to be told at the end that it was closed."""
    server, ids = kiosk_server
    choosing = open_kiosk(browser, server, ids)
    choosing.tap(".domain:has-text('Tư pháp – Hộ tịch')")
    choosing.tap("#service-list .service:has-text('Đăng ký kết hôn')")
    choosing.wait_for_selector("#priority:not([hidden])")
    looking = open_kiosk(browser, server, ids, "Kiosk nhanh")
    looking.tap(".domain:has-text('Tư pháp – Hộ tịch')")
    manager = server.login("lanhdao", "lanhdao123")
    service = next(s["id"] for s in server.get("/services").json() if s["code"] == "HT02")
    server.post(f"/services/{service}/close-today", manager).raise_for_status()
    # Without a tap: the one choosing a priority is told, the other sees it marked closed.
    choosing.wait_for_selector("#message:not([hidden])")
    assert choosing.locator("#message-text").get_attribute("data-label") == "service_closed_today"
    looking.wait_for_selector("#service-list .service.closed:has-text('Đăng ký kết hôn')")
    server.post(f"/services/{service}/reopen", manager).raise_for_status()
    looking.wait_for_selector("#service-list .service:not(.closed):has-text('Đăng ký kết hôn')")
    looking.tap("#service-list .service:has-text('Đăng ký kết hôn')")
    looking.tap("#no-priority")
    looking.wait_for_selector("#ticket:not([hidden])")
