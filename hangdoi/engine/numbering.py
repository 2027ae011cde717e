"""Ticket numbers: one atomic upsert per issue on a (series, local day) row; never COUNT(*)+1."""
from __future__ import annotations

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite

from ..models import ServiceDay, SeriesDay, TicketSeries
from .errors import Conflict


def _insert(session, table):
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _bump(session, table, keys: dict, column: str, first: int) -> int:
    """Insert `first`, or add one to the stored value; the row lock serialises concurrent callers."""
    stmt = _insert(session, table).values(**keys, **{column: first})
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={column: getattr(table, column) + 1}
    ).returning(getattr(table, column))
    return session.execute(stmt).scalar_one()


def next_number(session, series: TicketSeries, day: date) -> int:
    number = _bump(session, SeriesDay, {"series_id": series.id, "local_day": day},
                   "last_issued", series.first_number)
    if number > series.last_number:
        raise Conflict("series_exhausted")
    return number


def count_issue(session, service_id: int, day: date, cap: int | None) -> int:
    issued = _bump(session, ServiceDay, {"service_id": service_id, "local_day": day}, "issued", 1)
    if cap is not None and issued > cap:
        raise Conflict("daily_cap_reached")
    return issued


def display_number(series: TicketSeries, number: int) -> str:
    width = len(str(series.last_number))
    return f"{series.prefix}{number:0{width}d}"
