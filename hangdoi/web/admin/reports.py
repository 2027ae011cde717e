"""Report pages, rendered on the server from the same figures as the API (hangdoi/services/reports), with
charts drawn in the browser by Chart.js (from npm, served by /assets/vendor):

    /admin/reports?from=&to=&by=     key figures, charts, the grouped table, CSV/XLSX export links
    /admin/reports/daily?day=        one day on A4: key figures, charts, per service and per counter
"""
from __future__ import annotations

from flask import render_template, request

from hangdoi.clock import local_time
from hangdoi.engine.errors import DomainError
from hangdoi.messages import text, texts
from hangdoi.services.reports import GROUPINGS, build_reports, export, parse_day
from hangdoi.services.reports.export import COLUMNS, GROUP_HEADERS
from hangdoi.services.reports.letterhead import letterhead
from hangdoi.web.admin.blueprint import bp, manager_or_sign_in
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import MANAGER, allow


@bp.app_template_filter("vn_number")
def vn_number(value, empty: str = "—") -> str:
    """43.8 → "43,8", 1200 → "1.200": how Vietnamese readers write numbers."""
    if value is None:
        return empty
    whole = f"{value:,.1f}" if isinstance(value, float) and value != int(value) else f"{int(value):,}"
    return whole.replace(",", " ").replace(".", ",").replace(" ", ".")


@bp.app_template_filter("vn_percent")
def vn_percent(share) -> str:
    return "—" if share is None else f"{vn_number(round(share * 100, 1))} %"


bp.add_app_template_filter(export.vn_date, "vn_date")


@bp.get("/admin/reports")
@allow(MANAGER)
def reports_page():
    officer, centre_id, refusal = manager_or_sign_in(request.full_path.rstrip("?"))
    if refusal is not None:
        return refusal
    by = request.args.get("by", "day")
    return _render("admin/reports.html", officer, centre_id, request.args.get("from"), request.args.get("to"), by,
                   charts=("hour", "officer"))


@bp.get("/admin/reports/daily")
@allow(MANAGER)
def daily_report():
    officer, centre_id, refusal = manager_or_sign_in(request.full_path.rstrip("?"))
    if refusal is not None:
        return refusal
    day = request.args.get("day")
    return _render("admin/daily.html", officer, centre_id, day, day, "service", charts=("hour", "officer", "counter"))


def _render(template: str, officer: dict, centre: int, first: str | None, last: str | None, by: str, charts):
    ctx = hangdoi()
    error, report, extra = None, None, {}
    try:
        first_day, last_day = parse_day(first, "from"), parse_day(last, "to")
        extra = build_reports(ctx.db, centre, first_day, last_day, (by, *charts))
        report = extra[by]
    except DomainError as exc:
        error = exc.message.split(" / ")[0]
    tz = report["centre"]["timezone"] if report else "Asia/Ho_Chi_Minh"
    now = local_time(ctx.db.clock.now(), tz)
    generated_at = now.strftime("%H:%M %d/%m/%Y")
    heading = letterhead(report["centre"]["name"], now.date()) if report else None
    return render_template(template, t=text, officer=officer, report=report, charts=extra, error=error, heading=heading,
                           groupings=GROUPINGS, group_headers=GROUP_HEADERS, columns=COLUMNS,
                           labels=texts("report_"), generated_at=generated_at), (422 if error else 200)
