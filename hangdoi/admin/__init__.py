"""The manager's area:

    /admin                 live supervision (dashboard.py)
    /admin/reports         figures, charts and exports for any range and grouping (reports.py)
    /admin/reports/daily   the printable A4 report of one day (reports.py)
    /admin/settings        the admin's editors; /admin/audit, the audit log (settings.py)

Pages act through the REST API with the session cookie; the dashboard follows the `supervision`
realtime room.
"""
from __future__ import annotations

from flask import Blueprint, render_template, session

from .. import auth
from ..app import hangdoi
from ..messages import text
from ..models import ADMIN, MANAGER

bp = Blueprint("admin", __name__, template_folder="templates", static_folder="static",
               static_url_path="/admin/static")


def manager_or_sign_in(next_path: str):
    """(officer, None) for a signed-in manager or admin; otherwise (None, the response to send)."""
    officer_id = session.get("officer_id")
    officer = auth.officer_by_id(hangdoi().db, officer_id) if isinstance(officer_id, int) else None
    if officer is None:
        return None, render_template("counter/sign_in.html", t=text, title="admin_title", next=next_path,
                                     error=None)
    if officer["role"] not in (MANAGER, ADMIN):
        return None, (render_template("counter/sign_in.html", t=text, title="admin_title", next=next_path,
                                      error="admin_not_manager"), 403)
    return officer, None


from . import dashboard, reports, settings  # noqa: E402,F401 — their routes join this blueprint
