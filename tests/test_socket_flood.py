"""Floods of realtime sockets and events against the real server: what one connection or one address
can make the server do is bounded, and a kiosk keeps getting its tickets quickly meanwhile."""
from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time

import psutil
import requests
import pytest
import socketio

from hangdoi.serving import THREADS
from hangdoi.fixtures.testing import LiveServer

from .centres import PASSWORD
from .test_realtime import prepared  # noqa: F401 — fixtures reused


@pytest.fixture
def server(tmp_path, prepared):  # noqa: F811
    """The real server as configured by default, but for the kiosk's own rate limit: the test
    measures a kiosk issuing fast."""
    live = LiveServer(tmp_path / "data", extra_env={"HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "0"}).start()
    live.kiosk_key = prepared[1].kiosks["k1"]
    yield live
    live.stop()


def flood(url: str, sockets: int, sends: int, out) -> None:
    """In a process of its own: `sockets` anonymous sockets, each sending `subscribe` as fast as it
    can without waiting for answers. A real attacker's machine is not the server's: here it runs at
    the lowest priority, so that what is measured is what the server does with the flood, not how
    the flooding client's own work on the same two cores slows everything."""
    os.nice(19)
    stop = threading.Event()
    counts = {"connected": 0, "refused": 0, "closed_by_server": 0, "limited": 0}
    threads = [threading.Thread(target=flooder, args=(url, sends, stop, counts)) for _ in range(sockets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    out.put(counts)


def flooder(url: str, sends: int, stop: threading.Event, counts: dict) -> None:
    """An anonymous socket sending `subscribe` as fast as it can, without waiting for answers."""
    client = socketio.Client(reconnection=False)
    answers = []
    try:
        client.connect(url, transports=["websocket"])
    except socketio.exceptions.ConnectionError:
        counts["refused"] += 1
        return
    counts["connected"] += 1
    for n in range(sends):
        if stop.is_set() or not client.connected:
            break
        try:
            client.emit("subscribe", {"room": "display"}, callback=answers.append)
        except socketio.exceptions.BadNamespaceError:
            break
    deadline = time.monotonic() + 15
    while client.connected and time.monotonic() < deadline and not stop.is_set():
        time.sleep(0.05)
    counts["closed_by_server"] += not client.connected
    counts["limited"] += sum(1 for a in answers if isinstance(a, dict) and a.get("error", {}).get("code") == "rate_limited")
    client.disconnect()


def test_a_flood_of_subscribes_leaves_a_kiosk_quick_and_the_threads_bounded(server, prepared):  # noqa: F811
    """The attack: ten anonymous sockets sending 300 `subscribe` each made 2,183 server threads and a
    kiosk's ticket took 11.6 s."""
    worker = psutil.Process(server.worker_pids()[0])
    http = requests.Session()
    http.headers["X-Hangdoi-Kiosk-Key"] = server.kiosk_key
    # This process has run hundreds of tests before this one: a full collection of its garbage
    # would land in a measured round trip. What is measured is the server.
    gc.collect()
    gc.disable()
    quiet = sorted(issue_one(http, server) for _ in range(100))     # the same machine, no flood
    idle_threads = worker.num_threads()
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    flooding = context.Process(target=flood, args=(server.url, 10, 300, out))
    flooding.start()
    took, threads = [], []
    try:
        while flooding.is_alive() or len(took) < 100:
            took.append(issue_one(http, server))
            threads.append(worker.num_threads())
            if len(took) >= 400:             # the series holds 999 numbers a day, 100 went before
                break
        counts = out.get(timeout=60)
    finally:
        gc.enable()
        flooding.join(timeout=60)
        if flooding.is_alive():
            flooding.kill()
    took.sort()
    assert counts["connected"] == 10
    assert counts["limited"] > 0                 # the server said no, cheaply
    assert counts["closed_by_server"] == 10       # and then closed sockets that would not stop
    # Bounded by the worker's thread pool (a thread per connection at most, whatever it sends), not
    # by the events: 300 events each made 2,183 threads.
    assert max(threads) <= THREADS + 15, (idle_threads, max(threads))
    # The issue's aim, a kiosk p99 under 100 ms with the flood, is measured by bench/socket_flood.py
    # (printed tickets, three rounds on a quiet machine). A test shares its two cores with whatever
    # else CI runs, so it holds less: the attack's 11.6 s is gone, the p99 stays under 250 ms and
    # under four times the same machine's p99 without the flood, whichever is more.
    p99, quiet_p99 = took[int(len(took) * 0.99) - 1], quiet[98]
    assert p99 < max(0.25, 4 * quiet_p99), (p99, quiet_p99, took[-5:])


def issue_one(http, server) -> float:
    started = time.perf_counter()
    assert http.post(f"{server.url}/api/v1/tickets", json={"service": "HT01"}, timeout=10).status_code == 201
    return time.perf_counter() - started


def test_one_address_holds_a_bounded_number_of_sockets(server):  # noqa: F811
    clients = []
    try:
        for _ in range(12):
            client = socketio.Client(reconnection=False)
            try:
                client.connect(server.url, transports=["websocket"])
                clients.append(client)
            except socketio.exceptions.ConnectionError:
                pass
        assert len(clients) == 10                 # settings.max_sockets_per_address
        clients.pop().disconnect()               # a socket that leaves frees its place
        time.sleep(0.5)
        late = socketio.Client(reconnection=False)
        late.connect(server.url, transports=["websocket"])
        clients.append(late)
    finally:
        for client in clients:
            client.disconnect()


def test_one_socket_follows_a_bounded_number_of_rooms(server, prepared):  # noqa: F811
    client = socketio.Client(reconnection=False)
    client.connect(server.url, transports=["websocket"])
    try:
        answers = [client.call("subscribe", {"room": room}, timeout=10) for room in ("display", "kiosk")]
        assert all("snapshot" in a for a in answers)
        # Rooms of made-up centres are refused before any is joined; the socket stays usable.
        for centre in range(2, 9):
            answer = client.call("subscribe", {"room": "display", "centre": centre}, timeout=10)
            assert answer["error"]["code"] in ("centre_not_found", "too_many_subscriptions")
        assert "snapshot" in client.call("subscribe", {"room": "display"}, timeout=10)
    finally:
        client.disconnect()


def officer_socket(server, ids) -> tuple[socketio.Client, str]:
    """Officer "an" signed in at counter 1, a ticket waiting: the officer's socket, and token."""
    from .test_realtime import sign_in
    token = sign_in(server, ids)
    server.post("/tickets", json={"service": "HT01"})
    client = socketio.Client(reconnection=False)
    client.connect(server.url, transports=["websocket"], auth={"token": token})
    return client, token


def test_a_socket_subscribes_ten_times_in_ten_seconds_and_its_officer_still_acts(server, prepared):  # noqa: F811
    """Each subscription costs a snapshot read: ten a socket per 10 s (a screen needs one when it
    connects or sees a gap), counted apart from an officer's actions."""
    _, ids = prepared
    client, _ = officer_socket(server, ids)
    try:
        answers = [client.call("subscribe", {"room": "display"}, timeout=10) for _ in range(11)]
        assert all("snapshot" in answer for answer in answers[:10])
        assert answers[10]["error"]["code"] == "rate_limited"
        called = client.call("counter_action", {"counter": ids.counter(1), "action": "call-next"}, timeout=10)
        assert called["ticket"]["number"] == "1001", called
    finally:
        client.disconnect()


@pytest.mark.parametrize("revoke", ["password", "sign-out"])
def test_an_open_socket_stops_acting_when_its_officer_is_signed_out(server, prepared, revoke):  # noqa: F811
    """The attack: an open socket kept acting after the officer's password was reset."""
    _, ids = prepared
    client, token = officer_socket(server, ids)
    try:
        admin = server.login("quantri", PASSWORD)
        path = {"password": f"/admin/officers/{ids.officer('an')}/password",
                "sign-out": f"/admin/officers/{ids.officer('an')}/sign-out"}[revoke]
        body = {"json": {"password": "mat-khau-moi-2026"}} if revoke == "password" else {}
        assert server.post(path, admin, **body).status_code == 200
        deadline = time.monotonic() + 5
        while client.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not client.connected               # this process closed it at once
        again = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            again.connect(server.url, transports=["websocket"], auth={"token": token})
    finally:
        client.disconnect()
