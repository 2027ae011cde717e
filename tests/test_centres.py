"""Several centres on one installation (a province's): each keeps its own numbering, queues, screens,
reports, settings and staff; another centre's manager or admin reaches nothing here, even by id; a
province admin looks after every centre. On SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
import requests
import socketio
from sqlalchemy import select

from hangdoi.app import create_app
from hangdoi.config import load_settings
from hangdoi.models import Officer, Service

from .centres import NEIGHBOUR_CENTRE, PASSWORD, SMALL_CENTRE, always_open
from .conftest import as_kiosk, kiosk_headers, build_centre, start_centres
from .test_cli import hangdoi
from .test_realtime import wait_for


@pytest.fixture
def site(db, tmp_path):
    here = build_centre(db, always_open(SMALL_CENTRE))
    there = build_centre(db, always_open(NEIGHBOUR_CENTRE))
    app = create_app(load_settings(env={}, data_dir=tmp_path / "data", kiosk_rate_limit_per_minute=1000), db=db)
    client = as_kiosk(app.test_client(), here)      # a kiosk of the first centre, unless told otherwise

    def bearer(username):
        token = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD}).json["token"]
        return {"Authorization": f"Bearer {token}"}
    return client, here, there, bearer


def seq(client, centre: int) -> int:
    return client.get(f"/api/v1/display/state?centre={centre}").json["seq"]


def test_each_centre_numbers_lists_and_queues_its_own_tickets(site):
    client, here, there, _ = site
    first_here = client.post("/api/v1/tickets", json={"service": "HT01"})
    first_there = client.post("/api/v1/tickets", json={"service": "HT01", "centre": there.centre}, headers=kiosk_headers(there))
    second_there = client.post(f"/api/v1/tickets?centre={there.centre}", json={"service": "HT01"}, headers=kiosk_headers(there))
    assert (first_here.status_code, first_there.status_code, second_there.status_code) == (201, 201, 201)
    # Same code, same series numbers: each centre counts from its own first number.
    assert [first_here.json["number"], first_there.json["number"], second_there.json["number"]] == ["1001", "1001", "1002"]
    assert first_there.json["service"]["id"] == there.service("HT01") != here.service("HT01")
    assert {s["code"] for s in client.get(f"/api/v1/services?centre={there.centre}").json} == {"HT01"}
    assert len(client.get("/api/v1/services").json) == len(here.services)
    waiting = lambda centre: {q["code"]: q["waiting"] for q in  # noqa: E731
                              client.get(f"/api/v1/display/state?centre={centre}").json["queues"]}
    assert waiting(here.centre)["HT01"] == 1 and waiting(there.centre)["HT01"] == 2
    # A service id of one centre is not a service of the other.
    refused = client.post("/api/v1/tickets", json={"service": here.service("HT02"), "centre": there.centre},
                          headers=kiosk_headers(there))
    assert refused.status_code == 404
    # A kiosk of one centre issues no tickets of the other.
    assert client.post("/api/v1/tickets", json={"service": "HT01", "centre": there.centre}).status_code == 422
    assert waiting(there.centre)["HT01"] == 2


def test_a_centre_that_does_not_exist_or_a_malformed_one_is_refused_and_changes_nothing(site):
    client, here, _, _ = site
    before = seq(client, here.centre)
    for query, status in (("centre=999", 404), ("centre=abc", 422), ("centre=-1", 422), ("centre=0", 422),
                          ("centre=99999999999", 422)):
        assert client.get(f"/api/v1/services?{query}").status_code == status, query
        assert client.post(f"/api/v1/tickets?{query}", json={"service": "HT01"}).status_code == status, query
    for body_centre in (999, "1", True, -3, 1.5):
        answer = client.post("/api/v1/tickets", json={"service": "HT01", "centre": body_centre})
        assert answer.status_code in (404, 422), body_centre
    assert seq(client, here.centre) == before


def test_a_counter_calls_only_its_own_centres_tickets(site):
    client, here, there, bearer = site
    mine = client.post("/api/v1/tickets", json={"service": "HT01", "centre": there.centre}, headers=kiosk_headers(there)).json
    client.post("/api/v1/tickets", json={"service": "HT01"})           # waits at the first centre
    lan = bearer("lan")
    assert client.post(f"/api/v1/counters/{there.counter(1)}/sign-in", headers=lan).status_code == 200
    called = client.post(f"/api/v1/counters/{there.counter(1)}/call-next", headers=lan).json["ticket"]
    assert called["id"] == mine["id"]
    assert client.post(f"/api/v1/counters/{there.counter(1)}/call-next", headers=lan,
                       json={"previous": "served"}).json["ticket"] is None
    assert client.post(f"/api/v1/counters/{here.counter(1)}/sign-in", headers=lan).status_code == 404


def test_another_centres_admin_reaches_nothing_here_even_by_id(site, db):
    client, here, there, bearer = site
    client.post("/api/v1/tickets", json={"service": "HT01"})
    stranger, before = bearer("quantri2"), seq(client, here.centre)
    service = {"code": "HT01", "name": "Đổi tên", "domain": 1, "daily_cap": None, "instant": None,
               "active": True, "position": None}
    attempts = [
        ("PUT", f"/api/v1/admin/services/{here.service('HT01')}", service),
        ("POST", f"/api/v1/services/{here.service('HT01')}/close-today", None),
        ("POST", f"/api/v1/services/{here.service('HT01')}/move-waiting", {"to_service": here.service("HT02")}),
        ("POST", f"/api/v1/admin/officers/{here.officer('an')}/password", {"password": "mat-khau-moi-123"}),
        ("POST", f"/api/v1/counters/{here.counter(1)}/end-session", None),
        ("GET", f"/api/v1/counters/{here.counter(1)}/state", None),
        ("POST", "/api/v1/kiosks/1/reprint", None),
    ]
    for method, path, body in attempts:
        answer = client.open(path, method=method, headers=stranger, json=body)
        assert answer.status_code in (403, 404), f"{method} {path}: {answer.status_code}"
        # Naming this centre does not help (counters' routes go by the counter and do not read it).
        named = client.open(f"{path}?centre={here.centre}", method=method, headers=stranger, json=body)
        assert named.status_code in (403, 404), f"{method} {path}?centre: {named.status_code}"
    assert seq(client, here.centre) == before
    with db.read() as s:
        assert s.get(Service, here.service("HT01")).name == "Đăng ký khai sinh"
    # What they do see is their own centre, whatever they ask without naming one.
    assert client.get("/api/v1/supervision", headers=stranger).json["centre"]["id"] == there.centre
    assert {s["code"] for s in client.get("/api/v1/admin/setup", headers=stranger).json["services"]} == {"HT01"}
    assert client.get("/api/v1/reports", headers=stranger).json["totals"]["issued"] == 0
    assert client.get("/api/v1/centres", headers=stranger).status_code == 403


def test_a_province_admin_looks_after_every_centre(site, db):
    client, here, there, bearer = site
    client.post("/api/v1/tickets", json={"service": "HT01"})
    client.post("/api/v1/tickets", json={"service": "CT01"})
    client.post("/api/v1/tickets", json={"service": "HT01", "centre": there.centre}, headers=kiosk_headers(there))
    province = bearer("tinh")
    listed = {c["id"]: c for c in client.get("/api/v1/centres", headers=province).json}
    assert (listed[here.centre]["issued"], listed[here.centre]["waiting"]) == (2, 2)
    assert (listed[there.centre]["issued"], listed[there.centre]["name"]) == (1, NEIGHBOUR_CENTRE["name"])
    supervised = client.get(f"/api/v1/supervision?centre={here.centre}", headers=province).json
    assert supervised["centre"]["id"] == here.centre
    setup = client.get(f"/api/v1/admin/setup?centre={here.centre}", headers=province).json
    service = next(s for s in setup["services"] if s["code"] == "HT01")
    changed = client.put(f"/api/v1/admin/services/{service['id']}?centre={here.centre}", headers=province,
                         json={"code": "HT01", "name": "Đăng ký khai sinh (trực tuyến)", "domain": service["domain"],
                               "daily_cap": None, "instant": None, "active": True, "position": None})
    assert changed.status_code == 200, changed.json
    audit = client.get(f"/api/v1/admin/audit?centre={here.centre}", headers=province).json
    assert audit[0]["officer"]["username"] == "tinh" and audit[0]["entity"] == "service"
    # Their change is this centre's business: the neighbour's own log does not show it.
    assert client.get("/api/v1/admin/audit", headers=bearer("quantri2")).json == []
    closed = client.post(f"/api/v1/services/{here.service('CT01')}/close-today?centre={here.centre}", headers=province)
    assert closed.status_code == 200


def test_a_province_account_is_nobody_a_centre_admin_can_list_edit_or_make(site, db):
    client, _, there, bearer = site
    admin = bearer("quantri2")
    with db.read() as s:
        province_id = s.scalars(select(Officer.id).where(Officer.username == "tinh")).one()
    usernames = {o["username"] for o in client.get("/api/v1/admin/setup", headers=admin).json["officers"]}
    assert usernames == {"lan", "quantri2"}
    demote = {"username": "tinh", "full_name": "Tinh", "role": "officer", "password": None, "active": False}
    assert client.put(f"/api/v1/admin/officers/{province_id}", headers=admin, json=demote).status_code == 404
    made = client.post("/api/v1/admin/officers", headers=admin,
                       json={"username": "tinh2", "full_name": "X", "role": "province", "password": "mat-khau-dai-1"})
    assert made.status_code == 422
    with db.read() as s:
        assert s.scalars(select(Officer.role).where(Officer.id == province_id)).one() == "province"
        assert s.scalars(select(Officer.id).where(Officer.username == "tinh2")).first() is None


def test_a_signed_in_officers_public_lists_are_of_their_own_centre(site):
    """The terminal's transfer dialog lists services and counters through the public API."""
    client, here, there, _ = site
    with client.session_transaction() as session:
        session["officer_id"] = there.officer("lan")
    services = client.get("/api/v1/services").json
    assert [s["id"] for s in services] == [there.service("HT01")]
    assert [c["id"] for c in client.get("/api/v1/display/state").json["counters"]] == [there.counter(1)]
    assert len(client.get(f"/api/v1/services?centre={here.centre}").json) > 1     # naming a centre still works
    with client.session_transaction() as session:
        session.clear()
    assert there.service("HT01") not in [s["id"] for s in client.get("/api/v1/services").json]


