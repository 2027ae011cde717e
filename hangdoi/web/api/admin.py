"""Administration through the API (the /admin/settings page uses it with its session cookie).

    GET  /admin/setup                     everything an admin edits, in one answer
    POST /admin/<kind>                    create a domain, service, counter, officer, kiosk or display
    PUT  /admin/<kind>/<id>               replace one (the whole object, as the form shows it)
    PUT  /admin/centre                    the centre's settings
    POST /admin/officers/<id>/password    reset a password
    GET  /admin/catalogue.csv|.xlsx       the service catalogue; POST /admin/catalogue imports one
    GET  /admin/province-catalogue        the province's procedures and which this centre serves;
    PUT  /admin/province-catalogue        choose them
    GET  /admin/province-settings         the province's settings template beside the centre's own
    PUT  /admin/province-settings         take the parts chosen
    GET  /admin/audit                     who changed what, newest first
    POST /services/<id>/move-waiting      a manager moves the waiting tickets to another service

Every change is validated, made in one transaction and written to the audit log.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Response, jsonify, request

from hangdoi.models import PROVINCE, ROLES
from hangdoi.services.administration import (
    catalogue_file,
    centre,
    counters,
    devices,
    officers,
    province_catalogue,
    province_settings,
    services,
)
from hangdoi.services.administration.change import ALLOWED, MAY, administer, audit_log, inspect
from hangdoi.validation import BOOL, IDS, INT, OBJ, STR, Field
from hangdoi.web.api.blueprint import api, json_body, require_id, require_manager
from hangdoi.web.api.errors import ApiError
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import ADMIN, MANAGER, allow

MAX_IMPORT_BYTES = 5 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POSITION = INT(nullable=True, minimum=0, maximum=100000, description="Order on screens; default: last")


@dataclass(frozen=True)
class Kind:
    fields: dict
    save: Callable
    summary: str


KINDS = {
    "domains": Kind({"code": STR(required=True, max_length=32), "name": STR(required=True),
                     "prefix": STR(nullable=True, max_length=8, description="Ticket number prefix, e.g. A"),
                     "first": INT(required=True, maximum=99999), "last": INT(required=True, maximum=99999),
                     "position": POSITION}, services.save_domain, "a domain (lĩnh vực) and its ticket series"),
    "services": Kind({"code": STR(required=True, max_length=32), "name": STR(required=True, max_length=300),
                      "domain": INT(required=True, description="Domain id"),
                      "daily_cap": INT(nullable=True, maximum=99999), "instant": BOOL(nullable=True),
                      "active": BOOL(nullable=True), "position": POSITION},
                     services.save_service, "a service (thủ tục)"),
    "counters": Kind({"number": INT(required=True, maximum=999), "name": STR(required=True),
                      "primary": IDS(nullable=True, max_length=500, description="Service ids served first"),
                      "backup": IDS(nullable=True, max_length=500, description="Service ids served when idle"),
                      "active": BOOL(nullable=True),
                      "hardware": OBJ(nullable=True, description="serial_port, keypad_address, led_protocol, led_address")},
                     counters.save_counter, "a counter (quầy)"),
    "officers": Kind({"username": STR(required=True, max_length=64), "full_name": STR(required=True),
                      "role": STR(required=True, max_length=16, description=" / ".join(ROLES)),
                      "password": STR(nullable=True, max_length=200, description="Required when creating"),
                      "active": BOOL(nullable=True)}, officers.save_officer, "an officer (cán bộ)"),
    "kiosks": Kind({"name": STR(required=True, max_length=64), "printer": OBJ(nullable=True),
                    "idle_seconds": INT(nullable=True, minimum=10, maximum=600), "active": BOOL(nullable=True)},
                   devices.save_kiosk, "a ticket kiosk and its printer"),
    "displays": Kind({"name": STR(required=True), "counters": IDS(nullable=True, max_length=200,
                                                                  description="Counter numbers shown; empty: all"),
                      "ticker": STR(nullable=True, max_length=300), "active": BOOL(nullable=True)},
                     devices.save_display, "a lobby display and the counters it shows"),
}
CENTRE_FIELDS = {"name": STR(required=True), "address": STR(nullable=True, max_length=300),
                 "timezone": STR(required=True, max_length=64),
                 "opening_hours": OBJ(required=True, description='{"sessions": [["07:30", "11:30"], ...], "weekdays": [0..6]}'),
                 "closed_days": Field((list,), nullable=True, max_length=366, description="YYYY-MM-DD dates"),
                 "settings": OBJ(nullable=True, description=", ".join(centre.SETTINGS))}
PASSWORD_FIELDS = {"password": STR(required=True, max_length=200)}
MOVE_FIELDS = {"to_service": INT(required=True, description="Service id the waiting tickets move to")}


@dataclass(frozen=True)
class Caller:
    officer: dict
    centre: int     # the centre acted on: the officer's own, or a province admin's `?centre=`


def _caller(role: str = ADMIN) -> Caller:
    """The signed-in officer, if their role may do this in the centre asked about; asked before the
    body is read, so that someone who may not learns nothing from the answer. The transaction
    checks again."""
    officer, centre_id = require_manager()
    if officer["role"] not in ALLOWED[role] or not MAY[role](officer, centre_id):
        raise ApiError("forbidden", 403)
    return Caller(officer, centre_id)


def _admin(caller: Caller, body, role: str = ADMIN, offer: bool = False):
    """Run an admin change. `offer`: it may change what kiosks and boards offer (a service, a field,
    a counter, the hours), so they take a fresh snapshot now, not at their next minute; an officer's
    password or sign-in is none of their business."""
    done = administer(hangdoi().db, caller.officer["id"], body, role=role, centre_id=caller.centre)
    if offer:
        hangdoi().hub.offer_changed(caller.centre)
    return done


def _read(caller: Caller, body, role: str = ADMIN):
    return inspect(hangdoi().db, caller.officer["id"], body, role=role, centre_id=caller.centre)


def _after_device_change() -> None:
    hangdoi().printing.forget()
    hangdoi().kiosk_keys.forget()


@api.post("/admin/<kind>")
@allow(ADMIN)
def create(kind: str):
    if kind not in KINDS:
        raise ApiError("not_found", 404)
    officer = _caller()
    fields = json_body(KINDS[kind].fields)
    _check_role(kind, fields)
    saved = _admin(officer, lambda change: KINDS[kind].save(change, fields), offer=kind != "officers")
    _after_device_change()
    return jsonify(saved), 201


@api.put("/admin/<kind>/<int:item_id>")
@allow(ADMIN)
def replace(kind: str, item_id: int):
    if kind not in KINDS:
        raise ApiError("not_found", 404)
    officer = _caller()
    require_id(item_id, "not_found")
    fields = json_body(KINDS[kind].fields)
    _check_role(kind, fields)
    saved = _admin(officer, lambda change: KINDS[kind].save(change, fields, item_id), offer=kind != "officers")
    _after_device_change()
    if kind == "officers" and (fields["password"] or saved["active"] is False):
        hangdoi().hub.signed_out(item_id)
    return jsonify(saved)


def _check_role(kind: str, fields: dict) -> None:
    if kind == "officers" and fields["role"] not in ROLES:
        raise ApiError("invalid_field", 422, field="role", reason="one_of", choices=", ".join(ROLES))


@api.put("/admin/centre")
@allow(ADMIN)
def save_centre():
    officer = _caller()
    fields = json_body(CENTRE_FIELDS)
    saved = _admin(officer, lambda change: centre.save_centre(change, fields), offer=True)
    _after_device_change()
    return jsonify(saved)


@api.post("/admin/officers/<int:officer_id>/password")
@allow(ADMIN)
def reset_password(officer_id: int):
    admin = _caller()
    require_id(officer_id, "officer_not_found")
    fields = json_body(PASSWORD_FIELDS)
    saved = _admin(admin, lambda change: officers.reset_password(change, officer_id, fields["password"]))
    hangdoi().hub.signed_out(officer_id)
    return jsonify(saved)


@api.post("/admin/officers/<int:officer_id>/sign-out")
@allow(MANAGER)
def sign_out_officer(officer_id: int):
    """A manager ends every sign-in of one of the centre's officers: pages, tokens, sockets, counter."""
    manager = _caller(MANAGER)
    require_id(officer_id, "officer_not_found")
    saved = _admin(manager, lambda change: officers.sign_out_officer(change, officer_id), role=MANAGER)
    hangdoi().hub.signed_out(officer_id)
    return jsonify(saved)


