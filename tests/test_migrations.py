"""The Alembic migrations build exactly the schema the models describe, on both databases."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from hangdoi import engine
from hangdoi.database import Database
from hangdoi.models import Base, QueueLength
from hangdoi.schema import alembic_config, current_revision, upgrade

from .centres import MONDAY_9AM, SMALL_CENTRE, always_open
from .conftest import build_centre, private_postgres_schema, queue_lengths


def test_migrations_match_the_models(db_url):
    engine = create_engine(db_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == []
    assert current_revision(db_url) == "0018"


@pytest.fixture(params=["sqlite", "postgres"])
def private_db_url(request, tmp_path):
    """A database of this test's own, migrated to head: the test moves its schema up and down."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
        upgrade(url)
        yield url
    else:
        with private_postgres_schema("hd_mig") as url:
            yield url


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
            kept, counted = queue_lengths(s)
        assert kept == counted and sum(w for w, _ in kept.values()) == 4
        # And the triggers are back: the next ticket counts.
        engine.issue_ticket(db, ids.centre, "CT01")
        with db.read() as s:
            assert s.get(QueueLength, (ids.service("CT01"), MONDAY_9AM.date())).waiting == 2
    finally:
        db.dispose()
