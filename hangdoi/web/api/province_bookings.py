"""At a province server: booking a slot, or asking for a number for today, at any linked centre (the
province's booking page, and VNeID, iHanoi … through the same routes), and what the centres' pushers exchange for it: each centre's
offer of free slots up, the bookings made here down (hangdoi/services/replication/bookings_at_province.py).

The public routes are bounded per address like the centres' own booking routes; the centre routes
take the centre's link key and its limits (hangdoi/web/api/province.py).
"""
from __future__ import annotations

from flask import jsonify, request

from hangdoi.services.replication import bookings_at_province as desk
from hangdoi.services.replication import catalogue_at_province, settings_at_province
from hangdoi.web.api.blueprint import api, centre_limit_key, centre_link, json_body, json_payload
from hangdoi.web.api.bookings import BOOKING_FIELDS, CONTACT_FIELDS, PUBLIC_ID_LENGTH, _day
from hangdoi.web.api.errors import ApiError
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import ANYONE, CENTRE, allow
from hangdoi.validation import STR
from hangdoi.web.throttle import network_key, rate_limit

PROVINCE_BOOKING_FIELDS = {**BOOKING_FIELDS,
                           "service": STR(required=True, max_length=32, description="The procedure's code")}
PROVINCE_NUMBER_FIELDS = {"service": PROVINCE_BOOKING_FIELDS["service"], **CONTACT_FIELDS}


@api.get("/province/booking/centres")
@allow(ANYONE)
@rate_limit("public_read_rate_limit", key=network_key)
def province_booking_centres():
    """The province's centres, and whether each has slots to book now."""
    return jsonify(desk.centres(hangdoi().db))


@api.get("/province/booking/centres/<int:link_id>")
@allow(ANYONE)
@rate_limit("public_read_rate_limit", key=network_key)
def province_booking_offer(link_id: int):
    """A centre's procedures, days and slots with the places left to book."""
    return jsonify(desk.offer(hangdoi().db, _link_id(link_id)))


@api.post("/province/booking/centres/<int:link_id>/bookings")
@allow(ANYONE)
@rate_limit("booking_rate_limit", key=network_key)
def province_book(link_id: int):
    """Book a slot; the answer's `qr` is the signed text to show as the booking's QR code."""
    ctx = hangdoi()
    body = json_body(PROVINCE_BOOKING_FIELDS)
    made = desk.book(ctx.db, ctx.settings.data_dir, _link_id(link_id), body["service"], _day(body["date"]),
                     body["start"], body["phone"], body["full_name"], body["id_number"])
    return jsonify(made), 201


@api.post("/province/booking/centres/<int:link_id>/numbers")
@allow(ANYONE)
@rate_limit("booking_rate_limit", key=network_key)
def province_take_number(link_id: int):
    """Ask for a number for today, while the centre's link is up; the centre issues it at its next
    pull (about 10 seconds): the answer's status is "asked", then the booking's page says "issued"
    with the number, or "refused" with why."""
    ctx = hangdoi()
    body = json_body(PROVINCE_NUMBER_FIELDS)
    made = desk.take_remote(ctx.db, ctx.settings.data_dir, _link_id(link_id), body["service"], body["phone"],
                            body["full_name"], body["id_number"])
    return jsonify(made), 201


@api.get("/province/booking/bookings/<public_id>")
@allow(ANYONE)
@rate_limit("public_read_rate_limit", key=network_key)
def province_booking_status(public_id: str):
    ctx = hangdoi()
    return jsonify(desk.status(ctx.db, ctx.settings.data_dir, _public_id(public_id)))


@api.post("/province/booking/bookings/<public_id>/cancel")
@allow(ANYONE)
@rate_limit("booking_cancel_rate_limit", key=network_key)
def province_booking_cancel(public_id: str):
    ctx = hangdoi()
    return jsonify(desk.cancel(ctx.db, ctx.settings.data_dir, _public_id(public_id)))


# -- the centres' side ----------------------------------------------------------------------------
@api.put("/province/offer")
@allow(CENTRE)
@rate_limit("province_rate_limit", key=centre_limit_key)
def province_offer():
    """The slots the centre has free for booking, and the last province booking they count."""
    request.max_content_length = 2 * 1024 * 1024
    return jsonify(desk.store_offer(hangdoi().db, centre_link().id, desk.check_offer(json_payload())))


@api.get("/province/bookings")
@allow(CENTRE)
@rate_limit("province_rate_limit", key=centre_limit_key)
def province_bookings_for_centre():
    """Bookings made here for the centre after `?after=` (its mark), with the province's public key
    that signs their QR codes, the centre's link id they name, the satisfaction scale the province
    chose for its centres, and the fingerprints of its catalogue and its settings template."""
    ctx = hangdoi()
    raw = request.args.get("after", "0")
    if not raw.isdigit() or len(raw) > 9:
        raise ApiError("invalid_field", 422, field="after", reason="0 … 999999999")
    link = centre_link()
    return jsonify({"link": link.id, "signing_key": desk.public_key(ctx.settings.data_dir),
                    "rating_scale": ctx.settings.province_rating_scale,
                    "catalogue_fingerprint": catalogue_at_province.fingerprint(ctx.db),
                    "settings_fingerprint": settings_at_province.fingerprint(ctx.db),
                    **desk.changes_after(ctx.db, link.id, int(raw))})


@api.get("/province/catalogue")
@allow(CENTRE)
@rate_limit("province_rate_limit", key=centre_limit_key)
def province_catalogue():
    """The province's procedure catalogue, from which each centre chooses what it serves."""
    centre_link()
    found = catalogue_at_province.current(hangdoi().db)
    if found is None:
        raise ApiError("province_catalogue_none", 404)
    return jsonify(found)


@api.get("/province/settings-template")
@allow(CENTRE)
@rate_limit("province_rate_limit", key=centre_limit_key)
def province_settings_template():
    """The settings the province suggests to its centres; each centre's admin takes what they choose."""
    centre_link()
    found = settings_at_province.current(hangdoi().db)
    if found is None:
        raise ApiError("province_settings_none", 404)
    return jsonify(found)


def _link_id(link_id: int) -> int:
    if link_id > 2**31 - 1:
        raise ApiError("centre_not_found", 404)
    return link_id


def _public_id(public_id: str) -> str:
    if len(public_id) > PUBLIC_ID_LENGTH:
        raise ApiError("booking_not_found", 404)
    return public_id
