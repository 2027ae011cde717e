"""What a centre's figures are named by, as it sends them to its province: its name, time zone and
wait target, its fields and procedures (with their codes, which the province groups by across
centres), counters and officers.

The timeline carries ids; this says what they are. It is state, not a log: the centre sends the
whole of it (a few hundred lines) when it differs from what it last sent, and the province keeps
the latest (hangdoi/services/replication/ingest.py: store_reference).
"""
from __future__ import annotations

import hashlib

from hangdoi.engine import state
from hangdoi.engine.errors import Invalid
from hangdoi.engine.sql import Tx
from hangdoi.services.replication.timeline import canonical

MAX_ITEMS = 5000            # per list; a centre has hundreds of procedures, not thousands
FIELDS = {"domains": ("id", "code", "name", "position"),
          "services": ("id", "code", "name", "domain", "position"),
          "counters": ("id", "number", "name"),
          "officers": ("id", "username", "full_name")}


def reference(tx: Tx, centre_id: int) -> dict:
    centre = tx.centre(centre_id)
    return {
        "centre": {"id": centre_id, "name": centre["name"], "timezone": centre["timezone"],
                   "sla_minutes": int(centre["settings"].get("sla_minutes", state.SLA_MINUTES))},
        "domains": tx.rows("SELECT id, code, name, position FROM domain WHERE centre_id = :c ORDER BY id", c=centre_id),
        "services": tx.rows("SELECT id, code, name, domain_id AS domain, position FROM service WHERE centre_id = :c "
                            "ORDER BY id", c=centre_id),
        "counters": tx.rows("SELECT id, number, name FROM counter WHERE centre_id = :c ORDER BY id", c=centre_id),
        "officers": tx.rows("SELECT id, username, full_name FROM officer WHERE centre_id = :c ORDER BY id",
                            c=centre_id),
    }


def fingerprint(document: dict) -> str:
    return hashlib.sha256(canonical(document).encode()).hexdigest()


def check(payload) -> dict:
    """A reference document's shape, checked whole (422 naming the first thing wrong)."""
    if not isinstance(payload, dict) or set(payload) != {"centre", *FIELDS}:
        raise Invalid("invalid_reference", reason=f"an object with centre, {', '.join(FIELDS)}")
    centre = payload["centre"]
    if not (isinstance(centre, dict) and type(centre.get("id")) is int and _text(centre.get("name"))
            and _text(centre.get("timezone")) and type(centre.get("sla_minutes")) is int
            and 0 < centre["sla_minutes"] <= 24 * 60):
        raise Invalid("invalid_reference", reason="centre: id, name, timezone, sla_minutes")
    for name, keys in FIELDS.items():
        items = payload[name]
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise Invalid("invalid_reference", reason=f"{name}: a list of at most {MAX_ITEMS}")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or set(item) != set(keys) or type(item["id"]) is not int:
                raise Invalid("invalid_reference", reason=f"{name} {i}: {', '.join(keys)}")
            for key in keys[1:]:
                value = item[key]
                if not (type(value) is int or _text(value)):
                    raise Invalid("invalid_reference", reason=f"{name} {i}: {key}")
    return payload


def _text(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 300
