"""Reports for managers: figures as JSON, or the same table as CSV/XLSX.

    GET /api/v1/reports?from=2026-11-01&to=2026-11-30&by=service
    GET /api/v1/reports/export.xlsx?from=...&to=...&by=...      (or export.csv)
"""
from __future__ import annotations

from flask import Response, jsonify, request

from hangdoi.services.reports import build_report, export, parse_day
from hangdoi.web.api.blueprint import api, require_manager
from hangdoi.web.api.errors import ApiError
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import MANAGER, allow

QUERY = ("from", "to", "by", "centre")
EXPORTS = {"csv": ("text/csv; charset=utf-8", export.to_csv),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", export.to_xlsx)}


def report_from_query() -> dict:
    """The report the query string asks for; the range defaults to today, the grouping to day."""
    _manager, centre = require_manager()
    for key in request.args:
        if key not in QUERY:
            raise ApiError("unknown_field", 422, field=key[:40])
    return build_report(hangdoi().db, centre, parse_day(request.args.get("from"), "from"),
                        parse_day(request.args.get("to"), "to"), request.args.get("by", "day"))


@api.get("/reports")
@allow(MANAGER)
def report():
    return jsonify(report_from_query())


@api.get("/reports/export.<fmt>")
@allow(MANAGER)
def report_export(fmt: str):
    if fmt not in EXPORTS:
        raise ApiError("report_bad_format", 404)
    figures = report_from_query()
    mimetype, write = EXPORTS[fmt]
    return Response(write(figures), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{export.filename(figures, fmt)}"'})
