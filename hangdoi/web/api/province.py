"""At a province server: where linked centres push their timeline and names (hangdoi/services/replication),
and the province admins' overview of them and reports across them (hangdoi/services/reports/province.py),
with their CSV/XLSX exports and the Decision 766 table. A centre proves itself with its link key in
X-Hangdoi-Centre-Key."""
from __future__ import annotations

from datetime import date

from flask import Response, jsonify, request

from hangdoi.clock import local_day
from hangdoi.services.replication import booking_days, ingest, overview, reference
from hangdoi.services.reports import export, parse_day
from hangdoi.services.reports.province import index_766_table, province_report
from hangdoi.web.api.blueprint import api, centre_limit_key, centre_link, json_payload
from hangdoi.web.api.errors import ApiError, error_body
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import CENTRE, PROVINCE, allow
from hangdoi.web.throttle import rate_limit

# A push of about 2,000 rows is some 700 KB; the rest of the API keeps its small limit.
PUSH_MAX_BYTES = 4 * 1024 * 1024


@api.get("/province/link")
@allow(CENTRE)
@rate_limit("province_rate_limit", key=centre_limit_key)
def province_link():
    """Where the centre's next push starts: after the last change stored here."""
    link = centre_link()
    return jsonify({"link": link.id, "name": link.name, "acknowledged": link.acknowledged})


@api.post("/province/push")
@allow(CENTRE)
@rate_limit("province_rate_limit", key=centre_limit_key)
def province_push():
    link = centre_link()
    request.max_content_length = PUSH_MAX_BYTES
    batch = ingest.check_batch(json_payload())
    try:
        return jsonify(ingest.store(hangdoi().db, link.id, batch))
    except ingest.PushGap as gap:
        # The centre reads `acknowledged` and sends again from there.
        return jsonify({**error_body(gap.code, **gap.params), "acknowledged": gap.acknowledged}), 409


@api.get("/province/reference")
@allow(CENTRE)
@rate_limit("province_rate_limit", key=centre_limit_key)
def province_reference_fingerprint():
    """The SHA-256 of the names the centre last sent (null: none): it sends them again when its own differ."""
    return jsonify({"fingerprint": ingest.reference_fingerprint(hangdoi().db, centre_link().id)})


@api.put("/province/reference")
@allow(CENTRE)
@rate_limit("province_rate_limit", key=centre_limit_key)
def province_reference():
    """What the centre's figures are named by: its fields, procedures, counters, officers, wait target."""
    link = centre_link()
    request.max_content_length = PUSH_MAX_BYTES
    return jsonify(ingest.store_reference(hangdoi().db, link.id, reference.check(json_payload())))


@api.put("/province/booking-days")
@allow(CENTRE)
@rate_limit("province_rate_limit", key=centre_limit_key)
def province_booking_days():
    """The centre's bookings per local day around today, counted by kind, state and lateness; each
    day replaces what the province held for it."""
    link = centre_link()
    return jsonify(ingest.store_booking_days(hangdoi().db, link.id, booking_days.check(json_payload())))


@api.get("/province/digest")
@allow(CENTRE)
@rate_limit("province_rate_limit", key=centre_limit_key)
def province_digest():
    """A day of this centre's rows as stored here: how many, and their digest."""
    link = centre_link()
    return jsonify(ingest.stored_digest(hangdoi().db, link.id, _day()))


@api.get("/province/day-index")
@allow(CENTRE)
@rate_limit("province_rate_limit", key=centre_limit_key)
def province_day_index():
    """A day of this centre's rows as stored here, one [stream, id, body SHA-256] each: what the
    centre compares with its own to repair a day whose digests differ."""
    link = centre_link()
    return jsonify({"day": _day().isoformat(), "rows": ingest.day_index(hangdoi().db, link.id, _day())})


@api.post("/province/repair")
@allow(CENTRE)
@rate_limit("province_rate_limit", key=centre_limit_key)
def province_repair():
    """Put the rows of one day that are missing or differ, drop those the centre does not have."""
    link = centre_link()
    request.max_content_length = PUSH_MAX_BYTES
    return jsonify(ingest.repair(hangdoi().db, link.id, ingest.check_repair(json_payload())))


def _day() -> date:
    try:
        return date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        raise ApiError("invalid_field", 422, field="day", reason="YYYY-MM-DD") from None


@api.get("/province/centres")
@allow(PROVINCE)
def province_centres():
    """Every linked centre: its link's state, how fresh its figures are, and today's figures;
    `?area=` and `?state=` (up, down, waiting, revoked) narrow the list."""
    state = request.args.get("state")
    if state is not None and state not in overview.STATES:
        raise ApiError("invalid_field", 422, field="state", reason=" / ".join(overview.STATES))
    area = request.args.get("area")
    ctx = hangdoi()
    return jsonify({"centres": overview.overview(ctx.db, ctx.db.clock.now(), area=area, state=state),
                    "link_down_minutes": overview.LINK_DOWN_MINUTES,
                    "wait_target_minutes": overview.WAIT_TARGET_MINUTES})


REPORT_QUERY = ("from", "to", "by", "area")
MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def report_from_query(default_by: str = "centre") -> dict:
    """The province report the query asks for: from..to (today without them), by, one area or all."""
    for key in request.args:
        if key not in REPORT_QUERY:
            raise ApiError("unknown_field", 422, field=key[:40])
    db = hangdoi().db
    today = local_day(db.clock.now(), overview.PROVINCE_TIMEZONE)
    first = parse_day(request.args.get("from"), "from") or today
    last = parse_day(request.args.get("to"), "to") or first
    return province_report(db, first, last, request.args.get("by", default_by), request.args.get("area") or None)


@api.get("/province/reports")
@allow(PROVINCE)
def province_reports():
    """Figures across the linked centres, by centre, area, field, procedure, day, week or month."""
    return jsonify(report_from_query())


@api.get("/province/reports/export.<fmt>")
@allow(PROVINCE)
def province_report_export(fmt: str):
    if fmt not in MIMETYPES:
        raise ApiError("report_bad_format", 404)
    figures = report_from_query()
    body = export.to_csv(figures) if fmt == "csv" else export.to_xlsx(figures)
    return _attachment(body, MIMETYPES[fmt], export.filename(figures, fmt))


@api.get("/province/reports/index-766.<fmt>")
@allow(PROVINCE)
def province_index_766(fmt: str):
    """The by-centre figures the Decision 766 index's satisfaction and timeliness forms ask for."""
    if fmt not in MIMETYPES:
        raise ApiError("report_bad_format", 404)
    if request.args.get("by", "centre") != "centre":
        raise ApiError("invalid_field", 422, field="by", reason="centre")
    figures = report_from_query()
    rows = index_766_table(figures)
    body = export.rows_to_csv(rows) if fmt == "csv" else export.rows_to_xlsx(rows, "Bộ chỉ số 766")
    return _attachment(body, MIMETYPES[fmt], export.filename(figures, fmt, "chi-so-766"))


def _attachment(body: bytes, mimetype: str, name: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
