"""Reports across a province's centres (hangdoi/services/reports/province.py): made from the rows
the centres pushed, they equal the sum of the centres' own reports, group by centre, area, field,
procedure and period, and leave the province as CSV, XLSX and the Decision 766 table."""
from __future__ import annotations

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook

from hangdoi import engine
from hangdoi.engine.errors import Invalid
from hangdoi.engine.ratings import rate
from hangdoi.engine.sql import Tx
from hangdoi.services.replication import ingest
from hangdoi.services.replication.reference import check, reference
from hangdoi.services.reports import build_report
from hangdoi.services.reports.province import GROUPINGS, province_report, province_reports

from .centres import NEIGHBOUR_CENTRE, PASSWORD
from .conftest import build_centre
from .test_province_push import a_morning, province_db, push_all  # noqa: F401 — fixtures used by name

COUNTS = ("issued", "served", "no_show", "cancelled", "closed", "open", "transferred")


def a_neighbours_morning(db, neighbour, clock):
    """The other centre: served, one unhappy with a reason, one transferred back to the queue, one cancelled."""
    counter, lan = neighbour.counter(1), neighbour.officer("lan")
    engine.sign_in(db, counter, lan)
    tickets = [engine.issue_ticket(db, neighbour.centre, "HT01") for _ in range(4)]
    clock.advance(minutes=7)
    served = engine.call_next(db, counter, lan)["ticket"]
    engine.start(db, counter, lan)
    clock.advance(minutes=12)
    engine.finish(db, counter, lan)
    rate(db, counter, served["public_id"], 1, ["slow"])
    engine.call_next(db, counter, lan)
    clock.advance(minutes=2)
    engine.requeue(db, counter, lan)
    engine.cancel_ticket(db, tickets[3]["id"], lan)
    clock.advance(minutes=1)


def send_reference(db, centre_id, province_db, link_id):
    with db.read() as session:
        document = reference(Tx(session), centre_id)
    ingest.store_reference(province_db, link_id, check(json.loads(json.dumps(document))))


@pytest.fixture
def two_centres(db, centre, clock, province_db):
    """Two centres of one installation, each linked to the province, each with a morning's work pushed."""
    neighbour = build_centre(db, NEIGHBOUR_CENTRE)
    a_morning(db, centre, clock)
    a_neighbours_morning(db, neighbour, clock)
    links = {}
    for ids, name, area in ((centre, "Xã Phú Thịnh", "Huyện Ba Vì (cũ)"), (neighbour, "Phường Hà Đông", "Quận Hà Đông (cũ)")):
        link_id, _ = ingest.add_centre(province_db, name, area)
        push_all(db, ids.centre, province_db, link_id)
        send_reference(db, ids.centre, province_db, link_id)
        links[name] = (link_id, ids)
    return links


def figures(row):
    """What two reports must agree on: the counts, the waiting and service times, the ratings."""
    return {**{k: row[k] for k in COUNTS}, "wait": row["wait_minutes"], "service": row["service_minutes"],
            "within": row["within_target"], "ratings": row["ratings"], "origins": row["origins"]}


def test_each_centres_row_at_the_province_equals_the_centres_own_report(db, clock, province_db, two_centres):
    day = clock.now().date()
    by_centre = province_report(province_db, day, day, "centre")
    rows = {row["label"]: row for row in by_centre["rows"]}
    assert list(rows) == ["Xã Phú Thịnh", "Phường Hà Đông"]         # the list's order: by area, then name
    for name, (_link, ids) in two_centres.items():
        own = build_report(db, ids.centre, day, day, "day")["totals"]
        assert figures(rows[name]) == figures(own), name
    assert rows["Phường Hà Đông"]["ratings"]["reasons"] == {"slow": 1}
    assert rows["Phường Hà Đông"]["transferred"] == 0 and rows["Phường Hà Đông"]["cancelled"] == 1
    # The province's totals are the two centres' together.
    totals = by_centre["totals"]
    own = [build_report(db, ids.centre, day, day, "day")["totals"] for _link, ids in two_centres.values()]
    for key in COUNTS:
        assert totals[key] == sum(o[key] for o in own), key
    assert totals["issued"] == 14 and totals["served"] == 2
    assert totals["ratings"]["total"] == 2 and totals["ratings"]["1"] == 1 and totals["ratings"]["3"] == 1
    assert totals["bookings"]["booked"] == 0 and totals["bookings"]["no_show_rate"] is None   # none sent: none made


