"""Ticket numbers: one atomic upsert per issue on a (series, local day) row; never COUNT(*)+1."""
from __future__ import annotations

from datetime import date

from hangdoi.engine.errors import Conflict
from hangdoi.engine.sql import Tx


def _bump(tx: Tx, table: str, key_column: str, key: int, day: date, column: str, first: int) -> int:
    """Insert `first`, or add one to the stored value; the row lock serialises concurrent callers."""
    return tx.value(
        f"INSERT INTO {table} ({key_column}, local_day, {column}) VALUES (:key, :day, :first) "
        f"ON CONFLICT ({key_column}, local_day) DO UPDATE SET {column} = {table}.{column} + 1 "
        f"RETURNING {column}", key=key, day=tx.day(day), first=first)


def next_number(tx: Tx, service: dict, day: date) -> int:
    number = _bump(tx, "series_day", "series_id", service["series_id"], day, "last_issued",
                   service["first_number"])
    if number > service["last_number"]:
        raise Conflict("series_exhausted")
    return number


def count_issue(tx: Tx, service: dict, day: date, enforce: bool = True) -> int:
    issued = _bump(tx, "service_day", "service_id", service["id"], day, "issued", 1)
    if enforce and service["daily_cap"] is not None and issued > service["daily_cap"]:
        raise Conflict("daily_cap_reached")
    return issued


def display_number(service: dict, number: int) -> str:
    width = len(str(service["last_number"]))
    return f"{service['prefix']}{number:0{width}d}"
