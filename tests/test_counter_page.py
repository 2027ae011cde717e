"""The officer's terminal and the citizen's rating tablet in real Chromium (1366×768), live server."""
from __future__ import annotations

import re

from .conftest import screenshot
from .test_display_page import open_board

TERMINAL = {"width": 1366, "height": 768}
TABLET = {"width": 1024, "height": 768}


def signed_in_page(browser, server, number: int, username=None, password=None):
    """A new page signed in as counter `number`'s officer, on the page that chooses the counter."""
    page = browser.new_context(viewport=TERMINAL).new_page()
    page.goto(f"{server.url}/counter")
    page.fill("input[name=username]", username or f"canbo{number}")
    page.fill("input[name=password]", password or f"matkhau{number}")
    page.click("button[type=submit]")
    return page


def open_terminal(browser, server, number: int, username=None, password=None):
    """Sign in on the page and choose counter `number`; the page once the terminal shows, live."""
    page = signed_in_page(browser, server, number, username, password)
    page.click(f".counter-choice[data-counter='{number}']")
    page.wait_for_selector("body.terminal")
    page.wait_for_function("() => window.hangdoiTerminal && window.hangdoiTerminal.live")
    return page


def ready(page, selector):
    """Wait until the button takes presses again (a key pressed while the last action is on its
    way is ignored on purpose: one press, one action)."""
    page.wait_for_function("s => !document.querySelector(s).disabled", arg=selector)


def issue(server, *codes):
    return [server.post("/tickets", json={"service": code}).json()["number"] for code in codes]


def current(page) -> str:
    return page.locator("#ticket-number").inner_text()


def test_a_day_at_the_counter(browser, demo_server):
    server, ids = demo_server
    issue(server, "HT01", "HT02", "HT03")
    board = open_board(browser, server, ids)
    page = open_terminal(browser, server, 1)
    page.wait_for_function("() => document.querySelectorAll('#queue li').length === 3")
    screenshot(page, "counter-1-idle")
    tablet = browser.new_page(viewport=TABLET)
    tablet.goto(f"{server.url}/rate/{ids.tablets[1]}")
    tablet.wait_for_selector("#idle:not([hidden])")

    page.click("#call-next")
    page.wait_for_function("() => document.querySelector('#ticket-number').textContent === '1001'")
    board.wait_for_function("() => document.querySelector('#latest-number').textContent === '1001'", timeout=2000)
    assert page.locator("#ticket-state").inner_text().lower() == "đang gọi"
    screenshot(page, "counter-2-called")

    page.click("[data-action=recall]")
    board.wait_for_function("() => window.hangdoiAnnouncer.log.filter(e => e.number === '1001').length === 2")
    ready(page, "[data-action=start]")
    page.keyboard.press("s")                                   # start serving, from the keyboard
    page.wait_for_function("() => document.querySelector('#current').classList.contains('serving')")
    screenshot(page, "counter-3-serving")
    page.click("[data-action=finish]")
    page.wait_for_function("() => document.querySelector('#ticket-number').textContent === '—'")

    # The citizen rates on the tablet turned to them.
    tablet.wait_for_selector("#ask:not([hidden])", timeout=3000)
    assert "1001" in tablet.locator("#question").inner_text()
    screenshot(tablet, "rate-ask")
    tablet.click(".level[data-level='1']")
    tablet.click(".reason[data-reason='cho_lau']")
    tablet.click("#send")
    tablet.wait_for_selector("#thanks:not([hidden])")
    tablet.wait_for_function("() => window.hangdoiRating.sent === 1")
    page.wait_for_function("() => document.querySelector('#served').textContent === '1'")
    page.wait_for_function("() => document.querySelector('#ratings').textContent.startsWith('0/1')")

    ready(page, "#call-next")
    page.keyboard.press("Space")                               # next, from the keyboard
    page.wait_for_function("() => document.querySelector('#ticket-number').textContent === '1002'")
    page.click("[data-action=no-show]")
    page.wait_for_function("() => document.querySelector('#no-shows').textContent === '1'")

    # Pause for a meeting, then back.
    page.click("#pause")
    page.click("#pause-dialog [data-reason='Họp']")
    page.wait_for_selector("#paused:not([hidden])")
    assert page.locator("#pause-reason").inner_text() == "Họp"
    screenshot(page, "counter-4-paused")
    page.click("#paused [data-action=resume]")
    page.wait_for_selector("#paused", state="hidden")

    # Call a chosen ticket from the list, then transfer it to counter 3 with a reason.
    page.click("#queue li:has-text('1003')")
    page.click("#do-call")
    page.wait_for_function("() => document.querySelector('#ticket-number').textContent === '1003'")
    page.click("#open-transfer")
    page.select_option("#transfer-counter", str(ids.counter(3)))
    page.fill("#transfer-reason", "Cần cán bộ chứng thực")
    screenshot(page, "counter-5-transfer")
    page.click("#do-transfer")
    page.wait_for_function("() => document.querySelector('#ticket-number').textContent === '—'")
    token3 = server.login("canbo3", "matkhau3")
    server.post(f"/counters/{ids.counter(3)}/sign-in", token3).raise_for_status()
    assert server.post(f"/counters/{ids.counter(3)}/call-next", token3).json()["ticket"]["number"] == "1003"