def test_the_bookings_figures_at_the_province_equal_the_centres_own(db, centre, clock, province_db):
    """Booked, came, came late, no-shows and cancelled, from the counts the centre sends per day."""
    from datetime import timedelta

    from hangdoi.engine import bookings
    from hangdoi.services.replication import booking_days
    day = clock.now().date()
    people = [(f"09{n:08d}", name) for n, name in enumerate(
        ["Lê Văn An", "Trần Thị Bình", "Phạm Văn Cường", "Ngô Thị Dung", "Hoàng Văn Em"], 12345670)]
    made = [bookings.book(db, centre.centre, "HT01", day, start, phone, name)
            for (phone, name), start in zip(people, ("09:30", "09:30", "10:00", "10:30", "14:00"))]
    bookings.take_remote(db, centre.centre, "CT01", "0977000111", "Đỗ Thị Giang")
    bookings.cancel(db, made[4]["public_id"])
    clock.advance(minutes=25)                                            # 09:25
    bookings.check_in(db, centre.centre, made[0]["code"])
    clock.advance(minutes=20)                                            # 09:45: made[1] came late
    bookings.check_in(db, centre.centre, made[1]["code"])
    clock.advance(minutes=40)                                            # 10:25: 10:00's window is over
    bookings.expire_due(db, centre.centre)
    link_id, _ = ingest.add_centre(province_db, "Xã Phú Thịnh")
    with db.read() as session:
        doc = booking_days.document(Tx(session), centre.centre, day)
    ingest.store_booking_days(province_db, link_id, booking_days.check(json.loads(json.dumps(doc))))
    own = build_report(db, centre.centre, day, day, "day")["totals"]["bookings"]
    at_province = province_report(province_db, day, day, "centre")["totals"]["bookings"]
    assert at_province == own
    assert (own["booked"], own["came"], own["came_late"], own["no_show"], own["cancelled"], own["remote_taken"]) == (
        4, 1, 1, 1, 1, 1)
    # A later state of the same day replaces the first; other days are not touched.
    clock.advance(minutes=10)
    bookings.check_in(db, centre.centre, made[3]["code"])
    with db.read() as session:
        doc = booking_days.document(Tx(session), centre.centre, day)
    ingest.store_booking_days(province_db, link_id, booking_days.check(doc))
    assert province_report(province_db, day, day, "centre")["totals"]["bookings"]["came"] == 2
    assert province_report(province_db, day + timedelta(days=1), day + timedelta(days=1),
                           "centre")["totals"]["bookings"]["booked"] == 0
    for broken in ({**doc, "days": {"2026-13-01": []}}, {**doc, "days": {day.isoformat(): [["slot", "lost", False, 1]]}},
                   {**doc, "days": {day.isoformat(): [["slot", "booked", False, 0]]}}, {"days": {}}):
        with pytest.raises(Exception) as refused:
            booking_days.check(broken)
        assert getattr(refused.value, "code", None) == "invalid_batch"


def test_ratings_on_five_levels_read_the_same_at_the_province(db, centre, clock, province_db):
    """A centre whose province chose five levels: its report and the province's agree, neutral kept apart."""
    from hangdoi.engine import ratings
    ratings.set_scale(db, centre.centre, 5)
    counter, an = centre.counter(1), centre.officer("an")
    engine.sign_in(db, counter, an)
    for level, reasons in ((2, ["cho_lau"]), (3, []), (4, []), (5, [])):
        ticket = engine.issue_ticket(db, centre.centre, "HT01")
        engine.call_next(db, counter, an)
        engine.start(db, counter, an)
        clock.advance(minutes=3)
        engine.finish(db, counter, an)
        rate(db, counter, ticket["public_id"], level, reasons)
    link_id, _ = ingest.add_centre(province_db, "Xã Phú Thịnh")
    push_all(db, centre.centre, province_db, link_id)
    send_reference(db, centre.centre, province_db, link_id)
    day = clock.now().date()
    at_province = province_report(province_db, day, day, "centre")["rows"][0]
    own = build_report(db, centre.centre, day, day, "day")["totals"]
    assert figures(at_province) == figures(own)
    assert {k: own["ratings"][k] for k in ("1", "neutral", "2", "3")} == {"1": 1, "neutral": 1, "2": 1, "3": 1}
    assert own["ratings"]["reasons"] == {"cho_lau": 1}


