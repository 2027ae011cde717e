"""REST API v1: every endpoint, and every class of bad input answered 4xx with nothing changed."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from hangdoi.app import create_app
from hangdoi.config import load_settings
from hangdoi.models import CounterEvent, Ticket, TicketEvent

from .centres import PASSWORD, SMALL_CENTRE
from .conftest import as_kiosk, build_centre, kiosk_headers


@pytest.fixture
def app(db, tmp_path):
    settings = load_settings(env={}, data_dir=tmp_path / "data", kiosk_rate_limit_per_minute=1000)
    return create_app(settings, db=db)


@pytest.fixture
def client(app, ids):
    return as_kiosk(app.test_client(), ids)


@pytest.fixture
def ids(db):
    return build_centre(db, SMALL_CENTRE)


def login(client, username="an"):
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


def snapshot(db):
    """Row counts of everything a request could change."""
    with db.read() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Ticket, TicketEvent, CounterEvent))


def assert_error(response, status, code):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.json
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert " / " in body["error"]["message"]  # Vietnamese / English


# -- the happy paths ---------------------------------------------------------------------------
def test_services_list(client, ids):
    services = client.get("/api/v1/services").json
    ht01 = next(s for s in services if s["code"] == "HT01")
    assert ht01 == {"id": ids.service("HT01"), "code": "HT01", "name": "Đăng ký khai sinh",
                    "instant": False, "active": True, "domain": {"id": ht01["domain"]["id"], "code": "HT",
                                                 "name": "Tư pháp – Hộ tịch"},
                    "waiting": 0, "counters": [1], "open": True}
    assert next(s for s in services if s["code"] == "XD02")["open"] is False
    assert next(s for s in services if s["code"] == "XD02")["active"] is False


def test_issue_by_code_and_by_id_then_read_status(client, ids):
    first = client.post("/api/v1/tickets", json={"service": "HT01", "priority": None})
    second = client.post("/api/v1/tickets", json={"service": ids.service("HT01"), "priority": "cao_tuoi"})
    assert (first.status_code, second.status_code) == (201, 201)
    body = first.json
    assert {"id", "public_id", "number", "service", "status", "position", "issued_at"} <= set(body)
    assert (body["number"], body["status"], body["position"]) == ("1001", "waiting", 0)
    status = client.get(f"/api/v1/tickets/{body['public_id']}").json
    # The priority ticket issued later is now ahead of the first one.
    assert (status["number"], status["position"], status["counter"]) == ("1001", 1, None)


def test_officer_works_a_ticket_through_the_api(client, ids):
    headers = login(client)
    counter = ids.counter(1)
    ticket = client.post("/api/v1/tickets", json={"service": "HT01"}).json
    assert client.post(f"/api/v1/counters/{counter}/sign-in", headers=headers).status_code == 200
    called = client.post(f"/api/v1/counters/{counter}/call-next", headers=headers).json
    assert called["ticket"]["number"] == "1001" and called["ticket"]["status"] == "called"
    status = client.get(f"/api/v1/tickets/{ticket['public_id']}").json
    assert status["counter"]["number"] == 1
    for action, expected in [("recall", "called"), ("start", "serving"), ("finish", "done")]:
        response = client.post(f"/api/v1/counters/{counter}/{action}", headers=headers)
        assert response.status_code == 200 and response.json["ticket"]["status"] == expected
    assert client.post(f"/api/v1/counters/{counter}/call-next", headers=headers).json["ticket"] is None
    paused = client.post(f"/api/v1/counters/{counter}/pause", headers=headers, json={"reason": "họp"})
    assert paused.json["counter"]["status"] == "paused"
    assert client.post(f"/api/v1/counters/{counter}/resume", headers=headers).status_code == 200
    state = client.get(f"/api/v1/counters/{counter}/state", headers=headers).json
    assert state["counter"]["status"] == "open" and state["waiting"] == []
    assert client.post(f"/api/v1/counters/{counter}/sign-out", headers=headers).status_code == 200


def test_call_transfer_no_show_requeue(client, ids):
    headers = login(client)
    one, three = ids.counter(1), ids.counter(3)
    client.post(f"/api/v1/counters/{one}/sign-in", headers=headers)
    a = client.post("/api/v1/tickets", json={"service": "HT01"}).json
    b = client.post("/api/v1/tickets", json={"service": "HT02"}).json
    chosen = client.post(f"/api/v1/counters/{one}/call", headers=headers, json={"ticket": b["id"]})
    assert chosen.json["ticket"]["id"] == b["id"]
    moved = client.post(f"/api/v1/counters/{one}/transfer", headers=headers,
                        json={"counter": three, "reason": "hồ sơ đất đai"})
    assert moved.json["ticket"]["target_counter"]["id"] == three
    client.post(f"/api/v1/counters/{one}/call-next", headers=headers)
    assert client.post(f"/api/v1/counters/{one}/no-show", headers=headers).json["ticket"]["id"] == a["id"]
    client.post(f"/api/v1/counters/{one}/call", headers=headers, json={"ticket": a["id"]})
    back = client.post(f"/api/v1/counters/{one}/requeue", headers=headers)
    assert back.json["ticket"]["status"] == "waiting"


def test_a_ticket_sent_to_a_counter_nobody_staffs_is_not_told_its_turn_is_near(client, ids):
    """The phone page said "Sắp đến lượt bạn" for a ticket waiting at a counter with nobody in it."""
    headers = login(client)
    one, three = ids.counter(1), ids.counter(3)
    client.post(f"/api/v1/counters/{one}/sign-in", headers=headers)
    ticket = client.post("/api/v1/tickets", json={"service": "HT01"}).json
    client.post(f"/api/v1/counters/{one}/call-next", headers=headers)
    client.post(f"/api/v1/counters/{one}/transfer", headers=headers, json={"counter": three})
    status = client.get(f"/api/v1/tickets/{ticket['public_id']}").json
    assert status["position"] == 0 and status["target_counter_staffed"] is False
    client.post(f"/api/v1/counters/{three}/sign-in", headers=login(client, "chi"))
    assert client.get(f"/api/v1/tickets/{ticket['public_id']}").json["target_counter_staffed"] is True


def test_display_state(client, ids):
    headers = login(client)
    client.post(f"/api/v1/counters/{ids.counter(1)}/sign-in", headers=headers)
    client.post("/api/v1/tickets", json={"service": "HT01"})
    client.post("/api/v1/tickets", json={"service": "HT01"})
    client.post(f"/api/v1/counters/{ids.counter(1)}/call-next", headers=headers)
    state = client.get("/api/v1/display/state").json
    assert set(state) >= {"seq", "counters", "queues", "recent_calls"}
    counter = next(c for c in state["counters"] if c["number"] == 1)
    assert (counter["ticket"], counter["status"]) == ("1001", "calling")
    assert next(q for q in state["queues"] if q["code"] == "HT01")["waiting"] == 1
    assert state["recent_calls"][0]["ticket"]["number"] == "1001"
    assert state["recent_calls"][0]["counter"]["number"] == 1


def test_openapi_document_lists_every_route(client, app):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    documented = {f"/api/v1{p}" for p in doc["paths"]}
    routes = {str(r).replace("<int:counter_id>", "{counter_id}").replace("<public_id>", "{public_id}")
              .replace("<int:kiosk_id>", "{kiosk_id}").replace("<int:service_id>", "{service_id}")
              .replace("<int:item_id>", "{item_id}").replace("<int:officer_id>", "{officer_id}")
              .replace("<int:link_id>", "{link_id}")
              for r in app.url_map.iter_rules() if str(r).startswith("/api/v1")}
    generic = ("<action>", "<change>", "<kind>", "<fmt>")
    expanded = {r for r in routes if not any(g in r for g in generic)}
    assert expanded <= documented
    assert "/api/v1/counters/{counter_id}/call-next" in documented
    for kind in ("domains", "services", "counters", "officers", "kiosks", "displays"):
        assert {f"/api/v1/admin/{kind}", f"/api/v1/admin/{kind}/{{item_id}}"} <= documented
    assert {"/api/v1/reports/export.csv", "/api/v1/admin/catalogue.xlsx"} <= documented


# -- bad input: clear 4xx, nothing changed -----------------------------------------------------
BAD_TICKET_REQUESTS = [
    (dict(data="{not json", content_type="application/json"), 400, "malformed_json"),
    (dict(data=b"\xff\xfe", content_type="application/json"), 400, "malformed_json"),
    (dict(json=[1, 2]), 400, "expected_object"),
    (dict(json="HT01"), 400, "expected_object"),
    (dict(json={}), 422, "missing_field"),
    (dict(json={"service": None}), 422, "invalid_field"),
    (dict(json={"service": True}), 422, "invalid_field"),
    (dict(json={"service": 1.5}), 422, "invalid_field"),
    (dict(json={"service": ["HT01"]}), 422, "invalid_field"),
    (dict(json={"service": ""}), 422, "invalid_field"),
    (dict(json={"service": "x" * 500}), 422, "invalid_field"),
    (dict(json={"service": 10**30}), 422, "invalid_field"),
    (dict(json={"service": -1}), 422, "invalid_field"),
    (dict(json={"service": "HT01", "extra": 1}), 422, "unknown_field"),
    (dict(json={"service": "HT01", "priority": 7}), 422, "invalid_field"),
    (dict(json={"service": "HT01", "priority": "khong_co"}), 422, "priority_not_found"),
    (dict(json={"service": "NOPE"}), 404, "service_not_found"),
    (dict(json={"service": 999999}), 404, "service_not_found"),
    (dict(json={"service": "XD02"}), 409, "service_inactive"),
    (dict(data="service=HT01", content_type="application/x-www-form-urlencoded"), 415, "wrong_content_type"),
    (dict(data=json.dumps({"service": "HT01", "kiosk": "k" * 20000}), content_type="application/json"),
     413, "body_too_large"),
]


@pytest.mark.parametrize("kwargs, status, code", BAD_TICKET_REQUESTS)
def test_bad_ticket_requests_change_nothing(client, db, ids, kwargs, status, code):
    before = snapshot(db)
    assert_error(client.post("/api/v1/tickets", **kwargs), status, code)
    assert snapshot(db) == before


def test_the_kiosk_rate_limit_counts_the_kiosk_that_proved_its_key(db, tmp_path, ids):
    settings = load_settings(env={}, data_dir=tmp_path / "d2", kiosk_rate_limit_per_minute=3)
    client = create_app(settings, db=db).test_client()
    for _ in range(3):
        assert client.post("/api/v1/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k1")).status_code == 201
    before = snapshot(db)
    assert_error(client.post("/api/v1/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k1")),
                 429, "rate_limited")
    assert snapshot(db) == before
    # Naming k1 in the body, as the attack did, neither counts against k1 nor gets a ticket.
    assert_error(client.post("/api/v1/tickets", json={"service": "HT01", "kiosk": "k1"}), 401, "kiosk_key_required")
    # The other kiosk has its own allowance.
    assert client.post("/api/v1/tickets", json={"service": "HT01"}, headers=kiosk_headers(ids, "k2")).status_code == 201


@pytest.mark.parametrize("headers, code", [
    ({}, "auth_required"),
    ({"Authorization": "Bearer nope"}, "invalid_token"),
    ({"Authorization": "Basic YWRtaW46YWRtaW4="}, "invalid_token"),
    ({"Authorization": "Bearer "}, "invalid_token"),
    ({"Authorization": "Bearer " + "x" * 5000}, "invalid_token"),
])
def test_counter_actions_need_a_valid_token(client, db, ids, headers, code):
    client.post("/api/v1/tickets", json={"service": "HT01"})
    before = snapshot(db)
    assert_error(client.post(f"/api/v1/counters/{ids.counter(1)}/call-next", headers=headers), 401, code)
    assert snapshot(db) == before


def test_a_token_is_refused_once_it_expires_or_its_officer_is_deactivated(client, db, ids, clock):
    from hangdoi.models import Officer
    an = login(client, "an")
    assert client.post(f"/api/v1/counters/{ids.counter(1)}/sign-in", headers=an).status_code == 200
    assert client.get("/api/v1/officers/me/today", headers=an).status_code == 200
    clock.advance(hours=16, seconds=1)                     # token_hours = 16
    client.post("/api/v1/tickets", json={"service": "HT01"})
    before = snapshot(db)
    assert_error(client.post(f"/api/v1/counters/{ids.counter(1)}/call-next", headers=an), 401, "invalid_token")
    assert snapshot(db) == before
    binh = login(client, "binh")
    with db.write() as s:
        s.get(Officer, ids.officer("binh")).active = False
    assert_error(client.get("/api/v1/officers/me/today", headers=binh), 401, "invalid_token")


def test_officer_cannot_act_at_a_counter_they_are_not_signed_in_to(client, db, ids):
    an, binh = login(client, "an"), login(client, "binh")
    client.post(f"/api/v1/counters/{ids.counter(1)}/sign-in", headers=an)
    client.post("/api/v1/tickets", json={"service": "HT01"})
    before = snapshot(db)
    assert_error(client.post(f"/api/v1/counters/{ids.counter(1)}/call-next", headers=binh), 403,
                 "not_signed_in_here")
    assert_error(client.get(f"/api/v1/counters/{ids.counter(1)}/state", headers=binh), 403,
                 "not_signed_in_here")
    assert_error(client.post(f"/api/v1/counters/{ids.counter(1)}/sign-in", headers=binh), 409, "counter_taken")
    assert snapshot(db) == before
    manager = login(client, "dung")
    assert client.get(f"/api/v1/counters/{ids.counter(1)}/state", headers=manager).status_code == 200


@pytest.mark.parametrize("path, kwargs, status, code", [
    ("/counters/1/call", dict(json={}), 422, "missing_field"),
    ("/counters/1/call", dict(json={"ticket": "one"}), 422, "invalid_field"),
    ("/counters/1/call", dict(json={"ticket": 987654}), 404, "ticket_not_found"),
    ("/counters/1/call-next", dict(json={"unexpected": 1}), 422, "unknown_field"),
    ("/counters/1/transfer", dict(json={}), 422, "transfer_target_required"),
    ("/counters/1/transfer", dict(json={"service": 99999}), 409, "no_current_ticket"),
    ("/counters/1/recall", dict(), 409, "no_current_ticket"),
    ("/counters/1/resume", dict(), 409, "counter_not_paused"),
    ("/counters/1/pause", dict(json={"reason": "x" * 201}), 422, "invalid_field"),
    ("/counters/99999/call-next", dict(), 404, "counter_not_found"),
    ("/counters/99999999999/call-next", dict(), 404, "counter_not_found"),
    ("/counters/1/explode", dict(), 404, "not_found"),
    ("/counters/abc/call-next", dict(), 404, "not_found"),
    ("/tickets/" + "x" * 100, dict(method="get"), 404, "ticket_not_found"),
    ("/tickets/unknown", dict(method="get"), 404, "ticket_not_found"),
    ("/services", dict(method="delete"), 405, "method_not_allowed"),
    ("/nowhere", dict(method="get"), 404, "not_found"),
])
def test_bad_counter_and_lookup_requests_change_nothing(client, db, ids, path, kwargs, status, code):
    headers = login(client)
    client.post(f"/api/v1/counters/{ids.counter(1)}/sign-in", headers=headers)
    client.post("/api/v1/tickets", json={"service": "HT01"})
    before = snapshot(db)
    kwargs = dict(kwargs)  # the parameter dicts are shared between the two databases
    method = kwargs.pop("method", "post")
    path = path.replace("/counters/1/", f"/counters/{ids.counter(1)}/")
    response = getattr(client, method)(f"/api/v1{path}", headers=headers, **kwargs)
    assert_error(response, status, code)
    assert snapshot(db) == before


def test_login_refusals(client, ids):
    assert_error(client.post("/api/v1/auth/login", json={"username": "an", "password": "sai"}), 401,
                 "bad_credentials")
    assert_error(client.post("/api/v1/auth/login", json={"username": "khongco", "password": "x"}), 401,
                 "bad_credentials")
    assert_error(client.post("/api/v1/auth/login", json={"username": "an"}), 422, "missing_field")
