"""The OpenAPI 3.1 document for API v1 (GET /api/v1/openapi.json), built from the same field lists
the handlers validate with."""
from __future__ import annotations

from flask import jsonify

from hangdoi.services.actions import COUNTER_ACTIONS
from hangdoi.validation import object_schema
from hangdoi.web.api.admin import CENTRE_FIELDS, KINDS, MOVE_FIELDS, PASSWORD_FIELDS
from hangdoi.web.api.blueprint import api
from hangdoi.web.api.bookings import BOOKING_FIELDS, CHECK_IN_FIELDS, REMOTE_FIELDS
from hangdoi.web.api.core import LOGIN_FIELDS, RATING_FIELDS, TICKET_FIELDS
from hangdoi.web.api.hardware import KEYPAD_FIELDS, STATUS_FIELDS
from hangdoi.web.api.province_bookings import PROVINCE_BOOKING_FIELDS, PROVINCE_NUMBER_FIELDS
from hangdoi.web.permissions import ANYONE, allow

NULLABLE_STR = {"type": ["string", "null"]}
REF = {"id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"}}
COUNTER_REF = {"type": ["object", "null"], "properties": {
    "id": {"type": "integer"}, "number": {"type": "integer"}, "name": {"type": "string"}}}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"},
                       "message": {"type": "string", "description": "Vietnamese / English"}}}}},
    "Ticket": {"type": "object", "required": ["id", "number", "service", "status", "issued_at"],
               "properties": {
                   "id": {"type": "integer"}, "public_id": {"type": "string"},
                   "number": {"type": "string", "description": "As displayed, e.g. 1005 or A012"},
                   "service": {"type": "object", "properties": REF},
                   "status": {"enum": ["waiting", "called", "serving", "done", "no_show",
                                       "cancelled", "closed", "remote"],
                              "description": "remote: a number taken from a phone, not checked in yet"},
                   "origin": {"enum": [None, "remote", "booked"], "description": "null: a walk-in"},
                   "due_at": {"type": ["string", "null"], "format": "date-time",
                              "description": "A checked-in appointment's slot: called before walk-ins from then"},
                   "priority": NULLABLE_STR, "priority_name": {**NULLABLE_STR, "description": "e.g. Người cao tuổi"},
                   "counter": COUNTER_REF, "target_counter": COUNTER_REF,
                   "target_counter_staffed": {"type": "boolean",
                                              "description": "Status answers: false while the counter it was sent to has nobody signed in"},
                   "issued_at": {"type": "string", "format": "date-time"},
                   "called_at": {"type": ["string", "null"], "format": "date-time"},
                   "call_count": {"type": "integer"},
                   "position": {"type": "integer", "description": "People ahead in this service"},
                   "estimated_wait": {"oneOf": [{"$ref": "#/components/schemas/Wait"}, {"type": "null"}],
                                      "description": "While waiting or held as a remote number (issue and "
                                                     "status answers); null otherwise"},
                   "told_to_come": {"type": "boolean",
                                    "description": "Status answers for a remote number: the centre has told "
                                                   "its holder to come (its turn is near)"}}},
    "Booking": {"type": "object", "required": ["public_id", "code", "service", "date", "status"],
                "properties": {
                    "public_id": {"type": "string", "description": "The address of its page: /b/{public_id}"},
                    "code": {"type": "string", "description": "8 letters and digits, typed or scanned at check-in"},
                    "kind": {"enum": ["slot", "remote"]},
                    "service": {"type": "object", "properties": REF},
                    "date": {"type": "string", "format": "date"},
                    "start": NULLABLE_STR, "end": NULLABLE_STR,
                    "status": {"enum": ["booked", "checked_in", "cancelled", "expired"]},
                    "late": {"type": "boolean", "description": "Checked in after its window: an ordinary ticket"},
                    "full_name": {"type": "string"},
                    "phone": {"type": "string", "description": "Masked, e.g. 091****678"},
                    "ticket": {"oneOf": [{"$ref": "#/components/schemas/Ticket"}, {"type": "null"}]}}},
    "Slot": {"type": "object", "required": ["start", "end", "free"], "properties": {
        "start": {"type": "string", "description": "HH:MM, local"}, "end": {"type": "string"},
        "free": {"type": "integer", "description": "Places left to book"}}},
    "Wait": {"type": "object",
             "required": ["minutes", "low", "high", "beyond_closing", "after_break", "maybe_after_break", "text"],
             "description": "Estimated wait from now (hangdoi/services/estimates/): P60 of simulated futures, P20–P80 range",
             "properties": {
                 "minutes": {"type": ["integer", "null"], "description": "null: not before closing, or no counter open"},
                 "low": {"type": ["integer", "null"]}, "high": {"type": ["integer", "null"]},
                 "beyond_closing": {"type": "boolean"},
                 "after_break": {"type": "boolean", "description": "Called after the coming break (at the estimate)"},
                 "maybe_after_break": {"type": "boolean",
                                       "description": "Before the break at the estimate, after it within the range"},
                 "text": {"type": "object", "properties": {"vi": NULLABLE_STR, "en": NULLABLE_STR},
                          "description": "As citizens read it, e.g. “khoảng 25 phút”"}}},
    "Counter": {"type": "object", "properties": {
        "id": {"type": "integer"}, "number": {"type": "integer"}, "name": {"type": "string"},
        "status": {"enum": ["inactive", "closed", "open", "paused", "calling", "serving"]},
        "ticket": NULLABLE_STR}},
    "Service": {"type": "object", "required": ["id", "code", "name", "domain", "waiting", "open"],
                "properties": {**REF, "domain": {"type": "object", "properties": REF},
                               "waiting": {"type": "integer"}, "open": {"type": "boolean"},
                               "active": {"type": "boolean", "description": "false: not offered at all (open is false too)"},
                               "instant": {"type": "boolean"}}},
    "ActionResult": {"type": "object", "required": ["ticket", "counter"], "properties": {
        "ticket": {"oneOf": [{"$ref": "#/components/schemas/Ticket"}, {"type": "null"}]},
        "counter": {"oneOf": [{"$ref": "#/components/schemas/Counter"}, {"type": "null"}]}}},
    "DisplayState": {"type": "object", "required": ["seq", "counters", "queues", "recent_calls"],
                     "properties": {"seq": {"type": "integer"},
                                    "counters": {"type": "array", "items": {"$ref": "#/components/schemas/Counter"}},
                                    "queues": {"type": "array"}, "recent_calls": {"type": "array"}}},
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    return {str(s): _json(_ref("Error"), "Error") for s in statuses}


