"""What `hangdoi serve` (gunicorn, embedded) does with requests a hand-written server got wrong, and
with connections that hold on: raw sockets against the real server."""
from __future__ import annotations

import socket
import time

import pytest
import requests
import simple_websocket


def exchange(server, raw: bytes, wait: float = 2.0) -> bytes:
    """Send raw bytes on a new connection; everything the server answers until it closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as conn:
        conn.sendall(raw)
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except socket.timeout:
            pass
        return answer


def statuses(answer: bytes) -> list[int]:
    return [int(line.split()[1]) for line in answer.split(b"\r\n") if line.startswith(b"HTTP/1.")]


@pytest.mark.parametrize("name, raw, status", [
    # The hand-written server served the body of this request as a second request.
    ("two Content-Lengths", b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 40\r\n"
                            b"\r\nGET /api/v1/services HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("a Content-Length in other digits", "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: ²\r\n\r\n".encode(), 400),
    ("a NUL in a header", b"GET /api/v1/services HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400),
    ("a request line over the limit", b"GET /" + b"a" * 8000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("too many header lines", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(200)) + b"\r\n", 431),
])
def test_malformed_requests_get_one_clear_refusal(demo_server, name, raw, status):
    server, _ = demo_server
    answer = exchange(server, raw)
    assert statuses(answer) and statuses(answer)[0] == status, (name, answer[:200])
    assert len(statuses(answer)) == 1, name                  # nothing smuggled in behind it
    assert requests.get(f"{server.url}/api/v1/services", timeout=5).status_code == 200


def test_connections_that_send_nothing_do_not_stop_the_centre(demo_server):
    """Silent connections wait in gunicorn's poller, not in a worker thread (gunicorn gives each at
    most 5 s of a thread when it arrives: README "Security" says what that leaves open)."""
    server, _ = demo_server
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(60)]
    try:
        time.sleep(0.5)
        started = time.monotonic()
        assert server.post("/tickets", json={"service": "HT01"}).status_code == 201
        assert time.monotonic() - started < 2
    finally:
        for conn in idle:
            conn.close()


def test_a_websocket_frame_that_is_no_socketio_packet_closes_that_socket_only(demo_server):
    """The hand-written server wrote a raw HTTP 500 into the websocket."""
    server, _ = demo_server
    ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket")
    assert ws.receive(timeout=30).startswith("0")               # Engine.IO's open packet
    ws.send("hello, no packet type here")
    with pytest.raises(simple_websocket.ConnectionClosed) as closed:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            ws.receive(timeout=0.5)
    assert closed.value.reason == 1003                         # a clean close, not bytes of an HTTP 500
    assert requests.get(f"{server.url}/api/v1/services", timeout=5).status_code == 200


def test_a_server_with_screens_connected_stops_at_once_and_unkilled(tmp_path):
    """A lobby screen's socket never ends by itself: gunicorn waited out its 10 s graceful timeout
    and then killed the worker, at every restart."""
    from hangdoi.fixtures.demo import DEMO_CENTRE

    from .conftest import start_demo
    from .test_realtime import subscriber
    server, ids = start_demo(tmp_path, spec=DEMO_CENTRE)
    screens = [subscriber(server) for _ in range(3)]
    try:
        started = time.monotonic()
        server.stop(graceful=True)                          # SIGTERM, as systemd stops it
        stopped_in = time.monotonic() - started
        log = server.log_path.read_text()
        assert server.process.returncode == 0 and "SIGKILL" not in log, log[-2000:]
        assert stopped_in < 8                                # well inside gunicorn's 10 s graceful timeout
    finally:
        for client, _ in screens:
            client.close()
