"""REST API v1: thin handlers that validate, call the engine, and answer JSON."""
from __future__ import annotations

import json

from flask import Blueprint, g, jsonify, request, session

from .. import auth, engine, scope
from ..actions import COUNTER_ACTIONS, run_counter_action
from ..app import hangdoi
from ..engine import ratings, services, state
from ..models import PROVINCE
from ..throttle import client_address, rate_limit
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
    "kiosk": STR(nullable=True, max_length=64,
                 description="Ignored: a kiosk is the one whose key the X-Hangdoi-Kiosk-Key header proves"),
    "centre": INT(nullable=True, description="The kiosk's centre, if given; it must be the kiosk's own"),
}
KIOSK_KEY_HEADER = "X-Hangdoi-Kiosk-Key"
TABLET_KEY_HEADER = "X-Hangdoi-Tablet-Key"


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


def bearer_token() -> str | None:
    """The bearer token of the Authorization header; 401 for any other kind of header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not 0 < len(token.strip()) <= 200:
        raise ApiError("invalid_token", 401)
    return token.strip()


def current_officer() -> dict | None:
    ctx = hangdoi()
    token = bearer_token()
    if token is not None:
        officer = auth.officer_for_token(ctx.db, token)
        if officer is None:
            raise ApiError("invalid_token", 401)
        return officer
    return auth.session_officer(ctx.db, session)


def current_kiosk() -> dict | None:
    """The registered kiosk whose key the request's X-Hangdoi-Kiosk-Key header carries, or None
    without the header; 401 for a key that is no active kiosk's. A kiosk's name in the body proves
    nothing."""
    kiosk = _kiosk_of_header()
    if kiosk is False:
        raise ApiError("invalid_device_key", 401)
    return kiosk


def _kiosk_of_header():
    """The kiosk, None (no header) or False (a wrong key); looked up once per request."""
    if "kiosk" not in g:
        key = request.headers.get(KIOSK_KEY_HEADER)
        found = state.device_by_key(hangdoi().db, "kiosk", key) if key and len(key) <= 64 else None
        g.kiosk = None if key is None else (found or False)
    return g.kiosk


def kiosk_limit_key() -> str:
    """Whom the ticket limit counts: the kiosk that proved its key, else the address."""
    kiosk = _kiosk_of_header()
    return f"kiosk:{kiosk['id']}" if kiosk else f"address:{client_address()}"


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
    if raw is None and "officer_id" in session:
        officer = auth.session_officer(ctx.db, session)
        if officer is not None and officer["role"] != PROVINCE:
            return officer["centre_id"]
    return scope.public_centre(ctx.db, raw, ctx.default_centre_id())


# -- routes ------------------------------------------------------------------------------------
@api.post("/auth/login")
def login():
    ctx = hangdoi()
    body = json_body(LOGIN_FIELDS)
    officer = sign_in(body["username"], body["password"])
    token = auth.issue_token(ctx.db, officer["id"], ctx.settings.token_hours)
    return jsonify({"token": token, "officer": {k: officer[k] for k in auth.OFFICER_FIELDS}})


def sign_in(username: str, password: str) -> dict:
    """The officer these credentials sign in; ApiError 429 when this address must wait first, 401
    for a wrong username or password (the same answer whether the username exists or not)."""
    throttle, address = hangdoi().throttles, client_address()
    wait = throttle.retry_after(address, username)
    if wait is not None:
        raise ApiError("login_throttled", 429, s=wait)
    officer = auth.authenticate(hangdoi().db, username, password) if username and password else None
    if officer is None:
        throttle.failed(address, username)
        raise ApiError("bad_credentials", 401)
    throttle.forget(address, username)
    return officer


@api.post("/auth/logout")
def logout():
    """The bearer token of this request stops working (a page signs out at /counter/logout)."""
    token = bearer_token()
    if token is None:
        raise ApiError("auth_required", 401)
    auth.revoke_token(hangdoi().db, token)
    return jsonify({"signed_out": True})


@api.get("/services")
def list_services():
    return jsonify(state.services(hangdoi().db, centre_id()))


@api.post("/tickets")
@rate_limit("kiosk_rate_limit_per_minute", key=kiosk_limit_key)
def issue_ticket():
    """A registered kiosk, proving its key, issues a ticket. Without a key nothing is issued, unless
    the installation allows anonymous tickets (settings.anonymous_tickets_per_day), and then only
    that many a day per centre, so no one can exhaust a service from outside."""
    ctx = hangdoi()
    kiosk = current_kiosk()
    if kiosk is None and ctx.settings.anonymous_tickets_per_day <= 0:
        raise ApiError("kiosk_key_required", 401)
    body = json_body(TICKET_FIELDS)
    named = body["centre"] is not None or "centre" in request.args
    centre = centre_id(body["centre"]) if named or kiosk is None else kiosk["centre_id"]
    if kiosk is None:
        anonymous_allowance(centre)
        name = None
    else:
        if centre != kiosk["centre_id"]:
            raise ApiError("invalid_field", 422, field="centre", reason="not the kiosk's centre")
        name = kiosk["name"]
    ticket = engine.issue_ticket(ctx.db, centre, body["service"], priority=body["priority"], kiosk=name)
    ticket = ctx.estimates.with_estimate(ticket, centre)
    # The ticket is committed: whatever the printer does now, the citizen has a number.
    printed = ctx.printing.print_ticket(centre, ticket, name, public_url)
    return jsonify({**ticket, "print": printed}), 201


def anonymous_allowance(centre: int) -> None:
    """Anonymous tickets share one small daily allowance per centre (they come from whoever can
    reach the server), counted with the other limits."""
    ctx = hangdoi()
    if not ctx.throttles.take("anonymous-tickets", str(centre), per_day=ctx.settings.anonymous_tickets_per_day):
        raise ApiError("anonymous_tickets_used_up", 429)


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
    "counter": INT(nullable=True, description="Counter id where the ticket was served; it must be the tablet's"),
    "ticket": STR(required=True, max_length=64, description="The ticket's public_id"),
    "level": INT(required=True, maximum=3, description="1 Không hài lòng, 2 Hài lòng, 3 Rất hài lòng"),
    "reasons": Field((list,), nullable=True, max_length=5, description="Reason codes when not satisfied"),
}


def current_tablet() -> dict:
    """The counter whose rating tablet's key the X-Hangdoi-Tablet-Key header carries; 401 otherwise."""
    key = request.headers.get(TABLET_KEY_HEADER)
    counter = state.counter_by_rating_key(hangdoi().db, key) if key and len(key) <= 64 else None
    if counter is None:
        raise ApiError("invalid_device_key", 401)
    return counter


@api.post("/ratings")
def rate():
    """The rating tablet of the counter that served the ticket rates it (its key proves which)."""
    counter = current_tablet()
    body = json_body(RATING_FIELDS)
    if body["counter"] is not None and body["counter"] != counter["id"]:
        raise ApiError("invalid_field", 422, field="counter", reason="not the tablet's counter")
    reasons = body["reasons"] or []
    if any(not isinstance(r, str) or r not in ratings.REASONS for r in reasons) or len(set(reasons)) != len(reasons):
        raise ApiError("invalid_field", 422, field="reasons", reason=", ".join(ratings.REASONS))
    return jsonify(ratings.rate(hangdoi().db, counter["id"], body["ticket"], body["level"], reasons)), 201


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