def test_the_province_groups_by_procedure_code_field_area_and_period(db, centre, clock, province_db, two_centres):
    day = clock.now().date()
    by_service = {row["key"]: row for row in province_report(province_db, day, day, "service")["rows"]}
    # HT01 is offered by both centres: one row, both centres' tickets.
    neighbour = two_centres["Phường Hà Đông"][1]
    own_centre = {r["label"].split(" — ")[0]: r for r in build_report(db, centre.centre, day, day, "service")["rows"]}
    own_neighbour = build_report(db, neighbour.centre, day, day, "service")["rows"]
    assert by_service["HT01"]["issued"] == own_centre["HT01"]["issued"] + own_neighbour[0]["issued"] == 9
    assert by_service["HT01"]["label"] == "HT01 — " + own_centre["HT01"]["label"].split(" — ")[1]
    assert by_service["CT01"]["issued"] == own_centre["CT01"]["issued"] == 5
    by_domain = {row["key"]: row["issued"] for row in province_report(province_db, day, day, "domain")["rows"]}
    assert by_domain == {"HT": 9, "CT": 5}
    by_area = {row["label"]: row["issued"] for row in province_report(province_db, day, day, "area")["rows"]}
    assert by_area == {"Huyện Ba Vì (cũ)": 10, "Quận Hà Đông (cũ)": 4}
    one_area = province_report(province_db, day, day, "centre", area="Quận Hà Đông (cũ)")
    assert [row["label"] for row in one_area["rows"]] == ["Phường Hà Đông"] and one_area["totals"]["issued"] == 4
    # Every day of the range is a row, a day without tickets a row of zeros.
    from datetime import timedelta
    week = province_report(province_db, day - timedelta(days=2), day, "day")["rows"]
    assert [row["issued"] for row in week] == [0, 0, 14]
    month = province_report(province_db, day, day, "month")["rows"]
    assert [(row["label"], row["issued"]) for row in month] == [(day.strftime("%m/%Y"), 14)]


def test_a_centre_that_never_sent_its_names_still_counts(db, centre, clock, province_db):
    a_morning(db, centre, clock)
    link_id, _ = ingest.add_centre(province_db, "Xã Phú Thịnh")
    push_all(db, centre.centre, province_db, link_id)
    day = clock.now().date()
    report = province_report(province_db, day, day, "service")
    assert [(row["label"], row["issued"]) for row in report["rows"]] == [("—", 10)]
    assert report["totals"]["issued"] == 10


def test_bad_report_questions_are_refused(province_db, clock):
    from hangdoi.engine.errors import Invalid
    day = clock.now().date()
    with pytest.raises(Invalid):
        province_report(province_db, day, day, "officer")
    with pytest.raises(Invalid):
        province_report(province_db, day, day.replace(year=day.year - 1), "centre")
    with pytest.raises(Invalid):
        province_report(province_db, day.replace(year=day.year - 3), day, "centre")


# -- through the API and the page, as a province admin -------------------------------------------
@pytest.fixture
def province_client(province_db, two_centres, tmp_path):
    from hangdoi.app import create_app
    from hangdoi.config import load_settings
    build_centre(province_db, NEIGHBOUR_CENTRE)             # holds the province admin's account
    app = create_app(load_settings(env={}, data_dir=tmp_path / "province-app"), db=province_db)
    client = app.test_client()
    token = client.post("/api/v1/auth/login", json={"username": "tinh", "password": PASSWORD}).json["token"]
    client.token_headers = {"Authorization": f"Bearer {token}"}
    return client


