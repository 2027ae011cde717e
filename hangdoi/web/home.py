"""The address staff type first (http://<server>:5000/): where each kind of user goes from there.

Kiosks and lobby screens are not listed: their addresses carry their own keys, which only admins
see (Cấu hình → Máy lấy số, Màn hình).
"""
from __future__ import annotations

from flask import Blueprint, render_template

from hangdoi.messages import text
from hangdoi.web.permissions import ANYONE, allow

bp = Blueprint("home", __name__)


@bp.get("/")
@allow(ANYONE)
def home():
    return render_template("home.html", t=text)
