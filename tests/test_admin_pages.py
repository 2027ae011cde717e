"""The admin's pages in real Chromium at 1366×768: create a field, a service and a counter and see
them on the kiosk and the lobby display; a refused change keeps the form open with the reason;
reports and the A4 daily report draw their charts; who may open which page."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hangdoi.clock import SystemClock, local_day
from hangdoi.database import Database
from hangdoi.fixtures.history import write_history

from .conftest import screenshot, start_demo
from .test_display_page import open_board
from .test_kiosk_page import KIOSK, take_ticket

DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
def demo(tmp_path):
    server, ids = start_demo(tmp_path)
    yield server, ids
    server.stop()


def signed_in(browser, server, username="admin", password="quantri123", path="/admin/settings"):
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{server.url}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    return page


def fill_editor(page, values: dict) -> None:
    for name, value in values.items():
        field = page.locator(f"#editor-fields [name='{name}']")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)


def save_editor(page) -> None:
    loads = page.evaluate("window.hangdoiSettings.loads")
    page.click("#editor-save")
    page.wait_for_function(f"() => window.hangdoiSettings.loads > {loads}")


def test_an_admin_creates_a_field_a_service_and_a_counter_and_they_reach_kiosk_and_display(browser, demo):
    server, ids = demo
    page = signed_in(browser, server)
    page.wait_for_function("() => window.hangdoiSettings && window.hangdoiSettings.loads > 0")
    page.click("[data-tab=services]")
    page.click("[data-add=domains]")
    fill_editor(page, {"code": "GD", "name": "Giáo dục và Đào tạo", "prefix": "G", "first": "1", "last": "300"})
    save_editor(page)
    page.click("[data-add=services]")
    fill_editor(page, {"code": "GD01", "name": "Chuyển trường cho học sinh", "domain": "Giáo dục và Đào tạo",
                       "daily_cap": "40"})
    screenshot(page, "admin-settings-editor-1366x768")
    save_editor(page)
    assert page.locator("tr:has-text('GD01')").count() == 1

    page.click("[data-add=services]")           # the same code again: refused, the form stays open
    fill_editor(page, {"code": "GD01", "name": "Trùng mã", "domain": "Giáo dục và Đào tạo"})
    page.click("#editor-save")
    page.wait_for_selector("#editor-error:not([hidden])")
    assert "GD01" in page.locator("#editor-error").inner_text() and page.locator("#editor").is_visible()
    page.click("#editor-cancel")

    page.click("[data-tab=counters]")
    page.click("[data-add=counters]")
    fill_editor(page, {"number": "7", "name": "Giáo dục"})
    page.check("#editor-fields .ticks[data-name=primary] label:has-text('GD01') input")
    save_editor(page)
    assert page.locator("tr:has-text('Giáo dục')").count() == 1
    screenshot(page, "admin-settings-counters-1366x768")

    kiosk = browser.new_page(viewport=KIOSK, has_touch=True)
    kiosk.goto(f"{server.url}/kiosk/{ids.kiosks['Kiosk sảnh chính']}")
    kiosk.wait_for_selector(".domain:has-text('Giáo dục và Đào tạo')")
    take_ticket(kiosk, "Giáo dục và Đào tạo", "Chuyển trường")
    kiosk.wait_for_selector("#ticket:not([hidden])")
    assert kiosk.locator("#ticket-number").inner_text() == "G001"
    assert kiosk.locator("#ticket-counters").inner_text() == "7"
    board = open_board(browser, server, ids, last_counter=7)
    assert "Giáo dục" in board.locator(".card[data-counter='7']").inner_text()

    audit = signed_in(browser, server, path="/admin/audit")
    audit.goto(f"{server.url}/admin/audit")
    assert audit.locator("tr[data-entity=counter]").count() == 1
    assert audit.locator("tr[data-entity=service]").count() == 1 and audit.locator("tr[data-entity=domain]").count() == 1
    screenshot(audit, "admin-audit-1366x768")


def test_the_centre_form_saves_hours_and_says_what_is_wrong(browser, demo):
    server, _ = demo
    page = signed_in(browser, server)
    page.wait_for_function("() => window.hangdoiSettings && window.hangdoiSettings.loads > 0")
    page.fill(".centre-form [name=morning_from]", "11:45")            # after its own end
    page.click(".centre-form button[type=submit]")
    page.wait_for_selector(".centre-form .form-error:not([hidden])")
    # A whole sentence in Vietnamese, never a field's code or half English.
    assert page.locator(".centre-form .form-error").inner_text().startswith("Giờ làm việc chưa đúng")
    assert "opening_hours" not in page.locator(".centre-form .form-error").inner_text()
    page.fill(".centre-form [name=morning_from]", "07:00")
    page.fill(".centre-form [name=closed_days]", "02/09/2026\n1/1/2027")     # Vietnamese dates
    page.fill(".centre-form [name=sla_minutes]", "20")
    assert not page.locator(".centre-form [name=personal_data]").is_checked()     # off unless turned on
    page.check(".centre-form [name=personal_data]")
    page.fill(".centre-form [name=personal_data_days]", "14")
    # Phones: a number for today and slots, 40 % bookable, SMS through a GSM modem.
    page.fill(".centre-form [name=booking_share]", "40")
    page.select_option(".centre-form [name=sms_channel]", "gsm")
    page.fill(".centre-form [name=sms_port]", "/dev/ttyUSB0")
    loads = page.evaluate("window.hangdoiSettings.loads")
    page.click(".centre-form button[type=submit]")
    page.wait_for_function(f"() => window.hangdoiSettings.loads > {loads}")
    assert page.locator(".centre-form [name=morning_from]").input_value() == "07:00"
    assert page.locator(".centre-form [name=personal_data]").is_checked()
    assert page.locator(".centre-form [name=personal_data_days]").input_value() == "14"
    assert page.locator(".centre-form [name=closed_days]").input_value() == "02/09/2026\n01/01/2027"
    assert page.locator(".centre-form [name=booking_share]").input_value() == "40"
    assert page.locator(".centre-form [name=sms_port]").input_value() == "/dev/ttyUSB0"
    assert page.locator("#toast").is_visible()                                      # "Đã lưu"
    page.fill(".centre-form [name=closed_days]", "31/02/2026")                      # no such day
    page.click(".centre-form button[type=submit]")
    page.wait_for_selector(".centre-form .form-error:not([hidden])")
    assert "31/02/2026" in page.locator(".centre-form .form-error").inner_text()
    assert page.locator("#toast").is_hidden()                # the earlier "Đã lưu" no longer holds
    screenshot(page, "admin-settings-centre-1366x768")
    # The audit log says what changed in words: the setting, before → after; not the settings object.
    page.goto(f"{server.url}/admin/audit")
    changes = page.locator("tr[data-entity=centre] td.changes").first.inner_text()
    # The demo never set the target: what was in force was the default.
    assert "Mục tiêu thời gian chờ (phút): 30 (mặc định) → 20" in changes and "{" not in changes
    assert "Giờ làm việc: 07:30–11:30, 13:30–17:00 → 07:00–11:30, 13:30–17:00" in changes
    assert "Ngày nghỉ lễ: — → 02/09/2026, 01/01/2027" in changes
    screenshot(page, "admin-audit-centre-1366x768")


def test_reports_and_the_daily_report_draw_their_charts(browser, demo, tmp_path):
    server, ids = demo
    db = Database(f"sqlite:///{tmp_path / 'hangdoi.sqlite3'}", clock=SystemClock())
    today = local_day(db.clock.now(), "Asia/Ho_Chi_Minh")
    write_history(db, ids.centre, today - timedelta(days=14), today - timedelta(days=1), tickets_per_day=150)
    db.dispose()
    first, last = (today - timedelta(days=14)).isoformat(), (today - timedelta(days=1)).isoformat()
    page = signed_in(browser, server, "lanhdao", "lanhdao123", f"/admin/reports?from={first}&to={last}&by=service")
    page.wait_for_function("() => window.hangdoiReports && window.hangdoiReports.drawn >= 3")
    issued = int(page.locator("[data-kpi=issued]").inner_text().replace(".", ""))
    assert issued > 1000
    assert page.locator("table.figures tbody tr").count() >= 20
    assert page.locator("table.figures thead th").count() == \
        page.locator("table.figures tbody tr").nth(0).locator("th, td").count()       # a cell under every heading
    screenshot(page, "admin-reports-1366x768")
    page.select_option("select[name=by]", "day")
    page.click(".filters button[type=submit]")
    page.wait_for_selector("table.figures tbody tr >> nth=13")
    assert page.locator("table.figures tbody tr").count() == 14       # every day, weekends as zero rows
    page.goto(f"{server.url}/admin/reports/daily?day={last if today.weekday() not in (0, 6) else first}")
    page.wait_for_function("() => window.hangdoiReports && window.hangdoiReports.drawn >= 3")
    heading = page.locator(".letterhead").inner_text()
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in heading and "Độc lập - Tự do - Hạnh phúc" in heading
    assert "ỦY BAN NHÂN DÂN XÃ TÂN HÒA" in heading and "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG XÃ TÂN HÒA" in heading
    assert re.search(r"Tân Hòa, ngày \d\d tháng \d\d năm \d{4}", heading)
    signatures = page.locator(".signatures").inner_text()
    assert "NGƯỜI LẬP BÁO CÁO" in signatures and "GIÁM ĐỐC" in signatures and "Vũ Đức Thắng" in signatures
    screenshot(page, "admin-daily-report-1366x768")
    # On paper, as Chromium prints it: A4, the heading and the signatures on it.
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})
    page.screenshot(path=str(screenshot(page, "admin-daily-report-a4-print")), full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type/Page") >= 1
    page.goto(f"{server.url}/admin/reports?from={last}&to={first}")
    assert "Ngày bắt đầu phải trước" in page.locator(".error").inner_text()


def test_who_may_open_which_admin_page(browser, demo):
    server, _ = demo
    officer = signed_in(browser, server, "canbo1", "matkhau1", "/admin/settings")
    assert "dành cho lãnh đạo" in officer.content()
    manager = signed_in(browser, server, "lanhdao", "lanhdao123", "/admin/settings")
    assert manager.locator("#editor").count() == 0
    assert manager.goto(f"{server.url}/admin/settings").status == 403
    assert manager.goto(f"{server.url}/admin/audit").status == 200
    assert manager.goto(f"{server.url}/admin/reports").status == 200
    assert "Cấu hình" not in manager.locator("nav.nav").inner_text()


def test_an_admin_lets_an_officer_slowed_by_wrong_passwords_sign_in_at_once(browser, demo):
    server, _ = demo
    officer = browser.new_page(viewport=DESKTOP)
    officer.goto(f"{server.url}/counter")
    for _ in range(5):                                   # slips at the counter's own machine
        officer.fill("input[name=username]", "canbo1")
        officer.fill("input[name=password]", "sai-mat-khau")
        officer.click("button[type=submit]")
    officer.fill("input[name=username]", "canbo1")
    officer.fill("input[name=password]", "matkhau1")
    officer.click("button[type=submit]")
    assert "thử lại sau" in officer.content()

    page = signed_in(browser, server)
    page.wait_for_function("() => window.hangdoiSettings && window.hangdoiSettings.loads > 0")
    page.click("[data-tab=officers]")
    page.click("tr:has-text('canbo1') [data-action=unlock]")
    page.wait_for_selector("#toast:has-text('có thể đăng nhập lại ngay')")
    screenshot(page, "admin-settings-officers-1366x768")

    officer.fill("input[name=username]", "canbo1")
    officer.fill("input[name=password]", "matkhau1")
    officer.click("button[type=submit]")
    officer.wait_for_selector(".counter-grid")
    assert "thử lại sau" not in officer.content()
