"""The pooled HTTP server of `hangdoi serve` (hangdoi/web_server.py), with real sockets."""
from __future__ import annotations

import threading
import time

import pytest
import requests

from hangdoi.web_server import PooledWSGIServer


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def serve():
    servers = []

    def start(app, **kwargs) -> tuple[PooledWSGIServer, str]:
        server = PooledWSGIServer("127.0.0.1", 0, app, **kwargs)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server, f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]


def test_one_connection_after_another_reuses_one_worker(serve):
    server, url = serve(hello)
    for _ in range(50):
        assert requests.get(url, timeout=5).text == "ok"
    # Each answer closes its connection; the next may arrive before its worker is back, so a
    # second worker may start once in a while, never one per connection.
    assert server.workers <= 3


def test_connections_held_open_get_workers_of_their_own(serve):
    """A websocket holds its worker for its life: 30 held at once must not keep a request waiting."""
    release = threading.Event()
    held = []

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/hold":
            held.append(1)
            release.wait(30)
        return hello(environ, start_response)

    server, url = serve(app)
    holders = [threading.Thread(target=requests.get, args=(f"{url}/hold",), kwargs={"timeout": 30})
               for _ in range(30)]
    for holder in holders:
        holder.start()
    wait_for(lambda: len(held) == 30)
    started = time.monotonic()
    assert requests.get(url, timeout=5).text == "ok"
    assert time.monotonic() - started < 2
    assert server.workers == 31
    release.set()
    for holder in holders:
        holder.join()
    # Back in the pool: as many requests at once again start no new worker.
    burst = [threading.Thread(target=requests.get, args=(url,), kwargs={"timeout": 5}) for _ in range(20)]
    for thread in burst:
        thread.start()
    for thread in burst:
        thread.join()
    assert server.workers == 31


def test_idle_workers_end_and_the_server_still_answers(serve):
    release = threading.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/hold":
            release.wait(10)
        return hello(environ, start_response)

    server, url = serve(app, idle_seconds=0.3)
    holders = [threading.Thread(target=requests.get, args=(f"{url}/hold",), kwargs={"timeout": 10})
               for _ in range(5)]
    for holder in holders:
        holder.start()
    wait_for(lambda: server.workers == 5)
    release.set()
    for holder in holders:
        holder.join()
    wait_for(lambda: server.workers == 0)
    assert requests.get(url, timeout=5).text == "ok"


def test_a_failing_connection_does_not_lose_its_worker(serve):
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("a bug in one request")
        return hello(environ, start_response)

    server, url = serve(app)
    for _ in range(5):
        assert requests.get(f"{url}/boom", timeout=5).status_code == 500
        assert requests.get(url, timeout=5).text == "ok"
    assert server.workers <= 3
