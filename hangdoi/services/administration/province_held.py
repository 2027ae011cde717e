"""At a centre linked to a province: a document the province keeps for its centres (its procedure
catalogue, its settings template) as the link last brought it, in the centre's province_peer row
with its SHA-256, so the push process fetches it again only when the province's fingerprint
differs. Each document is checked by its own module before it is kept."""
from __future__ import annotations

import hashlib
import json

from hangdoi.engine.sql import Tx
from hangdoi.engine.work import Work, transact

COLUMNS = {"catalogue": ("catalogue", "catalogue_fingerprint"),
           "settings_template": ("settings_template", "settings_template_fingerprint")}


def keep(db, centre_id: int, kind: str, document: dict) -> bool:
    """Keep the (checked) document; returns whether it changed."""
    column, fingerprint_column = COLUMNS[kind]
    # The province's own canonical form (sorted keys, no spaces), so both hold the same fingerprint.
    body = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    fingerprint = hashlib.sha256(body.encode()).hexdigest()

    def write(work: Work) -> bool:
        tx = work.tx
        if tx.value(f"SELECT {fingerprint_column} FROM province_peer WHERE centre_id = :c", c=centre_id) == fingerprint:
            return False
        tx.execute(f"UPDATE province_peer SET {column} = :doc, {fingerprint_column} = :fp WHERE centre_id = :c",
                   doc=body, fp=fingerprint, c=centre_id)
        return True

    return transact(db, write)


def held_fingerprint(db, centre_id: int, kind: str) -> str | None:
    with db.read() as session:
        return Tx(session).value(f"SELECT {COLUMNS[kind][1]} FROM province_peer WHERE centre_id = :c", c=centre_id)


def held(tx: Tx, centre_id: int, kind: str) -> dict | None:
    raw = tx.value(f"SELECT {COLUMNS[kind][0]} FROM province_peer WHERE centre_id = :c", c=centre_id)
    return None if raw is None else json.loads(raw)
