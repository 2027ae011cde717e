"""Who may do what: every HTTP route of the application and every socket room, asked by every role.

Each route is tried on a fresh centre (the installation's first; a neighbouring centre shares the
installation) by, in turn: anyone on the LAN (a kiosk, a lobby screen or a citizen's phone; they
carry no identity), a hardware bridge with the server's key, the officer signed in at counter 1, the
officer signed in at counter 2, a manager, an admin, the neighbouring centre's admin and a province
admin (whose own account hangs on the neighbouring centre). Every request names the centre tried
(`?centre=`). A role that may not gets 401 (no identity) or 403 and nothing changes; a role that may
gets anything else (its empty body may still be refused as invalid). A route the table below does
not know fails the test, so a new route has to say who may use it.

What the neighbouring admin can reach by id without naming a centre is in tests/test_centres.py.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import socketio

from hangdoi.services.actions import COUNTER_ACTIONS
from hangdoi.services.replication import ingest
from hangdoi.app import create_app
from hangdoi.web import permissions
from hangdoi.config import load_settings
from hangdoi.database import Database

from .centres import NEIGHBOUR_CENTRE, PASSWORD, SMALL_CENTRE, always_open
from .conftest import build_centre, start_centres

ROLES = ("anyone", "bridge", "kiosk", "tablet", "linked_centre", "officer_here", "officer_elsewhere", "manager", "admin", "other_admin", "province")
HARDWARE_KEY = "khoa-phan-cung-thu"
USERNAMES = {"officer_here": "an", "officer_elsewhere": "binh", "manager": "dung", "admin": "quantri",
             "other_admin": "quantri2", "province": "tinh"}

EVERYONE = set(ROLES)
OFFICERS = set(USERNAMES)                 # /officers/me/today: each their own
AT_THIS_COUNTER = {"officer_here"}
WATCHING_THIS_COUNTER = {"officer_here", "manager", "admin", "province"}
MANAGERS = {"manager", "admin", "province"}
ADMINS = {"admin", "province"}
PROVINCE_ONLY = {"province"}
BRIDGES = {"bridge"}
KIOSKS = {"kiosk"}                        # a registered kiosk, by the key in its page's address
TABLETS = {"tablet"}                      # counter 1's rating tablet, by its key
LINKED_CENTRES = {"linked_centre"}        # at a province server: a centre pushing its timeline, by its key
DEVICES = {"anyone", "bridge", "kiosk", "tablet", "linked_centre"}     # who carries no officer's sign-in
# Pages that ask for a sign-in instead of refusing: anyone gets the sign-in form, never the page.
SIGN_IN_PAGE = "sign-in page"

# (method, rule) → who may. Every route of the application is here.
WHO_MAY = {
    ("POST", "/api/v1/admin/<kind>"): ADMINS,
    ("PUT", "/api/v1/admin/<kind>/<int:item_id>"): ADMINS,
    ("GET", "/api/v1/admin/audit"): MANAGERS,
    ("POST", "/api/v1/admin/catalogue"): ADMINS,
    ("GET", "/api/v1/admin/province-catalogue"): ADMINS,
    ("PUT", "/api/v1/admin/province-catalogue"): ADMINS,
    ("GET", "/api/v1/province/catalogue"): LINKED_CENTRES,
    ("GET", "/api/v1/admin/province-settings"): ADMINS,
    ("PUT", "/api/v1/admin/province-settings"): ADMINS,
    ("GET", "/api/v1/province/settings-template"): LINKED_CENTRES,
    ("PUT", "/api/v1/province/booking-days"): LINKED_CENTRES,
    ("GET", "/api/v1/admin/catalogue.<fmt>"): MANAGERS,
    ("PUT", "/api/v1/admin/centre"): ADMINS,
    ("POST", "/api/v1/admin/officers/<int:officer_id>/password"): ADMINS,
    ("GET", "/api/v1/admin/setup"): ADMINS,
    ("POST", "/api/v1/auth/login"): EVERYONE,
    ("POST", "/api/v1/auth/logout"): OFFICERS,
    ("POST", "/api/v1/admin/officers/<int:officer_id>/sign-out"): MANAGERS,
    ("POST", "/api/v1/admin/officers/<int:officer_id>/unlock"): MANAGERS,
    ("GET", "/api/v1/centres"): PROVINCE_ONLY,
    ("POST", "/api/v1/close-day"): MANAGERS,
    ("POST", "/api/v1/counters/<int:counter_id>/<action>"): AT_THIS_COUNTER,
    ("GET", "/api/v1/counters/<int:counter_id>/state"): WATCHING_THIS_COUNTER,
    ("GET", "/api/v1/display/state"): EVERYONE,
    ("POST", "/api/v1/hardware/keypad"): BRIDGES,
    ("POST", "/api/v1/hardware/status"): BRIDGES,
    ("GET", "/api/v1/kiosks"): MANAGERS,
    ("POST", "/api/v1/kiosks/<int:kiosk_id>/reprint"): MANAGERS,
    ("GET", "/api/v1/officers/me/today"): OFFICERS,
    ("GET", "/api/v1/openapi.json"): EVERYONE,
    ("POST", "/api/v1/ratings"): TABLETS,
    ("GET", "/api/v1/province/link"): LINKED_CENTRES,
    ("POST", "/api/v1/province/push"): LINKED_CENTRES,
    ("GET", "/api/v1/province/digest"): LINKED_CENTRES,
    ("GET", "/api/v1/province/day-index"): LINKED_CENTRES,
    ("POST", "/api/v1/province/repair"): LINKED_CENTRES,
    ("GET", "/api/v1/province/reference"): LINKED_CENTRES,
    ("PUT", "/api/v1/province/reference"): LINKED_CENTRES,
    ("PUT", "/api/v1/province/offer"): LINKED_CENTRES,
    ("GET", "/api/v1/province/bookings"): LINKED_CENTRES,
    ("GET", "/api/v1/province/booking/centres"): EVERYONE,
    ("GET", "/api/v1/province/booking/centres/<int:link_id>"): EVERYONE,
    ("POST", "/api/v1/province/booking/centres/<int:link_id>/bookings"): EVERYONE,
    ("POST", "/api/v1/province/booking/centres/<int:link_id>/numbers"): EVERYONE,
    ("GET", "/api/v1/province/booking/bookings/<public_id>"): EVERYONE,
    ("POST", "/api/v1/province/booking/bookings/<public_id>/cancel"): EVERYONE,
    ("GET", "/api/v1/province/centres"): PROVINCE_ONLY,
    ("GET", "/api/v1/province/reports"): PROVINCE_ONLY,
    ("GET", "/api/v1/province/reports/export.<fmt>"): PROVINCE_ONLY,
    ("GET", "/api/v1/province/reports/index-766.<fmt>"): PROVINCE_ONLY,
    ("GET", "/api/v1/reports"): MANAGERS,
    ("GET", "/api/v1/reports/export.<fmt>"): MANAGERS,
    ("GET", "/api/v1/services"): EVERYONE,
    ("POST", "/api/v1/services/<int:service_id>/<change>"): MANAGERS,
    ("POST", "/api/v1/services/<int:service_id>/move-waiting"): MANAGERS,
    ("GET", "/api/v1/supervision"): MANAGERS,
    ("POST", "/api/v1/tickets"): KIOSKS,
    ("GET", "/api/v1/tickets/<public_id>"): EVERYONE,
    ("GET", "/api/v1/services/<int:service_id>/slots"): EVERYONE,
    ("POST", "/api/v1/bookings"): EVERYONE,
    ("GET", "/api/v1/bookings"): MANAGERS,
    ("POST", "/api/v1/remote-tickets"): EVERYONE,
    ("GET", "/api/v1/bookings/<public_id>"): EVERYONE,
    ("POST", "/api/v1/bookings/<public_id>/cancel"): EVERYONE,
    ("POST", "/api/v1/check-in"): KIOSKS | OFFICERS,
    ("GET", "/admin"): SIGN_IN_PAGE,
    ("GET", "/admin/audit"): SIGN_IN_PAGE,
    ("GET", "/admin/centres"): SIGN_IN_PAGE,
    ("GET", "/admin/linked"): SIGN_IN_PAGE,
    ("GET", "/admin/province-reports"): SIGN_IN_PAGE,
    ("GET", "/admin/province-reports/print"): SIGN_IN_PAGE,
    ("GET", "/admin/province-catalogue"): SIGN_IN_PAGE,
    ("GET", "/admin/province-settings"): SIGN_IN_PAGE,
    ("GET", "/admin/reports"): SIGN_IN_PAGE,
    ("GET", "/admin/reports/daily"): SIGN_IN_PAGE,
    ("GET", "/admin/settings"): SIGN_IN_PAGE,
    ("GET", "/"): EVERYONE,                         # where staff start: links only, no device key
    ("GET", "/counter"): EVERYONE,                  # the sign-in form, or the officer's own counter
    ("POST", "/counter/login"): EVERYONE,
    ("POST", "/counter/choose"): EVERYONE,          # without a session it only sends back to sign in
    ("POST", "/counter/logout"): EVERYONE,
    ("GET", "/counter/<int:counter_id>"): EVERYONE,  # checked below: only the officer there sees it
    ("GET", "/rate/<key>"): EVERYONE,              # a wrong key gets "not found"
    ("GET", "/display"): EVERYONE,
    ("GET", "/display/<key>"): EVERYONE,
    ("GET", "/display/audio/call.wav"): EVERYONE,
    ("GET", "/display/audio/chime.wav"): EVERYONE,
    ("GET", "/kiosk"): EVERYONE,
    ("GET", "/kiosk/<key>"): EVERYONE,
    ("GET", "/kiosk/qr/<public_id>.svg"): EVERYONE,
    ("GET", "/t/<public_id>"): EVERYONE,
    ("GET", "/book"): EVERYONE,                     # the public booking page: what it changes goes through the API
    ("GET", "/b/<public_id>"): EVERYONE,
    ("GET", "/b/<public_id>/qr.svg"): EVERYONE,
    ("GET", "/province/book"): EVERYONE,            # the province's booking page, likewise
    ("GET", "/province/b/<public_id>"): EVERYONE,
    ("GET", "/province/b/<public_id>/qr.svg"): EVERYONE,
}
STATIC = re.compile(r"^/(?:[a-z]+/)?static/<path:filename>$|^/assets/")

# The pages behind a sign-in, and who sees them once signed in.
ADMIN_PAGES = {"/admin": MANAGERS, "/admin/audit": MANAGERS, "/admin/reports": MANAGERS,
               "/admin/reports/daily": MANAGERS, "/admin/settings": ADMINS, "/admin/centres": PROVINCE_ONLY,
               "/admin/linked": PROVINCE_ONLY, "/admin/province-reports": PROVINCE_ONLY,
               "/admin/province-reports/print": PROVINCE_ONLY,
               "/admin/province-catalogue": ADMINS, "/admin/province-settings": ADMINS}
assert set(ADMIN_PAGES) == {rule for (_, rule), who in WHO_MAY.items() if who == SIGN_IN_PAGE}


@pytest.fixture
def site(sqlite_url, clock, tmp_path):
    # Who may do what does not depend on the database: SQLite only, to keep the run short.
    db = Database(sqlite_url, clock=clock)
    ids = build_centre(db, always_open(SMALL_CENTRE))
    build_centre(db, always_open(NEIGHBOUR_CENTRE))
    settings = load_settings(env={"HANGDOI_HARDWARE_KEY": HARDWARE_KEY}, data_dir=tmp_path / "data")
    app = create_app(settings, db=db)
    client = app.test_client()
    tokens = {role: client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD}).json["token"]
              for role, name in USERNAMES.items()}
    for role, number in (("officer_here", 1), ("officer_elsewhere", 2)):
        signed = client.post(f"/api/v1/counters/{ids.counter(number)}/sign-in",
                             headers={"Authorization": f"Bearer {tokens[role]}"})
        assert signed.status_code == 200
    ticket = client.post("/api/v1/tickets", json={"service": "HT01"}, headers={"X-Hangdoi-Kiosk-Key": ids.kiosks["k1"]}).json
    _, centre_key = ingest.add_centre(db, "Xã Phú Thịnh")
    headers = {"anyone": {}, "bridge": {"X-Hangdoi-Hardware-Key": HARDWARE_KEY},
               "linked_centre": {"X-Hangdoi-Centre-Key": centre_key},
               "kiosk": {"X-Hangdoi-Kiosk-Key": ids.kiosks["k1"]}, "tablet": {"X-Hangdoi-Tablet-Key": ids.tablets[1]},
               **{role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}}
    values = {"counter_id": ids.counter(1), "action": "recall", "kind": "services", "item_id": ids.service("HT01"),
              "officer_id": ids.officer("an"), "service_id": ids.service("HT01"), "change": "close-today",
              "public_id": ticket["public_id"], "kiosk_id": 1, "fmt": "csv", "centre": ids.centre,
              "key": ids.tablets[1], "link_id": 1}
    yield app, client, ids, headers, values
    db.dispose()


def concrete(rule: str, values: dict) -> str:
    """The route's path for these values, naming the centre tried."""
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule) + f"?centre={values['centre']}"


