"""The province's procedure catalogue: loaded at the province from a spreadsheet (all or nothing),
brought down the link by a centre's push process when it changed, and the centre's admin choosing
which procedures the centre serves; stopping one that citizens wait for is refused whole
(hangdoi/services/replication/catalogue_at_province.py, hangdoi/services/administration/province_catalogue.py)."""
from __future__ import annotations

import pytest

from hangdoi import engine
from hangdoi.app import create_app
from hangdoi.clock import SystemClock
from hangdoi.config import load_settings
from hangdoi.database import Database
from hangdoi.engine.errors import Invalid
from hangdoi.engine.sql import Tx
from hangdoi.services.administration import province_catalogue
from hangdoi.services.administration.catalogue_file import HEADERS
from hangdoi.services.replication import catalogue_at_province
from hangdoi.services.replication.pusher import Pusher

from .centres import PASSWORD, SMALL_CENTRE, always_open
from .conftest import build_centre, fresh_sqlite_url, kiosk_headers, screenshot, start_province
from .test_cli import hangdoi as run_cli

ROWS = [HEADERS,
        ["HT", "Tư pháp – Hộ tịch", "", "1001", "1999", "HT01", "Đăng ký khai sinh", "", "", "có"],
        ["HT", "Tư pháp – Hộ tịch", "", "1001", "1999", "HT05", "Đăng ký khai tử", "", "", "có"],
        ["LD", "Lao động – Thương binh và Xã hội", "L", "1", "999", "LD01", "Xác nhận hộ nghèo", "", "", ""],
        ["LD", "Lao động – Thương binh và Xã hội", "L", "1", "999", "LD09", "Thủ tục đã bãi bỏ", "", "", "không"]]


def csv_of(rows) -> bytes:
    return "\n".join(",".join(f'"{c}"' for c in row) for row in rows).encode("utf-8-sig")


def test_the_province_loads_its_catalogue_whole_or_not_at_all(tmp_path):
    good = tmp_path / "danh-muc.csv"
    good.write_bytes(csv_of(ROWS))
    assert "up to date" in run_cli(["db", "upgrade"], tmp_path).stdout
    loaded = run_cli(["province", "catalogue", str(good)], tmp_path)
    assert loaded.returncode == 0 and "2 fields, 3 procedures" in loaded.stdout, loaded.stderr
    for broken, says in (
            ([["Mã", "Tên"], *ROWS[1:]], "Mã lĩnh vực"),                                  # not the columns
            ([*ROWS, ROWS[1]], "lặp lại"),                                                   # a code twice
            ([*ROWS, ["HT", "Hộ tịch khác", "", "1001", "1999", "HT07", "X", "", "", ""]], "khác với dòng"),
            ([*ROWS, ["HT", "Tư pháp – Hộ tịch", "", "1001", "1999", "", "Không mã", "", "", ""]], "Mã thủ tục")):
        bad = tmp_path / "bad.csv"
        bad.write_bytes(csv_of(broken))
        refused = run_cli(["province", "catalogue", str(bad)], tmp_path)
        assert refused.returncode != 0 and says in refused.stderr, (says, refused.stderr)
    database = Database(f"sqlite:///{tmp_path / 'hangdoi.sqlite3'}", clock=SystemClock())
    try:
        kept = catalogue_at_province.current(database)       # the list in force is the good one
        assert [s["code"] for s in kept["services"]] == ["HT01", "HT05", "LD01"]   # withdrawn ones are not in it
        assert kept["domains"][1] == {"code": "LD", "name": "Lao động – Thương binh và Xã hội", "prefix": "L",
                                      "first": 1, "last": 999}
    finally:
        database.dispose()


@pytest.fixture
def province(tmp_path, sqlite_template):
    server = start_province(tmp_path / "province-server", sqlite_template, prepare=lambda setup: (
        catalogue_at_province.store(setup, catalogue_at_province.document_of(ROWS))))
    server.setup = Database(server.database_url, clock=SystemClock())
    yield server
    server.stop()
    server.setup.dispose()


@pytest.fixture
def centre_site(tmp_path, sqlite_template, province):
    (tmp_path / "centre").mkdir()
    db = Database(fresh_sqlite_url(sqlite_template, tmp_path / "centre"), clock=SystemClock())
    ids = build_centre(db, always_open(SMALL_CENTRE))
    app = create_app(load_settings(env={"HANGDOI_PROVINCE_URL": province.url}, data_dir=tmp_path / "centre"), db=db)
    admin = app.test_client()
    token = admin.post("/api/v1/auth/login", json={"username": "quantri", "password": PASSWORD}).json["token"]
    admin.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    yield db, ids, admin, app
    db.dispose()


def services(db, centre_id):
    with db.read() as session:
        return {r["code"]: (r["name"], bool(r["active"])) for r in Tx(session).rows(
            "SELECT code, name, active FROM service WHERE centre_id = :c", c=centre_id)}


