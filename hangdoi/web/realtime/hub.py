"""The Socket.IO hub (Flask-SocketIO, threading mode).

Client protocol:
- connect, optionally with `auth={"token": "<bearer token>"}` (or the web session cookie);
- emit `subscribe` {"room": "display" | "kiosk" | "counter:<id>" | "rate:<id>" | "supervision"} →
  the acknowledgement is {"room", "seq", "snapshot"}; the client joins the room *before* the
  snapshot is read, so it may receive messages with a seq ≤ the snapshot's: those are already in
  the snapshot, skip them;
- then `state_changed` / `ticket_called` messages, each with `seq`; a seq more than one past the
  last applied one means something was missed: subscribe again;
- `rate:<counter id>` (the citizen's tablet at a counter) gets `rating_requested` {ticket, counter}
  whenever that counter finishes a ticket;
- managers and admins in `supervision` also get `device_status` {"printer" or "device" and "port",
  "state", "ok", "at"};
- emit `counter_action` {"counter": id, "action": "call-next" | ..., ...fields} as a signed-in
  officer → acknowledgement with the same result as the REST call, or {"error": {...}}.

What one connection can make the server do is bounded: its events are handled one at a time in
its own thread (async_handlers off: Flask-SocketIO otherwise started a thread per event, and ten
sockets sending 300 `subscribe` each made 2,183 threads), each kind of event at most so often
(settings.socket_events_per_10_seconds, `subscribe` at most SUBSCRIBES_PER_10_SECONDS, else
`rate_limited`; REFUSALS_BEFORE_CLOSE in a row close the socket), in at most MAX_ROOMS rooms; an address holds at most
settings.max_sockets_per_address sockets. Who a socket speaks for is checked again at every event,
so a sign-out, a password change or a deactivation ends what its open sockets may do, and the
sockets of this process are closed at once.
"""
from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import datetime

from flask import request, session
from flask_socketio import SocketIO, join_room
from limits import RateLimitItemPerSecond, storage, strategies

from hangdoi.clock import UTC
from hangdoi.engine import scope, state
from hangdoi.engine.errors import DomainError, Forbidden
from hangdoi.engine.scope import supervises
from hangdoi.services import auth, hardware
from hangdoi.services.actions import COUNTER_ACTIONS, run_counter_action
from hangdoi.services.waits import supervision_view
from hangdoi.validation import INT, STR, BadInput, check_object
from hangdoi.web.api.errors import STATUS_BY_KIND, error_body
from hangdoi.web.permissions import ANYONE, MANAGER, OFFICER, TABLET
from hangdoi.web.realtime.direct_send import DirectSend
from hangdoi.web.realtime.presence import Presence
from hangdoi.web.realtime.snapshots import SharedSnapshots
from hangdoi.web.realtime.projection import (
    Projection,
    centre_room,
    counter_room,
    display_room,
    kiosk_room,
    rating_room,
    supervision_room,
)
from hangdoi.web.realtime.uncompressed import WithoutCompression

log = logging.getLogger(__name__)

SUBSCRIBE_FIELDS = {"room": STR(required=True, max_length=40),
                    "centre": INT(nullable=True, description="Centre id; default: the first centre"),
                    "device": STR(nullable=True, max_length=64,
                                  description="A kiosk's or display's key, to be shown online to managers")}
DEVICE_TABLES = {"kiosk": "kiosk", "display": "display"}
# Who may subscribe to each room and send each event (callers as in hangdoi/web/permissions.py).
# A counter's room is its own officer's and the centre's managers' (the engine checks which
# counter); `subscribe` answers each room as ROOMS says.
ROOMS = {"display": ANYONE, "kiosk": ANYONE, "rate": TABLET, "counter": OFFICER, "supervision": MANAGER}
EVENTS = {"subscribe": ANYONE, "counter_action": OFFICER}
# Rooms one socket may be in: its centre's, and the one it subscribed to (a page changing room
# subscribes again).
MAX_ROOMS = 6
# A socket refused this many times in a row is not a page that slipped: it is closed.
REFUSALS_BEFORE_CLOSE = 10
SUBSCRIBES_PER_10_SECONDS = 10


