"""Administration through the API, on SQLite and PostgreSQL: changes that work, land in the audit
log and reach the queue; bad input that is refused and changes nothing; who may do what."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from hangdoi import engine
from hangdoi.app import create_app
from hangdoi.config import load_settings

from .centres import PASSWORD, SMALL_CENTRE, always_open
from .conftest import as_kiosk, build_centre

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def ids(db):
    return build_centre(db, always_open(SMALL_CENTRE))


@pytest.fixture
def client(db, ids, tmp_path):
    return as_kiosk(create_app(load_settings(env={}, data_dir=tmp_path / "data"), db=db).test_client(), ids)


def bearer(client, username: str) -> dict:
    token = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD}).json["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(client):
    return bearer(client, "quantri")


def snapshot(client, admin) -> tuple:
    setup = client.get("/api/v1/admin/setup", headers=admin).json
    return setup, len(client.get("/api/v1/admin/audit", headers=admin).json)


def test_a_new_domain_service_and_counter_can_be_used_at_once_and_are_audited(client, admin, db, ids):
    domain = client.post("/api/v1/admin/domains", headers=admin, json={
        "code": "TP", "name": "Tư pháp", "prefix": "T", "first": 1, "last": 500})
    assert domain.status_code == 201 and domain.json["prefix"] == "T"
    service = client.post("/api/v1/admin/services", headers=admin, json={
        "code": "TP01", "name": "Cấp phiếu lý lịch tư pháp", "domain": domain.json["id"], "daily_cap": 30})
    assert service.status_code == 201
    counter = client.post("/api/v1/admin/counters", headers=admin, json={
        "number": 9, "name": "Quầy 9", "primary": [service.json["id"]],
        "hardware": {"serial_port": "/dev/ttyUSB0", "keypad_address": 9, "led_protocol": "modbus", "led_address": 9}})
    assert counter.status_code == 201 and counter.json["primary"] == [service.json["id"]]
    assert "TP01" in [s["code"] for s in client.get("/api/v1/services").json]
    ticket = client.post("/api/v1/tickets", json={"service": "TP01"})
    assert ticket.status_code == 201 and ticket.json["number"] == "T001"
    engine.sign_in(db, counter.json["id"], ids.officer("an"))
    assert engine.call_next(db, counter.json["id"], ids.officer("an"))["ticket"]["number"] == "T001"
    log = client.get("/api/v1/admin/audit", headers=admin).json
    assert [(e["entity"], e["action"]) for e in log[:3]] == [("counter", "create"), ("service", "create"),
                                                             ("domain", "create")]
    assert log[0]["officer"]["username"] == "quantri" and log[0]["before"] is None
    assert log[0]["after"]["hardware"]["led_protocol"] == "modbus"


def test_an_edit_records_before_and_after(client, admin, ids):
    body = {"code": "HT01", "name": "Đăng ký khai sinh (trực tuyến và trực tiếp)", "domain": _domain_id(client, admin, "HT"),
            "daily_cap": 50, "instant": False, "active": True}
    edited = client.put(f"/api/v1/admin/services/{ids.service('HT01')}", headers=admin, json=body)
    assert edited.status_code == 200 and edited.json["daily_cap"] == 50, edited.json
    entry = client.get("/api/v1/admin/audit", headers=admin).json[0]
    assert entry["action"] == "update" and entry["before"]["name"] == "Đăng ký khai sinh"
    assert entry["after"]["name"].endswith("trực tiếp)") and entry["before"]["daily_cap"] is None


def _domain_id(client, admin, code: str) -> int:
    return next(d["id"] for d in client.get("/api/v1/admin/setup", headers=admin).json["domains"] if d["code"] == code)


@pytest.mark.parametrize("path, method, body, status, code", [
    ("/admin/domains", "post", {"code": "HT", "name": "Trùng", "first": 1, "last": 9}, 409, "duplicate_code"),
    ("/admin/domains", "post", {"code": "MOI", "name": "Mới", "first": 1500, "last": 2500}, 409, "range_overlap"),
    ("/admin/domains", "post", {"code": "MOI", "name": "Mới", "first": 20, "last": 10}, 422, "range_invalid"),
    ("/admin/domains", "post", {"code": "MOI", "name": "Mới", "first": "1", "last": 10}, 422, "invalid_field"),
    ("/admin/counters", "post", {"number": 8, "name": "Quầy 8", "primary": [], "backup": []}, 422, "counter_needs_service"),
    ("/admin/counters", "post", {"number": 1, "name": "Quầy 1 bis", "primary": ["HT01"]}, 422, "invalid_field"),
    ("/admin/counters", "post", {"number": 8, "name": "Quầy 8", "primary": [999999]}, 404, "service_not_found"),
    ("/admin/counters", "post", {"number": 8, "name": "Q8", "primary": [1], "hardware": {"led_protocol": "x"}}, 422,
     "invalid_field"),
    ("/admin/officers", "post", {"username": "an", "full_name": "An 2", "role": "officer", "password": "12345678"}, 409,
     "duplicate_username"),
    ("/admin/officers", "post", {"username": "moi", "full_name": "Mới", "role": "officer", "password": "ngan"}, 422,
     "password_too_short"),
    ("/admin/officers", "post", {"username": "moi", "full_name": "Mới", "role": "boss", "password": "12345678"}, 422,
     "invalid_field"),
    ("/admin/kiosks", "post", {"name": "k1"}, 409, "duplicate_name"),
    ("/admin/kiosks", "post", {"name": "k9", "printer": {"transport": "fax"}}, 422, "invalid_field"),
    ("/admin/displays", "post", {"name": "Sảnh", "counters": [42]}, 404, "counter_not_found"),
    ("/admin/centre", "put", {"name": "X", "timezone": "Mars/Base", "opening_hours": {"sessions": [["07:30", "11:30"]],
                                                                                     "weekdays": [0]}}, 422, "bad_timezone"),
    ("/admin/centre", "put", {"name": "X", "timezone": "Asia/Ho_Chi_Minh", "opening_hours": {
        "sessions": [["13:30", "17:00"], ["07:30", "11:30"]], "weekdays": [0]}}, 422, "hours_order"),
    ("/admin/services", "post", {"code": "X1", "name": "X", "domain": 1, "colour": "red"}, 422, "unknown_field"),
    ("/admin/teapots", "post", {}, 404, "not_found"),
])
def test_bad_changes_are_refused_and_change_nothing(client, admin, path, method, body, status, code):
    before = snapshot(client, admin)
    answer = getattr(client, method)(f"/api/v1{path}", headers=admin, json=body)
    assert (answer.status_code, answer.json["error"]["code"]) == (status, code), answer.json
    assert " / " in answer.json["error"]["message"]
    assert snapshot(client, admin) == before


def test_a_cap_cannot_go_below_what_was_issued_today(client, admin, ids):
    for _ in range(3):
        client.post("/api/v1/tickets", json={"service": "HT01"})
    body = {"code": "HT01", "name": "Đăng ký khai sinh", "domain": _domain_id(client, admin, "HT"), "daily_cap": 2}
    answer = client.put(f"/api/v1/admin/services/{ids.service('HT01')}", headers=admin, json=body)
    assert answer.status_code == 409 and answer.json["error"]["code"] == "cap_below_issued"
    assert "(3)" in answer.json["error"]["message"]
    assert client.put(f"/api/v1/admin/services/{ids.service('HT01')}", headers=admin,
                      json={**body, "daily_cap": 3}).status_code == 200


def test_the_last_admin_stays(client, admin, ids):
    me = {"username": "quantri", "full_name": "Quantri", "role": "admin", "active": True}
    for change in ({"role": "manager"}, {"active": False}):
        answer = client.put(f"/api/v1/admin/officers/{ids.officer('quantri')}", headers=admin, json={**me, **change})
        assert answer.status_code == 409 and answer.json["error"]["code"] == "last_admin"
    second = client.post("/api/v1/admin/officers", headers=admin, json={
        "username": "quantri2", "full_name": "Quản trị 2", "role": "admin", "password": "matkhau-dai"})
    assert second.status_code == 201
    assert client.put(f"/api/v1/admin/officers/{ids.officer('quantri')}", headers=admin,
                      json={**me, "role": "manager"}).status_code == 200


def test_a_deactivated_officer_is_signed_out_everywhere(client, admin, db, ids):
    an = bearer(client, "an")
    engine.sign_in(db, ids.counter(1), ids.officer("an"))
    answer = client.put(f"/api/v1/admin/officers/{ids.officer('an')}", headers=admin,
                        json={"username": "an", "full_name": "An", "role": "officer", "active": False})
    assert answer.status_code == 200
    assert client.get("/api/v1/officers/me/today", headers=an).status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": "an", "password": PASSWORD}).status_code == 401
    assert engine.sign_in(db, ids.counter(1), ids.officer("binh"))  # the counter is free again


def test_a_password_reset_works_and_is_audited_without_the_password(client, admin, ids):
    answer = client.post(f"/api/v1/admin/officers/{ids.officer('an')}/password", headers=admin,
                         json={"password": "mat-khau-moi"})
    assert answer.status_code == 200
    assert client.post("/api/v1/auth/login", json={"username": "an", "password": "mat-khau-moi"}).status_code == 200
    entry = client.get("/api/v1/admin/audit", headers=admin).json[0]
    assert entry["action"] == "reset_password" and "mat-khau-moi" not in str(entry)


def test_centre_settings_are_saved_and_checked(client, admin):
    body = {"name": "Trung tâm mới", "address": "1 Lê Lợi", "timezone": "Asia/Ho_Chi_Minh",
            "opening_hours": {"sessions": [["07:00", "11:00"], ["13:00", "16:30"]], "weekdays": [0, 1, 2, 3, 4, 5]},
            "closed_days": ["2026-12-31"], "settings": {"sla_minutes": 20, "priority_streak_limit": 3}}
    answer = client.put("/api/v1/admin/centre", headers=admin, json=body)
    assert answer.status_code == 200 and answer.json["settings"]["sla_minutes"] == 20
    assert answer.json["settings"]["accept_outside_hours"] is True   # kept: not in this change
    assert client.get("/api/v1/supervision", headers=admin).json["sla_minutes"] == 20


def test_booking_and_sms_settings_are_saved_and_each_wrong_one_is_a_sentence(client, admin):
    body = {"name": "Trung tâm mới", "address": "1 Lê Lợi", "timezone": "Asia/Ho_Chi_Minh",
            "opening_hours": {"sessions": [["07:00", "11:00"], ["13:00", "16:30"]], "weekdays": [0, 1, 2, 3, 4]},
            "closed_days": [], "settings": {
                "booking": {"days_ahead": 3, "bookable_share": 0.4, "capacity": {"HT01": 6}, "near_minutes": 20},
                "sms": {"channel": "gsm", "port": "/dev/ttyUSB0", "ascii": True}, "elderly_age": 75}}
    answer = client.put("/api/v1/admin/centre", headers=admin, json=body)
    assert answer.status_code == 200
    assert answer.json["settings"]["booking"]["capacity"] == {"HT01": 6}
    assert answer.json["settings"]["sms"]["port"] == "/dev/ttyUSB0" and answer.json["settings"]["elderly_age"] == 75
    # Each in a sentence an administrator reads, naming the setting as the form does, not its code.
    for wrong, says in (({"booking": {"days_ahead": 90}}, "Số ngày được đặt trước chưa đúng: giá trị phải trong khoảng 0 … 30"),
                        ({"booking": {"bookable_share": 2}}, "Tỷ lệ được đặt trước chưa đúng"),
                        ({"booking": {"overbook": True}}, "Trường “settings.booking.overbook” chưa đúng: không có cài đặt này"),
                        ({"sms": {"channel": "gsm"}}, "Cổng của modem GSM chưa đúng: cần là cổng nối tiếp"),
                        ({"sms": {"channel": "http", "url": "ftp://x"}}, "Địa chỉ cổng SMS chưa đúng: cần là địa chỉ http://"),
                        ({"sms": {"channel": "pigeon"}}, "Cách gửi tin nhắn chưa đúng: chỉ nhận none, gsm, http"),
                        ({"elderly_age": 12}, "Tuổi được ưu tiên chưa đúng: phải từ 50 đến 100")):
        refused = client.put("/api/v1/admin/centre", headers=admin, json={**body, "settings": wrong})
        assert refused.status_code == 422 and says in refused.json["error"]["message"], wrong
    kept = client.get("/api/v1/admin/setup", headers=admin).json["centre"]["settings"]
    assert kept["booking"]["days_ahead"] == 3                              # a refused change changed nothing


def test_managers_move_waiting_tickets_keeping_their_order(client, db, ids):
    manager = bearer(client, "dung")
    first = client.post("/api/v1/tickets", json={"service": "HT01"}).json
    second = client.post("/api/v1/tickets", json={"service": "HT01"}).json
    moved = client.post(f"/api/v1/services/{ids.service('HT01')}/move-waiting", headers=manager,
                        json={"to_service": ids.service("CT01")})
    assert moved.status_code == 200 and moved.json == {"from": "HT01", "to": "CT01", "moved": 2}
    engine.sign_in(db, ids.counter(2), ids.officer("binh"))
    assert engine.call_next(db, ids.counter(2), ids.officer("binh"))["ticket"]["number"] == first["number"]
    assert client.get(f"/api/v1/tickets/{second['public_id']}").json["service"]["code"] == "CT01"
    same = client.post(f"/api/v1/services/{ids.service('CT01')}/move-waiting", headers=manager,
                       json={"to_service": ids.service("CT01")})
    assert same.status_code == 409


def test_who_may_do_what(client, ids):
    officer, manager = bearer(client, "an"), bearer(client, "dung")
    body = {"code": "MOI", "name": "Mới", "first": 8001, "last": 8999}
    assert client.post("/api/v1/admin/domains", json=body).status_code == 401
    assert client.post("/api/v1/admin/domains", headers=officer, json=body).status_code == 403
    assert client.post("/api/v1/admin/domains", headers=manager, json=body).status_code == 403
    assert client.get("/api/v1/admin/setup", headers=officer).status_code == 403
    assert client.get("/api/v1/admin/audit", headers=officer).status_code == 403
    assert client.get("/api/v1/admin/catalogue.csv", headers=officer).status_code == 403
    assert client.get("/api/v1/admin/catalogue.csv", headers=manager).status_code == 200
    display_key = {"Authorization": f"Bearer {ids.displays.get('x', 'not-a-token')}"}
    assert client.get("/api/v1/admin/setup", headers=display_key).status_code == 401
    assert client.post(f"/api/v1/services/{ids.service('HT01')}/move-waiting", headers=officer,
                       json={"to_service": ids.service("CT01")}).status_code == 403


# -- the catalogue as a spreadsheet ------------------------------------------------------------
def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def as_csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def test_the_catalogue_round_trips_through_csv_and_xlsx(client, admin):
    exported = csv_rows(client.get("/api/v1/admin/catalogue.csv", headers=admin).data)
    assert exported[0][:3] == ["Mã lĩnh vực", "Tên lĩnh vực", "Tiền tố số"]
    assert ["HT", "Tư pháp – Hộ tịch", "", "1001", "1999", "HT01", "Đăng ký khai sinh", "", "không", "có"] in exported
    grown = exported + [["HT", "Tư pháp – Hộ tịch", "", "1001", "1999", "HT09", "Đăng ký nhận cha, mẹ, con", "20", "", ""],
                        ["GD", "Giáo dục", "G", "1", "300", "GD01", "Chuyển trường", "", "có", "có"]]
    answer = client.post("/api/v1/admin/catalogue", headers={**admin, "Content-Type": "text/csv"}, data=as_csv(grown))
    assert answer.status_code == 200 and answer.json == {"rows": 8, "created": 2, "updated": 6, "domains": 5}
    again = csv_rows(client.get("/api/v1/admin/catalogue.csv", headers=admin).data)
    assert sorted(again) == sorted(grown[:1] + [r[:7] + [r[7], r[8] or "không", r[9] or "có"] for r in grown[1:]])
    book = client.get("/api/v1/admin/catalogue.xlsx", headers=admin)
    reimported = client.post("/api/v1/admin/catalogue", headers={**admin, "Content-Type": XLSX}, data=book.data)
    assert reimported.status_code == 200 and reimported.json["created"] == 0 and reimported.json["updated"] == 8
    assert sorted(csv_rows(client.get("/api/v1/admin/catalogue.csv", headers=admin).data)) == sorted(again)


@pytest.mark.parametrize("bad_row, where", [
    (["HT", "Tư pháp – Hộ tịch", "", "1001", "1999", "", "Không có mã", "", "", ""], "Dòng 3"),
    (["HT", "Tư pháp – Hộ tịch", "", "1001", "1999", "HT08", "Giới hạn chữ", "nhiều", "", ""], "Dòng 3"),
    (["HT", "Tên khác", "", "1001", "1999", "HT08", "Lĩnh vực lệch", "", "", ""], "Dòng 3"),
    (["GD", "Giáo dục", "", "1500", "1600", "GD01", "Dải số trùng", "", "", ""], "Dòng 3"),
    (["HT", "Tư pháp – Hộ tịch", "", "1001", "1999", "HT08", "Lấy ngay?", "", "có lẽ", ""], "Dòng 3"),
])
def test_a_bad_import_row_is_named_and_nothing_is_imported(client, admin, bad_row, where):
    header = csv_rows(client.get("/api/v1/admin/catalogue.csv", headers=admin).data)[0]
    good = ["HT", "Tư pháp – Hộ tịch", "", "1001", "1999", "HT07", "Một thủ tục tốt", "", "", ""]
    before = snapshot(client, admin)
    answer = client.post("/api/v1/admin/catalogue", headers={**admin, "Content-Type": "text/csv"},
                         data=as_csv([header, good, bad_row]))
    assert answer.status_code == 422 and answer.json["error"]["code"] == "import_row"
    assert answer.json["error"]["message"].startswith(where) and "chưa nhập dòng nào" in answer.json["error"]["message"]
    assert snapshot(client, admin) == before


def test_unreadable_or_wrongly_shaped_files_are_refused(client, admin):
    headers = {**admin, "Content-Type": "text/csv"}
    assert client.post("/api/v1/admin/catalogue", headers=headers, data=b"a,b\n1,2\n").json["error"]["code"] == "import_bad_header"
    assert client.post("/api/v1/admin/catalogue", headers={**admin, "Content-Type": XLSX},
                       data=b"not a workbook").json["error"]["code"] == "import_unreadable"
    assert client.post("/api/v1/admin/catalogue", headers={**admin, "Content-Type": "text/plain"},
                       data=b"x").status_code == 415
    empty = Workbook()
    out = io.BytesIO()
    empty.save(out)
    assert client.post("/api/v1/admin/catalogue", headers={**admin, "Content-Type": XLSX},
                       data=out.getvalue()).json["error"]["code"] == "import_bad_header"


def test_the_dashboard_estimates_a_newcomers_wait_from_open_counters(client, db, ids):
    manager = bearer(client, "dung")
    client.application.extensions["hangdoi"].estimates.min_interval = 0   # every change is read at once here
    for _ in range(3):
        client.post("/api/v1/tickets", json={"service": "HT01"})

    def estimates():
        view = client.get("/api/v1/supervision", headers=manager).json
        return {s["code"]: s["estimated_wait_minutes"] for s in view["services"]}

    assert estimates()["HT01"] is None                         # nobody is at a counter yet
    engine.sign_in(db, ids.counter(1), ids.officer("an"))      # HT primary, CT backup
    alone = estimates()
    assert 18 <= alone["HT01"] <= 34                           # three citizens of about 8 minutes each
    assert alone["CT01"] >= alone["HT01"] - 2                  # counter 1 helps with CT only after HT
    assert alone["DD01"] is None                               # no counter serves land matters
    engine.sign_in(db, ids.counter(2), ids.officer("binh"))    # CT primary, HT backup
    helped = estimates()
    assert helped["HT01"] < alone["HT01"] - 5 and helped["CT01"] == 0
    engine.pause(db, ids.counter(2), ids.officer("binh"), "break")
    assert estimates()["HT01"] > helped["HT01"]


def test_a_managers_day_actions_are_in_the_audit_log(client, db, ids, admin):
    manager = bearer(client, "dung")
    engine.sign_in(db, ids.counter(1), ids.officer("an"))
    assert client.post(f"/api/v1/services/{ids.service('HT01')}/close-today", headers=manager).status_code == 200
    assert client.post(f"/api/v1/services/{ids.service('HT01')}/reopen", headers=manager).status_code == 200
    assert client.post(f"/api/v1/counters/{ids.counter(1)}/end-session", headers=manager).status_code == 200
    assert client.post("/api/v1/close-day", headers=manager).status_code == 200
    log = client.get("/api/v1/admin/audit", headers=manager).json
    assert [(e["action"], e["officer"]["username"]) for e in log[:4]] == [
        ("close_day", "dung"), ("end_session", "dung"), ("reopen_today", "dung"), ("close_today", "dung")]
    assert log[1]["before"]["officer"] == ids.officer("an")


def test_names_with_control_characters_are_refused_and_old_ones_still_export(client, db, ids, admin):
    refused = client.post("/api/v1/admin/domains", headers=admin,
                          json={"code": "QQ", "name": "Lĩnh\u0000vực", "prefix": "Q", "first": 1, "last": 99})
    assert refused.status_code == 422 and refused.json["error"]["code"] == "invalid_field"
    # A name written before input was checked this strictly still leaves the catalogue exportable.
    with db.write() as s:
        s.execute(text("UPDATE service SET name = :n WHERE id = :id"), {"n": "Khai\u0001sinh", "id": ids.service("HT01")})
    exported = client.get("/api/v1/admin/catalogue.xlsx", headers=admin)
    assert exported.status_code == 200
    sheet = load_workbook(io.BytesIO(exported.data)).active
    assert "Khaisinh" in [cell.value for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("printer, words", [
    ({"transport": "device", "device": "/etc/passwd"},
     "Thiết bị máy in chưa đúng: cần là thiết bị máy in: /dev/usb/lpN"),
    ({"transport": "network", "host": "10.0.0.5", "port": 70000}, "Cổng máy in chưa đúng: phải từ 1 đến 65535"),
    ({"transport": "fax"}, "Kiểu kết nối máy in chưa đúng: chỉ nhận preview, network"),
    ({"transport": "preview", "width": 600}, "Khổ giấy máy in chưa đúng: chỉ nhận 384, 512, 576"),
])
def test_a_wrong_printer_setting_is_explained_in_the_admins_language(client, admin, printer, words):
    answer = client.post("/api/v1/admin/kiosks", headers=admin, json={"name": "k9", "printer": printer})
    assert answer.status_code == 422 and answer.json["error"]["code"] == "invalid_field"
    vietnamese, english = answer.json["error"]["message"].split(" / ", 1)
    assert vietnamese.startswith(words), vietnamese
    assert english.startswith("The printer") and "chưa" not in english
