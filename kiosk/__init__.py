"""The citizen kiosk and the citizen's phone.

    /kiosk/<key>            the touchscreen of one registered kiosk (its key is its address)
    /kiosk/qr/<public_id>   the QR code of a ticket, as SVG, for the kiosk's screen
    /t/<public_id>          a ticket's live status page, where the printed QR code leads
    /book, /b/<public_id>   taking a number or booking a slot from a phone (kiosk/booking.py)
    /province/book          booking a slot at any of a province's centres (kiosk/province_booking.py)
"""
from __future__ import annotations

import re
from io import BytesIO

import qrcode
import qrcode.image.svg
from flask import Blueprint, Response, abort, render_template, request

from hangdoi.engine import bookings, state
from hangdoi.engine.errors import NotFound
from hangdoi.messages import MESSAGES, text, texts
from hangdoi.models import Kiosk
from hangdoi.web.context import hangdoi
from hangdoi.web.devices import registered
from hangdoi.web.permissions import ANYONE, KIOSK, allow

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static",
               static_url_path="/kiosk/static")

PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
IDLE_SECONDS, TICKET_SECONDS = 30, 20
# Errors an issue can end in, in the citizen's words on the kiosk.
ISSUE_ERRORS = ("service_not_found", "service_inactive", "service_closed_today", "centre_closed",
                "daily_cap_reached", "series_exhausted", "rate_limited", "priority_not_found",
                "kiosk_not_found", "print_paper_out", "print_failed")


def labels(prefixes: tuple[str, ...], codes: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """What a page's script says, in both languages: {"vi": {...}, "en": {...}}."""
    out = {}
    for lang in ("vi", "en"):
        found = {}
        for prefix in prefixes:
            found.update(texts(prefix, lang))
        found.update({code: MESSAGES[code][0 if lang == "vi" else 1] for code in codes})
        out[lang] = found
    return out


@bp.get("/kiosk")
@bp.get("/kiosk/<key>")
@allow(KIOSK)
def kiosk_page(key: str = ""):
    kiosk = registered(Kiosk, key)
    if kiosk is None:
        return render_template("kiosk/forbidden.html", t=text), 403
    snapshot = state.kiosk_state(hangdoi().db, kiosk.centre_id)
    options = kiosk.options or {}
    return render_template("kiosk/kiosk.html", t=text, kiosk=kiosk, snapshot=snapshot,
                           labels=labels(("kiosk_", "wait_", "booking_"), ISSUE_ERRORS),
                           idle_seconds=int(options.get("idle_seconds", IDLE_SECONDS)),
                           ticket_seconds=int(options.get("ticket_seconds", TICKET_SECONDS)))


@bp.get("/kiosk/qr/<public_id>.svg")
@allow(ANYONE)
def ticket_qr(public_id: str):
    return qr_svg(public_id, "t")


def qr_svg(public_id: str, page: str) -> Response:
    """The QR code of a ticket's (/t/) or booking's (/b/) page; the kiosk's scanner reads it too."""
    if not PUBLIC_ID.match(public_id):
        abort(404)
    base = hangdoi().settings.public_url or request.host_url
    image = qrcode.make(f"{base.rstrip('/')}/{page}/{public_id}", image_factory=qrcode.image.svg.SvgPathImage,
                        border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    out = BytesIO()
    image.save(out)
    return Response(out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@bp.get("/t/<public_id>")
@allow(ANYONE)
def ticket_status_page(public_id: str):
    ticket = None
    if PUBLIC_ID.match(public_id):
        try:
            ticket = state.ticket_status(hangdoi().db, public_id)
            ticket = hangdoi().estimates.with_estimate(ticket, ticket["centre_id"])
        except NotFound:
            ticket = None
    if ticket is None:
        return render_template("kiosk/status.html", t=text, ticket=None, labels=labels(("status_", "wait_"))), 404
    remote = None
    if ticket["status"] == "remote":      # a number taken from a phone: its code, to check in with
        held = bookings.status(hangdoi().db, public_id)
        remote = {"code": held["code"]}
    return render_template("kiosk/status.html", t=text, ticket=ticket, remote=remote,
                           labels=labels(("status_", "wait_", "bk_cancel"), ("booking_not_open",)),
                           centre=state.ticket_card(hangdoi().db, ticket["id"])["centre"])


from kiosk import booking, province_booking  # noqa: E402,F401 — their routes join this blueprint
