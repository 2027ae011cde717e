"""The citizen's phone before the visit: take a number or book a slot, and the booking's own page.

    /book                   choose a procedure, then a number for today or a slot on a day
    /b/<public_id>          a booking's page: its code and QR code (scanned at the kiosk), cancel
    /b/<public_id>/qr.svg   that QR code: the address of the page itself

The pages only read; what they change goes through the public API (hangdoi/web/api/bookings.py),
with its limits.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import render_template, request

from hangdoi.engine import bookings, state
from hangdoi.engine.errors import NotFound
from hangdoi.messages import text
from hangdoi.web.api.blueprint import centre_id
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import ANYONE, allow
from kiosk import PUBLIC_ID, bp, labels, qr_svg

BOOKING_CODES = ("booking_", "remote_off", "service_", "centre_closed", "daily_cap_reached", "series_exhausted",
                 "rate_limited", "invalid_field", "missing_field")


@bp.get("/book")
@allow(ANYONE)
def book_page():
    ctx = hangdoi()
    centre = centre_id()
    offered = bookings.offer(ctx.db, centre)
    services = state.services(ctx.db, centre)
    estimates = ctx.estimates.services_view(centre)
    return render_template("kiosk/book.html", t=text, offer=offered, services=services, estimates=estimates,
                           labels=labels(("book_", "wait_"), _codes()), travel_choices=bookings.TRAVEL_CHOICES)


def _codes() -> tuple[str, ...]:
    from hangdoi.messages import MESSAGES
    return tuple(code for code in MESSAGES if code.startswith(BOOKING_CODES))


@bp.get("/b/<public_id>")
@allow(ANYONE)
def booking_page(public_id: str):
    found = None
    if PUBLIC_ID.match(public_id):
        try:
            found = bookings.status(hangdoi().db, public_id)
        except NotFound:
            found = None
    page_labels = labels(("bk_",), _codes())
    if found is None:
        return render_template("kiosk/booking.html", t=text, booking=None, labels=page_labels), 404
    offered = bookings.offer(hangdoi().db, found["centre_id"])
    return render_template("kiosk/booking.html", t=text, booking=found, labels=page_labels,
                           centre=offered["centre"]["name"], window=_window(found, offered),
                           page_url=f"{_base()}/b/{public_id}")


def _window(found: dict, offered: dict) -> dict | None:
    """When the booking may check in as an appointment, as the page says it."""
    if found["start"] is None:
        return None
    start = datetime.strptime(found["start"], "%H:%M")
    return {"from": (start - timedelta(minutes=offered["early_minutes"])).strftime("%H:%M"),
            "to": (start + timedelta(minutes=offered["late_minutes"])).strftime("%H:%M"),
            "start": found["start"]}


def _base() -> str:
    return (hangdoi().settings.public_url or request.host_url).rstrip("/")


@bp.get("/b/<public_id>/qr.svg")
@allow(ANYONE)
def booking_qr(public_id: str):
    return qr_svg(public_id, "b")