def test_a_province_admin_reads_and_exports_the_reports(province_client, clock):
    client, headers = province_client, province_client.token_headers
    day = clock.now().date().isoformat()
    answer = client.get(f"/api/v1/province/reports?from={day}&to={day}&by=service", headers=headers)
    assert answer.status_code == 200
    assert {row["key"]: row["issued"] for row in answer.json["rows"]} == {"HT01": 9, "CT01": 5}
    # CSV: the report's table, with the procedure codes and the totals.
    exported = client.get(f"/api/v1/province/reports/export.csv?from={day}&to={day}&by=centre", headers=headers)
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert f"bao-cao-tinh-centre-{day}-{day}.csv" in exported.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert table[0][:2] == ["Trung tâm", "Số đã cấp"]
    assert [row[:2] for row in table[1:]] == [["Xã Phú Thịnh", "10"], ["Phường Hà Đông", "4"], ["Tổng cộng", "14"]]
    xlsx = client.get(f"/api/v1/province/reports/export.xlsx?from={day}&to={day}&by=area", headers=headers)
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet["A1"].value.startswith("Các trung tâm liên kết")
    assert [sheet.cell(row=r, column=1).value for r in (3, 4, 5)] == ["Huyện Ba Vì (cũ)", "Quận Hà Đông (cũ)", "Tổng cộng"]
    # The Decision 766 table: per centre, ratings and waits within the centre's target.
    index = client.get(f"/api/v1/province/reports/index-766.csv?from={day}&to={day}", headers=headers)
    rows = list(csv.reader(io.StringIO(index.data.decode("utf-8-sig"))))
    header = rows[3]
    assert header[:4] == ["Trung tâm", "Khu vực", "Mục tiêu chờ (phút)", "Lượt đánh giá"]
    phu_thinh = dict(zip(header, rows[4]))
    assert (phu_thinh["Trung tâm"], phu_thinh["Lượt đánh giá"], phu_thinh["Rất hài lòng"]) == ("Xã Phú Thịnh", "1", "1")
    assert (phu_thinh["Lượt được gọi"], phu_thinh["Tỷ lệ hài lòng trở lên (%)"]) == ("3", "100.0")
    ha_dong = dict(zip(header, rows[5]))
    assert (ha_dong["Không hài lòng"], ha_dong["Tỷ lệ hài lòng trở lên (%)"]) == ("1", "0.0")
    assert rows[6][0] == "Tổng cộng" and dict(zip(header, rows[6]))["Lượt đánh giá"] == "2"
    assert index.headers["Content-Disposition"].endswith(f'chi-so-766-tinh-centre-{day}-{day}.csv"')
    assert client.get(f"/api/v1/province/reports/index-766.xlsx?from={day}&to={day}", headers=headers).status_code == 200


def test_several_groupings_from_one_read_equal_each_read_alone(db, clock, province_db, two_centres):
    day = clock.now().date()
    together = province_reports(province_db, day, day, GROUPINGS)
    assert list(together) == list(GROUPINGS)
    for by in GROUPINGS:
        assert together[by] == province_report(province_db, day, day, by), by
    assert together["service"]["totals"]["issued"] == 14
    with pytest.raises(Invalid):
        province_reports(province_db, day, day, ("centre", "officer"))


def test_what_report_questions_a_province_refuses(province_client, clock):
    client, headers = province_client, province_client.token_headers
    day = clock.now().date().isoformat()
    base = "/api/v1/province/reports"
    assert client.get(base).status_code == 401                                     # nobody signed in
    for query, code in ((f"?from={day}&by=officer", 422), (f"?from=31/02/2026", 422), ("?from=x" * 300, 422),
                        (f"?from={day}&to=2020-01-01", 422), (f"?from={day}&colour=red", 422),
                        (f"?from=2020-01-01&to={day}", 422)):
        assert client.get(base + query, headers=headers).status_code == code, query
    assert client.get(f"{base}/export.pdf", headers=headers).status_code == 404
    assert client.get(f"{base}/index-766.csv?by=service", headers=headers).status_code == 422
    # A centre's manager is no province admin.
    manager = client.post("/api/v1/auth/login", json={"username": "lan", "password": PASSWORD}).json["token"]
    assert client.get(base, headers={"Authorization": f"Bearer {manager}"}).status_code == 403