def test_admin_pages_show_the_officers_own_centre_and_the_province_admin_the_one_named(site):
    client, here, there, _ = site
    client.post("/api/v1/tickets", json={"service": "HT01", "centre": there.centre}, headers=kiosk_headers(there))
    # Signed in as the neighbouring centre's admin (the sign-in form itself is tested elsewhere).
    with client.session_transaction() as session:
        session["officer_id"] = there.officer("quantri2")
    page = client.get("/admin/reports").get_data(as_text=True)
    assert NEIGHBOUR_CENTRE["name"] in page and SMALL_CENTRE["name"] not in page
    assert client.get(f"/admin/reports?centre={here.centre}").status_code == 403
    with client.session_transaction() as session:
        session["officer_id"] = there.officer("tinh")
    centres = client.get("/admin/centres").get_data(as_text=True)
    assert SMALL_CENTRE["name"] in centres and NEIGHBOUR_CENTRE["name"] in centres
    assert f'href="/admin/settings?centre={here.centre}"' in centres
    report = client.get(f"/admin/reports?centre={here.centre}").get_data(as_text=True)
    assert SMALL_CENTRE["name"] in report and f'name="centre" value="{here.centre}"' in report
    assert f'href="/admin/audit?centre={here.centre}"' in report
    assert client.get("/admin/reports?centre=999").status_code == 404
    assert client.get("/counter").location.endswith("/admin/centres")