@api.post("/admin/officers/<int:officer_id>/unlock")
@allow(MANAGER)
def unlock_sign_in(officer_id: int):
    """A manager lets an officer sign in at once after wrong passwords slowed their sign-ins."""
    manager = _caller(MANAGER)
    require_id(officer_id, "officer_not_found")
    saved = _admin(manager, lambda change: officers.unlock_sign_in(change, officer_id), role=MANAGER)
    hangdoi().throttles.unlock(saved["username"])
    return jsonify(saved)


@api.get("/admin/setup")
@allow(ADMIN)
def setup():
    officer = _caller()

    def read(change):
        tx = change.tx
        ids = lambda table, where="": [r["id"] for r in tx.rows(  # noqa: E731
            f"SELECT id FROM {table} WHERE centre_id = :c {where} ORDER BY "
            f"{'position, ' if table in ('domain', 'service') else ''}id", c=change.centre_id, province=PROVINCE)]
        return {"centre": centre.centre_row(change),
                "domains": [services.domain_row(change, i) for i in ids("domain")],
                "services": [services.service_row(change, i) for i in ids("service")],
                "counters": [counters.counter_row(change, i) for i in ids("counter")],
                "officers": [officers.officer_row(change, i) for i in ids("officer", "AND role <> :province")],
                "kiosks": [devices.kiosk_row(change, i) for i in ids("kiosk")],
                "displays": [devices.display_row(change, i) for i in ids("display")]}
    return jsonify(_read(officer, read))