def test_a_centre_receives_the_catalogue_and_chooses_what_it_serves(province, centre_site):
    db, ids, admin, app = centre_site
    pusher = Pusher(db, province.url, province.key, ids.centre)
    assert admin.get("/api/v1/admin/province-catalogue").json["linked"] is False
    pusher.exchange_bookings()                                       # the catalogue comes with the pull
    assert province_catalogue.held_fingerprint(db, ids.centre) == catalogue_at_province.fingerprint(province.setup)
    offered = admin.get("/api/v1/admin/province-catalogue").json
    assert [(d["code"], [(s["code"], s["served"]) for s in d["services"]]) for d in offered["domains"]] == [
        ("HT", [("HT01", True), ("HT05", False)]), ("LD", [("LD01", False)])]
    assert {s["code"] for s in offered["own_only"]} == {"HT02", "CT01", "DD01", "XD01"}   # its own, left alone

    chosen = admin.put("/api/v1/admin/province-catalogue", json={"codes": ["HT01", "HT05", "LD01"]})
    assert chosen.status_code == 200 and chosen.json == {"added": 2, "renamed": 0, "stopped": 0}
    have = services(db, ids.centre)
    assert have["HT05"] == ("Đăng ký khai tử", True) and have["LD01"] == ("Xác nhận hộ nghèo", True)
    assert have["CT01"] == ("Chứng thực bản sao", True)
    # The kiosk takes numbers for it, in the new field's own series.
    ticket = app.test_client().post("/api/v1/tickets", json={"service": "LD01"}, headers=kiosk_headers(ids))
    assert ticket.status_code == 201 and ticket.json["number"] == "L001"

    # Stopping a procedure someone waits for: refused whole, nothing changed, the waiting say so.
    refused = admin.put("/api/v1/admin/province-catalogue", json={"codes": ["HT01"]})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "province_catalogue_waiting"
    assert "LD01" in refused.json["error"]["message"] and "1" in refused.json["error"]["message"]
    assert services(db, ids.centre) == have
    assert admin.get("/api/v1/admin/province-catalogue").json["domains"][1]["services"][0]["waiting"] == 1
    # With nobody waiting for it any more, it stops; the province renames another, and the centre takes the name.
    engine.close_day(db, ids.centre)
    stopped = admin.put("/api/v1/admin/province-catalogue", json={"codes": ["HT01", "HT05"]})
    assert stopped.json == {"added": 0, "renamed": 0, "stopped": 1}
    renamed = [ROWS[0], [*ROWS[1][:6], "Đăng ký khai sinh (bản điện tử)", *ROWS[1][7:]], *ROWS[2:]]
    catalogue_at_province.store(province.setup, catalogue_at_province.document_of(renamed))
    pusher.exchange_bookings()
    shown = admin.get("/api/v1/admin/province-catalogue").json["domains"][0]["services"][0]
    assert shown["name"] == "Đăng ký khai sinh (bản điện tử)" and shown["own_name"] == "Đăng ký khai sinh"
    assert admin.put("/api/v1/admin/province-catalogue", json={"codes": ["HT01", "HT05"]}).json["renamed"] == 1
    assert services(db, ids.centre)["HT01"] == ("Đăng ký khai sinh (bản điện tử)", True)
    assert services(db, ids.centre)["LD01"] == ("Xác nhận hộ nghèo", False)
    # Odd choices change nothing.
    for body, code in (({"codes": ["ZZ99"]}, "province_catalogue_unknown"), ({"codes": ["HT01", "HT01"]}, "invalid_field"),
                       ({"codes": "HT01"}, "invalid_field"), ({"codes": [1]}, "invalid_field"), ({}, "missing_field")):
        answer = admin.put("/api/v1/admin/province-catalogue", json=body)
        assert answer.status_code in (409, 422) and answer.json["error"]["code"] == code, body
    officer = app.test_client()
    token = officer.post("/api/v1/auth/login", json={"username": "an", "password": PASSWORD}).json["token"]
    assert officer.put("/api/v1/admin/province-catalogue", json={"codes": []},
                       headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert services(db, ids.centre)["HT01"] == ("Đăng ký khai sinh (bản điện tử)", True)


def test_a_centre_catalogue_that_comes_broken_is_not_kept(db, centre):
    from hangdoi.engine.bookings_from_province import learn
    from hangdoi.engine import signatures
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    learn(db, centre.centre, 1, signatures.public_text(Ed25519PrivateKey.generate()))
    document = catalogue_at_province.document_of(ROWS)
    for broken in ({**document, "services": [{**document["services"][0], "domain": "ZZ"}]},
                   {**document, "domains": "all"}, {"services": []}, [document]):
        with pytest.raises(Invalid):
            province_catalogue.keep(db, centre.centre, broken)
    assert province_catalogue.held_fingerprint(db, centre.centre) is None
    assert province_catalogue.keep(db, centre.centre, {"fingerprint": "x", **document})
    assert not province_catalogue.keep(db, centre.centre, document)         # the same list: nothing to do


def test_the_admin_ticks_the_provinces_procedures_on_the_page(browser, province, tmp_path):
    from .conftest import admin_page_once_pulled, demo_linked_to
    server, _ids = demo_linked_to(province, tmp_path / "centre")
    page = admin_page_once_pulled(browser, server, "/admin/province-catalogue", "#choice")
    try:
        page.wait_for_selector("#choice .catalogue-item")
        assert page.locator("nav a[aria-current=page]").inner_text() == "Danh mục của tỉnh"
        # The demo centre serves all three under names of its own: saving takes the province's.
        assert page.locator(".catalogue-item small").count() == 2
        screenshot(page, "admin-province-catalogue-1366x768")
        page.click("#save")
        page.wait_for_function("() => window.hangdoiCatalogue.saved === 1")
        assert "cập nhật 2" in page.inner_text("#toast")
    finally:
        page.close()
        server.stop()