def test_screens_and_kiosks_hear_only_their_own_centre(tmp_path):
    server, (here, there) = start_centres(tmp_path, always_open({**SMALL_CENTRE, "displays": [{"name": "Sảnh"}]}),
                                          always_open({**NEIGHBOUR_CENTRE, "displays": [{"name": "Sảnh"}]}))
    boards = {}
    try:
        for name, ids in (("here", here), ("there", there)):
            heard = []
            board = socketio.Client(reconnection=False)
            board.on("ticket_called", heard.append)
            board.connect(server.url, transports=["websocket"])
            ack = board.call("subscribe", {"room": "display", "device": ids.displays["Sảnh"]}, timeout=10)
            assert ack["snapshot"]["centre"]["id"] == ids.centre
            boards[name] = (board, heard)
        refused = boards["here"][0].call("subscribe", {"room": "display", "device": here.displays["Sảnh"],
                                                       "centre": there.centre}, timeout=10)
        assert refused["status"] == 422
        token = server.login("lan", PASSWORD)
        assert server.post(f"/counters/{there.counter(1)}/sign-in", token).status_code == 200
        issued = server.post("/tickets", json={"service": "HT01", "centre": there.centre}, headers=kiosk_headers(there)).json()
        assert server.post("/tickets", json={"service": "HT01"}).status_code == 201
        assert server.post(f"/counters/{there.counter(1)}/call-next", token).json()["ticket"]["id"] == issued["id"]
        assert wait_for(lambda: len(boards["there"][1]) == 1)
        assert boards["there"][1][0]["counter"]["id"] == there.counter(1)
        assert f"k={there.centre}" in boards["there"][1][0]["audio"]
        audio = server.url + boards["there"][1][0]["audio"]
        wav = requests.get(audio, params={"d": there.displays["Sảnh"]}, timeout=30)
        assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
        # The other centre's display may not have it announced.
        assert requests.get(audio, params={"d": here.displays["Sảnh"]}, timeout=30).status_code == 403
        assert boards["here"][1] == []
    finally:
        for board, _ in boards.values():
            board.disconnect()
        server.stop()


