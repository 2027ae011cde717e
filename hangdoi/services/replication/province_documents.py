"""At a province server: a document it keeps for all its centres (its procedure catalogue, its
settings template), one row in its own table, with the SHA-256 of its canonical JSON. Each linked
centre's push process compares that fingerprint with the one it holds and fetches the document
only when they differ."""
from __future__ import annotations

import hashlib
import json

from hangdoi.engine.sql import Tx
from hangdoi.services.replication.timeline import canonical

TABLES = ("province_catalogue", "province_settings_template")


def store(db, table: str, document: dict) -> str:
    """Put the document in force; returns its fingerprint."""
    assert table in TABLES
    body = canonical(document)
    fingerprint = hashlib.sha256(body.encode()).hexdigest()
    with db.write() as session:
        tx = Tx(session)
        now = tx.instant(db.clock.now())
        if tx.value(f"SELECT id FROM {table} WHERE id = 1") is None:
            tx.execute(f"INSERT INTO {table} (id, document, fingerprint, updated_at) VALUES (1, :doc, :fp, :now)",
                       doc=body, fp=fingerprint, now=now)
        else:
            tx.execute(f"UPDATE {table} SET document = :doc, fingerprint = :fp, updated_at = :now WHERE id = 1",
                       doc=body, fp=fingerprint, now=now)
    return fingerprint


def current(db, table: str) -> dict | None:
    """{fingerprint, …the document}, or None before the province loaded one."""
    assert table in TABLES
    with db.read() as session:
        row = Tx(session).row(f"SELECT document, fingerprint FROM {table} WHERE id = 1")
    return None if row is None else {"fingerprint": row["fingerprint"], **json.loads(row["document"])}


def fingerprint(db, table: str) -> str | None:
    assert table in TABLES
    with db.read() as session:
        return Tx(session).value(f"SELECT fingerprint FROM {table} WHERE id = 1")
