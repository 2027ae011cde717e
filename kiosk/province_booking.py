"""The province's booking page on a citizen's phone: a slot at any of the province's linked centres.

    /province/book                  choose a centre, a procedure, a day and a time; name and phone
    /province/b/<public_id>         the booking's page: its QR code (the booking signed by the
                                    province, which a centre's kiosk takes even with its link down)
    /province/b/<public_id>/qr.svg  that QR code

The pages only read; booking and cancelling go through the public API
(hangdoi/web/api/province_bookings.py), with its limits.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO

import qrcode
import qrcode.image.svg
from flask import Response, abort, render_template

from hangdoi.engine.errors import NotFound
from hangdoi.messages import text
from hangdoi.services.replication import bookings_at_province as desk
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import ANYONE, allow
from kiosk import PUBLIC_ID, bp, labels
from kiosk.booking import _codes


@bp.get("/province/book")
@allow(ANYONE)
def province_book_page():
    return render_template("kiosk/province_book.html", t=text, centres=desk.centres(hangdoi().db),
                           labels=labels(("book_", "pb_"), _codes()))


def _booking(public_id: str) -> dict | None:
    if not PUBLIC_ID.match(public_id):
        return None
    ctx = hangdoi()
    try:
        return desk.status(ctx.db, ctx.settings.data_dir, public_id)
    except NotFound:
        return None


@bp.get("/province/b/<public_id>")
@allow(ANYONE)
def province_booking_page(public_id: str):
    found = _booking(public_id)
    page_labels = labels(("bk_",), _codes())
    if found is None:
        return render_template("kiosk/booking.html", t=text, booking=None, labels=page_labels), 404
    window = {}
    if found["kind"] == "slot":
        start = datetime.strptime(found["start"], "%H:%M")
        window = {"from": (start - timedelta(minutes=found["early_minutes"] or 0)).strftime("%H:%M"),
                  "to": (start + timedelta(minutes=found["late_minutes"] or 0)).strftime("%H:%M"),
                  "start": found["start"]}
    if found["refusal"]:
        found["refusal_text"] = {lang: _reason(found["refusal"], lang) for lang in ("vi", "en")}
    return render_template("kiosk/booking.html", t=text, booking=found, labels=page_labels,
                           centre=found["centre"]["name"], window=window, signed=True,
                           qr_src=f"/province/b/{public_id}/qr.svg",
                           cancel_url=f"/api/v1/province/booking/bookings/{public_id}/cancel")


def _reason(code: str, lang: str) -> str:
    """Why a centre refused a number, in words (its own error message, without its particulars)."""
    try:
        return text(code, lang)
    except (KeyError, IndexError, ValueError):
        return text("province_remote_none", lang, service="").replace("  ", " ")


@bp.get("/province/b/<public_id>/qr.svg")
@allow(ANYONE)
def province_booking_qr(public_id: str):
    found = _booking(public_id)
    if found is None or found["qr"] is None:
        abort(404)
    # Shown on a screen, never printed and scuffed: the lowest correction keeps the modules large.
    image = qrcode.make(found["qr"], image_factory=qrcode.image.svg.SvgPathImage, border=2,
                        error_correction=qrcode.constants.ERROR_CORRECT_L)
    out = BytesIO()
    image.save(out)
    return Response(out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
