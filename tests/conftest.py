"""Shared fixtures: real SQLite files and a real PostgreSQL schema, a controllable clock.

PostgreSQL and Redis are used for real. Where they are missing the tests that need them skip with
the reason, except under CI=true, where a missing service fails the run.
"""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from hangdoi.services.catalogue import create_centre
from hangdoi.clock import FixedClock
from hangdoi.database import Database
from hangdoi.models import Base
from hangdoi.schema import upgrade

from .centres import MONDAY_9AM, SMALL_CENTRE

POSTGRES_URL = os.environ.get("HANGDOI_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HANGDOI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"


def service_missing(reason: str):
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required services must be running)")
    pytest.skip(reason)


# -- PostgreSQL --------------------------------------------------------------------------------
@contextmanager
def private_postgres_schema(prefix: str = "hd_test"):
    """The URL of a new schema of its own, migrated to head; dropped on leaving."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 — any failure to reach the server means "missing"
        admin.dispose()
        service_missing(f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema_url():
    """A private schema for this test session, migrated once; dropped at the end."""
    with private_postgres_schema() as url:
        yield url


def queue_lengths(session) -> tuple[dict, dict]:
    """The trigger-kept queue lengths (empty ones left out) and the same counted from the tickets,
    each {(service id, local day): (waiting, waiting for any counter)}."""
    from sqlalchemy import select

    from hangdoi.models import QueueLength, Ticket
    kept = {(q.service_id, q.local_day): (q.waiting, q.untargeted) for q in session.scalars(select(QueueLength))
            if (q.waiting, q.untargeted) != (0, 0)}
    counted: dict = {}
    for t in session.scalars(select(Ticket).where(Ticket.status == "waiting")):
        waiting, untargeted = counted.get((t.service_id, t.local_day), (0, 0))
        counted[(t.service_id, t.local_day)] = (waiting + 1, untargeted + (t.target_counter_id is None))
    return kept, counted


def truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


# -- SQLite ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """One migrated database file; each test gets a copy (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


def fresh_sqlite_url(template, directory) -> str:
    path = directory / "hangdoi.sqlite3"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


# -- the database under test -------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path, sqlite_template):
    if request.param == "sqlite":
        return fresh_sqlite_url(sqlite_template, tmp_path)
    url = request.getfixturevalue("postgres_schema_url")
    truncate_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    return fresh_sqlite_url(sqlite_template, tmp_path)


@pytest.fixture
def clock():
    return FixedClock(MONDAY_9AM)


@pytest.fixture
def db(db_url, clock):
    database = Database(db_url, clock=clock)
    yield database
    database.dispose()


@dataclass
class CentreIds:
    centre: int
    services: dict[str, int]
    counters: dict[int, int]
    officers: dict[str, int]
    displays: dict[str, str]
    kiosks: dict[str, str] = field(default_factory=dict)
    tablets: dict[int, str] = field(default_factory=dict)     # counter number: rating tablet key

    def service(self, code: str) -> int:
        return self.services[code]

    def counter(self, number: int) -> int:
        return self.counters[number]

    def officer(self, username: str) -> int:
        return self.officers[username]


def as_kiosk(client, ids: CentreIds, name: str | None = None):
    """This Flask test client's requests come from a registered kiosk of the centre (its key header),
    as the kiosk page's do."""
    client.environ_base["HTTP_X_HANGDOI_KIOSK_KEY"] = ids.kiosks[name] if name else next(iter(ids.kiosks.values()))
    return client


def kiosk_headers(ids: CentreIds, name: str | None = None) -> dict:
    return {"X-Hangdoi-Kiosk-Key": ids.kiosks[name] if name else next(iter(ids.kiosks.values()))}


def build_centre(db, spec=SMALL_CENTRE) -> CentreIds:
    return CentreIds(**create_centre(db, spec))


@pytest.fixture
def centre(db) -> CentreIds:
    return build_centre(db)


@pytest.fixture
def redis_url():
    try:
        import redis
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001
        service_missing(f"Redis not reachable at {REDIS_URL}: {type(exc).__name__}")
    return REDIS_URL


# -- a real browser ----------------------------------------------------------------------------
CHROMIUM = os.environ.get("HANGDOI_TEST_CHROMIUM", "/usr/bin/chromium")
# Without these Chromium reaches for Google's servers, which this closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


@pytest.fixture(scope="session")
def playwright():
    if not Path(CHROMIUM).exists():
        service_missing(f"Chromium not found at {CHROMIUM} (Debian package `chromium`)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as instance:
        yield instance


def launch_chromium(playwright, args=CHROMIUM_ARGS):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=args)


@pytest.fixture(scope="session")
def browser(playwright):
    chromium = launch_chromium(playwright)
    yield chromium
    chromium.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot under screenshots/ (git-ignored) for a person to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def printer():
    """A network ticket printer on a loopback port (drivers/printer/fake.py)."""
    from drivers.printer.fake import TcpFakePrinter
    fake = TcpFakePrinter()
    yield fake
    fake.close()


def start_province(folder, sqlite_template, name="Xã Phú Thịnh", area="Huyện Ba Vì (cũ)", extra_env=None,
                   prepare=None):
    """A province server process on its own SQLite database in `folder`, with one centre linked
    (`server.link_id`, `server.key`, `server.database_url`); `prepare(database)` runs before it starts."""
    from hangdoi.clock import SystemClock
    from hangdoi.database import Database
    from hangdoi.fixtures.testing import LiveServer
    from hangdoi.schema import upgrade
    from hangdoi.services.replication import ingest
    folder.mkdir()
    url = fresh_sqlite_url(sqlite_template, folder)
    upgrade(url)
    setup = Database(url, clock=SystemClock())
    link_id, key = ingest.add_centre(setup, name, area)
    if prepare is not None:
        prepare(setup)
    setup.dispose()
    server = LiveServer(folder, database_url=url, extra_env=extra_env).start()
    server.link_id, server.key, server.database_url = link_id, key, url
    return server


def demo_linked_to(province, folder):
    """The demo centre (open at any hour) behind a live server whose push process talks to `province`."""
    from hangdoi.fixtures.demo import DEMO_CENTRE

    from .centres import always_open
    folder.mkdir()
    return start_demo(folder, spec=always_open(DEMO_CENTRE), extra_env={
        "HANGDOI_PROVINCE_URL": province.url, "HANGDOI_PROVINCE_KEY": province.key})


def admin_page_once_pulled(browser, server, path, ready, timeout=60):
    """The demo admin signed in at 1366×768 on `path`, opened again until `ready` (a selector) is
    on it: what the province sends comes with the push process's pull, every 10 seconds."""
    import time
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(f"{server.url}/counter")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "quantri123")
    page.click("button[type=submit]")
    page.wait_for_url("**/counter**")
    deadline = time.monotonic() + timeout
    while True:
        page.goto(server.url + path)
        if page.locator(ready).count() or time.monotonic() > deadline:
            return page
        time.sleep(1)


