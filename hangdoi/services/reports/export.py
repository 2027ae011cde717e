"""A report as a table with Vietnamese headers, written as CSV (UTF-8 with a BOM, so Excel shows
the accents) or XLSX (openpyxl): one row per group, then the totals."""
from __future__ import annotations

import csv
import io

from hangdoi.messages import text
from hangdoi.spreadsheet import cells

GROUP_HEADERS = {"day": "Ngày", "week": "Tuần", "month": "Tháng", "hour": "Giờ lấy số",
                 "domain": "Lĩnh vực", "service": "Thủ tục", "counter": "Quầy", "officer": "Cán bộ",
                 "priority": "Đối tượng ưu tiên", "centre": "Trung tâm", "area": "Khu vực"}
COLUMNS = [
    ("Số đã cấp", lambda f: f["issued"]),
    ("Đã phục vụ", lambda f: f["served"]),
    ("Vắng mặt", lambda f: f["no_show"]),
    ("Đã hủy", lambda f: f["cancelled"]),
    ("Hết hiệu lực cuối ngày", lambda f: f["closed"]),
    ("Đang xử lý", lambda f: f["open"]),
    ("Được chuyển", lambda f: f["transferred"]),
    ("Chờ TB (phút)", lambda f: f["wait_minutes"]["mean"]),
    ("Chờ trung vị (phút)", lambda f: f["wait_minutes"]["median"]),
    ("Chờ P90 (phút)", lambda f: f["wait_minutes"]["p90"]),
    ("Chờ lâu nhất (phút)", lambda f: f["wait_minutes"]["max"]),
    ("Phục vụ TB (phút)", lambda f: f["service_minutes"]["mean"]),
    ("Phục vụ trung vị (phút)", lambda f: f["service_minutes"]["median"]),
    ("Phục vụ P90 (phút)", lambda f: f["service_minutes"]["p90"]),
    ("Phục vụ lâu nhất (phút)", lambda f: f["service_minutes"]["max"]),
    ("Tỷ lệ chờ trong mục tiêu (%)",
     lambda f: None if f["within_target"] is None else round(f["within_target"] * 100, 1)),
    ("Không hài lòng", lambda f: f["ratings"]["1"]),
    ("Bình thường (thang 5 mức)", lambda f: f["ratings"]["neutral"]),
    ("Hài lòng", lambda f: f["ratings"]["2"]),
    ("Rất hài lòng", lambda f: f["ratings"]["3"]),
    ("Hài lòng trở lên (%)", lambda f: None if not f["ratings"]["total"]
     else round((f["ratings"]["share"]["2"] + f["ratings"]["share"]["3"]) * 100, 1)),
]
# Where the centre takes numbers from phones or bookings: who came how, and the appointments' and
# messages' figures (the screens show them as the report's key figures).
PHONE_COLUMNS = [
    ("Trực tiếp", lambda f: f["origins"]["walk_in"]),
    ("Lấy số qua mạng", lambda f: f["origins"]["remote"]),
    ("Theo lịch hẹn", lambda f: f["origins"]["booked"]),
    ("Gọi so với giờ hẹn, trung vị (phút)", lambda f: f["punctuality_minutes"]["median"]),
    ("Gọi so với giờ hẹn, P90 (phút)", lambda f: f["punctuality_minutes"]["p90"]),
    ("Tin nhắn đã gửi", lambda f: f["notifications"]["sent"]),
    ("Tin nhắn lỗi", lambda f: f["notifications"]["failed"]),
    ("Báo trước khi gọi, trung vị (phút)", lambda f: f["notifications"]["lead_minutes"]["median"]),
]
BOOKING_LINES = [
    ("Lịch hẹn đã đặt", lambda b: b["booked"]),
    ("Đến trong khung giờ hẹn", lambda b: b["came"]),
    ("Đến muộn (thành số thường)", lambda b: b["came_late"]),
    ("Không đến", lambda b: b["no_show"]),
    ("Tỷ lệ không đến (%)", lambda b: None if b["no_show_rate"] is None else round(b["no_show_rate"] * 100, 1)),
    ("Lịch hẹn đã hủy", lambda b: b["cancelled"]),
    ("Số lấy qua mạng", lambda b: b["remote_taken"]),
    ("Số qua mạng đã đến", lambda b: b["remote_came"]),
    ("Số qua mạng hết hiệu lực", lambda b: b["remote_expired"]),
]
TOTAL_LABEL = text("report_total")


def uses_phones(report: dict) -> bool:
    totals, booked = report["totals"], report["totals"].get("bookings") or {}
    return bool(totals["origins"]["remote"] or totals["origins"]["booked"]
                or booked.get("booked") or booked.get("remote_taken"))


def table(report: dict) -> list[list]:
    """Header, a row per group, the totals; where phones are used, their columns, and then the
    bookings of the period, a line each."""
    columns = COLUMNS + (PHONE_COLUMNS if uses_phones(report) else [])
    header = [GROUP_HEADERS[report["by"]], *(name for name, _ in columns)]
    body = [[row["label"], *(value(row) for _, value in columns)] for row in report["rows"]]
    total = [TOTAL_LABEL, *(value(report["totals"]) for _, value in columns)]
    if not uses_phones(report):
        return [header, *body, total]
    booked = report["totals"]["bookings"]
    return [header, *body, total, [], *([name, value(booked)] for name, value in BOOKING_LINES)]


def filename(report: dict, extension: str, what: str = "bao-cao") -> str:
    scope = "tinh-" if report.get("province") else ""
    return f"{what}-{scope}{report['by']}-{report['from']}-{report['to']}.{extension}"


def to_csv(report: dict) -> bytes:
    return rows_to_csv(table(report))


def to_xlsx(report: dict) -> bytes:
    # Imported here, not at start: see hangdoi/spreadsheet.py.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Báo cáo"
    sheet.append([f"{report['centre']['name']} — báo cáo từ {vn_date(report['from'])} đến {vn_date(report['to'])}"])
    sheet["A1"].font = Font(bold=True, size=13)
    rows = table(report)
    for row in rows:
        sheet.append(cells(row))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[2 + len(report["rows"]) + 1]:       # the totals
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 42
    sheet.freeze_panes = "B3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def vn_date(iso_day: str) -> str:
    """2026-11-23 → 23/11/2026."""
    year, month, day = iso_day.split("-")
    return f"{day}/{month}/{year}"


def rows_to_csv(rows: list[list]) -> bytes:
    """Any table (the Decision 766 one) as CSV, UTF-8 with a BOM, cells made inert."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(cells(row))
    return out.getvalue().encode("utf-8-sig")


def rows_to_xlsx(rows: list[list], title: str) -> bytes:
    from openpyxl import Workbook  # here, not at start: see hangdoi/spreadsheet.py
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for row in rows:
        sheet.append(cells(row))
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.column_dimensions["A"].width = 42
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
