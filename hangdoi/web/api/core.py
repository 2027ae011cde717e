"""REST API v1, the core routes: sign-in, services and tickets, counters, ratings, supervision.
Thin handlers that validate, call the engine, and answer JSON."""
from __future__ import annotations

from flask import jsonify, request

from hangdoi import engine
from hangdoi.engine import citizens, ratings, scope, services, state
from hangdoi.engine.errors import DomainError
from hangdoi.services import auth
from hangdoi.services.actions import COUNTER_ACTIONS, run_counter_action
from hangdoi.services.waits import supervision_view
from hangdoi.validation import INT, OBJ, STR, Field, check_object
from hangdoi.web.api.blueprint import (
    api,
    bearer_token,
    centre_id,
    current_kiosk,
    json_body,
    json_payload,
    kiosk_limit_key,
    public_url,
    require_id,
    require_manager,
    require_officer,
    tablet_of_request,
)
from hangdoi.web.api.errors import ApiError
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import ANYONE, KIOSK, MANAGER, OFFICER, PROVINCE, TABLET, allow
from hangdoi.web.throttle import client_address, rate_limit

LOGIN_FIELDS = {"username": STR(required=True, max_length=64),
                "password": STR(required=True, max_length=200)}
TICKET_FIELDS = {
    "service": Field((int, str), required=True, max_length=32, description="Service id or code"),
    "priority": STR(nullable=True, max_length=32, description="Priority category code, or null"),
    "kiosk": STR(nullable=True, max_length=64,
                 description="Ignored: a kiosk is the one whose key the X-Hangdoi-Kiosk-Key header proves"),
    "centre": INT(nullable=True, description="The kiosk's centre, if given; it must be the kiosk's own"),
    "citizen": OBJ(nullable=True, description="{full_name, id_number} read from the chip ID card scanned at the "
                                              "kiosk; kept only where the centre keeps personal data"),
}


@api.post("/auth/login")
@allow(ANYONE)
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
@allow(OFFICER)
def logout():
    """The bearer token of this request stops working (a page signs out at /counter/logout)."""
    token = bearer_token()
    if token is None:
        raise ApiError("auth_required", 401)
    auth.revoke_token(hangdoi().db, token)
    return jsonify({"signed_out": True})


@api.get("/services")
@allow(ANYONE)
def list_services():
    return jsonify(state.services(hangdoi().db, centre_id()))


@api.post("/tickets")
@allow(KIOSK)
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
            raise ApiError("invalid_field", 422, field="centre", reason="not_own_centre")
        name = kiosk["name"]
    citizen = _id_card(body["citizen"]) if body["citizen"] is not None else None
    ticket = engine.issue_ticket(ctx.db, centre, body["service"], priority=body["priority"], kiosk=name,
                                 citizen=citizen)
    ticket = ctx.estimates.with_estimate(ticket, centre)
    # The ticket is committed: whatever the printer does now, the citizen has a number.
    printed = ctx.printing.print_ticket(centre, ticket, name, public_url)
    return jsonify({**ticket, "print": printed}), 201


def _id_card(raw: dict) -> dict:
    """The citizen read from a chip ID card: a name and a 12-digit number, nothing else."""
    fields = {"full_name": STR(required=True, max_length=100), "id_number": STR(required=True, max_length=12)}
    checked = check_object(raw, fields)
    try:
        clean = citizens.cleaned(checked["full_name"], None, checked["id_number"])
    except DomainError as exc:
        raise ApiError(exc.code, 422) from None
    if len(clean["id_number"]) != 12:
        raise ApiError("booking_id_invalid", 422)
    return clean


def anonymous_allowance(centre: int) -> None:
    """Anonymous tickets share one small daily allowance per centre (they come from whoever can
    reach the server), counted with the other limits."""
    ctx = hangdoi()
    if not ctx.throttles.take("anonymous-tickets", str(centre), per_day=ctx.settings.anonymous_tickets_per_day):
        raise ApiError("anonymous_tickets_used_up", 429)


@api.get("/tickets/<public_id>")
@allow(ANYONE)
def ticket_status(public_id: str):
    if len(public_id) > 64:
        raise ApiError("ticket_not_found", 404)
    ctx = hangdoi()
    ticket = state.ticket_status(ctx.db, public_id)
    return jsonify(ctx.estimates.with_estimate(ticket, ticket["centre_id"]))