def test_a_counter_in_use_cannot_be_taken(browser, demo_server):
    server, ids = demo_server
    open_terminal(browser, server, 1)
    other = browser.new_context(viewport=TERMINAL).new_page()
    other.goto(f"{server.url}/counter")
    other.fill("input[name=username]", "canbo2")
    other.fill("input[name=password]", "matkhau2")
    other.click("button[type=submit]")
    assert other.locator(".counter-choice[data-counter='1']").is_disabled()
    screenshot(other, "counter-choose")
    other.goto(f"{server.url}/counter/{ids.counter(1)}")          # straight to the address: refused
    assert other.url.endswith("error=not_signed_in_here")
    assert "Bạn chưa đăng nhập tại quầy này" in other.content()
    assert other.request.post(f"{server.url}/api/v1/counters/{ids.counter(1)}/call-next",
                              headers={"Content-Type": "application/json"}, data="{}").status == 403


def test_wrong_password_is_told_and_nothing_opens(browser, demo_server):
    server, _ = demo_server
    page = browser.new_page(viewport=TERMINAL)
    page.goto(f"{server.url}/counter")
    page.fill("input[name=username]", "canbo1")
    page.fill("input[name=password]", "sai-mat-khau")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "Sai tên đăng nhập hoặc mật khẩu"
    screenshot(page, "counter-sign-in")


def test_two_counters_pressing_next_at_once_get_different_tickets(browser, demo_server):
    server, ids = demo_server
    issue(server, "HT01", "HT02")
    first, second = open_terminal(browser, server, 1), open_terminal(browser, server, 2)
    for page in (first, second):
        page.wait_for_function("() => document.querySelectorAll('#queue li').length === 2")
    # Both clicks are dispatched before either answer can come back.
    first.evaluate("() => setTimeout(() => document.querySelector('#call-next').click(), 300)")
    second.evaluate("() => setTimeout(() => document.querySelector('#call-next').click(), 300)")
    for page in (first, second):
        page.wait_for_function("() => document.querySelector('#ticket-number').textContent !== '—'")
    assert {current(first), current(second)} == {"1001", "1002"}


def test_a_double_press_calls_one_ticket(browser, demo_server):
    server, ids = demo_server
    issue(server, "HT01", "HT02")
    page = open_terminal(browser, server, 1)
    page.wait_for_function("() => document.querySelectorAll('#queue li').length === 2")
    page.locator("#call-next").dblclick()
    page.wait_for_function("() => document.querySelector('#ticket-number').textContent === '1001'")
    page.wait_for_timeout(500)
    assert page.evaluate("window.hangdoiTerminal.actions") == 1
    assert page.locator("#queue li").count() == 1


