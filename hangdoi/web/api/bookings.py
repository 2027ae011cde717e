"""REST API v1, visits that begin on a phone: slots, bookings, remote numbers, check-in.

The booking routes are open to anyone (the province publishes them on the internet), so each is
bounded twice: per address by the rate limits declared here, and per person and per slot by the
engine's counts (hangdoi/engine/bookings.py). Check-in is for the centre's kiosks and officers.
"""
from __future__ import annotations

from datetime import date

from flask import jsonify, request

from hangdoi.engine import bookings
from hangdoi.engine.errors import Conflict
from hangdoi.validation import INT, STR, Field
from hangdoi.web.api.blueprint import (
    api,
    centre_id,
    current_kiosk,
    current_officer,
    json_body,
    kiosk_limit_key,
    public_url,
    require_id,
    require_manager,
)
from hangdoi.web.api.errors import ApiError, error_body
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import ANYONE, KIOSK, MANAGER, OFFICER, allow
from hangdoi.web.throttle import network_key, rate_limit

SERVICE = Field((int, str), required=True, max_length=32, description="Service id, or its code with ?centre=")
CONTACT_FIELDS = {
    "phone": STR(required=True, max_length=20, description="Vietnamese mobile number, e.g. 0912 345 678"),
    "full_name": STR(required=True, max_length=100),
    "id_number": STR(nullable=True, max_length=20, description="Chip ID card number (12 digits), where the centre asks"),
}
BOOKING_FIELDS = {
    "service": SERVICE,
    "date": STR(required=True, max_length=10, description="YYYY-MM-DD: today or up to the centre's days ahead"),
    "start": STR(required=True, max_length=5, description="A slot's start, HH:MM, from /services/{id}/slots"),
    **CONTACT_FIELDS,
}
REMOTE_FIELDS = {"service": SERVICE, **CONTACT_FIELDS,
                 "travel_minutes": INT(nullable=True, maximum=60,
                                       description="How long it takes the citizen to come: 10, 20, 30, 45 or 60; "
                                                   "they are told that much (and 5 minutes) before the call")}
CHECK_IN_FIELDS = {
    "code": STR(required=True, max_length=1000,
                description="The booking's code as typed, or what its QR code holds: the address of its page, "
                            "or a province booking's signed text (HD1.…)"),
}
PUBLIC_ID_LENGTH = 64


def _day(raw: str | None, field: str = "date") -> date:
    try:
        if raw is None or len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError("invalid_field", 422, field=field, reason="date_format") from None


def _service_and_centre(service) -> tuple[int | str, int]:
    if isinstance(service, int):
        return service, bookings.centre_of_service(hangdoi().db, service)
    return service, centre_id()


@api.get("/services/<int:service_id>/slots")
@allow(ANYONE)
@rate_limit("public_read_rate_limit", key=network_key)
def service_slots(service_id: int):
    require_id(service_id, "service_not_found")
    return jsonify(bookings.slots(hangdoi().db, service_id, _day(request.args.get("date"))))


@api.post("/bookings")
@allow(ANYONE)
@rate_limit("booking_rate_limit", key=network_key)
def book():
    body = json_body(BOOKING_FIELDS)
    service, centre = _service_and_centre(body["service"])
    made = bookings.book(hangdoi().db, centre, service, _day(body["date"]), body["start"], body["phone"],
                         body["full_name"], body["id_number"])
    return jsonify(_public(made)), 201


@api.post("/remote-tickets")
@allow(ANYONE)
@rate_limit("booking_rate_limit", key=network_key)
def take_remote():
    ctx = hangdoi()
    body = json_body(REMOTE_FIELDS)
    service, centre = _service_and_centre(body["service"])
    made = bookings.take_remote(ctx.db, centre, service, body["phone"], body["full_name"], body["id_number"],
                                body["travel_minutes"])
    ticket = ctx.estimates.with_estimate(made["ticket"], made["centre_id"])
    return jsonify({**ticket, "public_id": made["public_id"], "code": made["code"], "checked_in": False}), 201


@api.get("/bookings/<public_id>")
@allow(ANYONE)
@rate_limit("public_read_rate_limit", key=network_key)
def booking_status(public_id: str):
    if len(public_id) > PUBLIC_ID_LENGTH:
        raise ApiError("booking_not_found", 404)
    return jsonify(_public(bookings.status(hangdoi().db, public_id)))


@api.post("/bookings/<public_id>/cancel")
@allow(ANYONE)
@rate_limit("booking_cancel_rate_limit", key=network_key)
def cancel_booking(public_id: str):
    if len(public_id) > PUBLIC_ID_LENGTH:
        raise ApiError("booking_not_found", 404)
    return jsonify(_public(bookings.cancel(hangdoi().db, public_id)))


@api.post("/check-in")
@allow(KIOSK, OFFICER)
@rate_limit("kiosk_rate_limit_per_minute", key=kiosk_limit_key)
def check_in():
    """The citizen has arrived: a kiosk (its key) or an officer checks the booking in; a kiosk
    prints the ticket, as for a walk-in."""
    ctx = hangdoi()
    body = json_body(CHECK_IN_FIELDS)
    kiosk = current_kiosk()
    if kiosk is not None:
        centre, name, officer_id = kiosk["centre_id"], kiosk["name"], None
    else:
        officer = current_officer()
        if officer is None:
            raise ApiError("auth_required", 401)
        centre, name, officer_id = centre_id(), None, officer["id"]
    try:
        ticket = bookings.check_in(ctx.db, centre, body["code"], kiosk=name, officer_id=officer_id)
    except Conflict as exc:
        if exc.code != "booking_too_early":
            raise
        # Which procedure was booked: the kiosk offers an ordinary number for it at once.
        answer = error_body(exc.code, **exc.params)
        answer["error"]["service"] = exc.params["service"]
        return jsonify(answer), 409
    booking = ticket.pop("booking")
    ticket = ctx.estimates.with_estimate(ticket, centre)
    printed = ctx.printing.print_ticket(centre, ticket, name, public_url, note=_slip_note(booking)) if name else None
    return jsonify({**ticket, "public_id": ticket["public_id"], "booking": _public(booking), "print": printed})


def _slip_note(booking: dict) -> tuple[str, ...]:
    """What the slip says about the appointment, in plain words."""
    if booking["kind"] != "slot":
        return ("Số lấy qua mạng — quý vị đã xác nhận có mặt.",)
    if booking["late"]:
        return (f"Quý vị đến sau giờ hẹn {booking['start']}:", "đây là số thứ tự thường.")
    return (f"Lịch hẹn {booking['start']}: quý vị được gọi", "trước số thường từ giờ hẹn.")


@api.get("/bookings")
@allow(MANAGER)
def day_bookings():
    """A day's bookings and remote numbers, and who has come (managers)."""
    _manager, centre = require_manager()
    day = _day(request.args["date"]) if "date" in request.args else None
    return jsonify(bookings.day_list(hangdoi().db, centre, day))


def _public(booking: dict) -> dict:
    return {k: v for k, v in booking.items() if k != "centre_id"}
