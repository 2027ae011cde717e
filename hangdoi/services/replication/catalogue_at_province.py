"""At a province server: its procedure catalogue, one list for every centre (Decree 118/2025: a
citizen may file any procedure at any centre of the province). The province loads it from the
same spreadsheet a centre imports (hangdoi/services/administration/catalogue_file.py); each linked
centre's push process brings it down when its fingerprint changed, and the centre's admin chooses
which of its procedures the centre serves (hangdoi/services/administration/province_catalogue.py).

A file with any wrong row is refused whole, naming the row; the list in force stays as it was.
"""
from __future__ import annotations

from hangdoi.services.administration.catalogue_file import parsed_rows
from hangdoi.services.replication import province_documents

TABLE = "province_catalogue"


def document_of(rows: list[list[str]]) -> dict:
    """The catalogue in a spreadsheet's rows (header first) as the document centres receive."""
    parsed, domains = parsed_rows(rows)
    return {"domains": [{"code": code, "name": d["name"], "prefix": d["prefix"], "first": d["first"],
                         "last": d["last"]} for code, (_n, d) in domains.items()],
            "services": [{"code": row["service"]["code"], "name": row["service"]["name"],
                          "domain": row["domain"]["code"]} for _n, row in parsed if row["service"]["active"]]}


def store(db, document: dict) -> str:
    """Put the catalogue in force; returns its fingerprint."""
    return province_documents.store(db, TABLE, document)


def current(db) -> dict | None:
    """{fingerprint, domains, services}, or None before the province loaded one."""
    return province_documents.current(db, TABLE)


def fingerprint(db) -> str | None:
    return province_documents.fingerprint(db, TABLE)