def test_the_terminal_rides_out_a_server_restart(browser, demo_server):
    server, ids = demo_server
    page = open_terminal(browser, server, 1)
    server.kill()
    page.wait_for_selector("#offline:not([hidden])", timeout=15000)
    screenshot(page, "counter-offline")
    server.start()
    # Generous: the page retries every 3 s at most, but a loaded CI machine may start slowly.
    page.wait_for_selector("#offline", state="hidden", timeout=30000)
    issue(server, "HT01")                                     # seen without reloading the page
    page.wait_for_function("() => document.querySelectorAll('#queue li').length === 1", timeout=10000)
    page.click("#call-next")
    page.wait_for_function("() => document.querySelector('#ticket-number').textContent === '1001'")


def test_the_terminal_says_so_when_its_live_link_never_comes_up(browser, demo_server):
    """The server goes down after serving the page but before the page's live link connects: no
    "disconnect" ever comes for a link that never connected, and the officer must still be told."""
    server, _ = demo_server

    modules = set()

    def serve_then_go_down(route):
        """Serve the terminal's two modules, then cut the power before the page's code opens its link."""
        response = route.fetch()
        modules.add(route.request.url)
        if len(modules) == 2:
            server.kill()
        route.fulfill(response=response)

    page = signed_in_page(browser, server, 1)
    page.route(re.compile(r"/assets/static/(realtime|dom)\.js$"), serve_then_go_down)
    page.click(".counter-choice[data-counter='1']")
    page.wait_for_selector("#offline:not([hidden])", timeout=10000)
    server.start()
    page.wait_for_selector("#offline", state="hidden", timeout=30000)
    assert page.evaluate("window.hangdoiTerminal.live") is True


def test_an_unknown_counter_has_no_rating_page(browser, demo_server):
    server, _ = demo_server
    assert browser.new_page().goto(f"{server.url}/rate/999").status == 404


def test_a_manager_frees_a_counter_and_the_officer_is_told(browser, demo_server):
    server, ids = demo_server
    issue(server, "HT01")
    page = open_terminal(browser, server, 1)
    page.click("#call-next")
    page.wait_for_function("() => document.querySelector('#ticket-number').textContent === '1001'")
    officer2 = server.login("canbo2", "matkhau2")
    assert server.post(f"/counters/{ids.counter(1)}/end-session", officer2).status_code == 403
    manager = server.login("lanhdao", "lanhdao123")
    assert server.post(f"/counters/{ids.counter(1)}/end-session", manager).status_code == 200
    page.wait_for_url("**/counter?error=session_ended", timeout=5000)
    assert "đã được lãnh đạo kết thúc" in page.content()
    # The citizen went back to the queue, and the counter is free for someone else.
    assert server.post(f"/counters/{ids.counter(1)}/sign-in", officer2).status_code == 200
    assert server.post(f"/counters/{ids.counter(1)}/call-next", officer2).json()["ticket"]["number"] == "1001"


def test_the_officer_notes_the_applicant_where_the_centre_keeps_details(browser, tmp_path):
    from hangdoi.fixtures.demo import DEMO_CENTRE

    from .conftest import start_demo
    keeping = {**DEMO_CENTRE, "settings": {**DEMO_CENTRE["settings"], "personal_data": True, "personal_data_days": 14}}
    server, ids = start_demo(tmp_path, spec=keeping)
    try:
        issue(server, "HT01", "HT02")
        page = open_terminal(browser, server, 1)
        assert page.locator("#citizen").is_hidden()                      # nothing at the counter yet
        page.click("#call-next")
        page.wait_for_selector("#citizen:not([hidden])")
        assert page.locator("#citizen-text").inner_text() == "Chưa ghi"
        page.click("#open-citizen")
        assert "14 ngày" in page.locator("#citizen-kept").inner_text()
        page.click("#save-citizen")                                     # no name: told, nothing sent
        assert page.locator("#citizen-error").inner_text() == "Vui lòng nhập họ và tên"
        page.fill("#citizen-name", "Nguyễn Thị Hoa")
        page.fill("#citizen-phone", "091 234")                          # too short: told, dialog stays
        page.click("#save-citizen")
        page.wait_for_selector("#citizen-error:not([hidden])")
        assert page.locator("#citizen-error").inner_text().startswith("Số điện thoại gồm 10 chữ số")
        page.fill("#citizen-phone", "0912 345 678")
        assert page.locator("#citizen-error").is_hidden()               # correcting clears the complaint
        page.fill("#citizen-id", "001190012345")
        screenshot(page, "counter-6-applicant")
        page.keyboard.press("Enter")                                    # typing in the dialog calls nobody
        page.wait_for_selector("#citizen-dialog", state="hidden")
        assert page.locator("#citizen-text").inner_text() == "Nguyễn Thị Hoa · 0912345678 · 001190012345"
        screenshot(page, "counter-7-applicant-noted")
        assert current(page) == "1001"
        # The next ticket starts blank, and the details stay with 1001 after a reload.
        page.click("#call-next")                          # 1001 was only called: served, says the officer
        page.click("#settle-dialog [data-previous=served]")
        page.wait_for_function("() => document.querySelector('#ticket-number').textContent === '1002'")
        assert page.locator("#citizen-text").inner_text() == "Chưa ghi"
        screenshot(page, "counter-8-applicant-not-noted")
        token = server.login("canbo1", "matkhau1")
        state = server.get(f"/counters/{ids.counter(1)}/state", token).json()
        assert state["ticket"]["number"] == "1002" and state["citizen"] is None
    finally:
        server.stop()


