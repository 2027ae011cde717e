"""At a centre linked to a province: the province's settings template as the push process brought it
(hangdoi/services/replication/settings_at_province.py), where it differs from the centre's own
settings, and the admin taking the parts they choose, in one audited change of the centre.

A part is named by its path: "opening_hours", "closed_days", "settings.sla_minutes", …,
"settings.booking.days_ahead". The province's holidays are added to the centre's own closed days,
never taking one away; every other part replaces the centre's value. Nothing is taken without the
admin: a commune may keep its Saturday morning or a target of its own.
"""
from __future__ import annotations

from dataclasses import fields

from hangdoi.engine.booking_rules import BookingRules
from hangdoi.engine.errors import Conflict, Invalid
from hangdoi.engine.hours import DEFAULT_HOURS
from hangdoi.engine.sql import Tx
from hangdoi.services.administration import province_held
from hangdoi.services.administration.centre import (
    SETTING_DEFAULTS,
    TEMPLATE_SETTINGS,
    centre_row,
    check_template,
    save_centre,
)

KIND = "settings_template"


def keep(db, centre_id: int, document) -> bool:
    """Keep the template the link brought (checked again: the link is not trusted); returns whether
    it changed."""
    template = check_template({k: v for k, v in document.items() if k != "fingerprint"}
                              if isinstance(document, dict) else document)
    return province_held.keep(db, centre_id, KIND, template)


def held_fingerprint(db, centre_id: int) -> str | None:
    return province_held.held_fingerprint(db, centre_id, KIND)


def proposal(change) -> dict:
    """Each part of the province's template beside the centre's own value (None: never set here, so
    its default is in force) and whether they already agree. `change`: a Change or a Reading."""
    template = _template(change.tx, change.centre_id)
    if template is None:
        return {"linked": False, "parts": []}
    own = centre_row(change)
    parts = []
    for path, theirs in _parts(template):
        mine = _own(own, path)
        if path == "closed_days":
            same = set(theirs) <= set(mine)
        else:
            same = (mine if mine is not None else SETTING_DEFAULTS.get(path)) == theirs
        parts.append({"path": path, "own": mine, "province": theirs, "same": same})
    return {"linked": True, "parts": parts}


def take(change, paths: list[str]) -> dict:
    """Take these parts of the province's template into the centre's settings; returns how many
    changed anything. An unknown part is refused and nothing changes."""
    template = _template(change.tx, change.centre_id)
    if template is None:
        raise Conflict("province_settings_none")
    offered = dict(_parts(template))
    unknown = [p for p in paths if p not in offered]
    if unknown:
        raise Invalid("province_settings_unknown", part=str(unknown[0])[:60])
    row = centre_row(change)
    hours, closed = row["opening_hours"] or DEFAULT_HOURS, row["closed_days"] or []
    settings, booking = {}, dict(row["settings"].get("booking") or {})
    for path in paths:
        value = offered[path]
        if path == "opening_hours":
            hours = value
        elif path == "closed_days":
            closed = sorted(set(closed) | set(value))
        elif path.startswith("settings.booking."):
            booking[path.removeprefix("settings.booking.")] = value
            settings["booking"] = booking
        else:
            settings[path.removeprefix("settings.")] = value
    before = proposal(change)["parts"]
    save_centre(change, {**row, "opening_hours": hours, "closed_days": closed, "settings": settings})
    return {"taken": sum(1 for part in before if part["path"] in paths and not part["same"])}


def _template(tx: Tx, centre_id: int) -> dict | None:
    return province_held.held(tx, centre_id, KIND)


def _parts(template: dict) -> list[tuple[str, object]]:
    """(path, value) in the order the settings editors show them."""
    parts = [(key, template[key]) for key in ("opening_hours", "closed_days") if key in template]
    settings = template.get("settings") or {}
    for key in (k for k in TEMPLATE_SETTINGS if k in settings):
        if key == "booking":
            parts += [(f"settings.booking.{f.name}", settings["booking"][f.name]) for f in fields(BookingRules)
                      if f.name in settings["booking"]]
        else:
            parts.append((f"settings.{key}", settings[key]))
    return parts


def _own(row: dict, path: str):
    if path == "opening_hours":
        return row["opening_hours"] or DEFAULT_HOURS
    if path == "closed_days":
        return row["closed_days"] or []
    if path.startswith("settings.booking."):
        return (row["settings"].get("booking") or {}).get(path.removeprefix("settings.booking."))
    return row["settings"].get(path.removeprefix("settings."))
