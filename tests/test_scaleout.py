"""Three server processes sharing PostgreSQL and Redis behave as one system."""
from __future__ import annotations

import threading
import uuid

import pytest

from hangdoi.clock import SystemClock
from hangdoi.database import Database
from hangdoi.fixtures.testing import LiveServer

from .centres import PASSWORD, SMALL_CENTRE, always_open, officer
from .conftest import build_centre, truncate_postgres
from .test_realtime import subscriber


# Six counters that all serve Hộ tịch, two signed in through each process.
CENTRE = always_open({**SMALL_CENTRE,
                      "counters": [{"number": n, "name": f"Quầy {n}", "primary": ["HT"], "backup": ["CT"]}
                                   for n in range(1, 7)],
                      "officers": [officer(f"cb{n}") for n in range(1, 7)]})


@pytest.fixture
def three_servers(tmp_path, postgres_schema_url, redis_url):
    truncate_postgres(postgres_schema_url)
    db = Database(postgres_schema_url, clock=SystemClock())
    ids = build_centre(db, {**CENTRE, "kiosks": [{"name": "k1"}]})
    db.dispose()
    env = {"HANGDOI_REDIS_CHANNEL": f"hangdoi-test-{uuid.uuid4().hex[:8]}",
           "HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "0"}
    servers = [LiveServer(tmp_path / name, database_url=postgres_schema_url, redis_url=redis_url,
                          extra_env=env).start() for name in ("a", "b", "c")]
    for server in servers:
        server.kiosk_key = ids.kiosks["k1"]
    yield servers, ids
    for server in servers:
        server.stop()


def sign_in_through(servers, ids) -> list[tuple[LiveServer, int, str]]:
    """Counter n signs in through process (n - 1) % 3: each process holds two counters."""
    counters = []
    for n in range(1, 7):
        server = servers[(n - 1) % len(servers)]
        token = server.login(f"cb{n}", PASSWORD)
        assert server.post(f"/counters/{ids.counter(n)}/sign-in", token).status_code == 200
        counters.append((server, ids.counter(n), token))
    return counters


def test_a_call_through_one_process_reaches_displays_on_the_others(three_servers):
    (a, b, c), ids = three_servers
    (_, counter_id, token), *_ = sign_in_through([a, b, c], ids)
    a.post("/tickets", json={"service": "HT01"})
    boards = [subscriber(server) for server in (b, c)]
    try:
        assert a.post(f"/counters/{counter_id}/call-next", token, json={"previous": "served"}).status_code == 200
        for _, recorder in boards:
            called = recorder.next("ticket_called", timeout=10)
            assert called["ticket"]["number"] == "1001" and called["counter"]["number"] == 1
    finally:
        for client, _ in boards:
            client.close()


def test_kiosks_on_every_process_issue_unique_numbers(three_servers):
    servers, ids = three_servers
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
    assert len(numbers) == 360 and len(set(numbers)) == 360


def test_counters_on_different_processes_calling_at_once_never_share_a_ticket(three_servers):
    servers, ids = three_servers
    counters = sign_in_through(servers, ids)
    issued = [servers[i % 3].post("/tickets", json={"service": "HT01"}).json()["number"] for i in range(240)]
    calls: dict[int, list[str]] = {counter_id: [] for _, counter_id, _ in counters}
    errors: list[str] = []
    start = threading.Barrier(len(counters))

    def officer_at(server, counter_id, token):
        start.wait()
        while True:
            response = server.post(f"/counters/{counter_id}/call-next", token, json={"previous": "served"})
            if response.status_code != 200:
                errors.append(response.text)
                return
            ticket = response.json()["ticket"]
            if ticket is None:
                return
            calls[counter_id].append(ticket["number"])

    threads = [threading.Thread(target=officer_at, args=counter) for counter in counters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    called = [number for numbers in calls.values() for number in numbers]
    assert errors == []
    assert sorted(called) == sorted(issued)                    # each ticket called once, none lost
    assert all(len(numbers) > 10 for numbers in calls.values())  # every counter really took part