def test_the_officers_day_no_shows_called_back_and_citizens_only_called(browser, demo_server):
    """"Next" while the citizen was only called counted them served; a no-show vanished with no way
    to call it back; the rating prompt came after no-shows; the badge said only "Ưu tiên"."""
    server, ids = demo_server
    elder = server.post("/tickets", json={"service": "HT01", "priority": "cao_tuoi"}).json()
    issue(server, "HT02", "HT03")
    page = open_terminal(browser, server, 1)
    page.wait_for_function("() => document.querySelectorAll('#queue li').length === 3")
    page.click("#call-next")
    page.wait_for_function("n => document.querySelector('#ticket-number').textContent === n", arg=elder["number"])
    assert page.locator("#ticket-priority").inner_text() == "Người cao tuổi"
    assert "trước khi tạm dừng" in page.locator("#pause").get_attribute("title")   # a disabled button says why

    # "Next" while only called: the terminal asks, and "did not come" makes a no-show, not a served one.
    ready(page, "#call-next")
    page.click("#call-next")
    page.wait_for_selector("#settle-dialog[open]")
    assert elder["number"] in page.locator("#settle-title").inner_text()
    screenshot(page, "counter-settle-1366x768")
    page.click("#settle-dialog [data-previous=no_show]")
    page.wait_for_function("n => document.querySelector('#ticket-number').textContent !== n && "
                           "document.querySelector('#ticket-number').textContent !== '—'", arg=elder["number"])
    page.wait_for_selector(f"#no-show-list li[data-ticket='{elder['id']}']")
    assert page.locator("#rating-asked").is_hidden()                   # no rating after a no-show
    page.wait_for_function("() => document.querySelector('#no-shows').textContent === '1'")
    assert page.locator("#served").inner_text() == "0"
    screenshot(page, "counter-no-shows-1366x768")

    # The citizen's phone says what to do meanwhile.
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(f"{server.url}/t/{elder['public_id']}")
    assert "quầy 1" in phone.locator("#state").inner_text()
    screenshot(phone, "status-no-show-390x844")

    # Serve the one called now: the tablet asks, and the prompt goes once the citizen has rated.
    tablet = browser.new_page(viewport=TABLET)
    tablet.goto(f"{server.url}/rate/{ids.tablets[1]}")
    tablet.wait_for_selector("#idle:not([hidden])")
    ready(page, "[data-action=start]")
    page.click("[data-action=start]")
    page.wait_for_function("() => document.querySelector('#current').classList.contains('serving')")
    page.click("[data-action=finish]")
    page.wait_for_selector("#rating-asked:not([hidden])")
    tablet.wait_for_selector("#ask:not([hidden])", timeout=5000)
    tablet.click(".level[data-level='3']")                 # "Rất hài lòng" is sent as it is tapped
    tablet.wait_for_selector("#thanks:not([hidden])")
    page.wait_for_selector("#rating-asked", state="hidden")
    assert page.locator("#served").inner_text() == "1"

    # The elder comes back: one click on the no-show list calls them again.
    page.click(f"#no-show-list li[data-ticket='{elder['id']}'] button")
    page.click("#do-call")
    page.wait_for_function("n => document.querySelector('#ticket-number').textContent === n", arg=elder["number"])
    page.wait_for_selector(f"#no-show-list li[data-ticket='{elder['id']}']", state="detached")
    screenshot(page, "counter-no-show-called-back-1366x768")


