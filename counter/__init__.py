"""The officer's counter terminal, and the citizen's rating tablet at the counter.

    /counter                 sign in, then choose a counter (or go straight back to yours)
    /counter/<id>            the terminal of a counter you are signed in at
    /rate/<key>              the tablet facing the citizen: rate the ticket just finished (the key,
                             made with the counter and shown to the admin, says which counter)

The pages act through the REST API with the session cookie and follow the realtime hub, so a
button here runs exactly what a keypad or any API client runs.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from hangdoi import engine
from hangdoi.engine import ratings, state
from hangdoi.engine.errors import DomainError
from hangdoi.messages import text, texts
from hangdoi.models import PROVINCE
from hangdoi.services import auth
from hangdoi.web.api.core import sign_in
from hangdoi.web.api.errors import ApiError
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import ANYONE, OFFICER, TABLET, allow

bp = Blueprint("counter", __name__, template_folder="templates", static_folder="static",
               static_url_path="/counter/static")


def _officer() -> dict | None:
    return auth.session_officer(hangdoi().db, session)


def _labels(prefix: str) -> dict:
    return {lang: texts(prefix, lang) for lang in ("vi", "en")}


@bp.get("/counter")
@allow(ANYONE)
def home():
    officer = _officer()
    if officer is None:
        # A form posted without its token (hangdoi/web/security.py) comes back here to say so.
        expired = "form_expired" if request.args.get("error") == "form_expired" else None
        return render_template("counter/sign_in.html", t=text, error=expired)
    if officer["role"] == PROVINCE:          # looks after centres, works at none of their counters
        return redirect(url_for("admin.centres_page"))
    counters = state.display_state(hangdoi().db, officer["centre_id"])["counters"]
    mine = next((c for c in counters if c["officer"] and c["officer"]["id"] == officer["id"]), None)
    if mine is not None:
        return redirect(url_for("counter.terminal", counter_id=mine["id"]))
    return render_template("counter/choose.html", t=text, officer=officer, counters=counters,
                           error=request.args.get("error"))


@bp.post("/counter/login")
@allow(ANYONE)
def login():
    username = (request.form.get("username") or "").strip()[:64]
    password = (request.form.get("password") or "")[:200]
    try:
        officer = sign_in(username, password)
    except ApiError as exc:
        return render_template("counter/sign_in.html", t=text, error=exc.code, username=username,
                               next=_next(), error_params=exc.params), exc.status
    session.clear()
    session["officer_id"] = officer["id"]
    # Signing out moves the officer's version on: this cookie, and every copy of it, then ends.
    session["session_version"] = officer["session_version"]
    session.permanent = True                 # expires after the token lifetime (hangdoi/app.py)
    return redirect(_next() or url_for("counter.home"))


def _next() -> str | None:
    """Where to go after signing in: only a path on this server (never //elsewhere)."""
    target = request.form.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") and len(target) < 200 else None


@bp.post("/counter/choose")
@allow(OFFICER)
def choose():
    officer = _officer()
    if officer is None:
        return redirect(url_for("counter.home"))
    counter_id = request.form.get("counter", "")
    if not (counter_id.isascii() and counter_id.isdigit()) or not 0 < int(counter_id) < 2**31:
        return redirect(url_for("counter.home", error="counter_not_found"))
    try:
        engine.sign_in(hangdoi().db, int(counter_id), officer["id"])
    except DomainError as exc:
        return redirect(url_for("counter.home", error=exc.code))
    return redirect(url_for("counter.terminal", counter_id=int(counter_id)))


@bp.post("/counter/logout")
@allow(OFFICER)
def logout():
    officer = _officer()
    if officer is not None:
        counters = state.display_state(hangdoi().db, officer["centre_id"])["counters"]
        for c in counters:
            if c["officer"] and c["officer"]["id"] == officer["id"]:
                try:
                    engine.sign_out(hangdoi().db, c["id"], officer["id"])
                except DomainError as exc:     # still holding a citizen: finish first
                    return redirect(url_for("counter.terminal", counter_id=c["id"], error=exc.code))
        auth.sign_out(hangdoi().db, officer["id"])
        hangdoi().hub.signed_out(officer["id"])
    session.clear()
    return redirect(url_for("counter.home"))


@bp.get("/counter/<int:counter_id>")
@allow(OFFICER)
def terminal(counter_id: int):
    officer = _officer()
    if officer is None:
        return redirect(url_for("counter.home"))
    try:
        state.counter_watch(hangdoi().db, counter_id, officer)
        snapshot = state.counter_state(hangdoi().db, counter_id)
    except DomainError:
        return redirect(url_for("counter.home", error="not_signed_in_here"))
    if snapshot["counter"]["officer"] is None or snapshot["counter"]["officer"]["id"] != officer["id"]:
        return redirect(url_for("counter.home", error="not_signed_in_here"))
    return render_template("counter/terminal.html", t=text, officer=officer, snapshot=snapshot,
                           labels=_labels("terminal_"), error=request.args.get("error"))


@bp.get("/rate/<key>")
@allow(TABLET)
def rating_tablet(key: str):
    found = state.counter_by_rating_key(hangdoi().db, key) if len(key) <= 64 else None
    if found is None:
        return render_template("counter/rate.html", t=text, counter=None, labels=_labels("rate_"),
                               reasons=ratings.REASONS, levels=[]), 404
    counter = state.counter_card(hangdoi().db, found["id"])
    return render_template("counter/rate.html", t=text, counter=counter, labels=_labels("rate_"),
                           reasons=ratings.REASONS, levels=FACES[ratings.scale_at(hangdoi().db, found["centre_id"])])


# The faces a tablet shows, on each scale: its level, its words, its mouth and colour.
FACES = {
    3: [{"level": 1, "label": "rate_1", "tone": "unhappy", "mouth": "M20 46 Q32 36 44 46", "colour": "#f4b6b6"},
        {"level": 2, "label": "rate_2", "tone": "happy", "mouth": "M20 40 Q32 48 44 40", "colour": "#bfe3c9"},
        {"level": 3, "label": "rate_3", "tone": "very", "mouth": "M18 38 Q32 56 46 38", "colour": "#7fcf98"}],
    5: [{"level": 1, "label": "rate5_1", "tone": "unhappy", "mouth": "M18 49 Q32 33 46 49", "colour": "#f09a9a"},
        {"level": 2, "label": "rate5_2", "tone": "unhappy", "mouth": "M20 46 Q32 38 44 46", "colour": "#f4b6b6"},
        {"level": 3, "label": "rate5_3", "tone": "neutral", "mouth": "M20 43 L44 43", "colour": "#f3e2a9"},
        {"level": 4, "label": "rate5_4", "tone": "happy", "mouth": "M20 40 Q32 48 44 40", "colour": "#bfe3c9"},
        {"level": 5, "label": "rate5_5", "tone": "very", "mouth": "M18 38 Q32 56 46 38", "colour": "#7fcf98"}],
}
