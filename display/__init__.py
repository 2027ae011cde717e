"""The lobby display: the board of counters, the latest call, recent calls, queues, and the voice.

    /display/<key>                    the board of one registered screen (its key is its address)
    /display/audio/call.wav?n=&c=&k=&d=  the announcement of ticket n at counter c of centre k, for the
                                      display whose key is d, of a call made today (built once, cached)
"""
from __future__ import annotations

import re
import time
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, render_template, request, send_file
from sqlalchemy import select

from hangdoi.engine import state
from hangdoi.messages import text, texts
from hangdoi.models import Centre, Counter, Display
from hangdoi.web.context import hangdoi
from hangdoi.web.devices import registered
from hangdoi.web.permissions import ANYONE, DISPLAY, allow

from .speech import DEFAULT_TEMPLATE, Style, call_sentence
from .voice import VoicePack, build_call_wav, chime_wav

bp = Blueprint("display", __name__, template_folder="templates", static_folder="static",
               static_url_path="/display/static")

VOICE_SECONDS = 10
TICKET_NUMBER = re.compile(r"^[A-ZĐ]{0,3}[0-9]{1,6}$")


@bp.record_once
def _announce_calls(setup) -> None:
    # Every ticket_called carries what to say and where the display fetches it.
    app = setup.app
    app.extensions["hangdoi"].hub.projection.call_extras.append(
        lambda centre_id, call: announcement(app, centre_id, call))


def voice_settings(app, centre_id: int) -> dict:
    """The centre's voice settings, read at most every VOICE_SECONDS: every call announces, and
    the database read would otherwise sit in the writer thread of every call."""
    cache = app.extensions.setdefault("voice_settings", {})
    cached = cache.get(centre_id)
    if cached is None or time.monotonic() - cached[0] > VOICE_SECONDS:
        cached = (time.monotonic(), _read_voice(app.extensions["hangdoi"].db, centre_id))
        cache[centre_id] = cached
    return dict(cached[1])


def _read_voice(db, centre_id: int) -> dict:
    with db.read() as s:
        centre = s.get(Centre, centre_id)
        return dict((centre.settings or {}).get("voice", {})) if centre else {}


def style_of(voice: dict) -> Style:
    return Style(region=voice.get("region", "north"), tu=voice.get("tu", True),
                 padding=voice.get("padding", "spoken"))


def template_of(voice: dict) -> str:
    template = voice.get("template") or DEFAULT_TEMPLATE
    if voice.get("use_counter_name"):
        template = template.replace("quầy số {counter}", "{counter_name}")
    return template


def announcement(app, centre_id: int, call: dict) -> dict:
    voice = voice_settings(app, centre_id)
    number, counter = call["ticket"]["number"], call["counter"]
    query = urlencode({"n": number, "c": counter["number"], "k": centre_id})
    return {"speech": call_sentence(number, counter["number"], counter["name"], template_of(voice),
                                    style_of(voice)),
            "audio": f"/display/audio/call.wav?{query}",
            "repeat": max(1, min(3, int(voice.get("repeat", 1))))}


def _pack() -> VoicePack:
    ctx = current_app.extensions["hangdoi"]
    if "voice_pack" not in current_app.extensions:
        current_app.extensions["voice_pack"] = VoicePack(ctx.settings.data_dir)
    return current_app.extensions["voice_pack"]


@bp.get("/display")
@bp.get("/display/<key>")
@allow(DISPLAY)
def board(key: str | None = None):
    ctx = hangdoi()
    display = registered(Display, key)
    if display is None:
        return render_template("display/forbidden.html", t=text), 403
    snapshot = state.display_state(ctx.db, display.centre_id)
    with ctx.db.read() as s:
        centre = s.get(Centre, display.centre_id)
        settings, timezone = centre.settings or {}, centre.timezone
    ticker = display.options.get("ticker") or settings.get("ticker") or text("display_ticker")
    return render_template("display/board.html", t=text, snapshot=snapshot, display=display, ticker=ticker,
                           queues_by=display.options.get("queues_by", "service"),
                           labels={**texts("display_"), **texts("counter_status_")},
                           timezone=timezone, voice_available=_pack().available)


@bp.get("/display/audio/call.wav")
@allow(DISPLAY)
def call_audio():
    """Only a registered display may ask, and only for a call made today: each new announcement is
    a file built on disk (anyone asking for made-up numbers filled the disk, 376 KB a request)."""
    number, counter, centre = request.args.get("n", ""), request.args.get("c", ""), request.args.get("k", "")
    if not TICKET_NUMBER.match(number) or not _ascii_number(counter, 1000):
        abort(404)
    if centre and not _ascii_number(centre, 2**31):
        abort(404)
    display = registered(Display, request.args.get("d", ""))
    if display is None:
        abort(403)
    centre_id = int(centre) if centre else display.centre_id
    if centre_id != display.centre_id:
        abort(403)
    ctx = hangdoi()
    name = state.called_today(ctx.db, centre_id, number, int(counter))
    if name is None:
        abort(404)
    voice = voice_settings(current_app, centre_id)
    path = build_call_wav(_pack(), number, int(counter), template_of(voice), style_of(voice), name)
    return send_file(path, mimetype="audio/wav", max_age=24 * 3600)


def _ascii_number(text: str, below: int) -> bool:
    return text.isascii() and text.isdigit() and 0 < int(text) < below


@bp.get("/display/audio/chime.wav")
@allow(ANYONE)
def chime_audio():
    return send_file(chime_wav(_pack()), mimetype="audio/wav", max_age=24 * 3600)
