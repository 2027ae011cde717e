"""At a province server: its procedure catalogue, one list for every centre (Decree 118/2025: a
citizen may file any procedure at any centre of the province). The province loads it from the
same spreadsheet a centre imports (hangdoi/services/administration/catalogue_file.py); each linked
centre's push process brings it down when its fingerprint changed, and the centre's admin chooses
which of its procedures the centre serves (hangdoi/services/administration/province_catalogue.py).

A file with any wrong row is refused whole, naming the row; the list in force stays as it was.
"""
from __future__ import annotations

import hashlib
import json

from hangdoi.engine.sql import Tx
from hangdoi.services.administration.catalogue_file import parsed_rows
from hangdoi.services.replication.timeline import canonical


def document_of(rows: list[list[str]]) -> dict:
    """The catalogue in a spreadsheet's rows (header first) as the document centres receive."""
    parsed, domains = parsed_rows(rows)
    return {"domains": [{"code": code, "name": d["name"], "prefix": d["prefix"], "first": d["first"],
                         "last": d["last"]} for code, (_n, d) in domains.items()],
            "services": [{"code": row["service"]["code"], "name": row["service"]["name"],
                          "domain": row["domain"]["code"]} for _n, row in parsed if row["service"]["active"]]}


def store(db, document: dict) -> str:
    """Put the catalogue in force; returns its fingerprint."""
    body = canonical(document)
    fingerprint = hashlib.sha256(body.encode()).hexdigest()
    with db.write() as session:
        tx = Tx(session)
        now = tx.instant(db.clock.now())
        if tx.value("SELECT id FROM province_catalogue WHERE id = 1") is None:
            tx.execute("INSERT INTO province_catalogue (id, document, fingerprint, updated_at) "
                       "VALUES (1, :doc, :fp, :now)", doc=body, fp=fingerprint, now=now)
        else:
            tx.execute("UPDATE province_catalogue SET document = :doc, fingerprint = :fp, updated_at = :now "
                       "WHERE id = 1", doc=body, fp=fingerprint, now=now)
    return fingerprint


def current(db) -> dict | None:
    """{fingerprint, domains, services}, or None before the province loaded one."""
    with db.read() as session:
        row = Tx(session).row("SELECT document, fingerprint FROM province_catalogue WHERE id = 1")
    return None if row is None else {"fingerprint": row["fingerprint"], **json.loads(row["document"])}


def fingerprint(db) -> str | None:
    with db.read() as session:
        return Tx(session).value("SELECT fingerprint FROM province_catalogue WHERE id = 1")
