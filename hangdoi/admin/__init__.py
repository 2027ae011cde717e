"""The manager's area. For now the live supervision dashboard:

    /admin        queues and oldest waits per service, every counter, kiosks and printers, alerts;
                  end a counter's session, close a service for the day, reprint, close the day

It acts through the REST API with the session cookie and follows the `supervision` realtime room.
"""
from __future__ import annotations

from flask import Blueprint, render_template, session

from .. import auth
from ..app import hangdoi
from ..messages import text, texts
from ..models import ADMIN, MANAGER

bp = Blueprint("admin", __name__, template_folder="templates", static_folder="static",
               static_url_path="/admin/static")


@bp.get("/admin")
def dashboard():
    officer_id = session.get("officer_id")
    officer = auth.officer_by_id(hangdoi().db, officer_id) if isinstance(officer_id, int) else None
    if officer is None:
        return render_template("counter/sign_in.html", t=text, title="admin_title", next="/admin", error=None)
    if officer["role"] not in (MANAGER, ADMIN):
        return render_template("counter/sign_in.html", t=text, title="admin_title", next="/admin",
                               error="admin_not_manager"), 403
    labels = {**texts("admin_"), **texts("device_state_"), **texts("counter_status_")}
    return render_template("admin/dashboard.html", t=text, officer=officer, labels=labels)