@api.get("/admin/catalogue.<fmt>")
@allow(MANAGER)
def export_catalogue(fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise ApiError("report_bad_format", 404)
    rows = _read(_caller(MANAGER), catalogue_file.catalogue_rows, role=MANAGER)
    data = catalogue_file.to_csv(rows) if fmt == "csv" else catalogue_file.to_xlsx(rows)
    return Response(data, mimetype="text/csv; charset=utf-8" if fmt == "csv" else XLSX,
                    headers={"Content-Disposition": f'attachment; filename="danh-muc-thu-tuc.{fmt}"'})


@api.post("/admin/catalogue")
@allow(ADMIN)
def import_catalogue():
    officer = _caller()
    if request.mimetype not in ("text/csv", XLSX):
        raise ApiError("wrong_content_type", 415)
    data = request.get_data(cache=False)
    if not data or len(data) > MAX_IMPORT_BYTES:
        raise ApiError("import_unreadable", 422)
    rows = catalogue_file.read_file(data, "xlsx" if request.mimetype == XLSX else "csv")
    return jsonify(_admin(officer, lambda change: catalogue_file.import_catalogue(change, rows), offer=True))


@api.get("/admin/province-catalogue")
@allow(ADMIN)
def province_catalogue_offered():
    """The province's procedures, each with whether this centre serves it and how many wait today."""
    return jsonify(_read(_caller(), lambda reading: province_catalogue.offered(reading, hangdoi().db.clock.now())))


@api.put("/admin/province-catalogue")
@allow(ADMIN)
def province_catalogue_choose():
    """Serve exactly these of the province's procedures (all or nothing)."""
    officer = _caller()
    codes = json_body({"codes": Field((list,), required=True, max_length=province_catalogue.MAX_CODES,
                                      description="The province's procedure codes this centre serves")})["codes"]
    if any(not isinstance(c, str) or not 0 < len(c) <= 32 for c in codes) or len(set(codes)) != len(codes):
        raise ApiError("invalid_field", 422, field="codes", reason="procedure codes, each once")
    return jsonify(_admin(officer, lambda change: province_catalogue.choose(change, codes), offer=True))


@api.get("/admin/province-settings")
@allow(ADMIN)
def province_settings_proposed():
    """Each part of the province's settings template beside the centre's own value (null: its default)."""
    return jsonify(_read(_caller(), province_settings.proposal))


@api.put("/admin/province-settings")
@allow(ADMIN)
def province_settings_take():
    """Take these parts of the province's template (holidays are added; anything else replaces)."""
    officer = _caller()
    paths = json_body({"take": Field((list,), required=True, max_length=200,
                                     description="Parts of the template by path, e.g. settings.sla_minutes")})["take"]
    if not paths or any(not isinstance(p, str) or not 0 < len(p) <= 60 for p in paths) or len(set(paths)) != len(paths):
        raise ApiError("invalid_field", 422, field="take", reason="parts of the template, each once")
    return jsonify(_admin(officer, lambda change: province_settings.take(change, paths), offer=True))


@api.get("/admin/audit")
@allow(MANAGER)
def audit():
    _manager, centre_id = require_manager()
    limit = request.args.get("limit", "200")
    if not limit.isdigit() or not 0 < int(limit) <= 1000:
        raise ApiError("invalid_field", 422, field="limit", reason="out_of_range", minimum=1, maximum=1000)
    return jsonify(audit_log(hangdoi().db, centre_id, int(limit)))


@api.post("/services/<int:service_id>/move-waiting")
@allow(MANAGER)
def move_waiting(service_id: int):
    manager = _caller(MANAGER)
    require_id(service_id, "service_not_found")
    fields = json_body(MOVE_FIELDS)
    return jsonify(_admin(manager, lambda change: services.move_waiting(change, service_id, fields["to_service"]),
                          role=MANAGER))
