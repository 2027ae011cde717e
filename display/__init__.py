"""The lobby display: a board of counters, the latest call, recent calls and queues, live."""
from __future__ import annotations

from flask import Blueprint, render_template

from hangdoi.app import hangdoi
from hangdoi.engine import state
from hangdoi.messages import text, texts

bp = Blueprint("display", __name__, template_folder="templates", static_folder="static",
               static_url_path="/display/static")


@bp.get("/display")
def board():
    ctx = hangdoi()
    centre_id = ctx.default_centre_id()
    snapshot = state.display_state(ctx.db, centre_id) if centre_id else None
    return render_template("display/board.html", t=text, snapshot=snapshot,
                           labels={**texts("display_"), **texts("counter_status_")},
                           timezone=ctx.centre_timezone())