@api.get("/counters/<int:counter_id>/state")
@allow(OFFICER)
def counter_state(counter_id: int):
    officer = require_officer()
    require_id(counter_id, "counter_not_found")
    state.counter_watch(hangdoi().db, counter_id, officer)
    return jsonify(state.counter_state(hangdoi().db, counter_id))


@api.post("/counters/<int:counter_id>/<action>")
@allow(OFFICER)
def counter_action(counter_id: int, action: str):
    if action not in COUNTER_ACTIONS:
        raise ApiError("not_found", 404)
    officer = require_officer()
    require_id(counter_id, "counter_not_found")
    return jsonify(run_counter_action(hangdoi().db, action, counter_id, officer["id"], json_payload()))


RATING_FIELDS = {
    "counter": INT(nullable=True, description="Counter id where the ticket was served; it must be the tablet's"),
    "ticket": STR(required=True, max_length=64, description="The ticket's public_id"),
    "level": INT(required=True, maximum=5, description="On the centre's scale: 1 Không hài lòng, 2 Hài lòng, 3 Rất hài lòng; "
                                                  "or on 5 levels, 1 Rất không hài lòng … 3 Bình thường … 5 Rất hài lòng"),
    "reasons": Field((list,), nullable=True, max_length=5, description="Reason codes when not satisfied"),
}


def current_tablet() -> dict:
    """The counter whose rating tablet's key the X-Hangdoi-Tablet-Key header carries; 401 otherwise."""
    counter = tablet_of_request()
    if counter is None:
        raise ApiError("invalid_device_key", 401)
    return counter


@api.post("/ratings")
@allow(TABLET)
def rate():
    """The rating tablet of the counter that served the ticket rates it (its key proves which)."""
    counter = current_tablet()
    body = json_body(RATING_FIELDS)
    if body["counter"] is not None and body["counter"] != counter["id"]:
        raise ApiError("invalid_field", 422, field="counter", reason="not_own_counter")
    reasons = body["reasons"] or []
    if any(not isinstance(r, str) or r not in ratings.REASONS for r in reasons) or len(set(reasons)) != len(reasons):
        raise ApiError("invalid_field", 422, field="reasons", reason="one_of", choices=", ".join(ratings.REASONS))
    return jsonify(ratings.rate(hangdoi().db, counter["id"], body["ticket"], body["level"], reasons)), 201


@api.get("/officers/me/today")
@allow(OFFICER)
def my_day():
    return jsonify(state.officer_today(hangdoi().db, require_officer()["id"]))


@api.get("/supervision")
@allow(MANAGER)
def supervision():
    _manager, centre = require_manager()
    return jsonify(supervision_view(hangdoi(), centre))


@api.post("/services/<int:service_id>/<change>")
@allow(MANAGER)
def open_or_close_service(service_id: int, change: str):
    if change not in ("close-today", "reopen"):
        raise ApiError("not_found", 404)
    manager, centre = require_manager()
    require_id(service_id, "service_not_found")
    done = services.set_open_today(hangdoi().db, service_id, manager["id"], change == "reopen")
    hangdoi().hub.offer_changed(centre)      # every kiosk at once: nobody is told at the end that it is closed
    return jsonify(done)


@api.post("/close-day")
@allow(MANAGER)
def close_day():
    manager, centre = require_manager()
    return jsonify(engine.close_day(hangdoi().db, centre, officer_id=manager["id"]))


@api.get("/kiosks")
@allow(MANAGER)
def list_kiosks():
    _manager, centre = require_manager()
    return jsonify(hangdoi().printing.devices(centre))


@api.post("/kiosks/<int:kiosk_id>/reprint")
@allow(MANAGER)
def reprint(kiosk_id: int):
    _manager, centre = require_manager()
    require_id(kiosk_id, "kiosk_not_found")
    return jsonify(hangdoi().printing.reprint_last(centre, kiosk_id, public_url))


@api.get("/centres")
@allow(PROVINCE)
def list_centres():
    """Every centre of the installation with today's figures: a province admin's overview."""
    officer = require_officer()
    if officer["role"] != PROVINCE:
        raise ApiError("forbidden", 403)
    db = hangdoi().db
    return jsonify([state.centre_summary(db, centre) for centre in scope.centre_ids(db)])


@api.get("/display/state")
@allow(ANYONE)
def display_state():
    return jsonify(state.display_state(hangdoi().db, centre_id()))

