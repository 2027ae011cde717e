"""The engine speaks SQL directly on the transaction's DBAPI connection.

Why: on a centre's modest machine SQLAlchemy's ORM costs about 0.6 ms per statement and the driver
0.03 ms; a ticket takes a dozen statements, and the kiosk must answer at once under load. The
schema still comes from hangdoi/models.py and Alembic; only the engine's statements are written
here by hand, in the SQL that SQLite and PostgreSQL share (RETURNING, ON CONFLICT, partial indexes).

Statements use `:name` parameters; for psycopg they become `%(name)s`. `FOR UPDATE` clauses are
kept on PostgreSQL and dropped on SQLite, where BEGIN IMMEDIATE already holds the only write lock.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime

from hangdoi.clock import UTC

_PARAM = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")
_LOCK = re.compile(r"\s+FOR UPDATE(?: OF \w+)?(?: SKIP LOCKED)?")
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's own SQLite format, so both read each other's


class Tx:
    """One open transaction: hand-written statements plus a cache of the rows that do not change
    within it (centre, services, counters, priority categories, kiosks)."""

    _sql_cache: dict[tuple[bool, str], str] = {}

    def __init__(self, session):
        connection = session.connection()
        self._start(connection.connection.driver_connection.cursor(), connection.dialect.name == "postgresql")

    @classmethod
    def on_cursor(cls, cursor, postgres: bool = False) -> "Tx":
        """A transaction already begun on a DBAPI cursor (the SQLite writer thread's)."""
        tx = cls.__new__(cls)
        tx._start(cursor, postgres)
        return tx

    def _start(self, cursor, postgres: bool) -> None:
        self.postgres = postgres
        self.cursor = cursor
        self._rows: dict[tuple[str, int], dict | None] = {}

    # -- statements -----------------------------------------------------------------------------
    def rows(self, sql: str, **params) -> list[dict]:
        self.cursor.execute(self._dialect(sql), params)
        description = self.cursor.description   # psycopg builds it anew on every look
        if description is None:
            return []
        names = [d[0] for d in description]
        return [dict(zip(names, row, strict=True)) for row in self.cursor.fetchall()]

    def row_pieces(self, sql: str, size: int, **params) -> Iterator[list[dict]]:
        """The rows in lists of at most `size`, each made when it is asked for: a caller that lets
        other threads run between pieces never holds the interpreter for the whole result."""
        self.cursor.execute(self._dialect(sql), params)
        if self.cursor.description is None:
            return
        names = [d[0] for d in self.cursor.description]
        while piece := self.cursor.fetchmany(size):
            yield [dict(zip(names, row, strict=True)) for row in piece]

    def row(self, sql: str, **params) -> dict | None:
        found = self.rows(sql, **params)
        return found[0] if found else None

    def value(self, sql: str, **params):
        self.cursor.execute(self._dialect(sql), params)
        row = self.cursor.fetchone()
        return row[0] if row else None

    def execute(self, sql: str, **params) -> None:
        self.cursor.execute(self._dialect(sql), params)

    def execute_many(self, sql: str, params: list[dict]) -> None:
        if params:
            self.cursor.executemany(self._dialect(sql), params)

    def _dialect(self, sql: str) -> str:
        key = (self.postgres, sql)
        if key not in self._sql_cache:
            self._sql_cache[key] = (_PARAM.sub(r"%(\1)s", sql) if self.postgres else _LOCK.sub("", sql))
        return self._sql_cache[key]

    # -- values ---------------------------------------------------------------------------------
    def instant(self, value: datetime | None):
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value if self.postgres else value.replace(tzinfo=None).strftime(_SQLITE_TIME)

    def day(self, value: date):
        return value if self.postgres else value.isoformat()

    def json(self, value) -> str:
        return json.dumps(value, ensure_ascii=False)

    @staticmethod
    def read_instant(value) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @staticmethod
    def read_day(value) -> date:
        return date.fromisoformat(value) if isinstance(value, str) else value

    @staticmethod
    def read_json(value):
        if value is None:
            return None
        return json.loads(value) if isinstance(value, str) else value

    # -- rows that stay put within a transaction -------------------------------------------------
    def centre(self, centre_id: int) -> dict | None:
        return self._cached("centre", centre_id, lambda: self._centre(centre_id))

    def _centre(self, centre_id: int) -> dict | None:
        row = self.row("SELECT id, name, timezone, opening_hours, closed_days, settings FROM centre "
                       "WHERE id = :id", id=centre_id)
        if row is not None:
            for key in ("opening_hours", "closed_days", "settings"):
                row[key] = self.read_json(row[key]) or ({} if key != "closed_days" else [])
        return row

    def service(self, service_id: int) -> dict | None:
        return self._cached("service", service_id, lambda: self._service("s.id = :key", service_id))

    def service_by_code(self, centre_id: int, code: str) -> dict | None:
        key = ("service_code", (centre_id, code))
        if key in self._rows:
            service_id = self._rows[key]
            return None if service_id is None else self.service(service_id)
        row = self._service("s.code = :key AND s.centre_id = :centre", code, centre=centre_id)
        self._rows[key] = None if row is None else row["id"]
        if row is not None:
            self.remember("service", row["id"], row)
        return row

    def _service(self, where: str, key, **extra) -> dict | None:
        row = self.row(
            "SELECT s.id, s.centre_id, s.code, s.name, s.active, s.daily_cap, s.closed_on, s.series_id, "
            "r.prefix, r.first_number, r.last_number FROM service s "
            f"JOIN ticket_series r ON r.id = s.series_id WHERE {where}", key=key, **extra)
        if row is not None:
            row["active"] = bool(row["active"])
            row["closed_on"] = self.read_day(row["closed_on"]) if row["closed_on"] else None
        return row

    def counter(self, counter_id: int) -> dict | None:
        return self._cached("counter", counter_id, lambda: self.row(
            "SELECT id, centre_id, number, name FROM counter WHERE id = :id", id=counter_id))

    def priority(self, priority_id: int) -> dict | None:
        return self._cached("priority", priority_id, lambda: self.row(
            "SELECT id, code, name FROM priority_category WHERE id = :id", id=priority_id))

    def active_kiosk(self, centre_id: int, name: str) -> int | None:
        return self._cached("kiosk", (centre_id, name), lambda: self.value(
            "SELECT id FROM kiosk WHERE centre_id = :centre AND name = :name AND active = :yes",
            centre=centre_id, name=name, yes=True))

    def remember(self, kind: str, key, row: dict) -> None:
        """A row read some other way (locked, say) that a later `kind` lookup may use as it is."""
        self._rows.setdefault((kind, key), row)

    def forget(self, kind: str, key) -> None:
        """A cached row this transaction has just changed."""
        self._rows.pop((kind, key), None)

    def forget_all(self) -> None:
        self._rows.clear()

    def _cached(self, kind: str, key, load):
        if (kind, key) not in self._rows:
            self._rows[(kind, key)] = load()
        return self._rows[(kind, key)]
