"""/admin/province-settings: at a centre linked to its province, the province's settings template
beside the centre's own settings, and the admin taking the parts they choose
(hangdoi/services/administration/province_settings.py; taken through the API)."""
from __future__ import annotations

from flask import render_template, request

from hangdoi.engine.scope import administers
from hangdoi.messages import text, texts
from hangdoi.services.administration import province_settings
from hangdoi.services.administration.centre import SETTING_DEFAULTS
from hangdoi.services.administration.change import inspect
from hangdoi.services.reports.export import vn_date
from hangdoi.web.admin.blueprint import bp, manager_or_sign_in
from hangdoi.web.admin.settings import label_of, words
from hangdoi.web.context import hangdoi
from hangdoi.web.permissions import ADMIN, allow


@bp.get("/admin/province-settings")
@allow(ADMIN)
def province_settings_page():
    officer, centre_id, refusal = manager_or_sign_in(request.full_path.rstrip("?"))
    if refusal is not None:
        return refusal
    if not administers(officer, centre_id):
        return render_template("counter/sign_in.html", t=text, title="template_title",
                               next="/admin/province-settings", error="forbidden"), 403
    proposed = inspect(hangdoi().db, officer["id"], province_settings.proposal, centre_id=centre_id)
    parts = [{**part, "label": _label(part["path"]), "own_text": _shown(part["path"], part["own"]),
              "province_text": _shown(part["path"], part["province"]),
              "missing": sorted(set(part["province"]) - set(part["own"])) if part["path"] == "closed_days" else []}
             for part in proposed["parts"]]
    return render_template("admin/province_settings.html", t=text, officer=officer, linked=proposed["linked"],
                           parts=parts, labels=texts("template_"))


def _label(path: str) -> str:
    if path == "opening_hours":
        return text("audit_field_sessions")
    return label_of(path)


def _shown(path: str, value) -> str:
    """A part's value as the settings editors show it; a setting never set shows its default."""
    if value is None:
        return text("audit_default", value=words(SETTING_DEFAULTS.get(path)))
    if path == "opening_hours":
        days = ", ".join(text(f"settings_weekday_{d}") for d in value["weekdays"])
        return f"{words(value['sessions'])} · {days}"
    if path == "closed_days":
        return ", ".join(vn_date(day) for day in value) or "—"
    return words(value)