def _body(fields) -> dict:
    return {"required": False, "content": {"application/json": {"schema": object_schema(fields)}}}


@api.get("/openapi.json")
@allow(ANYONE)
def openapi():
    return jsonify(document())


def document() -> dict:
    bearer = [{"bearer": []}]
    paths = {
        "/auth/login": {"post": {
            "summary": "Sign in; returns a bearer token", "requestBody": {**_body(LOGIN_FIELDS), "required": True},
            "responses": {"200": _json({"type": "object", "required": ["token", "officer"], "properties": {
                "token": {"type": "string"}, "officer": {"type": "object"}}}),
                **_errors(400, 401, 413, 415, 422, 429)}}},
        "/services": {"get": {"summary": "Services with waiting counts and whether they issue now",
                              "responses": {"200": _json({"type": "array", "items": _ref("Service")})}}},
        "/auth/logout": {"post": {
            "summary": "Sign out: this bearer token stops working", "security": bearer,
            "responses": {"200": _json({"type": "object"}), **_errors(401)}}},
        "/tickets": {"post": {
            "summary": "Issue a ticket. A registered kiosk proves itself with its key (the key in its page's "
                       "address) in the X-Hangdoi-Kiosk-Key header; the per-kiosk rate limit counts that kiosk. "
                       "Without a key: 401, unless the installation allows a small daily number of anonymous "
                       "tickets", "security": [{"kioskKey": []}],
            "requestBody": {**_body(TICKET_FIELDS), "required": True},
            "responses": {"201": _json(_ref("Ticket"), "Issued"),
                          **_errors(400, 401, 404, 409, 413, 415, 422, 429)}}},
        "/tickets/{public_id}": {"get": {
            "summary": "A ticket's status, for the citizen's phone",
            "parameters": [{"name": "public_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json(_ref("Ticket")), **_errors(404)}}},
        "/counters/{counter_id}/state": {"get": {
            "summary": "The counter's snapshot: current ticket, queue in call order", "security": bearer,
            "parameters": [_counter_param()],
            "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404)}}},
        "/ratings": {"post": {
            "summary": "A citizen's satisfaction rating of a ticket just finished, from the rating tablet of the "
                       "counter that served it (its key, from its page's address, in X-Hangdoi-Tablet-Key)",
            "security": [{"tabletKey": []}], "requestBody": {**_body(RATING_FIELDS), "required": True},
            "responses": {"201": _json({"type": "object"}), **_errors(401, 404, 409, 415, 422)}}},
        "/officers/me/today": {"get": {
            "summary": "The signed-in officer's figures for today", "security": bearer,
            "responses": {"200": _json({"type": "object"}), **_errors(401)}}},
        "/supervision": {"get": {
            "summary": "The manager's live view: queues, oldest waits, counters, devices", "security": bearer,
            "responses": {"200": _json({"type": "object"}), **_errors(401, 403)}}},
        "/services/{service_id}/close-today": {"post": {
            "summary": "Stop issuing tickets for a service for the rest of the day (managers)", "security": bearer,
            "parameters": [{"name": "service_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}],
            "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404)}}},
        "/services/{service_id}/reopen": {"post": {
            "summary": "Issue tickets for the service again today (managers)", "security": bearer,
            "parameters": [{"name": "service_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}],
            "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404)}}},
        "/close-day": {"post": {
            "summary": "Close every ticket still open and free every counter (managers)", "security": bearer,
            "responses": {"200": _json({"type": "object"}), **_errors(401, 403)}}},
        "/kiosks": {"get": {
            "summary": "Kiosks with their printer and its last known state (managers)", "security": bearer,
            "responses": {"200": _json({"type": "array", "items": {"type": "object"}}), **_errors(401, 403)}}},
        "/kiosks/{kiosk_id}/reprint": {"post": {
            "summary": "Print the kiosk's latest ticket again (managers)", "security": bearer,
            "parameters": [{"name": "kiosk_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}],
            "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404)}}},
        "/hardware/keypad": {"post": {
            "summary": "A keypad key pressed (hardware bridges, X-Hangdoi-Hardware-Key); acts as the officer "
                       "signed in at that counter",
            "requestBody": {**_body(KEYPAD_FIELDS), "required": True},
            "responses": {"200": _json(_ref("ActionResult")), **_errors(403, 404, 409, 415, 422)}}},
        "/hardware/status": {"post": {
            "summary": "A device's state changed (hardware bridges); managers are told live",
            "requestBody": {**_body(STATUS_FIELDS), "required": True},
            "responses": {"200": _json({"type": "object"}), **_errors(403, 415, 422)}}},
        "/display/state": {"get": {"summary": "What the lobby display shows",
                                   "responses": {"200": _json(_ref("DisplayState"))}}},
        "/openapi.json": {"get": {"summary": "This document",
                                  "responses": {"200": _json({"type": "object"})}}},
        "/centres": {"get": {
            "summary": "Every centre of the installation with today's figures (province admins)", "security": bearer,
            "responses": {"200": _json({"type": "array", "items": {"type": "object"}}), **_errors(401, 403)}}},
    }
    paths.update(_booking_paths(bearer))
    paths.update(_province_paths())
    paths.update(_report_paths(bearer))
    paths.update(_admin_paths(bearer))
    for path, operations in paths.items():
        if path not in NOT_CENTRE_SCOPED and not path.startswith(("/counters/", "/hardware/")):
            for operation in operations.values():
                _name_the_centre(operation)
    for name, action in COUNTER_ACTIONS.items():
        paths[f"/counters/{{counter_id}}/{name}"] = {"post": {
            "summary": action.summary, "security": bearer, "parameters": [_counter_param()],
            "requestBody": _body(action.fields),
            "responses": {"200": _json(_ref("ActionResult")),
                          **_errors(400, 401, 403, 404, 409, 413, 415, 422)}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "hangdoi API", "version": "1",
                 "description": "Queue ticketing for public administrative service centres. "
                                "Errors are {\"error\": {\"code\", \"message\"}} with Vietnamese and English text."},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {
                           "bearer": {"type": "http", "scheme": "bearer"},
                           "kioskKey": {"type": "apiKey", "in": "header", "name": "X-Hangdoi-Kiosk-Key"},
                           "tabletKey": {"type": "apiKey", "in": "header", "name": "X-Hangdoi-Tablet-Key"},
                           "centreKey": {"type": "apiKey", "in": "header", "name": "X-Hangdoi-Centre-Key"}}},
    }


# Where the centre follows from who asks or from an id in the path, `?centre=` is not read.
NOT_CENTRE_SCOPED = {"/auth/login", "/auth/logout", "/tickets/{public_id}", "/ratings", "/officers/me/today", "/openapi.json",
                     "/centres", "/services/{service_id}/slots", "/bookings/{public_id}",
                     "/bookings/{public_id}/cancel", "/province/link", "/province/push", "/province/digest",
                     "/province/centres", "/province/day-index", "/province/repair", "/province/reference",
                     "/province/reports", "/province/reports/export.csv", "/province/reports/export.xlsx",
                     "/province/reports/index-766.csv", "/province/reports/index-766.xlsx", "/province/offer",
                     "/province/bookings", "/province/booking/centres", "/province/booking/centres/{link_id}",
                     "/province/booking/centres/{link_id}/bookings", "/province/booking/bookings/{public_id}",
                     "/province/booking/bookings/{public_id}/cancel", "/province/catalogue",
                     "/province/booking-days", "/province/settings-template",
                     "/province/booking/centres/{link_id}/numbers"}
CENTRE_PARAM = {"name": "centre", "in": "query", "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                "description": "The centre meant, where the installation hosts several. Default: the signed-in "
                               "officer's own (only a province admin may name another), or for kiosks, displays "
                               "and citizens the installation's first. A ticket's body may name it instead."}


def _name_the_centre(operation: dict) -> None:
    operation["parameters"] = [*operation.get("parameters", []), CENTRE_PARAM]
    for status in (404, 422):
        operation["responses"].setdefault(str(status), _json(_ref("Error"), "Error"))


def _counter_param() -> dict:
    return {"name": "counter_id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}


def _id_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}


def _province_paths() -> dict:
    """At a province server, for its linked centres (hangdoi/services/replication)."""
    key = [{"centreKey": []}]    # every one of them answers 429 past its limit (a centre's, or wrong keys' per address)
    return {
        "/province/link": {"get": {
            "summary": "A linked centre's link: where its next push starts (after change `acknowledged`)",
            "security": key,
            "responses": {"200": _json({"type": "object", "required": ["link", "acknowledged"], "properties": {
                "link": {"type": "integer"}, "name": {"type": "string"}, "acknowledged": {"type": "integer"}}}),
                **_errors(401, 429)}}},
        "/province/push": {"post": {
            "summary": "A linked centre's timeline: the rows of its changes after `after` through `through`, in "
                       "order. Idempotent: rows already stored are skipped. 409 (a gap) answers where to start "
                       "again in `acknowledged`",
            "security": key,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["centre", "after", "through", "rows"], "properties": {
                    "centre": {"type": "integer"}, "after": {"type": "integer"}, "through": {"type": "integer"},
                    "rows": {"type": "array", "items": {"type": "object"}}}}}}},
            "responses": {"200": _json({"type": "object", "properties": {
                "acknowledged": {"type": "integer"}, "stored": {"type": "integer"}}}),
                **_errors(400, 401, 409, 413, 415, 422, 429)}}},
        "/province/centres": {"get": {
            "summary": "Every linked centre (province admins): link state (up, down, waiting, revoked), minutes "
                       "since it was last heard and since its latest event, today's issued, waiting, longest wait, "
                       "served, no-shows, satisfaction, and alerts (link_down, long_wait)",
            "security": [{"bearer": []}],
            "parameters": [{"name": "area", "in": "query", "required": False, "schema": {"type": "string"}},
                           {"name": "state", "in": "query", "required": False,
                            "schema": {"enum": ["up", "down", "waiting", "revoked"]}}],
            "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 422)}}},
        "/province/day-index": {"get": {
            "summary": "One local day of the centre's rows as stored at the province: [stream, id, body SHA-256] each",
            "security": key,
            "parameters": [{"name": "day", "in": "query", "required": True,
                            "schema": {"type": "string", "format": "date"}}],
            "responses": {"200": _json({"type": "object"}), **_errors(401, 422, 429)}}},
        "/province/repair": {"post": {
            "summary": "Repair one day: `put` the rows missing or different at the province, `drop` [stream, id] "
                       "pairs the centre does not have; applied whole",
            "security": key,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["centre", "day", "put", "drop"], "properties": {
                    "centre": {"type": "integer"}, "day": {"type": "string", "format": "date"},
                    "put": {"type": "array", "items": {"type": "object"}},
                    "drop": {"type": "array", "items": {"type": "array"}}}}}}},
            "responses": {"200": _json({"type": "object", "properties": {
                "put": {"type": "integer"}, "dropped": {"type": "integer"}}}),
                **_errors(400, 401, 413, 415, 422, 429)}}},
        "/province/digest": {"get": {
            "summary": "One local day of the centre's rows as stored at the province: count and SHA-256 digest",
            "security": key,
            "parameters": [{"name": "day", "in": "query", "required": True,
                            "schema": {"type": "string", "format": "date"}}],
            "responses": {"200": _json({"type": "object", "properties": {
                "day": {"type": "string"}, "rows": {"type": "integer"}, "digest": {"type": "string"}}}),
                **_errors(401, 422, 429)}}},
        "/province/reference": {
            "get": {"summary": "The SHA-256 of the names the centre last sent (null: none yet)", "security": key,
                    "responses": {"200": _json({"type": "object", "properties": {
                        "fingerprint": {"type": ["string", "null"]}}}), **_errors(401, 429)}},
            "put": {"summary": "What the centre's figures are named by: centre (id, name, timezone, sla_minutes), "
                               "domains, services (with codes), counters, officers; replaces the last",
                    "security": key,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["centre", "domains", "services", "counters", "officers"]}}}},
                    "responses": {"200": _json({"type": "object"}), **_errors(400, 401, 413, 415, 422, 429)}}},
        **_province_report_paths(),
        **_province_booking_paths(key),
    }


def _province_booking_paths(key) -> dict:
    """Booking at any linked centre on the province's page (anyone), and the centres' side of it."""
    public_id = [{"name": "public_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}]
    booking = _json({"type": "object", "required": ["public_id", "code", "status", "qr"], "properties": {
        "public_id": {"type": "string"}, "code": {"type": "string"},
        "kind": {"enum": ["slot", "remote"]},
        "status": {"enum": ["booked", "asked", "issued", "refused", "checked_in", "cancelled", "expired"],
                   "description": "checked_in: the centre's pushed timeline says its citizen came; asked, issued, "
                                  "refused, expired: a number for today's"},
        "refusal": {"type": ["string", "null"], "description": "Why the centre refused a number (an error code)"},
        "ticket": {"type": ["object", "null"], "description": "Once checked in: {number}, the number given"},
        "qr": {"type": ["string", "null"], "description": "What the booking's QR code holds: the booking signed "
                                                          "with the province's Ed25519 key (HD1.…); null once "
                                                          "cancelled or checked in"},
        "date": {"type": "string"}, "start": {"type": "string"}, "end": {"type": "string"}}})
    return {
        "/province/booking/centres": {"get": {
            "summary": "The province's linked centres, and whether each has slots to book now",
            "responses": {"200": _json({"type": "array", "items": {"type": "object"}}), **_errors(429)}}},
        "/province/booking/centres/{link_id}": {"get": {
            "summary": "What can be booked at a centre: procedures, days, slots with the places left",
            "parameters": [_id_param("link_id")],
            "responses": {"200": _json({"type": "object"}), **_errors(404, 429)}}},
        "/province/booking/centres/{link_id}/bookings": {"post": {
            "summary": "Book a slot at a linked centre (anyone; VNeID, iHanoi … through the same route). Limited "
                       "per address, per phone and ID number (one open booking per procedure, two a day)",
            "parameters": [_id_param("link_id")],
            "requestBody": {**_body(PROVINCE_BOOKING_FIELDS), "required": True},
            "responses": {"201": booking, **_errors(400, 404, 409, 413, 415, 422, 429)}}},
        "/province/booking/centres/{link_id}/numbers": {"post": {
            "summary": "Ask a linked centre for a number for today (anyone), while its link is up and its offer "
                       "lists the procedure under `remote`; status \"asked\" until the centre's next pull issues "
                       "it (\"issued\", with the number and about how many are ahead) or refuses it "
                       "(\"refused\", with why). Limited as bookings are",
            "parameters": [_id_param("link_id")],
            "requestBody": {**_body(PROVINCE_NUMBER_FIELDS), "required": True},
            "responses": {"201": booking, **_errors(400, 404, 409, 413, 415, 422, 429)}}},
        "/province/booking/bookings/{public_id}": {"get": {
            "summary": "A province booking, for its holder's page", "parameters": public_id,
            "responses": {"200": booking, **_errors(404, 429)}}},
        "/province/booking/bookings/{public_id}/cancel": {"post": {
            "summary": "The holder gives the place back; the centre hears at its next pull", "parameters": public_id,
            "responses": {"200": booking, **_errors(404, 409, 429)}}},
        "/province/booking-days": {"put": {
            "summary": "A linked centre's bookings per local day around today, counted [[kind, status, late, n], "
                       "…]; each day replaces what the province held for it",
            "security": key,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["centre", "days"]}}}},
            "responses": {"200": _json({"type": "object"}), **_errors(400, 401, 413, 415, 422, 429)}}},
        "/province/catalogue": {"get": {
            "summary": "The province's procedure catalogue (domains, services by code), from which each linked "
                       "centre chooses what it serves; 404 before the province loaded one",
            "security": key,
            "responses": {"200": _json({"type": "object", "required": ["fingerprint", "domains", "services"]}),
                          **_errors(401, 404, 429)}}},
        "/province/settings-template": {"get": {
            "summary": "The settings the province suggests to its centres (any of opening_hours, closed_days, "
                       "settings), from which each centre's admin takes what they choose; 404 before the "
                       "province loaded one",
            "security": key,
            "responses": {"200": _json({"type": "object", "required": ["fingerprint"]}), **_errors(401, 404, 429)}}},
        "/province/offer": {"put": {
            "summary": "A linked centre's free slots for booking, per procedure and day, and `through`: the last "
                       "province booking they count; replaces the last",
            "security": key,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["through", "timezone", "ask_id_number", "early_minutes",
                                               "late_minutes", "services"]}}}},
            "responses": {"200": _json({"type": "object"}), **_errors(400, 401, 413, 415, 422, 429)}}},
        "/province/bookings": {"get": {
            "summary": "Bookings made at the province for the centre after its mark `after`, in order (a "
                       "cancelled one comes again), with the province's public key that signs their QR codes",
            "security": key,
            "parameters": [{"name": "after", "in": "query", "required": False,
                            "schema": {"type": "integer", "minimum": 0, "maximum": 999999999}}],
            "responses": {"200": _json({"type": "object", "required": ["link", "signing_key", "items", "through",
                                                                        "more"]}),
                          **_errors(401, 422, 429)}}},
    }


def _province_report_paths() -> dict:
    """Reports across a province's linked centres, for its admins."""
    query = [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in (
        ("from", {"type": "string", "format": "date"}), ("to", {"type": "string", "format": "date"}),
        ("by", {"enum": ["centre", "area", "domain", "service", "day", "week", "month"]}),
        ("area", {"type": "string"}))]
    bearer = [{"bearer": []}]
    paths = {"/province/reports": {"get": {
        "summary": "Figures across the linked centres (or one area's), grouped one way (province admins)",
        "security": bearer, "parameters": query, "responses": {"200": _json({"type": "object"}),
                                                             **_errors(401, 403, 422)}}}}
    for fmt, mimetype in (("csv", "text/csv"), ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
        paths[f"/province/reports/export.{fmt}"] = {"get": {
            "summary": f"The province report's table as {fmt.upper()} (province admins)", "security": bearer,
            "parameters": query, "responses": {"200": {"description": "OK", "content": {mimetype: {}}},
                                               **_errors(401, 403, 422)}}}
        paths[f"/province/reports/index-766.{fmt}"] = {"get": {
            "summary": f"Per centre, the figures Decision 766's satisfaction and timeliness forms ask for, as "
                       f"{fmt.upper()} (province admins)", "security": bearer,
            "parameters": query[:2] + query[3:], "responses": {"200": {"description": "OK", "content": {mimetype: {}}},
                                                               **_errors(401, 403, 422)}}}
    return paths


def _booking_paths(bearer) -> dict:
    public_id = [{"name": "public_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}]
    limited = "Limited per address (an IPv6 client: its /64) and per phone and ID number a day."
    return {
        "/services/{service_id}/slots": {"get": {
            "summary": "A service's slots on a day with the places left to book; slots begun are left out",
            "parameters": [_id_param("service_id"),
                           {"name": "date", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}}],
            "responses": {"200": _json({"type": "array", "items": _ref("Slot")}), **_errors(404, 409, 422, 429)}}},
        "/bookings": {
            "post": {"summary": f"Book a slot (anyone). {limited}", "requestBody": {**_body(BOOKING_FIELDS), "required": True},
                     "responses": {"201": _json(_ref("Booking"), "Booked"), **_errors(400, 404, 409, 413, 415, 422, 429)}},
            "get": {"summary": "A day's bookings and remote numbers, and who has come (managers)", "security": bearer,
                    "parameters": [{"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}}],
                    "responses": {"200": _json({"type": "array", "items": _ref("Booking")}), **_errors(401, 403, 422)}}},
        "/remote-tickets": {"post": {
            "summary": f"Take a number in today's queue from a phone (anyone): it keeps its place and is called "
                       f"once checked in. {limited}", "requestBody": {**_body(REMOTE_FIELDS), "required": True},
            "responses": {"201": _json({"allOf": [_ref("Ticket"), {"type": "object", "properties": {
                "code": {"type": "string"}, "checked_in": {"type": "boolean"}}}]}, "Taken"),
                **_errors(400, 404, 409, 413, 415, 422, 429)}}},
        "/bookings/{public_id}": {"get": {
            "summary": "A booking or remote number, for its holder's page", "parameters": public_id,
            "responses": {"200": _json(_ref("Booking")), **_errors(404, 429)}}},
        "/bookings/{public_id}/cancel": {"post": {
            "summary": "The holder gives the place back", "parameters": public_id,
            "responses": {"200": _json(_ref("Booking")), **_errors(404, 409, 429)}}},
        "/check-in": {"post": {
            "summary": "The citizen has arrived: a registered kiosk (its key) or an officer checks the booking or "
                       "remote number in; a kiosk prints the ticket",
            "description": "Before the booking's window opens the answer is 409 `booking_too_early`, whose error "
                           "also carries `service`: the booked procedure's id, for which a kiosk offers an "
                           "ordinary number at once.", "security": [{"kioskKey": []}, {"bearer": []}],
            "requestBody": {**_body(CHECK_IN_FIELDS), "required": True},
            "responses": {"200": _json({"allOf": [_ref("Ticket"), {"type": "object", "properties": {
                "checked_in": {"type": "boolean"}, "late": {"type": "boolean"}, "booking": _ref("Booking")}}]}),
                **_errors(400, 401, 403, 404, 409, 413, 415, 422, 429)}}},
    }


def _report_paths(bearer) -> dict:
    query = [{"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
             {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
             {"name": "by", "in": "query", "schema": {"enum": ["day", "week", "month", "hour", "domain", "service",
                                                              "counter", "officer", "priority"]}}]
    paths = {"/reports": {"get": {
        "summary": "Report figures over local days, grouped one way (managers)", "security": bearer,
        "parameters": query, "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 422)}}}}
    for fmt, mimetype in (("csv", "text/csv"), ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
        paths[f"/reports/export.{fmt}"] = {"get": {
            "summary": f"The report's table as {fmt.upper()}, Vietnamese headers (managers)", "security": bearer,
            "parameters": query, "responses": {"200": {"description": "OK", "content": {mimetype: {}}},
                                               **_errors(401, 403, 422)}}}
    return paths


def _admin_paths(bearer) -> dict:

    write_errors = _errors(400, 401, 403, 404, 409, 413, 415, 422)
    paths = {}
    for kind, spec in KINDS.items():
        paths[f"/admin/{kind}"] = {"post": {
            "summary": f"Create {spec.summary} (admins; audited)", "security": bearer,
            "requestBody": {**_body(spec.fields), "required": True},
            "responses": {"201": _json({"type": "object"}), **write_errors}}}
        paths[f"/admin/{kind}/{{item_id}}"] = {"put": {
            "summary": f"Replace {spec.summary} (admins; audited)", "security": bearer,
            "parameters": [_id_param("item_id")], "requestBody": {**_body(spec.fields), "required": True},
            "responses": {"200": _json({"type": "object"}), **write_errors}}}
    catalogue_types = {"text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}
    paths.update({
        "/admin/centre": {"put": {"summary": "The centre's settings (admins; audited)", "security": bearer,
                                  "requestBody": {**_body(CENTRE_FIELDS), "required": True},
                                  "responses": {"200": _json({"type": "object"}), **write_errors}}},
        "/admin/officers/{officer_id}/password": {"post": {
            "summary": "Reset an officer's password; their tokens stop working (admins)", "security": bearer,
            "parameters": [_id_param("officer_id")], "requestBody": {**_body(PASSWORD_FIELDS), "required": True},
            "responses": {"200": _json({"type": "object"}), **write_errors}}},
        "/admin/officers/{officer_id}/sign-out": {"post": {
            "summary": "End every sign-in of an officer: pages, tokens, sockets, the counter held (managers)",
            "security": bearer, "parameters": [_id_param("officer_id")],
            "responses": {"200": _json({"type": "object"}), **write_errors}}},
        "/admin/officers/{officer_id}/unlock": {"post": {
            "summary": "Let an officer sign in at once after wrong passwords slowed their sign-ins (managers)",
            "security": bearer, "parameters": [_id_param("officer_id")],
            "responses": {"200": _json({"type": "object"}), **write_errors}}},
        "/admin/setup": {"get": {"summary": "Everything an admin edits (admins)", "security": bearer,
                                 "responses": {"200": _json({"type": "object"}), **_errors(401, 403)}}},
        "/admin/catalogue": {"post": {
            "summary": "Import the service catalogue (CSV or XLSX; all or nothing; admins; audited)",
            "security": bearer, "requestBody": {"required": True, "content": catalogue_types},
            "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 409, 413, 415, 422)}}},
        "/admin/province-catalogue": {
            "get": {"summary": "At a linked centre: the province's procedures by field, each with whether this centre "
                               "serves it and how many wait for it today (admins)", "security": bearer,
                    "responses": {"200": _json({"type": "object"}), **_errors(401, 403)}},
            "put": {"summary": "Serve exactly these of the province's procedures: added or renamed to the "
                               "province's names, the others out of use; refused whole while one to stop has "
                               "citizens waiting (admins; audited)", "security": bearer,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["codes"], "additionalProperties": False,
                        "properties": {"codes": {"type": "array", "items": {"type": "string", "maxLength": 32}}}}}}},
                    "responses": {"200": _json({"type": "object"}), **write_errors}}},
        "/admin/province-settings": {
            "get": {"summary": "At a linked centre: each part of the province's settings template beside the "
                               "centre's own value (null: its default) and whether they agree (admins)",
                    "security": bearer, "responses": {"200": _json({"type": "object"}), **_errors(401, 403)}},
            "put": {"summary": "Take these parts of the province's template: its holidays are added to the "
                               "centre's, anything else replaces the centre's value (admins; audited)",
                    "security": bearer,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["take"], "additionalProperties": False,
                        "properties": {"take": {"type": "array", "minItems": 1, "maxItems": 200, "uniqueItems": True,
                                                "items": {"type": "string", "minLength": 1, "maxLength": 60}}}}}}},
                    "responses": {"200": _json({"type": "object"}), **write_errors}}},
        "/admin/audit": {"get": {"summary": "The audit log, newest first (managers)", "security": bearer,
                                 "parameters": [{"name": "limit", "in": "query",
                                                 "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
                                 "responses": {"200": _json({"type": "array"}), **_errors(401, 403, 422)}}},
        "/services/{service_id}/move-waiting": {"post": {
            "summary": "Move every ticket waiting for a service to another, keeping their places (managers)",
            "security": bearer, "parameters": [_id_param("service_id")],
            "requestBody": {**_body(MOVE_FIELDS), "required": True},
            "responses": {"200": _json({"type": "object"}), **write_errors}}},
    })
    for fmt, mimetype in catalogue_types.items():
        name = "csv" if fmt == "text/csv" else "xlsx"
        paths[f"/admin/catalogue.{name}"] = {"get": {
            "summary": f"The service catalogue as {name.upper()} (managers)", "security": bearer,
            "responses": {"200": {"description": "OK", "content": {fmt: mimetype}}, **_errors(401, 403)}}}
    return paths
