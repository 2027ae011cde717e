"""REST API v1: thin handlers that validate, call the engine, and answer JSON."""
from __future__ import annotations

import json

from flask import Blueprint, jsonify, request, session

from .. import auth, engine, scope
from ..actions import COUNTER_ACTIONS, run_counter_action
from ..app import hangdoi
from ..engine import ratings, services, state
from ..models import PROVINCE
from ..validation import INT, STR, BadInput, Field, check_object
from ..waits import supervision_view
from .errors import ApiError

api = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_ID = 2**31 - 1

LOGIN_FIELDS = {"username": STR(required=True, max_length=64),
                "password": STR(required=True, max_length=200)}
TICKET_FIELDS = {
    "service": Field((int, str), required=True, max_length=32, description="Service id or code"),
    "priority": STR(nullable=True, max_length=32, description="Priority category code, or null"),
    "kiosk": STR(nullable=True, max_length=64, description="Name of the kiosk asking"),
    "centre": INT(nullable=True, description="The kiosk's centre; default: the installation's first"),
}


# -- request helpers ---------------------------------------------------------------------------
def json_payload():
    """The decoded JSON body; an empty body counts as `{}` (actions without fields need none)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if request.mimetype != "application/json":
        raise BadInput("wrong_content_type", 415)
    try:
        return json.loads(raw)
    except ValueError:
        raise BadInput("malformed_json") from None


def json_body(fields: dict[str, Field]) -> dict:
    return check_object(json_payload(), fields)


def current_officer() -> dict | None:
    ctx = hangdoi()
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        officer = None
        if scheme.lower() == "bearer" and 0 < len(token.strip()) <= 200:
            officer = auth.officer_for_token(ctx.db, token.strip())
        if officer is None:
            raise ApiError("invalid_token", 401)
        return officer
    officer_id = session.get("officer_id")
    return auth.officer_by_id(ctx.db, officer_id) if isinstance(officer_id, int) else None


def require_officer() -> dict:
    officer = current_officer()
    if officer is None:
        raise ApiError("auth_required", 401)
    return officer


def require_id(value: int, code: str) -> int:
    if not 0 < value <= MAX_ID:
        raise ApiError(code, 404)
    return value


def require_manager() -> tuple[dict, int]:
    """The signed-in manager, admin or province admin, and the centre the request concerns (theirs,
    or `?centre=` for a province admin); 403 for anyone else."""
    officer = require_officer()
    centre = scope.officer_centre(hangdoi().db, officer, request.args.get("centre"))
    if not scope.supervises(officer, centre):
        raise ApiError("forbidden", 403)
    return officer, centre


def public_url() -> str:
    """Where citizens' phones reach us: configured, else the address this request came to."""
    return hangdoi().settings.public_url or request.host_url


def centre_id(named=None) -> int:
    """The centre a kiosk's, display's or citizen's request concerns: the one it names (the body's
    `centre`, else `?centre=`), else a signed-in officer's own (their terminal lists its services),
    else the installation's first."""
    ctx = hangdoi()
    raw = named if named is not None else request.args.get("centre")
    if raw is None and isinstance(session.get("officer_id"), int):
        officer = auth.officer_by_id(ctx.db, session["officer_id"])
        if officer is not None and officer["role"] != PROVINCE:
            return officer["centre_id"]
    return scope.public_centre(ctx.db, raw, ctx.default_centre_id())


# -- routes ------------------------------------------------------------------------------------
@api.post("/auth/login")
def login():
    ctx = hangdoi()
    body = json_body(LOGIN_FIELDS)
    if not ctx.login_limiter.allow(f"ip:{request.remote_addr}", f"user:{body['username']}"):
        raise ApiError("rate_limited", 429)
    try:
        officer = auth.authenticate(ctx.db, body["username"], body["password"])
    except auth.AccountLocked:
        raise ApiError("account_locked", 429, m=auth.LOCK_MINUTES) from None
    if officer is None:
        raise ApiError("bad_credentials", 401)
    token = auth.issue_token(ctx.db, officer["id"], ctx.settings.token_hours)
    return jsonify({"token": token, "officer": officer})


@api.get("/services")
def list_services():
    return jsonify(state.services(hangdoi().db, centre_id()))


