"""At a province server, reports across its linked centres (hangdoi/services/reports/province.py), from
the same figures as the API:

    /admin/province-reports?from=&to=&by=&area=         key figures, charts, the grouped table, and the
                                                        CSV/XLSX and Decision 766 exports
    /admin/province-reports/print?from=&to=&by=&area=   the same report on A4, headed and signed as a
                                                        Vietnamese administrative document
"""
from __future__ import annotations

from flask import render_template, request

from hangdoi.clock import local_day, local_time
from hangdoi.engine import state
from hangdoi.engine.errors import DomainError
from hangdoi.messages import text, texts
from hangdoi.services.replication import ingest, overview
from hangdoi.services.reports import parse_day
from hangdoi.services.reports.export import COLUMNS, GROUP_HEADERS
from hangdoi.services.reports.letterhead import letterhead
from hangdoi.services.reports.province import GROUPINGS, province_reports
from hangdoi.web.admin.blueprint import bp, province_or_sign_in
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import PROVINCE, allow


@bp.get("/admin/province-reports")
@allow(PROVINCE)
def province_reports_page():
    return _render("admin/province_reports.html", request.full_path.rstrip("?"))


@bp.get("/admin/province-reports/print")
@allow(PROVINCE)
def province_reports_print():
    return _render("admin/province_print.html", request.full_path.rstrip("?"))


def _render(template: str, next_path: str):
    officer, refusal = province_or_sign_in(next_path, "province_reports_title")
    if refusal is not None:
        return refusal
    db = hangdoi().db
    now = db.clock.now()
    area = request.args.get("area") or None
    by = request.args.get("by", "centre")
    error, report, by_centre = None, None, None
    try:
        first = parse_day(request.args.get("from"), "from") or local_day(now, overview.PROVINCE_TIMEZONE)
        last = parse_day(request.args.get("to"), "to") or first
        # The chart of centres is drawn whatever the table is grouped by: both from one read.
        reports = province_reports(db, first, last, (by, "centre"), area)
        report, by_centre = reports[by], reports["centre"]
    except DomainError as exc:
        error = exc.message.split(" / ")[0]
    areas = sorted({link["area"] for link in ingest.links(db) if link["area"]})
    local_now = local_time(now, overview.PROVINCE_TIMEZONE)
    # On paper the report is issued by the province admin's own centre, under its People's Committee.
    heading = letterhead(state.centre_name(db, officer["centre_id"]), local_now.date())
    return render_template(template, t=text, officer=officer, report=report, heading=heading,
                           by_centre=by_centre, error=error, groupings=GROUPINGS, group_headers=GROUP_HEADERS,
                           columns=COLUMNS, labels=texts("report_"), areas=areas, area=area,
                           generated_at=local_now.strftime("%H:%M %d/%m/%Y")), (422 if error else 200)
