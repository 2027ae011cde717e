"""At a province server: where linked centres push their timeline (hangdoi/services/replication),
and the province admins' overview of them. A centre proves itself with its link key in
X-Hangdoi-Centre-Key."""
from __future__ import annotations

from datetime import date

from flask import jsonify, request

from hangdoi.services.replication import ingest, overview, reference
from hangdoi.web.api.blueprint import api, centre_link, json_payload
from hangdoi.web.api.errors import ApiError, error_body
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import CENTRE, PROVINCE, allow

# A push of about 2,000 rows is some 700 KB; the rest of the API keeps its small limit.
PUSH_MAX_BYTES = 4 * 1024 * 1024


@api.get("/province/link")
@allow(CENTRE)
def province_link():
    """Where the centre's next push starts: after the last change stored here."""
    link = centre_link()
    return jsonify({"link": link.id, "name": link.name, "acknowledged": link.acknowledged})


@api.post("/province/push")
@allow(CENTRE)
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
def province_reference_fingerprint():
    """The SHA-256 of the names the centre last sent (null: none): it sends them again when its own differ."""
    return jsonify({"fingerprint": ingest.reference_fingerprint(hangdoi().db, centre_link().id)})


@api.put("/province/reference")
@allow(CENTRE)
def province_reference():
    """What the centre's figures are named by: its fields, procedures, counters, officers, wait target."""
    link = centre_link()
    request.max_content_length = PUSH_MAX_BYTES
    return jsonify(ingest.store_reference(hangdoi().db, link.id, reference.check(json_payload())))


@api.get("/province/digest")
@allow(CENTRE)
def province_digest():
    """A day of this centre's rows as stored here: how many, and their digest."""
    link = centre_link()
    return jsonify(ingest.stored_digest(hangdoi().db, link.id, _day()))


@api.get("/province/day-index")
@allow(CENTRE)
def province_day_index():
    """A day of this centre's rows as stored here, one [stream, id, body SHA-256] each: what the
    centre compares with its own to repair a day whose digests differ."""
    link = centre_link()
    return jsonify({"day": _day().isoformat(), "rows": ingest.day_index(hangdoi().db, link.id, _day())})


@api.post("/province/repair")
@allow(CENTRE)
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