@api.post("/tickets")
def issue_ticket():
    ctx = hangdoi()
    body = json_body(TICKET_FIELDS)
    keys = [f"ip:{request.remote_addr}"] + ([f"kiosk:{body['kiosk']}"] if body["kiosk"] else [])
    if not ctx.kiosk_limiter.allow(*keys):
        raise ApiError("rate_limited", 429)
    centre = centre_id(body["centre"])
    ticket = engine.issue_ticket(ctx.db, centre, body["service"], priority=body["priority"], kiosk=body["kiosk"])
    ticket = ctx.estimates.with_estimate(ticket, centre)
    # The ticket is committed: whatever the printer does now, the citizen has a number.
    printed = ctx.printing.print_ticket(centre, ticket, body["kiosk"], public_url)
    return jsonify({**ticket, "print": printed}), 201


@api.get("/tickets/<public_id>")
def ticket_status(public_id: str):
    if len(public_id) > 64:
        raise ApiError("ticket_not_found", 404)
    ctx = hangdoi()
    ticket = state.ticket_status(ctx.db, public_id)
    return jsonify(ctx.estimates.with_estimate(ticket, ticket["centre_id"]))


@api.get("/counters/<int:counter_id>/state")
def counter_state(counter_id: int):
    officer = require_officer()
    require_id(counter_id, "counter_not_found")
    state.counter_watch(hangdoi().db, counter_id, officer)
    return jsonify(state.counter_state(hangdoi().db, counter_id))


@api.post("/counters/<int:counter_id>/<action>")
def counter_action(counter_id: int, action: str):
    if action not in COUNTER_ACTIONS:
        raise ApiError("not_found", 404)
    officer = require_officer()
    require_id(counter_id, "counter_not_found")
    return jsonify(run_counter_action(hangdoi().db, action, counter_id, officer["id"], json_payload()))


RATING_FIELDS = {
    "counter": INT(required=True, description="Counter id where the ticket was served"),
    "ticket": STR(required=True, max_length=64, description="The ticket's public_id"),
    "level": INT(required=True, maximum=3, description="1 Không hài lòng, 2 Hài lòng, 3 Rất hài lòng"),
    "reasons": Field((list,), nullable=True, max_length=5, description="Reason codes when not satisfied"),
}


@api.post("/ratings")
def rate():
    body = json_body(RATING_FIELDS)
    reasons = body["reasons"] or []
    if any(not isinstance(r, str) or r not in ratings.REASONS for r in reasons) or len(set(reasons)) != len(reasons):
        raise ApiError("invalid_field", 422, field="reasons", reason=", ".join(ratings.REASONS))
    return jsonify(ratings.rate(hangdoi().db, body["counter"], body["ticket"], body["level"], reasons)), 201


@api.get("/officers/me/today")
def my_day():
    return jsonify(state.officer_today(hangdoi().db, require_officer()["id"]))


@api.get("/supervision")
def supervision():
    _manager, centre = require_manager()
    return jsonify(supervision_view(hangdoi(), centre))


@api.post("/services/<int:service_id>/<change>")
def open_or_close_service(service_id: int, change: str):
    if change not in ("close-today", "reopen"):
        raise ApiError("not_found", 404)
    manager, _centre = require_manager()
    require_id(service_id, "service_not_found")
    return jsonify(services.set_open_today(hangdoi().db, service_id, manager["id"], change == "reopen"))


@api.post("/close-day")
def close_day():
    manager, centre = require_manager()
    return jsonify(engine.close_day(hangdoi().db, centre, officer_id=manager["id"]))


@api.get("/kiosks")
def list_kiosks():
    _manager, centre = require_manager()
    return jsonify(hangdoi().printing.devices(centre))


@api.post("/kiosks/<int:kiosk_id>/reprint")
def reprint(kiosk_id: int):
    _manager, centre = require_manager()
    require_id(kiosk_id, "kiosk_not_found")
    return jsonify(hangdoi().printing.reprint_last(centre, kiosk_id, public_url))


@api.get("/centres")
def list_centres():
    """Every centre of the installation with today's figures: a province admin's overview."""
    officer = require_officer()
    if officer["role"] != PROVINCE:
        raise ApiError("forbidden", 403)
    db = hangdoi().db
    return jsonify([state.centre_summary(db, centre) for centre in scope.centre_ids(db)])


@api.get("/display/state")
def display_state():
    return jsonify(state.display_state(hangdoi().db, centre_id()))


@api.get("/openapi.json")
def openapi():
    from .openapi import document
    return jsonify(document())


from . import admin, hardware, reports  # noqa: E402,F401 — their routes join this blueprint
