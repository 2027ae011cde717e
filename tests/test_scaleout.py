"""Several server processes sharing PostgreSQL and Redis behave as one system."""
from __future__ import annotations

import threading
import uuid

import pytest

from hangdoi.clock import SystemClock
from hangdoi.database import Database
from hangdoi.testing import LiveServer

from .centres import PASSWORD, SMALL_CENTRE, always_open
from .conftest import build_centre, truncate_postgres
from .test_realtime import subscriber


@pytest.fixture
def two_servers(tmp_path, postgres_schema_url, redis_url):
    truncate_postgres(postgres_schema_url)
    db = Database(postgres_schema_url, clock=SystemClock())
    ids = build_centre(db, always_open(SMALL_CENTRE))
    db.dispose()
    env = {"HANGDOI_REDIS_CHANNEL": f"hangdoi-test-{uuid.uuid4().hex[:8]}",
           "HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "0"}
    servers = [LiveServer(tmp_path / name, database_url=postgres_schema_url, redis_url=redis_url,
                          extra_env=env).start() for name in ("a", "b")]
    yield servers, ids
    for server in servers:
        server.stop()


def test_a_call_through_one_process_reaches_a_display_on_the_other(two_servers):
    (a, b), ids = two_servers
    token = a.login("an", PASSWORD)
    a.post(f"/counters/{ids.counter(1)}/sign-in", token)
    b.post("/tickets", json={"service": "HT01"})
    display, recorder = subscriber(b)
    try:
        assert a.post(f"/counters/{ids.counter(1)}/call-next", token).status_code == 200
        called = recorder.next("ticket_called", timeout=10)
        assert called["ticket"]["number"] == "1001" and called["counter"]["number"] == 1
    finally:
        display.close()


def test_kiosks_on_both_processes_issue_unique_numbers(two_servers):
    servers, ids = two_servers
    numbers, errors = [], []

    def kiosk(server):
        for _ in range(40):
            response = server.post("/tickets", json={"service": "HT01"})
            if response.status_code == 201:
                numbers.append(response.json()["number"])
            else:
                errors.append(response.text)

    threads = [threading.Thread(target=kiosk, args=(s,)) for s in servers for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(numbers) == 240 and len(set(numbers)) == 240
