"""/admin/settings: the admin's editors (centre, fields and services with import/export, counters,
officers, kiosks, displays), a script over /api/v1/admin/*; /admin/audit: who changed what."""
from __future__ import annotations

from flask import render_template, request

from hangdoi.engine.scope import administers
from hangdoi.messages import text, texts
from hangdoi.services.administration.change import audit_log
from hangdoi.web.admin.blueprint import bp, manager_or_sign_in
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import ADMIN, MANAGER, allow

ENTITY_LABELS = {"centre": "settings_tab_centre", "domain": "settings_list_domains", "service": "settings_list_services",
                 "counter": "settings_list_counters", "officer": "settings_list_officers", "kiosk": "settings_list_kiosks",
                 "display": "settings_list_displays", "catalogue": "settings_list_services"}


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


def _differences(before: dict | None, after: dict | None) -> list[tuple[str, object, object]]:
    """(field, was, now) for every field that changed; for a creation, every field."""
    before, after = before or {}, after or {}
    return [(key, before.get(key), after.get(key)) for key in dict.fromkeys([*before, *after])
            if key != "id" and before.get(key) != after.get(key)]
