"""Visits that begin on a phone, in real Chromium against a live server: book → cancel at phone
size; take a remote number → watch it move → the "near" signal → check in at the kiosk by the
scanner's keystrokes → called on the board; a chip ID card scanned at the kiosk."""
from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from hangdoi.fixtures.demo import DEMO_CENTRE

from .centres import open_now, today_in
from .conftest import screenshot, start_demo

PHONE = {"width": 390, "height": 844}
KIOSK = {"width": 1080, "height": 1920}
BOARD = {"width": 1280, "height": 720}


@pytest.fixture
def site(tmp_path):
    spec = {**open_now(DEMO_CENTRE), "settings": {**DEMO_CENTRE["settings"], "personal_data": True}}
    server, ids = start_demo(tmp_path, spec=spec, extra_env={"HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "1000"})
    server.today = lambda: today_in(spec)            # the centre's date, not the machine's
    yield server, ids
    server.stop()


def phone(browser):
    return browser.new_page(viewport=PHONE, has_touch=True, is_mobile=True, device_scale_factor=2)


def test_a_citizen_books_a_slot_on_the_phone_and_cancels_it(browser, site):
    server, ids = site
    page = phone(browser)
    page.goto(f"{server.url}/book")
    page.wait_for_selector("body[data-ready='1'] #fields .choice")
    screenshot(page, "book-fields-390x844")
    page.fill("#search", "khai sinh")                       # without diacritics is found too
    page.tap("#fields .choice:has-text('Đăng ký khai sinh')")
    page.wait_for_selector("#step-how:not([hidden])")
    screenshot(page, "book-how-390x844")
    page.tap("#way-slot")
    page.wait_for_selector("#slots[data-ready='1'] .slot")
    page.tap("#days .day >> nth=1")                         # not today: every slot is still ahead
    page.wait_for_selector("#slots[data-ready='1'] .slot:not([disabled])")
    screenshot(page, "book-slots-390x844")
    chosen = page.locator("#slots .slot:not([disabled]) strong").first.inner_text()
    page.locator("#slots .slot:not([disabled])").first.tap()
    page.fill("#full_name", "Nguyễn Thị Hoa")
    page.fill("#phone", "012")                               # a wrong number: told plainly, nothing booked
    page.tap("#submit")
    page.wait_for_selector("#error:not([hidden])")
    assert "10 chữ số" in page.inner_text("#error")
    screenshot(page, "book-form-error-390x844")
    page.fill("#phone", "0912 345 678")
    page.tap("#submit")
    page.wait_for_url("**/b/*")
    page.wait_for_selector("body[data-ready='1'] .qr")
    assert page.inner_text("#state") == "Đã đặt lịch"
    assert chosen.split("–")[0] in page.inner_text("#when")
    screenshot(page, "booking-page-390x844")
    page.tap("#cancel")
    screenshot(page, "booking-cancel-confirm-390x844")
    page.tap("#cancel-yes")
    page.wait_for_selector("body[data-ready='1'] .card[data-status='cancelled']")      # the page, reloaded
    assert page.inner_text("#state") == "Lịch hẹn đã huỷ"
    screenshot(page, "booking-cancelled-390x844")
    page.close()


def test_a_remote_number_moves_signals_checks_in_by_scanner_and_is_called_on_the_board(browser, site):
    server, ids = site
    for _ in range(3):                                       # people already in the hall
        assert server.post("/tickets", json={"service": "HT01"}).status_code == 201
    page = phone(browser)
    page.goto(f"{server.url}/book")
    page.wait_for_selector("body[data-ready='1'] #fields .choice")
    page.tap("#fields .choice:has-text('Tư pháp – Hộ tịch')")
    page.tap("#procedures .choice:has-text('Đăng ký khai sinh')")
    page.tap("#way-remote")
    page.fill("#full_name", "Phạm Văn Đức")
    page.fill("#phone", "+84 987 654 321")
    page.select_option("#travel_minutes", "10")               # told 15 minutes ahead (the centre's rule)
    screenshot(page, "book-remote-form-390x844")
    page.tap("#submit")
    page.wait_for_url("**/t/*")
    public_id = page.url.rsplit("/", 1)[-1]
    page.wait_for_selector(".card[data-status='remote']")
    assert page.inner_text("#state") == "Số đã giữ chỗ — quý vị chưa có mặt"
    code = page.inner_text("#remote .code").replace(" ", "")
    screenshot(page, "remote-number-390x844")
    # The counters call the three ahead: the page follows, and says to come now when next.
    token = server.login("canbo1", "matkhau1")
    counter = ids.counter(1)
    assert server.post(f"/counters/{counter}/sign-in", token).status_code == 200
    server.post(f"/counters/{counter}/call-next", token)
    server.post(f"/counters/{counter}/call-next", token, json={"previous": "served"})
    server.post(f"/counters/{counter}/call-next", token, json={"previous": "served"})
    page.wait_for_function("() => window.hangdoiStatus && window.hangdoiStatus.signalled >= 1")
    assert page.inner_text("#set-off") == "Sắp đến lượt quý vị: hãy đến trung tâm ngay."
    screenshot(page, "remote-number-near-390x844")
    # A lobby board shows the call once the citizen has checked in at the kiosk.
    board = browser.new_page(viewport=BOARD)
    board.goto(f"{server.url}/display/{ids.displays[next(iter(ids.displays))]}")
    board.wait_for_selector("body[data-queues-fitted]")
    kiosk = browser.new_page(viewport=KIOSK, has_touch=True)
    kiosk.goto(f"{server.url}/kiosk/{next(iter(ids.kiosks.values()))}")
    kiosk.wait_for_selector("body[data-laid-out='1'] .domain")
    kiosk.keyboard.type(f"{server.url}/t/{public_id}", delay=3)   # the scanner reads the QR code
    kiosk.keyboard.press("Enter")
    kiosk.wait_for_selector("#ticket:not([hidden]), #message:not([hidden])")
    assert kiosk.locator("#message").is_hidden(), kiosk.inner_text("#message-text")
    assert "giữ nguyên chỗ" in kiosk.inner_text("#ticket-note")
    screenshot(kiosk, "kiosk-checked-in-1080x1920")
    page.wait_for_selector(".card[data-status='waiting']")
    server.post(f"/counters/{counter}/call-next", token, json={"previous": "served"})
    page.wait_for_selector(".card[data-status='called']")
    number = page.inner_text("#number")
    board.wait_for_function(f"() => document.body.innerText.includes({number!r})")
    screenshot(board, "board-remote-called-1280x720")
    # Typed on the kiosk's keys instead, the same code is refused now: it has been used.
    kiosk.goto(f"{server.url}/kiosk/{next(iter(ids.kiosks.values()))}")
    kiosk.wait_for_selector("body[data-laid-out='1'] .domain")
    kiosk.tap("#checkin-open")
    for ch in code:
        kiosk.tap(f"#code-keyboard .key[data-key='{ch}']")
    screenshot(kiosk, "kiosk-checkin-typed-1080x1920")
    kiosk.tap("#checkin-go")
    kiosk.wait_for_selector("#message:not([hidden])")
    assert kiosk.inner_text("#message-text") == "Mã này đã được dùng để vào hàng chờ rồi."
    for p in (page, board, kiosk):
        p.close()


def cccd(name: str, born: date) -> str:
    return f"001075012345|012345678|{name}|{born:%d%m%Y}|Nam|Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội|15082021"


def scan(page, text: str) -> None:
    """What a 2D scanner in keyboard mode sends: a keydown per character, then Enter. (Playwright
    types letters outside a US keyboard as text input without keydowns; a scanner does not.)"""
    page.evaluate("""(text) => { for (const key of [...text, 'Enter'])
        document.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true })); }""", text)


def test_a_chip_id_card_offers_priority_to_a_75_year_old_not_to_a_40_year_old(browser, site):
    server, ids = site
    kiosk = browser.new_page(viewport=KIOSK, has_touch=True)
    kiosk.goto(f"{server.url}/kiosk/{next(iter(ids.kiosks.values()))}")
    kiosk.wait_for_selector("body[data-laid-out='1'] .domain")
    today = server.today()
    scan(kiosk, cccd("Nguyễn Văn Thọ", today.replace(year=today.year - 75) - timedelta(days=3)))
    kiosk.wait_for_selector("#hello:not([hidden])")
    assert kiosk.inner_text("#hello-text") == "Xin chào Nguyễn Văn Thọ. Mời chọn thủ tục."
    screenshot(kiosk, "kiosk-home-card-read-1080x1920")
    kiosk.tap(".domain:has-text('Chứng thực')")
    kiosk.tap("#service-list .service >> nth=0")
    kiosk.wait_for_selector("#elderly-offer:not([hidden])")
    assert "75 tuổi" in kiosk.inner_text("#elderly-text")
    screenshot(kiosk, "kiosk-elderly-offer-1080x1920")
    kiosk.tap("#elderly-take")
    kiosk.wait_for_selector("#ticket:not([hidden])")
    assert kiosk.inner_text("#ticket-priority") == "Người cao tuổi"
    kiosk.tap("#ticket .done")
    kiosk.wait_for_selector("#home:not([hidden])")
    assert kiosk.locator("#hello").is_hidden()             # the next person is someone else
    kiosk.reload()                                          # (past the kiosk's pause after a ticket)
    kiosk.wait_for_selector("body[data-laid-out='1'] .domain")
    scan(kiosk, cccd("Lê Thị Bốn Mươi", today.replace(year=today.year - 40)))
    kiosk.wait_for_selector("#hello:not([hidden])")
    kiosk.tap(".domain:has-text('Chứng thực')")
    kiosk.tap("#service-list .service >> nth=0")
    kiosk.wait_for_selector("#priority:not([hidden])")
    assert kiosk.locator("#elderly-offer").is_hidden()
    kiosk.tap("#no-priority")
    kiosk.wait_for_selector("#ticket:not([hidden])")
    assert kiosk.locator("#ticket-priority").is_hidden()
    # Where the centre keeps personal data, the card's name and number went with the tickets.
    with sqlite3.connect(server.data_dir / "hangdoi.sqlite3") as connection:
        kept = connection.execute("SELECT full_name, id_number, recorded_by FROM citizen_detail ORDER BY ticket_id").fetchall()
    assert kept == [("Nguyễn Văn Thọ", "001075012345", None), ("Lê Thị Bốn Mươi", "001075012345", None)]
    kiosk.close()


def test_a_qr_code_that_is_neither_a_booking_nor_a_card_is_told_so(browser, site):
    server, ids = site
    kiosk = browser.new_page(viewport=KIOSK, has_touch=True)
    kiosk.goto(f"{server.url}/kiosk/{next(iter(ids.kiosks.values()))}")
    kiosk.wait_for_selector("body[data-laid-out='1'] .domain")
    scan(kiosk, "WIFI:S:QuanCaPhe;T:WPA;P:12345678;;")
    kiosk.wait_for_selector("#message:not([hidden])")
    assert kiosk.inner_text("#message-text") == "Mã này không phải mã lịch hẹn hay mã số thứ tự của trung tâm."
    screenshot(kiosk, "kiosk-unknown-code-1080x1920")
    kiosk.close()


def test_too_early_for_a_booking_the_kiosk_gives_an_ordinary_number_for_it_at_one_tap(browser, site):
    server, ids = site
    day = server.today().isoformat()
    last = server.get(f"/services/{ids.service('CT01')}/slots?date={day}").json()[-1]    # hours ahead
    booked = server.post("/bookings", json={"service": ids.service("CT01"), "date": day, "start": last["start"],
                                            "phone": "0987000031", "full_name": "Hồ Thị Xuân"}).json()
    kiosk = browser.new_page(viewport=KIOSK, has_touch=True)
    kiosk.goto(f"{server.url}/kiosk/{next(iter(ids.kiosks.values()))}")
    kiosk.wait_for_selector("body[data-laid-out='1'] .domain")
    scan(kiosk, booked["code"])
    kiosk.wait_for_selector("#message:not([hidden]) #message-take:not([disabled])")
    assert kiosk.inner_text("#message-text").startswith("Quý vị đến sớm: mời quét lại mã từ ")
    assert kiosk.inner_text("#message-take") == "Lấy số thường ngay"
    screenshot(kiosk, "kiosk-checkin-too-early-1080x1920")
    kiosk.tap("#message .done")
    scan(kiosk, "WIFI:S:QuanCaPhe;T:WPA;P:12345678;;")     # another message: no button left over
    kiosk.wait_for_selector("#message:not([hidden])")
    assert kiosk.locator("#message-take").is_hidden()
    kiosk.wait_for_function("() => window.hangdoiKiosk.ready()")
    scan(kiosk, booked["code"].lower())
    kiosk.wait_for_selector("#message:not([hidden]) #message-take:not([disabled])")
    kiosk.tap("#message-take")
    kiosk.wait_for_selector("#priority:not([hidden])")
    kiosk.tap("#no-priority")
    kiosk.wait_for_selector("#ticket:not([hidden])")
    assert kiosk.inner_text("#ticket-service") == booked["service"]["name"]
    # The booking is untouched: it can still be checked in at its time.
    assert server.get(f"/bookings/{booked['public_id']}").json()["status"] == "booked"
    kiosk.close()


def test_the_booking_page_in_english(browser, site):
    server, ids = site
    page = phone(browser)
    page.goto(f"{server.url}/book")
    page.wait_for_selector("body[data-ready='1'] #fields .choice")
    page.tap("#lang")
    assert page.inner_text("#fields-title") == "Choose a field"
    page.tap("#fields .choice >> nth=0")
    page.tap("#procedures .choice >> nth=0")
    assert page.inner_text("#way-remote strong") == "Take a number for today"
    screenshot(page, "book-how-en-390x844")
    page.close()


def test_the_counter_marks_booked_and_online_tickets_and_checks_a_citizen_in(browser, site):
    from .test_counter_page import open_terminal
    server, ids = site
    day = server.today().isoformat()
    remote = server.post("/remote-tickets", json={"service": ids.service("HT01"), "phone": "0987000001",
                                                  "full_name": "Đặng Thị Mai"}).json()
    second = server.post("/remote-tickets", json={"service": ids.service("HT02"), "phone": "0987000002",
                                                  "full_name": "Bùi Văn Nam"}).json()
    slot = server.get(f"/services/{ids.service('HT01')}/slots?date={day}").json()[0]
    booked = server.post("/bookings", json={"service": ids.service("HT01"), "date": day, "start": slot["start"],
                                            "phone": "0987000003", "full_name": "Ngô Thị Hạnh"})
    page = open_terminal(browser, server, 1)
    page.wait_for_selector("#remote-absent:not([hidden])")
    assert page.inner_text("#remote-absent") == "+2 số qua mạng chưa đến"
    page.fill("#check-in-code", remote["code"].lower())        # typed as the citizen reads it out
    page.click("#check-in button")
    page.wait_for_selector(f"#queue li[data-ticket='{remote['id']}'] .origin.remote")
    assert page.inner_text("#remote-absent") == "+1 số qua mạng chưa đến"
    assert "Qua mạng" in page.inner_text(f"#queue li[data-ticket='{remote['id']}']")
    if booked.status_code == 201:                               # a slot still ahead today: check it in too
        with_slot = server.post("/check-in", headers={"X-Hangdoi-Kiosk-Key": next(iter(ids.kiosks.values()))},
                                json={"code": booked.json()["code"]})
        if with_slot.status_code == 200:
            page.wait_for_selector(f"#queue li[data-ticket='{with_slot.json()['id']}'] .origin.booked")
    screenshot(page, "counter-booked-and-online-1366x768")
    page.fill("#check-in-code", "ZZZZZZZZ")
    page.click("#check-in button")
    # The check-in's own toast may still be up (it stays 6 s): wait for the refusal's words instead.
    expect(page.locator("#toast")).to_contain_text("Không tìm thấy lịch hẹn", timeout=15_000)
    assert page.is_visible("#toast")
    assert second["status"] == "remote"
    page.close()


def test_the_dashboard_shows_todays_bookings_per_slot_live(browser, site):
    server, ids = site
    day = server.today().isoformat()
    slots = server.get(f"/services/{ids.service('CT01')}/slots?date={day}").json()
    made = [server.post("/bookings", json={"service": ids.service("CT01"), "date": day, "start": slots[-1]["start"],
                                          "phone": f"098700001{i}", "full_name": "Lý Thị Thu"}).status_code
            for i in range(2)]
    assert made == [201, 201]
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(f"{server.url}/admin")
    page.fill("input[name=username]", "lanhdao")
    page.fill("input[name=password]", "lanhdao123")
    page.click("button[type=submit]")
    page.wait_for_selector(f"#bookings tr[data-slot='{slots[-1]['start']}']")
    assert page.inner_text(f"#bookings tr[data-slot='{slots[-1]['start']}'] td:nth-child(2)") == "2"
    server.post("/remote-tickets", json={"service": ids.service("HT01"), "phone": "0987000020", "full_name": "Tạ Văn Long"})
    page.wait_for_function("() => document.getElementById('remote-line').innerText.startsWith('Số qua mạng: 1 chưa đến')")
    screenshot(page, "admin-dashboard-bookings-1366x768")
    # Today's report counts where visits began, and the bookings that are not yet over.
    page.goto(f"{server.url}/admin/reports")
    page.wait_for_selector(".phone-kpis")
    assert page.inner_text("[data-kpi=origins]") == "0 · 1 · 0"
    page.locator(".phone-kpis").scroll_into_view_if_needed()
    screenshot(page, "admin-reports-phone-kpis-1366x768")
    page.close()
