"""The API's blueprint and what its handlers share: reading the request, who is asking, which
centre a request concerns."""
from __future__ import annotations

import hmac
import json

from flask import Blueprint, current_app, g, request, session

from hangdoi.engine import scope, state
from hangdoi.services import auth
from hangdoi.services.replication import ingest
from hangdoi.validation import BadInput, Field, check_object
from hangdoi.web.api.errors import ApiError
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import (
    ADMIN,
    ANYONE,
    BRIDGE,
    CENTRE,
    KIOSK,
    MANAGER,
    OFFICER,
    PROVINCE,
    ROLES_OF,
    TABLET,
    check,
    declared,
)
from hangdoi.web.throttle import client_address

api = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_ID = 2**31 - 1

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
    """The officer the bearer token or the session cookie signs in (looked up once a request)."""
    return _memo("officer", _officer_of_request)


def _officer_of_request() -> dict | None:
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
        found = hangdoi().kiosk_keys.find(key) if key and len(key) <= 64 else None
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


# -- who may call --------------------------------------------------------------------------------
HARDWARE_KEY_HEADER = "X-Hangdoi-Hardware-Key"
# The answer to a caller who is not one of those a route names, when it names only devices.
DEVICE_REFUSALS = {frozenset({KIOSK}): "kiosk_key_required", frozenset({TABLET}): "invalid_device_key",
                   frozenset({CENTRE}): "centre_key_required"}
CENTRE_KEY_HEADER = "X-Hangdoi-Centre-Key"


@api.before_request
def who_may_call():
    """The caller is one of those the route declares (hangdoi/web/permissions.py), before the body
    is read: 401 when nobody is signed in or proven, 403 when someone else is."""
    allowed = declared(current_app.view_functions.get(request.endpoint))
    if allowed is None or ANYONE in allowed:
        return          # no such route (404 follows), or open to all
    # A bearer token matters only where officers may call: a bridge's route ignores one.
    officer = current_officer() if allowed & set(ROLES_OF) else None
    proofs = {KIOSK: _kiosk_or_allowance, TABLET: _tablet, BRIDGE: _bridge, CENTRE: _centre_link,
              **{role: (lambda role=role: officer is not None and officer["role"] in ROLES_OF[role])
                 for role in (OFFICER, MANAGER, ADMIN, PROVINCE)}}
    if check(allowed, proofs) is not None:
        return
    if officer is not None or allowed == {BRIDGE}:
        raise ApiError("forbidden", 403)
    raise ApiError(DEVICE_REFUSALS.get(allowed, "auth_required"), 401)


def _memo(name: str, read):
    if name not in g:
        g.setdefault(name, read())
    return g.get(name)


def _kiosk_or_allowance() -> bool:
    """A registered kiosk; or, without a kiosk's key, anyone where the installation allows
    anonymous tickets (the view counts them against that small daily allowance)."""
    if current_kiosk() is not None:
        return True
    return request.headers.get(KIOSK_KEY_HEADER) is None and hangdoi().settings.anonymous_tickets_per_day > 0


def tablet_of_request() -> dict | None:
    """The counter whose rating tablet's key the X-Hangdoi-Tablet-Key header carries (looked up once)."""
    def find():
        key = request.headers.get(TABLET_KEY_HEADER)
        return state.counter_by_rating_key(hangdoi().db, key) if key and len(key) <= 64 else None
    return _memo("tablet", find)


def _tablet() -> bool:
    return tablet_of_request() is not None


def centre_link() -> ingest.Link | None:
    """The linked centre whose key the X-Hangdoi-Centre-Key header carries (looked up once); 401
    for a key that is wrong or revoked."""
    def find():
        key = request.headers.get(CENTRE_KEY_HEADER)
        if key is None:
            return None
        return ingest.link_of_key(hangdoi().db, key) or False
    link = _memo("centre_link", find)
    if link is False:
        # Keys tried one after another from one address: after a few a minute, 429 and nothing else.
        ctx = hangdoi()
        if not _memo("wrong_key_counted", lambda: ctx.throttles.allow(
                "wrong-centre-key", client_address(), ctx.settings.wrong_key_rate_limit_per_minute)):
            raise ApiError("rate_limited", 429)
        raise ApiError("invalid_centre_key", 401)
    return link


def centre_limit_key() -> str:
    """Whom a province endpoint's limit counts: the linked centre that proved its key, else the address."""
    try:
        link = centre_link()
    except ApiError:
        link = None
    return f"link:{link.id}" if link else f"address:{client_address()}"


def _centre_link() -> bool:
    return centre_link() is not None


def _bridge() -> bool:
    expected, given = hangdoi().settings.hardware_key, request.headers.get(HARDWARE_KEY_HEADER, "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
