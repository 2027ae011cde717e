"""The Alembic migrations build exactly the schema the models describe, on both databases."""
from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select, text

from hangdoi import engine
from hangdoi.database import Database
from hangdoi.models import Base, QueueLength, Ticket
from hangdoi.schema import alembic_config, current_revision, upgrade

from .centres import MONDAY_9AM, SMALL_CENTRE, always_open
from .conftest import POSTGRES_URL, build_centre, service_missing


def test_migrations_match_the_models(db_url):
    engine = create_engine(db_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == []
    assert current_revision(db_url) == "0007"


@pytest.fixture(params=["sqlite", "postgres"])
def private_db_url(request, tmp_path):
    """A database of this test's own, migrated to head: the test moves its schema up and down."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
        upgrade(url)
        yield url
        return
    schema = f"hd_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 — any failure to reach the server means "missing"
        admin.dispose()
        service_missing(f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}")
    url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_queue_lengths_are_counted_from_the_tickets_already_waiting_when_0007_arrives(private_db_url, clock):
    db = Database(private_db_url, clock=clock)
    ids = build_centre(db, always_open(SMALL_CENTRE))
    for code in ("HT01", "HT01", "HT01", "CT01", "HT02"):
        engine.issue_ticket(db, ids.centre, code)
    engine.sign_in(db, ids.counter(1), ids.officer("an"))
    engine.call_next(db, ids.counter(1), ids.officer("an"))
    db.dispose()
    command.downgrade(alembic_config(private_db_url), "0006")
    upgrade(private_db_url)
    db = Database(private_db_url, clock=clock)
    try:
        with db.read() as s:
            kept = {q.service_id: (q.waiting, q.untargeted) for q in s.scalars(select(QueueLength))}
            counted = {}
            for t in s.scalars(select(Ticket).where(Ticket.status == "waiting")):
                waiting, untargeted = counted.get(t.service_id, (0, 0))
                counted[t.service_id] = (waiting + 1, untargeted + (t.target_counter_id is None))
        assert kept == counted and sum(w for w, _ in kept.values()) == 4
        # And the triggers are back: the next ticket counts.
        engine.issue_ticket(db, ids.centre, "CT01")
        with db.read() as s:
            assert s.get(QueueLength, (ids.service("CT01"), MONDAY_9AM.date())).waiting == 2
    finally:
        db.dispose()
