"""The manager's pages' blueprint, and who may see them (a signed-in manager of the centre asked
about, or a province admin)."""
from __future__ import annotations

from flask import Blueprint, g, render_template, request, session

from hangdoi.engine import scope, state
from hangdoi.engine.errors import DomainError
from hangdoi.messages import text
from hangdoi.models import PROVINCE
from hangdoi.services import auth
from hangdoi.web.context import hangdoi

bp = Blueprint("admin", __name__, template_folder="templates", static_folder="static",
               static_url_path="/admin/static")


def manager_or_sign_in(next_path: str):
    """(officer, centre id, None) for a signed-in manager or admin of the centre the page concerns,
    or a province admin; otherwise (None, None, the response to send)."""
    officer = auth.session_officer(hangdoi().db, session)
    if officer is None:
        return None, None, render_template("counter/sign_in.html", t=text, title="admin_title", next=next_path,
                                           error=None)
    try:
        centre_id = scope.officer_centre(hangdoi().db, officer, request.args.get("centre"))
    except DomainError as exc:
        missing = exc.kind == "not_found"
        return None, None, (render_template("counter/sign_in.html", t=text, title="admin_title", next=next_path,
                                            error="centre_not_found" if missing else "forbidden"),
                            404 if missing else 403)
    if not scope.supervises(officer, centre_id):
        return None, None, (render_template("counter/sign_in.html", t=text, title="admin_title", next=next_path,
                                            error="admin_not_manager"), 403)
    # A province admin's pages name their centre in every link and API call; nobody else's need to.
    g.admin_centre = str(centre_id) if officer["role"] == PROVINCE else ""
    g.admin_centre_name = state.centre_name(hangdoi().db, centre_id)
    return officer, centre_id, None


def province_or_sign_in(next_path: str, title: str):
    """(officer, None) for a signed-in province admin; otherwise (None, the response to send)."""
    officer, _centre, refusal = manager_or_sign_in(next_path)
    if refusal is not None:
        return None, refusal
    if officer["role"] != PROVINCE:
        return None, (render_template("counter/sign_in.html", t=text, title=title, next=next_path,
                                      error="forbidden"), 403)
    return officer, None


@bp.app_context_processor
def _centre_links() -> dict:
    """`centre_query`: what links add to stay in the centre a province admin is looking after."""
    centre = g.get("admin_centre", "")
    return {"admin_centre": centre, "admin_centre_name": g.get("admin_centre_name", ""),
            # A centre linked to a province gets the province's catalogue: its admin page is offered.
            "province_linked": bool(hangdoi().settings.province_url),
            "centre_query": f"?centre={centre}" if centre else "", "centre_and": f"&centre={centre}" if centre else ""}
