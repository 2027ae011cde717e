"""The service catalogue as a spreadsheet (CSV or XLSX), one row per service with its domain: a
centre has hundreds of procedures, and import is how they arrive.

Import is all or nothing: every row is checked, then every row is saved in one transaction; the
first bad row is reported with its line number and why, and nothing at all is changed.
"""
from __future__ import annotations

import csv
import io

from hangdoi.engine.errors import DomainError, Invalid
from hangdoi.messages import text
from hangdoi.services.administration.change import Change
from hangdoi.services.administration.services import save_domain, save_service
from hangdoi.spreadsheet import cells, restored

HEADERS = ["Mã lĩnh vực", "Tên lĩnh vực", "Tiền tố số", "Số đầu", "Số cuối", "Mã thủ tục", "Tên thủ tục",
           "Giới hạn số/ngày", "Lấy ngay", "Đang áp dụng"]
YES, NO = ("có", "x", "1", "true", "yes"), ("", "không", "0", "false", "no")
MAX_ROWS = 5000


def catalogue_rows(change: Change) -> list[list]:
    return [HEADERS] + [
        [r["dcode"], r["dname"], r["prefix"], r["first_number"], r["last_number"], r["code"], r["name"],
         r["daily_cap"], "có" if r["instant"] else "không", "có" if r["active"] else "không"]
        for r in change.tx.rows(
            "SELECT d.code AS dcode, d.name AS dname, t.prefix, t.first_number, t.last_number, s.code, s.name, "
            "s.daily_cap, s.instant, s.active FROM service s JOIN domain d ON d.id = s.domain_id "
            "JOIN ticket_series t ON t.id = s.series_id WHERE s.centre_id = :c ORDER BY d.position, s.position, s.id",
            c=change.centre_id)]


def to_csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([cells(row) for row in rows])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook  # here, not at start: see hangdoi/spreadsheet.py

    book = Workbook()
    sheet = book.active
    sheet.title = "Thủ tục"
    for row in rows:
        sheet.append(cells(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_file(data: bytes, kind: str) -> list[list[str]]:
    """Rows of text cells, header included."""
    try:
        if kind == "xlsx":
            from openpyxl import load_workbook  # here, not at start: see hangdoi/spreadsheet.py

            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
            return [["" if c is None else restored(str(c).strip()) for c in row]
                    for row in sheet.iter_rows(values_only=True)]
        return [[restored(c.strip()) for c in row] for row in csv.reader(io.StringIO(data.decode("utf-8-sig")))]
    except Exception:  # noqa: BLE001 — any unreadable file gets the same clear answer
        raise Invalid("import_unreadable") from None


def parsed_rows(rows: list[list[str]]) -> tuple[list[tuple[int, dict]], dict[str, tuple[int, dict]]]:
    """A file's rows (header first), each checked, with its line number; and each domain once.
    The first wrong one: Invalid naming its line. A province's catalogue is read here too."""
    if not rows or [h.lower() for h in rows[0][:len(HEADERS)]] != [h.lower() for h in HEADERS]:
        raise Invalid("import_bad_header", headers=", ".join(HEADERS))
    body = [(n, row) for n, row in enumerate(rows[1:], start=2) if any(row)]
    if not body or len(body) > MAX_ROWS:
        raise Invalid("import_row_count", max=MAX_ROWS)
    parsed = [(n, parse_row(n, row)) for n, row in body]
    return parsed, same_domains(parsed)


def import_catalogue(change: Change, rows: list[list[str]]) -> dict:
    parsed, domains = parsed_rows(rows)
    existing = {r["code"]: r["id"] for r in change.tx.rows("SELECT id, code FROM domain WHERE centre_id = :c",
                                                           c=change.centre_id)}
    services = {r["code"]: r["id"] for r in change.tx.rows("SELECT id, code FROM service WHERE centre_id = :c",
                                                           c=change.centre_id)}
    created = updated = 0
    for code, (n, fields) in domains.items():
        _at_row(n, lambda: save_domain(change, fields, existing.get(code)))
        existing[code] = change.tx.value("SELECT id FROM domain WHERE centre_id = :c AND code = :code",
                                         c=change.centre_id, code=code)
    for n, row in parsed:
        fields = {**row["service"], "domain": existing[row["domain"]["code"]]}
        _at_row(n, lambda: save_service(change, fields, services.get(fields["code"])))
        created, updated = created + (fields["code"] not in services), updated + (fields["code"] in services)
    change.audit("catalogue", None, "import", None, {"rows": len(parsed), "created": created, "updated": updated})
    return {"rows": len(parsed), "created": created, "updated": updated, "domains": len(domains)}


def parse_row(n: int, row: list[str]) -> dict:
    cells = (row + [""] * len(HEADERS))[:len(HEADERS)]
    dcode, dname, prefix, first, last, code, name, cap, instant, active = cells
    for label, value, limit in (("Mã lĩnh vực", dcode, 32), ("Tên lĩnh vực", dname, 200), ("Mã thủ tục", code, 32),
                                ("Tên thủ tục", name, 300)):
        if not value or len(value) > limit:
            raise Invalid("import_row", row=n, reason=f"{label}: 1–{limit} ký tự")
    return {"domain": {"code": dcode, "name": dname, "prefix": prefix or None, "first": _number(n, "Số đầu", first),
                       "last": _number(n, "Số cuối", last), "position": None},
            "service": {"code": code, "name": name, "daily_cap": _number(n, "Giới hạn số/ngày", cap) if cap else None,
                        "instant": _flag(n, "Lấy ngay", instant, False),
                        "active": _flag(n, "Đang áp dụng", active, True), "position": None}}


def same_domains(parsed: list[tuple[int, dict]]) -> dict[str, tuple[int, dict]]:
    """Each domain once; every row naming it must agree on its name and numbers."""
    found: dict[str, tuple[int, dict]] = {}
    for n, row in parsed:
        code = row["domain"]["code"]
        if code in found and found[code][1] != row["domain"]:
            raise Invalid("import_row", row=n, reason=f"lĩnh vực {code} khác với dòng {found[code][0]}")
        found.setdefault(code, (n, row["domain"]))
    codes = [row["service"]["code"] for _, row in parsed]
    for n, row in parsed:
        if codes.count(row["service"]["code"]) > 1:
            raise Invalid("import_row", row=n, reason=f"mã thủ tục {row['service']['code']} lặp lại")
    return found


def _at_row(n: int, save) -> None:
    try:
        save()
    except DomainError as exc:
        raise Invalid("import_row", row=n, reason=text(exc.code, **exc.params)) from None


def _number(n: int, label: str, value: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= 99999:
        raise Invalid("import_row", row=n, reason=f"{label}: số nguyên dương")
    return int(value)


def _flag(n: int, label: str, value: str, default: bool) -> bool:
    word = value.lower()
    if word in YES:
        return True
    if word in NO:
        return default if word == "" else False
    raise Invalid("import_row", row=n, reason=f"{label}: có hoặc không")
