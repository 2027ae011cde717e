"""The province's settings template: loaded at the province from a JSON file (checked as a centre's
own settings are, all or nothing), brought down the link by a centre's push process when it
changed, and the centre's admin taking the parts they choose in one audited change; holidays are
added, never removed (hangdoi/services/replication/settings_at_province.py,
hangdoi/services/administration/province_settings.py)."""
from __future__ import annotations

import json

import pytest

from hangdoi.app import create_app
from hangdoi.clock import SystemClock
from hangdoi.config import load_settings
from hangdoi.database import Database
from hangdoi.engine.errors import Invalid
from hangdoi.engine.sql import Tx
from hangdoi.services.administration import province_settings
from hangdoi.services.replication import province_documents, settings_at_province
from hangdoi.services.replication.pusher import Pusher

from .centres import PASSWORD, SMALL_CENTRE, always_open
from .conftest import build_centre, fresh_sqlite_url, screenshot, start_province
from .test_cli import hangdoi as run_cli

TEMPLATE = {"opening_hours": {"sessions": [["07:30", "11:30"], ["13:30", "17:00"]], "weekdays": [0, 1, 2, 3, 4, 5]},
            "closed_days": ["2027-01-01", "2027-02-16", "2027-02-17"],
            "settings": {"sla_minutes": 20, "booking": {"days_ahead": 14, "per_person_per_day": 1}}}


def test_the_province_loads_its_template_whole_or_not_at_all(tmp_path):
    good = tmp_path / "mau-cau-hinh.json"
    good.write_text(json.dumps(TEMPLATE), encoding="utf-8")
    loaded = run_cli(["province", "settings", str(good)], tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "opening_hours, closed_days, settings.booking, settings.sla_minutes" in loaded.stdout
    for broken, says in (
            ({**TEMPLATE, "printer": {}}, "template"),                                       # not a part
            ({"opening_hours": {"sessions": [["11:30", "07:30"]], "weekdays": [0]}}, "Giờ làm việc chưa đúng"),
            ({"opening_hours": {"sessions": [["07:30", "11:30"]], "weekdays": []}}, "ít nhất một ngày làm việc"),
            ({"closed_days": ["31/12/2027"]}, "31/12/2027"),
            ({"settings": {"printer": {"kind": "file"}}}, "máy in chưa đúng: là cài đặt riêng của từng trung tâm"),
            ({"settings": {"lobby_music": True}}, "không có cài đặt này"),
            ({"settings": {"sla_minutes": 0}}, "phải từ 1 đến 480"),
            ({"settings": {"booking": {"capacity": {"HT01": 3}}}}, "Sức chứa mỗi khung giờ chưa đúng: là cài đặt riêng"),
            ({}, "template"), ([TEMPLATE], "template")):
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(broken), encoding="utf-8")
        refused = run_cli(["province", "settings", str(bad)], tmp_path)
        assert refused.returncode != 0 and says in refused.stderr, (broken, refused.stderr)
    (tmp_path / "not.json").write_text("{opening_hours: 7}", encoding="utf-8")
    assert "not a JSON file" in run_cli(["province", "settings", str(tmp_path / "not.json")], tmp_path).stderr
    database = Database(f"sqlite:///{tmp_path / 'hangdoi.sqlite3'}", clock=SystemClock())
    try:
        kept = settings_at_province.current(database)            # the one in force is the good one
        assert kept["settings"] == TEMPLATE["settings"] and kept["closed_days"] == TEMPLATE["closed_days"]
    finally:
        database.dispose()


@pytest.fixture
def province(tmp_path, sqlite_template):
    server = start_province(tmp_path / "province-server", sqlite_template,
                            prepare=lambda setup: settings_at_province.store(setup, TEMPLATE))
    server.setup = Database(server.database_url, clock=SystemClock())
    yield server
    server.stop()
    server.setup.dispose()