def test_the_province_admin_reads_the_report_across_centres_on_the_page(browser, tmp_path, sqlite_template):
    """At 1366×768 and 1920×1080: five centres' morning, by centre, then by procedure for one area."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from hangdoi.clock import FixedClock, SystemClock, local_day
    from hangdoi.database import Database
    from hangdoi.fixtures.testing import LiveServer
    from hangdoi.schema import upgrade
    from hangdoi.services.replication.overview import PROVINCE_TIMEZONE

    from .centres import SMALL_CENTRE, always_open
    from .conftest import fresh_sqlite_url, screenshot
    folder = tmp_path / "province-site"
    folder.mkdir()
    url = fresh_sqlite_url(sqlite_template, folder)
    upgrade(url)
    province = Database(url, clock=SystemClock())
    # "tinh", the province admin, of the province's own centre.
    build_centre(province, always_open({**NEIGHBOUR_CENTRE, "name": "Trung tâm Phục vụ hành chính công thành phố Hà Nội"}))
    # Yesterday's morning at 08:00 in the province's time: the five mornings (2½ hours on one clock) never
    # straddle its midnight, whatever hour the test runs at.
    yesterday = local_day(SystemClock().now(), PROVINCE_TIMEZONE) - timedelta(days=1)
    clock = FixedClock(datetime.combine(yesterday, time(8), ZoneInfo(PROVINCE_TIMEZONE)))
    names = [("Xã Phú Thịnh", "Huyện Ba Vì (cũ)", 14), ("Xã Tản Lĩnh", "Huyện Ba Vì (cũ)", 6),
             ("Phường Hà Đông", "Quận Hà Đông (cũ)", 22), ("Xã Minh Quang", "Huyện Ba Vì (cũ)", 9),
             ("Phường Kiến Hưng", "Quận Hà Đông (cũ)", 17)]
    for n, (name, area, tickets) in enumerate(names):
        (tmp_path / f"c{n}").mkdir()
        centre_db = Database(fresh_sqlite_url(sqlite_template, tmp_path / f"c{n}"), clock=clock)
        ids = build_centre(centre_db, always_open(SMALL_CENTRE))
        a_morning(centre_db, ids, clock, tickets=tickets)
        link_id, _ = ingest.add_centre(province, name, area)
        push_all(centre_db, ids.centre, province, link_id)
        send_reference(centre_db, ids.centre, province, link_id)
        centre_db.dispose()
    day = clock.now().date()
    province.dispose()
    server = LiveServer(folder, database_url=url).start()
    try:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(server.url + "/counter")
        page.fill("input[name=username]", "tinh")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{server.url}/admin/province-reports?from={day.strftime('%d/%m/%Y')}")
        assert page.locator("[data-kpi=issued]").inner_text() == "68"
        rows = page.locator("table.figures tbody tr")
        assert rows.count() == 5
        # A cell under every heading, the 5-level scale's "Bình thường" included.
        assert page.locator("table.figures thead th").count() == rows.nth(0).locator("th, td").count()
        assert rows.nth(1).locator("td").last.inner_text() == "100 %"
        assert rows.nth(0).locator("th").inner_text() == "Xã Minh Quang"        # by area, then name
        assert "5 trung tâm" in page.locator("#scope").inner_text()
        assert page.locator("a[href*='index-766.xlsx']").count() == 1
        page.wait_for_load_state("networkidle")
        screenshot(page, "admin-province-reports-1366x768")
        page.select_option("select[name=by]", "service")
        page.select_option("select[name=area]", "Quận Hà Đông (cũ)")
        page.click(".filters button[type=submit]")
        page.wait_for_url("**/admin/province-reports?*by=service*")
        assert page.locator("[data-kpi=issued]").inner_text() == "39"
        assert [page.locator("table.figures tbody tr th").nth(i).inner_text() for i in range(2)] == [
            "CT01 — Chứng thực bản sao", "HT01 — Đăng ký khai sinh"]
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(f"{server.url}/admin/province-reports?from={day.isoformat()}")
        page.wait_for_load_state("networkidle")
        screenshot(page, "admin-province-reports-1920x1080")
        # On A4, headed by the province's centre under its People's Committee, and signed.
        page.set_viewport_size({"width": 1366, "height": 768})
        page.goto(server.url + page.locator("a[href*='/admin/province-reports/print']").get_attribute("href"))
        page.wait_for_function("() => window.hangdoiReports && window.hangdoiReports.drawn >= 2")
        heading = page.locator(".letterhead").inner_text()
        assert "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI" in heading and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in heading
        assert "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG THÀNH PHỐ HÀ NỘI" in heading and "Hà Nội, ngày" in heading
        assert f"Ngày {day.strftime('%d/%m/%Y')}" in page.locator("h1.title").inner_text()
        assert "Mọi khu vực · 5 trung tâm" in page.locator("#scope").inner_text()
        assert page.locator("[data-kpi=issued]").inner_text() == "68"
        table = page.locator("table.figures.compact")
        assert table.locator("tbody tr").count() == 5
        assert table.locator("thead").inner_text().count("Chờ trong mục tiêu") == 1
        assert table.locator("tfoot td").nth(0).inner_text() == "68"
        assert "Tinh" in page.locator(".signatures").inner_text()
        screenshot(page, "admin-province-report-a4-1366x768")
        page.emulate_media(media="print")
        page.set_viewport_size({"width": 794, "height": 1123})
        page.screenshot(path=str(screenshot(page, "admin-province-report-a4-print")), full_page=True)
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1      # one sheet
        # One area by procedure, on paper too.
        page.goto(f"{server.url}/admin/province-reports/print?from={day}&by=service&area=Qu%E1%BA%ADn+H%C3%A0+%C4%90%C3%B4ng+(c%C5%A9)")
        assert "Quận Hà Đông (cũ) · 2 trung tâm" in page.locator("#scope").inner_text()
        assert page.locator("[data-kpi=issued]").inner_text() == "39"
        assert page.locator(".block h2").text_content() == "Số liệu theo thủ tục"
        assert page.goto(f"{server.url}/admin/province-reports/print?from=31/02/2026").status == 422
        page.close()
    finally:
        server.stop()
