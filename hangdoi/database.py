"""Connections and transactions for SQLite (WAL, BEGIN IMMEDIATE) and PostgreSQL.

`Database.write()` opens a transaction that takes the write lock up front on SQLite, so a read
followed by a write can never interleave with another writer. `Database.read()` gives one consistent
snapshot (a deferred BEGIN on SQLite, REPEATABLE READ on PostgreSQL).
"""
from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager, nullcontext
from typing import Callable, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from hangdoi.clock import SystemClock

WRITE_OPTION = "hangdoi_write"
# A PostgreSQL connection back from the pool after resting this long is checked before use (the
# server may have restarted meanwhile). One in steady use is not: a check is a round trip, and an
# engine change is only a dozen of them.
PING_AFTER_IDLE_SECONDS = 1.0


class ConnectionDropped(Exception):
    """The server dropped the connection before the transaction asked to commit: safe to run again."""


class Database:
    def __init__(self, url: str, clock=None, pool_size: int = 20):
        self.url = url
        self.clock = clock or SystemClock()
        self.engine = _make_engine(url, pool_size)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        read_engine = self.engine if self.is_sqlite else self.engine.execution_options(
            isolation_level="REPEATABLE READ")
        self._write_sessions = sessionmaker(write_engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(read_engine, expire_on_commit=False)
        self._commit_listeners: list[Callable] = []
        # Centre ids found to exist (hangdoi/engine/scope.py): centres are never deleted, so once is enough.
        self.centres_seen: set[int] = set()
        self._writer_lock = threading.Lock() if self.is_sqlite else nullcontext()
        self._writer_connection = None
        # The engine's SQLite writer thread (hangdoi/engine/group_commit.py), made on first use.
        self.group_commit = None
        # Reports' memory of days that can no longer change (hangdoi/services/reports/settled.py).
        self.settled_days = None
        self.closed = False

    @contextmanager
    def write(self) -> Iterator[Session]:
        # SQLite has one writer at a time anyway. Queueing our own threads on a mutex hands the
        # lock over at once, where SQLite's busy handler would make each waiter sleep and poll.
        with self._writer_lock, self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def sqlite_write_cursor(self):
        """A DBAPI cursor in a BEGIN IMMEDIATE transaction, committed on leaving, without the ORM
        session and on a connection kept for it: the engine's writer thread
        (hangdoi/engine/group_commit.py) commits hundreds of times a second, and a Session's begin and
        commit, or a pool checkout and checkin, cost more there than the statements."""
        with self._writer_lock:
            connection = self._kept_writer_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                cursor.execute("COMMIT")
            except BaseException as exc:
                self._roll_back_writer(connection, broken=isinstance(exc, sqlite3.Error))
                raise

    def _kept_writer_connection(self):
        if self._writer_connection is None:
            self._writer_connection = self.engine.raw_connection()
        return self._writer_connection.driver_connection

    def _roll_back_writer(self, connection, broken: bool) -> None:
        """`broken`: the database itself failed (disk full, I/O error), so the next batch takes a
        new connection, as it would from the pool."""
        try:
            if connection.in_transaction:   # SQLite may have ended it already
                connection.execute("ROLLBACK")
        except sqlite3.Error:
            broken = True
        if broken:
            self._writer_connection.invalidate()
            self._writer_connection = None

    @contextmanager
    def postgres_write_cursor(self):
        """A DBAPI cursor in a transaction of its own (READ COMMITTED; the engine locks the rows it
        changes), committed on leaving, without the ORM session: an engine change is a dozen
        statements, and on PostgreSQL a Session's begin and commit cost as much as four of them."""
        with self.pooled_cursor() as cursor:
            try:
                yield cursor
            except self.engine.dialect.dbapi.OperationalError as exc:
                if cursor.connection.broken:     # before COMMIT was sent: nothing was written
                    raise ConnectionDropped() from exc
                raise
            cursor.connection.commit()

    @contextmanager
    def pooled_cursor(self):
        """A DBAPI cursor on a pooled connection, where an ORM session would cost more than the
        statements: an engine change on PostgreSQL, or one read."""
        connection = self.engine.raw_connection()
        try:
            yield connection.driver_connection.cursor()
        finally:
            # Back to the pool, which ends whatever transaction is left (rolled back) and drops a
            # connection that cannot end it.
            connection.close()

    @contextmanager
    def single_read_cursor(self):
        """A DBAPI cursor for one statement that only reads. PostgreSQL runs it in autocommit: in a
        transaction it would cost a BEGIN and a ROLLBACK, two more round trips (SQLite's pooled
        connections already run this way)."""
        with self.pooled_cursor() as cursor, nullcontext() if self.is_sqlite else _autocommit(cursor.connection):
            yield cursor

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read_sessions() as session, session.begin():
            yield session

    def on_commit(self, listener: Callable) -> None:
        """Call `listener(change)` after every committed engine change (the realtime hub listens)."""
        self._commit_listeners.append(listener)

    def committed(self, change) -> None:
        for listener in list(self._commit_listeners):
            listener(change)

    def dispose(self) -> None:
        """Close the connections; background readers (hangdoi/services/estimates/live.py) stop."""
        self.closed = True
        with self._writer_lock:
            if self._writer_connection is not None:
                self._writer_connection.close()
                self._writer_connection = None
        self.engine.dispose()


def _make_engine(url: str, pool_size: int) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               pool_size=pool_size, max_overflow=pool_size)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
    _ping_rested_connections(engine)
    return engine


@contextmanager
def _autocommit(connection):
    connection.autocommit = True
    try:
        yield
    finally:
        try:
            connection.autocommit = False
        except Exception:  # noqa: BLE001 — broken: closed, so the pool drops it rather than hand it
            connection.close()   # back in autocommit to a writer expecting a transaction


def _ping_rested_connections(engine: Engine) -> None:
    """SQLAlchemy's `pool_pre_ping`, but only for connections that rested PING_AFTER_IDLE_SECONDS."""
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info["rested_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        rested_since = record.info.pop("rested_since", None)
        if rested_since is None or time.monotonic() - rested_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as exc:  # noqa: BLE001 — any failure: the pool replaces the connection
            raise DisconnectionError(str(exc)) from exc


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling never issues BEGIN IMMEDIATE; take it over, as the
    # SQLAlchemy documentation recommends, and begin each transaction ourselves.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a ticket acknowledged to a citizen must survive a power cut, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        write = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
