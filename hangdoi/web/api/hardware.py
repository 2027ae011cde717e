"""What hardware bridges may do (drivers/bridge.py): press a keypad key, report a device's state.

A bridge proves itself with the server's hardware key in the X-Hangdoi-Hardware-Key header
(checked for every route marked @allow(BRIDGE): hangdoi/web/api/blueprint.py).
A key press acts as the officer signed in at that counter, through the same counter action as the
web terminal's button; nobody signed in there means nothing happens. NEXT on a ticket called but
never started counts it served (the keypad cannot ask; NOSHOW says otherwise).
"""
from __future__ import annotations

from flask import jsonify

from drivers.keypad import KEY_ACTIONS
from hangdoi.engine import state
from hangdoi.engine.errors import Forbidden
from hangdoi.services import hardware
from hangdoi.services.actions import run_counter_action
from hangdoi.validation import INT, STR, check_object
from hangdoi.web.api.blueprint import api, centre_id, json_payload
from hangdoi.web.api.errors import ApiError
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import BRIDGE, allow

KEYPAD_FIELDS = {"counter": INT(required=True, description="Counter number, as on its sign"),
                 "key": STR(required=True, max_length=10, description=", ".join(KEY_ACTIONS)),
                 "argument": INT(nullable=True, description="TRANSFER: the counter number to send to"),
                 "centre": INT(nullable=True, description="The counter's centre; default: the installation's first")}
STATUS_FIELDS = {"device": STR(required=True, max_length=20), "port": STR(required=True, max_length=200),
                 "state": STR(required=True, max_length=20), "detail": STR(nullable=True, max_length=200),
                 "centre": INT(nullable=True, description="The device's centre; default: the installation's first")}


@api.post("/hardware/keypad")
@allow(BRIDGE)
def keypad_press():
    body = check_object(json_payload(), KEYPAD_FIELDS)
    if body["key"] not in KEY_ACTIONS:
        raise ApiError("invalid_field", 422, field="key", reason="one_of", choices=", ".join(KEY_ACTIONS))
    db, centre = hangdoi().db, centre_id(body["centre"])
    counter = state.counter_at(db, centre, body["counter"])
    if counter["officer_id"] is None:
        raise Forbidden("not_signed_in_here")
    payload = {}
    if body["key"] == "NEXT":
        # A keypad has no screen to ask on: its NEXT says "done with this citizen", and it has a
        # NOSHOW key for a citizen who never came (README "Hardware").
        payload = {"previous": "served"}
    if body["key"] == "TRANSFER":
        if body["argument"] is None:
            raise ApiError("transfer_target_required", 422)
        payload = {"counter": state.counter_at(db, centre, body["argument"])["id"]}
    return jsonify(run_counter_action(db, KEY_ACTIONS[body["key"]], counter["id"], counter["officer_id"], payload))


@api.post("/hardware/status")
@allow(BRIDGE)
def hardware_status():
    payload = json_payload()
    if isinstance(payload, dict) and payload.get("detail") == "":
        payload = {**payload, "detail": None}      # "online" has nothing to add: the bridge sent ""
    body = check_object(payload, STATUS_FIELDS)
    ctx, centre = hangdoi(), centre_id(body["centre"])
    news = hardware.record(ctx.db, centre, body["device"], body["port"], body["state"], body["detail"])
    ctx.hub.device_status(centre, news)
    return jsonify({"ok": True})