class Hub:
    def __init__(self, app, db, settings):
        self.app = app
        self.db = db
        self.socketio = SocketIO(app, async_mode="threading", async_handlers=False,
                                 message_queue=settings.redis_url or None,
                                 channel=settings.redis_channel,
                                 cors_allowed_origins=[], max_http_buffer_size=settings.max_body_bytes,
                                 ping_interval=10, ping_timeout=10)
        app.wsgi_app = WithoutCompression(app.wsgi_app)
        self.direct_send = DirectSend(self.socketio.server)
        # sid: (officer or None, bearer token or None, session version or None)
        self.identities: dict[str, tuple[dict | None, str | None, int | None]] = {}
        self.max_per_address = settings.max_sockets_per_address
        self._lock = threading.Lock()
        self._by_address: Counter = Counter()
        self._address: dict[str, str] = {}
        self._rooms: dict[str, set[str]] = {}
        self._refusals: Counter = Counter()
        # A page subscribes when it (re)connects, when it sees a gap, and a kiosk once a minute; an
        # officer presses a few buttons a minute. A subscription costs a snapshot read, so fewer of
        # them: ten anonymous sockets subscribing 30 times each in a second held a kiosk's printed
        # ticket up by 200–300 ms (bench/socket_flood.py); at 10 each it kept its p99 under 100 ms.
        per_10s = settings.socket_events_per_10_seconds
        self._event_limits = {
            "subscribe": RateLimitItemPerSecond(min(per_10s, SUBSCRIBES_PER_10_SECONDS), 10),
            "counter_action": RateLimitItemPerSecond(per_10s, 10)} if per_10s > 0 else {}
        self._events = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self.devices = lambda centre_id: []    # the app plugs in what it knows of kiosks and printers
        self.projection = Projection(self.socketio)
        self.presence = Presence()
        self.public_snapshots = SharedSnapshots()
        db.on_commit(self.projection)
        self._register()

    # -- handlers ---------------------------------------------------------------------------
    def _register(self) -> None:
        sio = self.socketio

        @sio.on("connect")
        def _connect(auth_data=None):
            if not self._admit(request.sid, request.remote_addr or "unknown"):
                return False
            officer, version = None, None
            token = auth_data.get("token") if isinstance(auth_data, dict) else None
            if isinstance(token, str) and 0 < len(token) <= 200:
                officer = auth.officer_for_token(self.db, token)
                if officer is None:
                    self._leave(request.sid)
                    return False  # a wrong token is refused outright, not silently anonymous
            else:
                token = None
                officer = auth.session_officer(self.db, session)
                version = session.get("session_version", 0) if officer is not None else None
            self.identities[request.sid] = (officer, token, version)

        @sio.on("disconnect")
        def _disconnect(*_args):
            self._leave(request.sid)
            gone = self.presence.leave(request.sid)
            if gone is not None:
                self._presence_news(*gone, online=False)

        @sio.on("subscribe")
        def _subscribe(data=None):
            return self._answer("subscribe", lambda: self.subscribe(request.sid, data))

        @sio.on("counter_action")
        def _counter_action(data=None):
            return self._answer("counter_action", lambda: self.counter_action(request.sid, data))

        @sio.on_error_default
        def _error(exc):
            log.exception("socket handler failed: %s", exc)
            return {"error": {"code": "internal_error", "message": "Lỗi hệ thống / Internal error"}}

    def _admit(self, sid: str, address: str) -> bool:
        with self._lock:
            if self.max_per_address and self._by_address[address] >= self.max_per_address:
                log.warning("socket refused: %s already holds %d", address, self._by_address[address])
                return False
            self._by_address[address] += 1
            self._address[sid] = address
            return True

    def _leave(self, sid: str) -> None:
        with self._lock:
            self.identities.pop(sid, None)
            self._rooms.pop(sid, None)
            self._refusals.pop(sid, None)
            address = self._address.pop(sid, None)
            if address is not None:
                self._by_address[address] -= 1
                if self._by_address[address] <= 0:
                    del self._by_address[address]

    def officer(self, sid: str) -> dict | None:
        """Who this socket speaks for now: None if nobody, or if that sign-in has ended since."""
        officer, token, version = self.identities.get(sid, (None, None, None))
        if officer is None:
            return None
        if token is not None:
            return auth.officer_for_token(self.db, token)
        return auth.session_officer(self.db, {"officer_id": officer["id"], "session_version": version})

    def signed_out(self, officer_id: int) -> None:
        """Close this process's sockets of an officer whose sign-ins have just ended (those of other
        processes find out at their next event)."""
        for sid, (officer, _token, _version) in list(self.identities.items()):
            if officer is not None and officer["id"] == officer_id:
                self.socketio.server.disconnect(sid)

    def close_all(self) -> None:
        """Close every socket of this process: the server is stopping. Its pages reconnect to
        whichever server answers next, and the worker need not wait out its graceful timeout for
        sockets that would never end by themselves."""
        # As websockets "going away", not as a Socket.IO disconnect, which tells a client not to
        # reconnect: every screen must come back by itself when the server does. (Outside
        # DirectSend's tested python-engineio releases the sockets stay open, and gunicorn waits
        # out its graceful timeout as before.)
        self.direct_send.close_all()

    def _answer(self, event: str, fn):
        sid = request.sid
        limit = self._event_limits.get(event)
        if limit is not None and not self._events.hit(limit, "socket-events", event, sid):
            self._refusals[sid] += 1
            if self._refusals[sid] >= REFUSALS_BEFORE_CLOSE:
                log.warning("socket closed: %d events refused in a row", self._refusals[sid])
                self.socketio.server.disconnect(sid)
            return {**error_body("rate_limited"), "status": 429}
        self._refusals.pop(sid, None)
        try:
            return fn()
        except BadInput as exc:
            return {**error_body(exc.code, **exc.params), "status": exc.status}
        except DomainError as exc:
            return {**error_body(exc.code, **exc.params), "status": STATUS_BY_KIND[exc.kind]}

    # -- operations -------------------------------------------------------------------------
    def subscribe(self, sid: str, data) -> dict:
        args = check_object(data, SUBSCRIBE_FIELDS)
        room = args["room"]
        # Only kiosks and displays name themselves; anyone else is told so after who they are is checked.
        device = self._device(room, args["device"]) if room in DEVICE_TABLES else None
        centre_id = self._centre(sid, room, args["centre"], device)
        estimates = self.app.extensions["hangdoi"].estimates
        if room == "display":
            rooms = [display_room(centre_id)]
            read = self._public(room, centre_id,
                                lambda: estimates.attach(state.display_state(self.db, centre_id), centre_id))
        elif room == "kiosk":
            rooms = [kiosk_room(centre_id)]
            read = self._public(room, centre_id,
                                lambda: estimates.attach(state.kiosk_state(self.db, centre_id), centre_id))
        elif room.startswith("counter:") and _ascii_id(room[8:]):
            counter_id = int(room[8:])
            officer = self.officer(sid)
            if officer is None:
                raise BadInput("auth_required", 401)
            centre_id = state.counter_watch(self.db, counter_id, officer)
            rooms, read = [counter_room(centre_id, counter_id)], lambda: state.counter_state(self.db, counter_id)
        elif room.startswith("rate:") and _ascii_id(room[5:]):
            # Only the counter's own tablet hears which tickets it finished (their public ids).
            counter_id = int(room[5:])
            tablet = state.counter_by_rating_key(self.db, args["device"]) if args["device"] else None
            if tablet is None or tablet["id"] != counter_id:
                raise BadInput("invalid_device_key", 401)
            centre_id = tablet["centre_id"]
            rooms = [rating_room(centre_id, counter_id)]
            read = lambda: {"seq": state.centre_seq(self.db, centre_id),  # noqa: E731
                            "counter": state.counter_card(self.db, counter_id)}
        elif room == "supervision":
            officer = self.officer(sid)
            if officer is None:
                raise BadInput("auth_required", 401)
            if not supervises(officer, centre_id):
                raise Forbidden("forbidden")
            rooms = [supervision_room(centre_id)]
            read = lambda: supervision_view(self.app.extensions["hangdoi"], centre_id)  # noqa: E731
        else:
            raise BadInput("invalid_field", 422, field="room",
                           reason="one_of",
                           choices="display, kiosk, counter:<id>, rate:<id>, supervision")
        if args["device"] is not None and device is None and not room.startswith("rate:"):
            raise BadInput("invalid_field", 422, field="device", reason="device_kinds")
        names = {centre_room(centre_id), *rooms}
        with self._lock:
            joined = self._rooms.setdefault(sid, set())
            if len(joined | names) > MAX_ROOMS:
                raise BadInput("too_many_subscriptions", 429, n=MAX_ROOMS)
            joined |= names
        if device is not None:
            self._device_arrives(sid, room, device)
        # Join first, read second: nothing committed in between can be missed.
        for name in (centre_room(centre_id), *rooms):
            join_room(name, sid=sid)
        snapshot = read()
        return {"room": room, "seq": snapshot["seq"], "snapshot": snapshot}

    def _public(self, room: str, centre_id: int, read):
        """A public room's read, shared with the other screens that subscribe before anything changes."""
        return lambda: self.public_snapshots.get(room, centre_id, state.centre_seq(self.db, centre_id), read)

    def device_overview(self, centre_id: int) -> dict:
        """Kiosks with their printers, and displays, each marked online while it holds a socket here."""
        kiosks = [{**k, "online": self.presence.online("kiosk", k["id"])} for k in self.devices(centre_id)]
        screens = [{**d, "online": self.presence.online("display", d["id"])} for d in state.displays(self.db, centre_id)]
        return {"devices": kiosks, "displays": screens, "hardware": hardware.last_states(self.db, centre_id)}

    def _device(self, room: str, key: str | None) -> dict | None:
        """The kiosk or display subscribing by its key, with its centre; None when no key is given."""
        if key is None:
            return None
        device = state.device_by_key(self.db, DEVICE_TABLES[room], key)
        if device is None:
            raise BadInput("invalid_field", 422, field="device", reason="no_such_device")
        return device

    def _centre(self, sid: str, room: str, named: int | None, device: dict | None) -> int:
        """A device's own centre. Supervision: the officer's, or the one a province admin names. The
        public rooms: the one named, else the officer's own, else the installation's first. (A
        counter's room belongs to the counter's centre, whatever this says.)"""
        if device is not None:
            if named is not None and named != device["centre_id"]:
                raise BadInput("invalid_field", 422, field="centre", reason="not_own_centre")
            return device["centre_id"]
        officer = self.officer(sid)
        if room == "supervision" and officer is not None:
            return scope.officer_centre(self.db, officer, named)
        default = officer["centre_id"] if officer is not None else self.app.extensions["hangdoi"].default_centre_id()
        return scope.public_centre(self.db, named, default)

    def _device_arrives(self, sid: str, room: str, device: dict) -> None:
        centre_id = device["centre_id"]
        if self.presence.arrive(sid, centre_id, room, device["id"], device["name"]):
            self._presence_news(centre_id, room, device["id"], device["name"], online=True)

    def _presence_news(self, centre_id: int, kind: str, device_id: int, name: str, online: bool) -> None:
        self.device_status(centre_id, {"presence": kind, "id": device_id, "name": name, "online": online})

    def estimates_changed(self, centre_id: int, payload: dict) -> None:
        """New waiting-time estimates per service: the kiosks' buttons and the lobby boards show them."""
        self.socketio.emit("estimates", payload, to=[kiosk_room(centre_id), display_room(centre_id)])

    def offer_changed(self, centre_id: int) -> None:
        """What the centre offers changed (a service closed or reopened for the day, the catalogue,
        counters, hours): its kiosks, boards and dashboards subscribe again for a fresh snapshot."""
        self.socketio.emit("offer_changed", {}, to=[kiosk_room(centre_id), display_room(centre_id),
                                                     supervision_room(centre_id)])

    def device_status(self, centre_id: int, payload: dict) -> None:
        payload = {**payload, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        self.socketio.emit("device_status", payload, to=supervision_room(centre_id))

    def counter_action(self, sid: str, data) -> dict:
        if not isinstance(data, dict):
            raise BadInput("expected_object")
        payload = dict(data)
        counter_id = INT(required=True).check("counter", payload.pop("counter", None))
        action = STR(required=True, max_length=20).check("action", payload.pop("action", None))
        if action not in COUNTER_ACTIONS:
            raise BadInput("invalid_field", 422, field="action", reason="one_of", choices=", ".join(COUNTER_ACTIONS))
        officer = self.officer(sid)
        if officer is None:
            raise BadInput("auth_required", 401)
        return run_counter_action(self.db, action, counter_id, officer["id"], payload)


def _ascii_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < int(text) < 2**31