def test_cli_makes_another_centre_with_its_admin_and_a_province_admin(tmp_path):
    first = hangdoi(["create-admin", "--username", "quantri", "--full-name", "Quản trị", "--password", "mat-khau-dai-1"],
                    tmp_path)
    assert first.returncode == 0 and "centre 1 created" in first.stdout
    second = hangdoi(["create-admin", "--username", "quantri2", "--full-name", "Quản trị 2", "--password",
                      "mat-khau-dai-2", "--new-centre", "Trung tâm xã Đông", "--address", "Thôn 3"], tmp_path)
    assert second.returncode == 0 and "centre 2 created" in second.stdout
    province = hangdoi(["create-admin", "--username", "tinh", "--full-name", "Sở Nội vụ", "--password",
                        "mat-khau-dai-3", "--province"], tmp_path)
    assert province.returncode == 0 and "province administrator tinh" in province.stdout
    missing = hangdoi(["create-admin", "--username", "x1", "--full-name", "X", "--password", "mat-khau-dai-4",
                       "--centre", "9"], tmp_path)
    assert missing.returncode != 0 and "no centre 9" in missing.stderr
    from hangdoi.database import Database
    db = Database(f"sqlite:///{tmp_path / 'hangdoi.sqlite3'}")
    try:
        with db.read() as s:
            rows = {o.username: (o.centre_id, o.role) for o in s.scalars(select(Officer))}
    finally:
        db.dispose()
    assert rows == {"quantri": (1, "admin"), "quantri2": (2, "admin"), "tinh": (1, "province")}


def test_a_province_admin_goes_from_the_list_of_centres_into_one_and_its_pages_stay_there(browser, tmp_path):
    from .conftest import screenshot, start_demo
    from hangdoi.database import Database
    server, first = start_demo(tmp_path, spec=always_open(SMALL_CENTRE))
    try:
        db = Database(f"sqlite:///{tmp_path / 'hangdoi.sqlite3'}")
        neighbour = build_centre(db, always_open(NEIGHBOUR_CENTRE))
        db.dispose()
        for _ in range(3):
            assert server.post("/tickets", json={"service": "HT01", "centre": neighbour.centre}, headers=kiosk_headers(neighbour)).status_code == 201
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(server.url + "/counter")
        page.fill("input[name=username]", "tinh")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/admin/centres")
        row = page.locator(f"tr[data-centre='{neighbour.centre}']")
        assert row.locator("td.num").nth(1).inner_text() == "3"      # waiting there now
        screenshot(page, "admin-centres-1366x768")
        # Into the first centre: not the one the province account hangs on.
        page.locator(f"tr[data-centre='{first.centre}']").get_by_role("link", name="Giám sát").click()
        page.wait_for_url(f"**/admin?centre={first.centre}")
        # The live view reads that centre's supervision (its API calls name it), not the home centre's.
        services = sum(len(d["services"]) for d in SMALL_CENTRE["domains"])
        page.wait_for_function(f"() => document.querySelectorAll('#services tr').length === {services}")
        assert SMALL_CENTRE["name"] in page.locator("#centre-name").inner_text()
        page.get_by_role("link", name="Cấu hình").click()
        page.wait_for_url(f"**/admin/settings?centre={first.centre}")
        page.wait_for_function("() => window.hangdoiSettings && window.hangdoiSettings.loads > 0")
        assert page.locator("#centre-name").inner_text() == SMALL_CENTRE["name"]
        page.close()
    finally:
        server.stop()