@pytest.fixture
def centre_site(tmp_path, sqlite_template, province):
    (tmp_path / "centre").mkdir()
    db = Database(fresh_sqlite_url(sqlite_template, tmp_path / "centre"), clock=SystemClock())
    ids = build_centre(db, always_open({**SMALL_CENTRE, "closed_days": ["2027-01-01", "2027-04-30"],
                                        "settings": {"sla_minutes": 45, "booking": {"days_ahead": 5}}}))
    app = create_app(load_settings(env={"HANGDOI_PROVINCE_URL": province.url}, data_dir=tmp_path / "centre"), db=db)
    admin = app.test_client()
    token = admin.post("/api/v1/auth/login", json={"username": "quantri", "password": PASSWORD}).json["token"]
    admin.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    yield db, ids, admin, app
    db.dispose()


def centre_settings(db, centre_id):
    with db.read() as session:
        row = Tx(session).row("SELECT opening_hours, closed_days, settings FROM centre WHERE id = :c", c=centre_id)
    return {k: json.loads(v) if isinstance(v, str) else v for k, v in row.items()}


def test_a_centre_receives_the_template_and_takes_what_it_chooses(province, centre_site):
    db, ids, admin, app = centre_site
    pusher = Pusher(db, province.url, province.key, ids.centre)
    assert admin.get("/api/v1/admin/province-settings").json == {"linked": False, "parts": []}
    refused = admin.put("/api/v1/admin/province-settings", json={"take": ["settings.sla_minutes"]})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "province_settings_none"
    pusher.exchange_bookings()                                   # the template comes with the pull
    assert province_settings.held_fingerprint(db, ids.centre) == settings_at_province.fingerprint(province.setup)
    parts = {p["path"]: p for p in admin.get("/api/v1/admin/province-settings").json["parts"]}
    assert list(parts) == ["opening_hours", "closed_days", "settings.sla_minutes", "settings.booking.days_ahead",
                           "settings.booking.per_person_per_day"]
    assert (parts["settings.sla_minutes"]["own"], parts["settings.sla_minutes"]["province"]) == (45, 20)
    assert parts["settings.booking.per_person_per_day"]["own"] is None          # never set here: its default, 2
    assert not any(p["same"] for p in parts.values())
    before = centre_settings(db, ids.centre)

    taken = admin.put("/api/v1/admin/province-settings",
                      json={"take": ["closed_days", "settings.sla_minutes", "settings.booking.per_person_per_day"]})
    assert taken.status_code == 200 and taken.json == {"taken": 3}
    after = centre_settings(db, ids.centre)
    # Holidays added, the centre's own kept; the target and one booking rule replaced, the rest as it was.
    assert after["closed_days"] == ["2027-01-01", "2027-02-16", "2027-02-17", "2027-04-30"]
    assert after["settings"]["sla_minutes"] == 20
    assert after["settings"]["booking"] == {"days_ahead": 5, "per_person_per_day": 1}
    assert after["opening_hours"] == before["opening_hours"]
    parts = {p["path"]: p["same"] for p in admin.get("/api/v1/admin/province-settings").json["parts"]}
    assert parts == {"opening_hours": False, "closed_days": True, "settings.sla_minutes": True,
                     "settings.booking.days_ahead": False, "settings.booking.per_person_per_day": True}
    entry = admin.get("/api/v1/admin/audit?limit=1").json[0]
    assert (entry["entity"], entry["action"]) == ("centre", "update")
    assert entry["after"]["settings"]["sla_minutes"] == 20 and entry["before"]["settings"]["sla_minutes"] == 45

    # The province changes its template: the next pull brings it, and what the centre took stays its own.
    settings_at_province.store(province.setup, {**TEMPLATE, "settings": {"sla_minutes": 25}})
    pusher.exchange_bookings()
    parts = admin.get("/api/v1/admin/province-settings").json["parts"]
    assert [(p["path"], p["own"], p["province"]) for p in parts][2:] == [("settings.sla_minutes", 20, 25)]
    assert centre_settings(db, ids.centre)["settings"]["sla_minutes"] == 20

    # Odd requests change nothing.
    for body, code in (({"take": ["settings.printer"]}, "province_settings_unknown"),
                       ({"take": ["settings.booking.per_person_per_day"]}, "province_settings_unknown"),
                       ({"take": []}, "invalid_field"), ({"take": ["closed_days", "closed_days"]}, "invalid_field"),
                       ({"take": "closed_days"}, "invalid_field"), ({"take": [7]}, "invalid_field"),
                       ({"take": ["x" * 500]}, "invalid_field"), ({}, "missing_field")):
        answer = admin.put("/api/v1/admin/province-settings", json=body)
        assert answer.status_code in (409, 422) and answer.json["error"]["code"] == code, body
    officer = app.test_client()
    token = officer.post("/api/v1/auth/login", json={"username": "an", "password": PASSWORD}).json["token"]
    for method in (officer.get, officer.put):
        assert method("/api/v1/admin/province-settings", json={"take": ["settings.sla_minutes"]},
                      headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert centre_settings(db, ids.centre)["settings"]["sla_minutes"] == 20


def test_a_template_the_centre_refuses_is_not_kept_and_bookings_still_flow(province, centre_site):
    db, ids, admin, _app = centre_site
    # A province of a newer version suggests something this centre does not know: stored there as is.
    province_documents.store(province.setup, settings_at_province.TABLE, {"settings": {"lobby_music": True}})
    pusher = Pusher(db, province.url, province.key, ids.centre)
    pusher.exchange_bookings()
    assert province_settings.held_fingerprint(db, ids.centre) is None
    assert pusher._offer_sent is not None                          # the slots still went up
    for broken in ({"settings": {"printer": {}}}, {"closed_days": "2027-01-01"}, {"opening_hours": []}, [TEMPLATE],
                   {"fingerprint": "x"}):
        with pytest.raises(Invalid):
            province_settings.keep(db, ids.centre, broken)
    assert province_settings.held_fingerprint(db, ids.centre) is None
    assert province_settings.keep(db, ids.centre, {"fingerprint": "x", **TEMPLATE})
    assert not province_settings.keep(db, ids.centre, TEMPLATE)           # the same template: nothing to do


def test_the_admin_takes_the_provinces_settings_on_the_page(browser, province, tmp_path):
    from .conftest import admin_page_once_pulled, demo_linked_to
    server, _ids = demo_linked_to(province, tmp_path / "centre")
    page = admin_page_once_pulled(browser, server, "/admin/province-settings", "table.template-parts")
    try:
        assert page.locator("nav a[aria-current=page]").inner_text() == "Mẫu của tỉnh"
        rows = page.locator("table.template-parts tbody tr")
        assert rows.count() == 5
        hours = page.locator("tr[data-path='opening_hours']")
        assert "07:30–11:30, 13:30–17:00 · Thứ Hai" in hours.locator("td.province").inner_text()
        assert "Thứ Bảy" in hours.locator("td.province").inner_text()
        assert "thiếu 3 ngày của tỉnh" in page.locator("tr[data-path='closed_days'] td.province").inner_text()
        assert "30 (mặc định)" in page.locator("tr[data-path='settings.sla_minutes'] td.own").inner_text()
        assert page.locator("#count").inner_text() == "5/5 mục khác mẫu của tỉnh"
        screenshot(page, "admin-province-settings-1366x768")
        # The commune keeps its own hours: only the rest is taken.
        page.uncheck("tr[data-path='opening_hours'] input")
        page.click("#take")
        page.wait_for_function("() => window.hangdoiTemplate.taken === 1")
        assert "Đã áp dụng 4 mục." in page.inner_text("#toast")
        assert page.locator("#count").inner_text() == "1/5 mục khác mẫu của tỉnh"
        assert page.locator("tr[data-path='settings.sla_minutes'].same").count() == 1
        page.goto(f"{server.url}/admin/audit")
        assert "Mục tiêu thời gian chờ (phút): 30 (mặc định) → 20" in page.locator("table").first.inner_text()
    finally:
        page.close()
        server.stop()
