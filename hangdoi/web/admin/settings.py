"""/admin/settings: the admin's editors (centre, fields and services with import/export, counters,
officers, kiosks, displays), a script over /api/v1/admin/*; /admin/audit: who changed what."""
from __future__ import annotations

import re

from flask import render_template, request

from hangdoi.engine.scope import administers
from hangdoi.messages import MESSAGES, field_name, text, texts
from hangdoi.services.administration.centre import SETTING_DEFAULTS
from hangdoi.services.administration.change import audit_log
from hangdoi.services.reports import export
from hangdoi.web.admin.blueprint import bp, manager_or_sign_in
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import ADMIN, MANAGER, allow

ENTITY_LABELS = {"centre": "settings_tab_centre", "domain": "settings_list_domains", "service": "settings_list_services",
                 "counter": "settings_list_counters", "officer": "settings_list_officers", "kiosk": "settings_list_kiosks",
                 "display": "settings_list_displays", "catalogue": "settings_list_services",
                 "province_booking": "audit_entity_province_number"}


@bp.get("/admin/settings")
@allow(ADMIN)
def settings_page():
    officer, centre_id, refusal = manager_or_sign_in(request.full_path.rstrip("?"))
    if refusal is not None:
        return refusal
    if not administers(officer, centre_id):
        return render_template("counter/sign_in.html", t=text, title="settings_title", next="/admin/settings",
                               error="forbidden"), 403
    return render_template("admin/settings.html", t=text, officer=officer,
                           labels={**texts("settings_"), "forbidden": text("forbidden")})


@bp.get("/admin/audit")
@allow(MANAGER)
def audit_page():
    officer, centre_id, refusal = manager_or_sign_in(request.full_path.rstrip("?"))
    if refusal is not None:
        return refusal
    entries = audit_log(hangdoi().db, centre_id, limit=300)
    for entry in entries:
        entry["changes"] = _differences(entry["before"], entry["after"])
    return render_template("admin/audit.html", t=text, officer=officer, entries=entries, entity_labels=ENTITY_LABELS)


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

# A changed field in words a manager reads (the settings editors' own labels); a setting inside
# the centre's settings or hours is named by its path.
FIELD_LABELS = {
    "name": "settings_name", "code": "settings_code", "address": "settings_centre_address",
    "timezone": "settings_timezone", "prefix": "settings_prefix", "first": "settings_first", "last": "settings_last",
    "domain": "settings_domain", "daily_cap": "settings_daily_cap", "instant": "settings_instant",
    "active": "settings_active", "number": "settings_number", "primary": "settings_primary",
    "backup": "settings_backup", "username": "settings_username", "full_name": "settings_full_name",
    "role": "settings_role", "printer": "settings_printer", "counters": "settings_counters_shown",
    "ticker": "settings_ticker", "closed_days": "audit_field_closed_days",
    "opening_hours.weekdays": "settings_weekdays", "opening_hours.sessions": "audit_field_sessions",
    "settings.sla_minutes": "settings_sla", "settings.priority_streak_limit": "settings_streak",
    "settings.ticker": "settings_ticker", "settings.accept_outside_hours": "settings_outside_hours",
    "settings.personal_data": "settings_personal_data", "settings.personal_data_days": "settings_personal_data_days",
    "public_id": "audit_field_public_id", "service": "audit_field_service", "reason": "audit_field_reason",
}


def _differences(before: dict | None, after: dict | None) -> list[tuple[str, object, object]]:
    """(field, was, now) for every field that changed, in words: nested settings are compared
    setting by setting (a change of one showed the whole settings object), and values are shown
    as a person writes them. A centre setting not set before shows the default then in force.
    For a creation, every field."""
    flat_before, flat_after = _flatten(before or {}), _flatten(after or {})
    if before is not None:         # a setting nobody had set was its default
        flat_before = {**{k: v for k, v in SETTING_DEFAULTS.items() if k in flat_after}, **flat_before}
    return [(label_of(key), _was(key, flat_before, before), _now(key, flat_after.get(key)))
            for key in dict.fromkeys([*flat_before, *flat_after])
            if key != "id" and words(flat_before.get(key)) != words(flat_after.get(key))]


def _now(key: str, value) -> str:
    # Why something was refused is kept as its message's code; a manager reads the message.
    if key == "reason" and isinstance(value, str) and value in MESSAGES:
        try:
            return text(value)
        except (KeyError, IndexError):
            return value
    return words(value)


def label_of(key: str) -> str:
    """A field or a setting by its path, as the settings editors name it."""
    return text(FIELD_LABELS[key]) if key in FIELD_LABELS else field_name(key, 0)


def _was(key: str, flat_before: dict, before: dict | None) -> str:
    if key in SETTING_DEFAULTS and before is not None and key not in _flatten(before):
        return text("audit_default", value=words(SETTING_DEFAULTS[key]))
    return words(flat_before.get(key))


def _flatten(values: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name in ("settings", "opening_hours", "hardware", "options",
                                                "settings.booking", "settings.sms"):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def words(value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return text("audit_yes") if value else text("audit_no")
    if isinstance(value, list):
        return ", ".join("–".join(map(str, v)) if isinstance(v, list) else words(v) for v in value)
    if isinstance(value, str) and ISO_DAY.fullmatch(value):
        return export.vn_date(value)                           # 2026-09-02 → 02/09/2026
    if isinstance(value, dict):
        return ", ".join(f"{k}: {words(v)}" for k, v in value.items())
    return str(value)
