"""The PostgreSQL connection pool: a connection is checked before use only after it has rested."""
from __future__ import annotations

import time
import uuid

import psycopg
import pytest
from sqlalchemy import create_engine, text

from hangdoi import database, engine
from hangdoi.clock import FixedClock
from hangdoi.database import Database

from .centres import MONDAY_9AM
from .conftest import POSTGRES_URL, build_centre, truncate_postgres


@pytest.fixture
def named_postgres(postgres_schema_url):
    """A Database whose connections carry a name of their own, so the server can drop just them."""
    truncate_postgres(postgres_schema_url)
    name = f"hd_pool_{uuid.uuid4().hex[:8]}"
    db = Database(f"{postgres_schema_url}&application_name={name}", clock=FixedClock(MONDAY_9AM))
    yield db, name
    db.dispose()


def drop_connections(application_name: str) -> int:
    """What a server restart does to the pool's connections, seen from the pool."""
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        dropped = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE application_name = :name"), {"name": application_name}).scalar()
    admin.dispose()
    return dropped


def test_a_connection_the_server_dropped_while_it_rested_is_replaced(named_postgres, monkeypatch):
    db, name = named_postgres
    ids = build_centre(db)
    engine.issue_ticket(db, ids.centre, "HT01")
    assert drop_connections(name) >= 1
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.05)
    time.sleep(0.1)

    with db.read() as session:     # a read is not run again: only the check saves it
        waiting = session.execute(text("SELECT count(*) FROM ticket WHERE status = 'waiting'")).scalar()

    assert waiting == 1


def test_a_change_whose_connection_was_dropped_unchecked_runs_again_on_a_new_one(named_postgres, monkeypatch):
    """Within the rest period the pool hands out a connection unchecked; if the server dropped it,
    the change fails before it commits, and runs again on a new connection."""
    db, name = named_postgres
    ids = build_centre(db)
    engine.issue_ticket(db, ids.centre, "HT01")
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 3600)
    assert drop_connections(name) >= 1

    ticket = engine.issue_ticket(db, ids.centre, "HT01")

    assert ticket["number"] == "1002"
    with db.read() as session:
        numbers = session.execute(text("SELECT number FROM ticket ORDER BY number")).scalars().all()
    assert numbers == [1001, 1002]


@pytest.fixture
def one_connection(postgres_schema_url):
    """A pool that hands out the same connection again and again, so what one use leaves behind the
    next one sees."""
    db = Database(postgres_schema_url, clock=FixedClock(MONDAY_9AM), pool_size=1)
    yield db
    db.dispose()


def test_a_single_read_runs_outside_a_transaction_and_leaves_the_connection_transactional(one_connection):
    db = one_connection
    with db.single_read_cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        reader = cursor.connection
    with db.pooled_cursor() as cursor:
        assert cursor.connection is reader
        cursor.execute("SELECT 1")
        assert cursor.connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS


def test_a_single_read_whose_connection_breaks_never_hands_it_back_in_autocommit(one_connection):
    db = one_connection
    with pytest.raises(psycopg.OperationalError):
        with db.single_read_cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    with db.pooled_cursor() as cursor:
        cursor.execute("SELECT 1")
        assert not cursor.connection.autocommit
        assert cursor.connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
