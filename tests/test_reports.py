"""Report figures against a timeline worked out by hand: a transfer, a recall, a no-show, a cancel,
a wait across the lunch break, end-of-day closing, and a ticket issued at 06:30 local time, which is
still the previous day in UTC. On SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from hangdoi import engine
from hangdoi.app import create_app
from hangdoi.config import load_settings
from hangdoi.database import Database
from hangdoi.engine import ratings
from hangdoi.engine.errors import Invalid
from hangdoi.services.reports import build_report

from .centres import PASSWORD, SMALL_CENTRE, always_open
from .conftest import build_centre

HANOI = timezone(timedelta(hours=7))
MONDAY, TUESDAY = date(2026, 11, 23), date(2026, 11, 24)


def at(clock, day: date, hhmm: str) -> None:
    hour, minute = map(int, hhmm.split(":"))
    clock.set(datetime(day.year, day.month, day.day, hour, minute, tzinfo=HANOI))


@pytest.fixture
def timeline(db, clock):
    """The hand-worked day. Waits: A001 5, 1002 10, 1001 20+10, 1003 130 (over lunch), 1005 10 (Tue).
    Service: 1002 8, 1001 7+5, 1003 14, 1005 10 (Tue)."""
    ids = build_centre(db, always_open(SMALL_CENTRE))
    c1, c2, an, binh = ids.counter(1), ids.counter(2), ids.officer("an"), ids.officer("binh")
    at(clock, MONDAY, "09:00")
    engine.sign_in(db, c1, an)
    engine.sign_in(db, c2, binh)
    t1 = engine.issue_ticket(db, ids.centre, "HT01")                        # 1001
    t2 = engine.issue_ticket(db, ids.centre, "HT01", priority="cao_tuoi")   # 1002
    engine.issue_ticket(db, ids.centre, "CT01")                             # A001
    at(clock, MONDAY, "09:05")
    engine.call_next(db, c2, binh)                                          # A001, waited 5
    at(clock, MONDAY, "09:06")
    engine.no_show(db, c2, binh)
    at(clock, MONDAY, "09:10")
    assert engine.call_next(db, c1, an)["ticket"]["number"] == "1002"       # priority first, waited 10
    at(clock, MONDAY, "09:12")
    engine.start(db, c1, an)
    at(clock, MONDAY, "09:20")
    engine.finish(db, c1, an)                                               # served 8
    ratings.rate(db, c1, t2["public_id"], 3, [])
    assert engine.call_next(db, c1, an)["ticket"]["number"] == "1001"       # waited 20
    at(clock, MONDAY, "09:21")
    engine.recall(db, c1, an)
    at(clock, MONDAY, "09:23")
    engine.start(db, c1, an)
    at(clock, MONDAY, "09:30")
    engine.transfer(db, c1, an, service_id=ids.service("CT01"), reason="sai lĩnh vực")  # served 7
    at(clock, MONDAY, "09:40")
    assert engine.call_next(db, c2, binh)["ticket"]["number"] == "1001"     # waited 10 more
    at(clock, MONDAY, "09:45")
    engine.finish(db, c2, binh)                                             # served 5, from the call
    at(clock, MONDAY, "09:46")
    ratings.rate(db, c2, t1["public_id"], 1, ["cho_lau"])
    at(clock, MONDAY, "10:00")
    cancelled = engine.issue_ticket(db, ids.centre, "DD01")
    at(clock, MONDAY, "10:05")
    engine.cancel_ticket(db, cancelled["id"], reason="công dân về")
    at(clock, MONDAY, "11:25")
    engine.issue_ticket(db, ids.centre, "HT02")                             # 1003
    at(clock, MONDAY, "13:35")
    assert engine.call_next(db, c1, an)["ticket"]["number"] == "1003"       # waited 130
    at(clock, MONDAY, "13:36")
    engine.start(db, c1, an)
    at(clock, MONDAY, "13:50")
    engine.finish(db, c1, an)                                               # served 14
    at(clock, MONDAY, "16:50")
    engine.issue_ticket(db, ids.centre, "HT01")                             # 1004, never called
    at(clock, MONDAY, "17:30")
    engine.close_day(db, ids.centre)
    at(clock, MONDAY, "23:55")
    engine.issue_ticket(db, ids.centre, "HT01")                             # 1005 Monday, still open
    at(clock, TUESDAY, "06:30")                                             # 23:30 UTC on Monday
    tuesday = engine.issue_ticket(db, ids.centre, "HT01")
    assert tuesday["number"] == "1001"
    engine.sign_in(db, c1, an)
    at(clock, TUESDAY, "06:40")
    engine.call_next(db, c1, an)
    at(clock, TUESDAY, "06:50")
    engine.finish(db, c1, an)
    return ids


def test_a_day_s_totals_match_the_hand_worked_timeline(db, timeline):
    report = build_report(db, timeline.centre, MONDAY, MONDAY, "day")
    totals = report["totals"]
    assert {k: totals[k] for k in ("issued", "served", "no_show", "cancelled", "closed", "open", "transferred")} == {
        "issued": 7, "served": 3, "no_show": 1, "cancelled": 1, "closed": 1, "open": 1, "transferred": 1}
    assert totals["wait_minutes"] == {"mean": 43.8, "median": 20.0, "p90": 130.0, "max": 130.0}
    assert totals["service_minutes"] == {"mean": 11.3, "median": 12.0, "p90": 14.0, "max": 14.0}
    assert totals["within_target"] == 0.75          # 5, 10 and 30 minutes are within 30; 130 is not
    assert totals["ratings"] == {"1": 1, "neutral": 0, "2": 0, "3": 1, "total": 2,
                                 "share": {"1": 0.5, "neutral": 0.0, "2": 0.0, "3": 0.5}, "reasons": {"cho_lau": 1}}
    assert [row["key"] for row in report["rows"]] == ["2026-11-23"]


def test_local_days_not_utc_days_and_a_day_without_tickets_is_a_zero_row(db, timeline):
    report = build_report(db, timeline.centre, date(2026, 11, 22), TUESDAY, "day")
    rows = {row["key"]: row for row in report["rows"]}
    assert list(rows) == ["2026-11-22", "2026-11-23", "2026-11-24"]
    assert rows["2026-11-22"]["issued"] == 0 and rows["2026-11-22"]["wait_minutes"]["mean"] is None
    assert rows["2026-11-22"]["within_target"] is None and rows["2026-11-22"]["label"] == "22/11/2026"
    assert rows["2026-11-23"]["issued"] == 7
    assert rows["2026-11-24"]["issued"] == 1 and rows["2026-11-24"]["served"] == 1
    assert rows["2026-11-24"]["wait_minutes"]["max"] == 10.0
    assert report["totals"]["issued"] == 8


def test_grouped_by_service_a_transferred_ticket_counts_where_it_ended(db, timeline):
    rows = {row["label"]: row for row in build_report(db, timeline.centre, MONDAY, MONDAY, "service")["rows"]}
    assert list(rows) == ["HT01 — Đăng ký khai sinh", "HT02 — Đăng ký kết hôn", "CT01 — Chứng thực bản sao",
                          "DD01 — Đăng ký biến động đất đai"]
    assert (rows["HT01 — Đăng ký khai sinh"]["issued"], rows["HT01 — Đăng ký khai sinh"]["served"]) == (3, 1)
    ct = rows["CT01 — Chứng thực bản sao"]
    assert (ct["issued"], ct["served"], ct["no_show"], ct["transferred"]) == (2, 1, 1, 1)
    assert ct["wait_minutes"] == {"mean": 17.5, "median": 17.5, "p90": 30.0, "max": 30.0}
    assert ct["ratings"]["1"] == 1 and ct["ratings"]["reasons"] == {"cho_lau": 1}


def test_grouped_by_counter_officer_priority_and_hour(db, timeline):
    by_counter = {r["label"]: r for r in build_report(db, timeline.centre, MONDAY, MONDAY, "counter")["rows"]}
    assert list(by_counter) == ["Quầy 1", "Quầy 2", "Chưa được gọi"]
    assert by_counter["Quầy 1"]["served"] == 2 and by_counter["Quầy 1"]["service_minutes"]["mean"] == 11.0
    assert by_counter["Quầy 2"]["served"] == 1 and by_counter["Quầy 2"]["no_show"] == 1
    assert by_counter["Chưa được gọi"]["issued"] == 3
    by_officer = {r["label"]: r for r in build_report(db, timeline.centre, MONDAY, MONDAY, "officer")["rows"]}
    assert by_officer["An"]["ratings"]["3"] == 1 and by_officer["Binh"]["ratings"]["1"] == 1
    by_priority = {r["label"]: r for r in build_report(db, timeline.centre, MONDAY, MONDAY, "priority")["rows"]}
    assert list(by_priority) == ["Người cao tuổi", "Không ưu tiên"]
    assert by_priority["Người cao tuổi"]["wait_minutes"]["max"] == 10.0
    by_hour = {r["key"]: r["issued"] for r in build_report(db, timeline.centre, MONDAY, MONDAY, "hour")["rows"]}
    assert by_hour == {7: 0, 8: 0, 9: 3, 10: 1, 11: 1, 13: 0, 14: 0, 15: 0, 16: 1, 23: 1}
    by_domain = {r["label"]: r["issued"] for r in build_report(db, timeline.centre, MONDAY, MONDAY, "domain")["rows"]}
    assert by_domain == {"Tư pháp – Hộ tịch": 4, "Chứng thực": 2, "Đất đai": 1}


def test_weeks_and_months(db, timeline):
    weeks = build_report(db, timeline.centre, date(2026, 11, 20), TUESDAY, "week")["rows"]
    assert [(w["key"], w["issued"]) for w in weeks] == [("2026-11-16", 0), ("2026-11-23", 8)]
    assert weeks[1]["label"] == "23/11–29/11/2026"
    months = build_report(db, timeline.centre, date(2026, 10, 30), TUESDAY, "month")["rows"]
    assert [(m["label"], m["issued"]) for m in months] == [("10/2026", 0), ("11/2026", 8)]


@pytest.mark.parametrize("first, last, by, code", [
    (TUESDAY, MONDAY, "day", "report_dates_reversed"),
    (date(2024, 1, 1), TUESDAY, "day", "report_range_too_long"),
    (MONDAY, MONDAY, "colour", "report_bad_grouping"),
])
def test_a_report_that_cannot_be_made_says_why(db, timeline, first, last, by, code):
    with pytest.raises(Invalid) as caught:
        build_report(db, timeline.centre, first, last, by)
    assert caught.value.code == code


# -- through the API ---------------------------------------------------------------------------
@pytest.fixture
def client(db, tmp_path):
    return create_app(load_settings(env={}, data_dir=tmp_path / "data"), db=db).test_client()


def sign_in(client, username: str) -> dict:
    token = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def test_managers_export_the_same_figures_as_csv_and_xlsx(db, timeline, client):
    headers = sign_in(client, "dung")
    query = "from=2026-11-22&to=2026-11-24&by=day"
    figures = client.get(f"/api/v1/reports?{query}", headers=headers)
    assert figures.status_code == 200 and figures.json["totals"]["issued"] == 8
    as_csv = client.get(f"/api/v1/reports/export.csv?{query}", headers=headers)
    assert as_csv.status_code == 200 and as_csv.data.startswith(b"\xef\xbb\xbf")
    assert "bao-cao-day-2026-11-22-2026-11-24.csv" in as_csv.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Ngày", "Số đã cấp", "Đã phục vụ"]
    assert rows[1][:3] == ["22/11/2026", "0", "0"] and rows[2][:3] == ["23/11/2026", "7", "3"]
    assert rows[-1][:3] == ["Tổng cộng", "8", "4"]
    as_xlsx = client.get(f"/api/v1/reports/export.xlsx?{query}", headers=headers)
    sheet = load_workbook(io.BytesIO(as_xlsx.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0].startswith("Trung tâm thử nghiệm") and values[1][:2] == ["Ngày", "Số đã cấp"]
    assert values[3][:3] == ["23/11/2026", 7, 3] and values[-1][:3] == ["Tổng cộng", 8, 4]


@pytest.mark.parametrize("query, status, code", [
    ("from=2026-11-24&to=2026-11-23", 422, "report_dates_reversed"),
    ("from=23.11.2026", 422, "report_bad_date"),
    ("from=31/02/2026", 422, "report_bad_date"),
    ("from=2026-02-30", 422, "report_bad_date"),
    ("by=colour", 422, "report_bad_grouping"),
    ("colour=red", 422, "unknown_field"),
])
def test_bad_report_queries_get_clear_errors(db, timeline, client, query, status, code):
    answer = client.get(f"/api/v1/reports?{query}", headers=sign_in(client, "dung"))
    assert answer.status_code == status and answer.json["error"]["code"] == code


def test_a_date_is_read_day_first_as_vietnamese_write_it(db, timeline, client):
    """06/12/2026 is 6 December, whatever the browser's language; a link's ISO date works too."""
    typed = client.get("/api/v1/reports?from=23/11/2026&to=24/11/2026", headers=sign_in(client, "dung"))
    linked = client.get("/api/v1/reports?from=2026-11-23&to=2026-11-24", headers=sign_in(client, "dung"))
    assert typed.status_code == 200 and typed.json == linked.json
    refused = client.get("/api/v1/reports?from=23.11.2026", headers=sign_in(client, "dung")).json["error"]["message"]
    assert refused.startswith("Ngày bắt đầu chưa đúng") and "from" not in refused.split(" / ")[0]


def test_reports_are_for_managers_only(db, timeline, client):
    assert client.get("/api/v1/reports").status_code == 401
    assert client.get("/api/v1/reports", headers=sign_in(client, "an")).status_code == 403
    assert client.get("/api/v1/reports/export.csv", headers=sign_in(client, "an")).status_code == 403
    assert client.get("/api/v1/reports/export.pdf", headers=sign_in(client, "dung")).status_code == 404


def test_days_still_changing_are_read_afresh_and_settled_days_from_memory(db, clock, timeline):
    at(clock, TUESDAY, "07:00")
    before = build_report(db, timeline.centre, MONDAY, TUESDAY)["rows"]
    assert before[0]["open"] == 1                                   # 1005 still waits: Monday is not settled
    assert db.settled_days.get(timeline.centre, MONDAY) is None
    engine.close_day(db, timeline.centre)                           # closes Monday's 1005 and Tuesday's nothing
    after = build_report(db, timeline.centre, MONDAY, TUESDAY)["rows"]
    assert (after[0]["open"], after[0]["closed"]) == (0, 2)
    assert db.settled_days.get(timeline.centre, MONDAY) is not None  # over, nothing open, ratings window past
    assert db.settled_days.get(timeline.centre, TUESDAY) is None     # today is never settled
    engine.issue_ticket(db, timeline.centre, "HT01")                 # today keeps changing
    assert build_report(db, timeline.centre, MONDAY, TUESDAY)["rows"][1]["issued"] == 2
    fresh = Database(db.url, clock=clock)                            # another process reads the same
    try:
        assert build_report(fresh, timeline.centre, MONDAY, TUESDAY)["rows"] == \
            build_report(db, timeline.centre, MONDAY, TUESDAY)["rows"]
    finally:
        fresh.dispose()