def every_route(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule.rule


def test_every_route_is_in_the_table(app_routes):
    unknown = [r for r in app_routes if r not in WHO_MAY and not STATIC.match(r[1])]
    assert unknown == [], "say who may use these routes"


# What each declaration (hangdoi/web/permissions.py) lets in, in this file's roles.
DECLARED_ROLES = {permissions.ANYONE: EVERYONE, permissions.KIOSK: KIOSKS, permissions.TABLET: TABLETS,
                  permissions.BRIDGE: BRIDGES, permissions.DISPLAY: set(), permissions.CENTRE: LINKED_CENTRES,
                  permissions.OFFICER: OFFICERS, permissions.MANAGER: MANAGERS, permissions.ADMIN: ADMINS | {"other_admin"},
                  permissions.PROVINCE: PROVINCE_ONLY}


def test_every_api_route_declares_who_may_call_it_and_lets_in_whom_the_table_says():
    """The declaration is the gate every API request passes first; the table above says who gets
    through the view itself (a counter's own officer, a centre's own admin): never more than the
    declaration lets in."""
    app = create_app(load_settings(env={}, data_dir=Path(tempfile.mkdtemp())))
    views = {(method, rule.rule): app.view_functions[rule.endpoint] for rule in app.url_map.iter_rules()
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    for route, who in WHO_MAY.items():
        if not route[1].startswith("/api/"):
            continue
        declared = permissions.declared(views[route])
        assert declared, f"{route} declares nobody"
        let_in = set().union(*(DECLARED_ROLES[caller] for caller in declared))
        assert who <= let_in, f"{route}: the table lets in {who - let_in}, the declaration does not"


@pytest.fixture(scope="module")
def app_routes(tmp_path_factory):
    app = create_app(load_settings(env={}, data_dir=tmp_path_factory.mktemp("routes")))
    return sorted(every_route(app))


API_ROUTES = sorted(route for route, who in WHO_MAY.items() if route[1].startswith("/api/"))


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda r: f"{r[0]} {r[1]}")
def test_each_api_route_answers_each_role_as_the_table_says(site, route):
    app, client, _, headers, values = site
    method, rule = route
    path, who = concrete(rule, values), WHO_MAY[route]
    for role in ROLES:
        before = seq(client)
        answer = client.open(path, method=method, headers=headers[role], json={} if method != "GET" else None)
        if role in who:
            assert answer.status_code not in (401, 403), f"{role} refused: {method} {path} {answer.json}"
        else:
            # A device's route asks for its key: an officer without one is not signed in there (401).
            device_route = who <= (KIOSKS | TABLETS | LINKED_CENTRES)
            expected = (401, 403) if role in DEVICES or device_route else (403,)
            assert answer.status_code in expected, f"{role} let through: {method} {path} {answer.status_code}"
            assert seq(client) == before, f"{role}'s refused {method} {path} changed something"


# Every counter action, with a body that is valid, so that only who asks decides the answer.
# Signing in is open to any officer of the centre at a free counter (tests/test_engine_lifecycle.py).
ACTION_WHO_MAY = {name: MANAGERS if name == "end-session" else AT_THIS_COUNTER
                  for name in COUNTER_ACTIONS if name != "sign-in"}


@pytest.mark.parametrize("action", sorted(ACTION_WHO_MAY))
def test_each_counter_action_answers_each_role_as_the_table_says(site, action):
    app, client, ids, headers, values = site
    bodies = {"call": {"ticket": 1}, "transfer": {"service": ids.service("HT02")},
              "citizen": {"full_name": "Trần Văn Nam", "phone": "0912345678"}, "pause": {"reason": "Họp"}}
    path, who = f"/api/v1/counters/{ids.counter(1)}/{action}?centre={ids.centre}", ACTION_WHO_MAY[action]
    for role in ROLES:
        if role in who:
            continue
        before = seq(client)
        answer = client.post(path, headers=headers[role], json=bodies.get(action, {}))
        # Another centre's counter does not exist for its admin (tests/test_centres.py).
        expected = (401, 403) if role in DEVICES else (403, 404) if role == "other_admin" else (403,)
        assert answer.status_code in expected, f"{role} let through: {action} {answer.status_code} {answer.json}"
        assert seq(client) == before, f"{role}'s refused {action} changed something"


def seq(client) -> int:
    return client.get("/api/v1/display/state").json["seq"]


def test_pages_behind_a_sign_in_show_themselves_only_to_whom_the_table_says(site):
    app, client, ids, _, _ = site
    officers = {"anyone": None, **{role: officer_id(app, name) for role, name in USERNAMES.items()}}
    for page, who in ADMIN_PAGES.items():
        for role, officer in officers.items():
            with client.session_transaction() as session:
                session.clear()
                if officer is not None:
                    session["officer_id"] = officer
            answer = client.get(f"{page}?centre={ids.centre}")
            body = answer.get_data(as_text=True)
            signs_in = 'name="password"' in body
            if role in who:
                assert answer.status_code == 200 and not signs_in, f"{role} kept from {page}"
            else:
                assert signs_in and answer.status_code in (200, 403), f"{role} shown {page}"
                assert answer.status_code == (200 if officer is None else 403)


def officer_id(app, username: str) -> int:
    from sqlalchemy import select

    from hangdoi.models import Officer
    with app.extensions["hangdoi"].db.read() as s:
        return s.scalars(select(Officer.id).where(Officer.username == username)).one()


def test_a_counter_terminal_shows_only_to_the_officer_signed_in_there(site):
    app, client, ids, _, _ = site
    for officer_id, shown in ((ids.officer("an"), True), (ids.officer("binh"), False),
                              (ids.officer("dung"), False), (None, False)):
        with client.session_transaction() as session:
            session.clear()
            if officer_id is not None:
                session["officer_id"] = officer_id
        answer = client.get(f"/counter/{ids.counter(1)}")
        assert (answer.status_code == 200) is shown
        if not shown:
            assert answer.status_code == 302 and answer.location.startswith("/counter")


# Only counter 1's tablet (by its key) hears which tickets it finished: see tests/test_ratings.py.
SOCKET_ROOMS = {"display": EVERYONE, "kiosk": EVERYONE, "rate:{counter}": set(),
                "counter:{counter}": WATCHING_THIS_COUNTER, "supervision": MANAGERS}


def test_each_socket_room_is_declared_and_lets_in_whom_the_table_says():
    from hangdoi.web.realtime.hub import ROOMS
    assert {room.split(":")[0] for room in SOCKET_ROOMS} == set(ROOMS)
    for room, who in SOCKET_ROOMS.items():
        assert who <= DECLARED_ROLES[ROOMS[room.split(":")[0]]], room


def test_each_socket_room_and_action_answers_each_role_as_the_table_says(live_site):
    server, ids, tokens = live_site
    for role in ("anyone", "officer_elsewhere", "manager", "admin", "other_admin", "province", "officer_here"):
        client = socketio.Client(reconnection=False)
        token = tokens.get(role)
        client.connect(server.url, transports=["websocket"], auth={"token": token} if token else None)
        try:
            for room, who in SOCKET_ROOMS.items():
                answer = client.call("subscribe", {"room": room.format(counter=ids.counter(1)), "centre": ids.centre},
                                     timeout=10)
                assert ("snapshot" in answer) is (role in who), f"{role} in {room}: {answer}"
                if role not in who:
                    assert answer["status"] in (401, 403)
            before = server.get("/display/state").json()["seq"]
            answer = client.call("counter_action", {"counter": ids.counter(1), "action": "call-next"}, timeout=10)
        finally:
            client.disconnect()
        if role in AT_THIS_COUNTER:
            assert "error" not in answer
        else:
            assert answer["status"] in (401, 403), f"{role} acted at counter 1: {answer}"
            assert server.get("/display/state").json()["seq"] == before


@pytest.fixture
def live_site(tmp_path):
    server, (ids, _) = start_centres(tmp_path, always_open(SMALL_CENTRE), always_open(NEIGHBOUR_CENTRE))
    tokens = {role: server.login(name, PASSWORD) for role, name in USERNAMES.items()}
    for role, number in (("officer_here", 1), ("officer_elsewhere", 2)):
        assert server.post(f"/counters/{ids.counter(number)}/sign-in", tokens[role]).status_code == 200
    yield server, ids, tokens
    server.stop()
