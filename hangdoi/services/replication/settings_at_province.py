"""At a province server: the settings it suggests to all its centres, one template (opening hours,
the year's holidays, the waiting target, booking rules: what a province sets the same for its
communes). The province loads it from a JSON file (`hangdoi province settings FILE`), checked as a
centre checks its own settings, all or nothing; each linked centre's push process brings it down
when its fingerprint changed, and the centre's admin takes what they choose of it
(hangdoi/services/administration/province_settings.py).
"""
from __future__ import annotations

from hangdoi.services.administration.centre import check_template
from hangdoi.services.replication import province_documents

TABLE = "province_settings_template"


def store(db, template: dict) -> str:
    """Check and put the template in force; returns its fingerprint. Invalid leaves the one in force."""
    return province_documents.store(db, TABLE, check_template(template))


def current(db) -> dict | None:
    """{fingerprint, …the template}, or None before the province loaded one."""
    return province_documents.current(db, TABLE)


def fingerprint(db) -> str | None:
    return province_documents.fingerprint(db, TABLE)
