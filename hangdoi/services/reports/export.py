"""A report as a table with Vietnamese headers, written as CSV (UTF-8 with a BOM, so Excel shows
the accents) or XLSX (openpyxl): one row per group, then the totals."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from hangdoi.messages import text
from hangdoi.spreadsheet import cells

GROUP_HEADERS = {"day": "Ngày", "week": "Tuần", "month": "Tháng", "hour": "Giờ lấy số",
                 "domain": "Lĩnh vực", "service": "Thủ tục", "counter": "Quầy", "officer": "Cán bộ",
                 "priority": "Đối tượng ưu tiên"}
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
    ("Hài lòng", lambda f: f["ratings"]["2"]),
    ("Rất hài lòng", lambda f: f["ratings"]["3"]),
    ("Hài lòng trở lên (%)", lambda f: None if not f["ratings"]["total"]
     else round((f["ratings"]["share"]["2"] + f["ratings"]["share"]["3"]) * 100, 1)),
]
TOTAL_LABEL = text("report_total")


def table(report: dict) -> list[list]:
    header = [GROUP_HEADERS[report["by"]], *(name for name, _ in COLUMNS)]
    body = [[row["label"], *(value(row) for _, value in COLUMNS)] for row in report["rows"]]
    total = [TOTAL_LABEL, *(value(report["totals"]) for _, value in COLUMNS)]
    return [header, *body, total]


def filename(report: dict, extension: str) -> str:
    return f"bao-cao-{report['by']}-{report['from']}-{report['to']}.{extension}"


def to_csv(report: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in table(report):
        writer.writerow(cells(row))
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(report: dict) -> bytes:
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
    for cell in sheet[sheet.max_row]:
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