def test_with_a_real_catalogue_the_transfer_list_admin_and_reports_hold_it_all(browser, tmp_path):
    """70 fields and 399 procedures: the counter's transfer list, the admin's editors and the
    reports each show all of it."""
    from hangdoi.fixtures import large_catalogue
    from hangdoi.fixtures.demo import demo_centre

    from .centres import open_now
    from .conftest import start_demo
    from .test_admin_pages import signed_in
    spec = open_now(demo_centre("large"))
    server, ids = start_demo(tmp_path, spec=spec, extra_env={"HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "0"})
    try:
        services = server.get("/services").json()
        assert len(services) == 399
        server.post("/tickets", json={"service": "HT01"}).raise_for_status()
        page = open_terminal(browser, server, 1)
        page.click("#call-next")
        page.wait_for_function("() => document.querySelector('#ticket-number').textContent === 'A001'")
        page.click("#open-transfer")
        page.wait_for_selector("#transfer-dialog[open]")
        groups = page.locator("#transfer-service optgroup")
        assert groups.count() == 70 and page.locator("#transfer-service optgroup option").count() == 398
        assert groups.first.get_attribute("label") == "Hộ tịch"
        screenshot(page, "counter-transfer-large-1366x768")
        target = next(s for s in services if s["code"] == "QS05")
        page.select_option("#transfer-service", str(target["id"]))
        page.click("#do-transfer")
        page.wait_for_function("() => document.querySelector('#ticket-number').textContent === '—'")
        waiting = {s["code"]: s["waiting"] for s in server.get("/services").json()}
        assert waiting["QS05"] == 1 and waiting["HT01"] == 0

        admin = signed_in(browser, server)
        admin.set_default_timeout(90_000)      # 469 rows and 399 ticks, drawn on a machine kept busy
        admin.wait_for_function("() => window.hangdoiSettings && window.hangdoiSettings.loads > 0")
        admin.click("[data-tab=services]")
        assert admin.locator("tr[data-id]").count() == 70 + 399      # every field and procedure, listed
        admin.click("[data-tab=counters]")
        admin.click("tr:has-text('Tiếp công dân, Khiếu nại') button:has-text('Sửa')")
        ticks = admin.locator("#editor-fields .ticks[data-name=primary] input")
        assert ticks.count() == 399 and admin.locator("#editor-fields .ticks[data-name=primary] input:checked").count() == sum(
            len(p) for code, _, p in large_catalogue.GROUPS[11][2])
        screenshot(admin, "admin-settings-counter-large-1366x768")

        # A week of a busy commune behind it: the report by procedure lists what was asked for.
        from datetime import timedelta

        from hangdoi.clock import SystemClock, local_day
        from hangdoi.database import Database
        from hangdoi.fixtures.history import write_history
        db = Database(f"sqlite:///{tmp_path / 'hangdoi.sqlite3'}", clock=SystemClock())
        today = local_day(db.clock.now(), spec["timezone"])
        write_history(db, ids.centre, today - timedelta(days=7), today - timedelta(days=1), tickets_per_day=250)
        db.dispose()
        admin.goto(f"{server.url}/admin/reports?by=service&from={(today - timedelta(days=7)).isoformat()}"
                   f"&to={(today - timedelta(days=1)).isoformat()}")
        admin.wait_for_function("() => window.hangdoiReports && window.hangdoiReports.drawn >= 1")
        assert admin.locator("table.figures tbody tr").count() >= 100
        screenshot(admin, "admin-reports-large-1366x768")
    finally:
        server.stop()