def start_demo(tmp_path, extra_env=None, spec=None):
    """The demo centre (or `spec`) on SQLite behind a live server process; real time."""
    from hangdoi.fixtures.demo import DEMO_CENTRE
    server, (ids,) = start_centres(tmp_path, spec or DEMO_CENTRE, extra_env=extra_env)
    return server, ids


def start_centres(tmp_path, *specs, extra_env=None):
    """Centres built from `specs`, in order, on one SQLite installation behind a live server
    process; real time. Returns the server and each centre's ids."""
    from hangdoi.clock import SystemClock
    from hangdoi.fixtures.testing import LiveServer
    url = f"sqlite:///{tmp_path / 'hangdoi.sqlite3'}"
    upgrade(url)
    db = Database(url, clock=SystemClock())
    ids = [build_centre(db, spec) for spec in specs]
    db.dispose()
    server = LiveServer(tmp_path, extra_env=extra_env).start()
    server.kiosk_key = next(iter(ids[0].kiosks.values()), None)
    return server, ids


@pytest.fixture
def demo_server(tmp_path):
    server, ids = start_demo(tmp_path)
    yield server, ids
    server.stop()


# -- lanes ---------------------------------------------------------------------------------------
# Marked from what a test uses, so no test has to remember: `browser` (real Chromium), `server`
# (live server processes), `postgres` (the PostgreSQL server), `slow` (minutes of races, kills,
# fuzzing). `scripts/test --fast` leaves out browser, server and slow: the engine, the API and
# the core on both databases, in a couple of minutes.
SLOW_MODULES = {"test_crash", "test_scaleout", "test_deployment", "test_races", "test_api_fuzz",
                "test_socket_fuzz", "test_socket_flood", "test_simulation", "test_estimates"}
SERVER_FIXTURES = {"demo_server", "server", "live_site", "centre", "wiring", "crash_site", "servers", "gunicorn",
                   "nginx", "site_server"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = item.module.__name__.rsplit(".", 1)[-1]
        if fixtures & {"browser", "playwright"}:
            item.add_marker(pytest.mark.browser)
        if "postgres" in item.name or fixtures & {"postgres_schema_url"}:
            item.add_marker(pytest.mark.postgres)
        if module in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        source = getattr(item.module, "__file__", "") or ""
        if "LiveServer" in _source(source) and fixtures & SERVER_FIXTURES or module in {"test_hardware_bridge"}:
            item.add_marker(pytest.mark.server)


_SOURCES: dict[str, str] = {}


def _source(path: str) -> str:
    if path not in _SOURCES:
        _SOURCES[path] = Path(path).read_text() if path else ""
    return _SOURCES[path]
