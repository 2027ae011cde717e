"""The pooled HTTP server of `hangdoi serve` (hangdoi/web_server.py), with real sockets."""
from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from hangdoi import web_server
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
    # Each request comes on a connection of its own (requests.get closes it after the answer); the
    # next may arrive before its worker is back, so a second worker may start once in a while,
    # never one per connection.
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


def raw_exchange(url: str, *requests_bytes: bytes, read_timeout: float = 5.0) -> tuple[socket.socket, list[bytes]]:
    """Sends each request on one TCP connection, reading its whole answer before the next."""
    host, port = url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=read_timeout)
    reader = conn.makefile("rb")
    answers = []
    for request in requests_bytes:
        conn.sendall(request)
        answers.append(read_answer(reader))
    return conn, answers


def read_answer(reader) -> bytes:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        assert line, f"connection closed after {head!r}"
        head += line
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.decode().partition(":") for line in head.split(b"\r\n")[1:] if line)}
    if "content-length" in headers:
        return head + reader.read(int(headers["content-length"]))
    body = b""
    while True:                     # chunked
        size = int(reader.readline().strip(), 16)
        chunk = reader.read(size + 2)[:-2]
        if not size:
            return head + body
        body += chunk


def closed_by_server(conn: socket.socket) -> bool:
    conn.settimeout(5)
    try:
        return conn.recv(1) == b""
    except ConnectionResetError:
        return True


def test_a_connection_serves_request_after_request_and_drains_unread_bodies(serve):
    seen = []

    def app(environ, start_response):       # never reads the body it is sent
        seen.append(environ["PATH_INFO"])
        return hello(environ, start_response)

    server, url = serve(app)
    body = b'{"service": "HT01", "padding": "' + b"x" * 5000 + b'"}'
    post = (b"POST /first HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    conn, answers = raw_exchange(url, post, b"GET /second HTTP/1.1\r\nHost: x\r\n\r\n",
                                 b"GET /third HTTP/1.1\r\nHost: x\r\n\r\n")
    conn.close()
    assert seen == ["/first", "/second", "/third"]
    assert all(a.startswith(b"HTTP/1.1 200") and a.endswith(b"\r\n\r\nok") for a in answers)
    assert all(b"connection: close" not in a.lower() for a in answers)


def test_an_answer_without_a_length_is_chunked_and_the_connection_goes_on(serve):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"first part, ", b"", b"second part"]

    server, url = serve(app)
    conn, answers = raw_exchange(url, *[b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"] * 2)
    conn.close()
    for answer in answers:
        assert b"transfer-encoding: chunked" in answer.lower()
        assert answer.endswith(b"\r\n\r\nfirst part, second part")


def test_connections_the_client_or_the_request_ends_are_closed(serve):
    server, url = serve(hello)
    for request in (b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    b"GET / HTTP/1.0\r\n\r\n",
                    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"):
        conn, [answer] = raw_exchange(url, request)
        assert answer.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")) and answer.endswith(b"ok")
        assert closed_by_server(conn), request
        conn.close()


def test_a_large_unread_body_closes_its_connection_instead_of_being_read(serve, monkeypatch):
    monkeypatch.setattr(web_server, "DRAIN_LIMIT", 100_000)
    server, url = serve(hello)
    host, port = url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=5)
    conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n" + b"x" * 300_000)
    assert read_answer(conn.makefile("rb")).endswith(b"ok")
    assert closed_by_server(conn)
    conn.close()


def test_an_idle_connection_is_closed_and_its_worker_returns_to_the_pool(serve, monkeypatch):
    monkeypatch.setattr(web_server, "KEEP_ALIVE_SECONDS", 0.3)
    server, url = serve(hello)
    conn, [answer] = raw_exchange(url, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    silent = socket.create_connection(conn.getpeername(), timeout=5)     # never sends a request
    assert answer.endswith(b"ok")
    started = time.monotonic()
    assert closed_by_server(conn) and closed_by_server(silent)
    assert time.monotonic() - started < 3
    conn.close()
    silent.close()
    wait_for(lambda: server._spare == server.workers == 2)
    assert requests.get(url, timeout=5).text == "ok"
    assert server.workers == 2


def test_a_failing_request_on_a_kept_connection_answers_500_and_closes(serve):
    def app(environ, start_response):
        raise RuntimeError("a bug in one request")

    server, url = serve(app)
    conn, [answer] = raw_exchange(url, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500")
    assert closed_by_server(conn)
    conn.close()


# -- reading the request head (Http11RequestHandler.parse_request and make_environ) -------------
HEADS = [
    b"GET /api/v1/services?centre=1 HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nUser-Agent: Mozilla/5.0 (X11)\r\n"
    b"Accept: text/html, */*;q=0.8\r\nAccept-Language: vi-VN,vi;q=0.9\r\nCookie: session=abc.def; theme=x\r\n\r\n",
    b"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json; charset=utf-8\r\n"
    b"Content-Length: 18\r\n\r\n{\"service\": \"HT\"}\n",
    b"GET /a HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\nx-forwarded-for: 10.0.0.2\r\n\r\n",
    b"GET /b HTTP/1.1\r\nHost: x\r\nX_Forwarded_For: 6.6.6.6\r\nEmpty:\r\nSpaced:    v  \r\n\r\n",
    b"GET /c?q=a%20b&r=%C4%91 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET //evil.example/d HTTP/1.1\r\nHost: x\r\n\r\n",
    # Werkzeug's own builds these (escapes, non-ASCII, targets that are not paths):
    "GET /ph%C6%B0%E1%BB%9Dng/x%2Fy HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    "GET /đ HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
    b"GET http://example.org/e?f=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
]


def test_a_request_reaches_the_application_as_werkzeugs_own_server_would_give_it(serve):
    """Differential: the same request heads to Werkzeug's server and to ours; the application must
    see the same environ (less what differs by connection) and the same body."""
    from werkzeug.serving import BaseWSGIServer

    seen: dict[str, list] = {"ours": [], "werkzeug": []}

    def recorder(name):
        def app(environ, start_response):
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            seen[name].append(({k: v for k, v in environ.items()
                                if not k.startswith(("wsgi.", "werkzeug.")) and k not in ("REMOTE_PORT", "SERVER_PORT")},
                               body))
            return hello(environ, start_response)
        return app

    _, ours = serve(recorder("ours"))
    theirs = BaseWSGIServer("127.0.0.1", 0, recorder("werkzeug"))
    threading.Thread(target=theirs.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        for head in HEADS:
            for url in (ours, f"http://127.0.0.1:{theirs.server_port}"):
                conn, [answer] = raw_exchange(url, head)
                conn.close()
                assert answer.endswith(b"ok"), (url, head, answer)
    finally:
        theirs.shutdown()
        theirs.server_close()
    assert len(seen["ours"]) == len(HEADS)
    for head, (our_environ, our_body), (their_environ, their_body) in zip(HEADS, seen["ours"], seen["werkzeug"]):
        # Werkzeug keeps a header value's trailing spaces; RFC 9110 says they are not part of it.
        their_environ = {k: v.rstrip() if isinstance(v, str) else v for k, v in their_environ.items()}
        assert our_environ == their_environ, head
        assert our_body == their_body
    assert seen["ours"][2][0]["HTTP_X_FORWARDED_FOR"] == "10.0.0.1,10.0.0.2"
    assert "HTTP_X_FORWARDED_FOR" not in seen["ours"][3][0]


@pytest.mark.parametrize("head, status", [
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(101)) + b"\r\n", 431),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n  b\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\n: no name\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    (b"GET / HTTQ/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /\r\n\r\n", 400),
    (b"GET / extra HTTP/1.1\r\nHost: x\r\n\r\n", 400),
])
def test_a_malformed_request_head_is_answered_with_an_error_and_reaches_no_application(serve, head, status):
    called = []

    def app(environ, start_response):
        called.append(environ["PATH_INFO"])
        return hello(environ, start_response)

    server, url = serve(app)
    host, port = url.removeprefix("http://").split(":")
    conn = socket.create_connection((host, int(port)), timeout=5)
    conn.sendall(head)
    answer = read_answer(conn.makefile("rb"))
    assert answer.split(b" ", 2)[1] == str(status).encode(), answer
    assert closed_by_server(conn)
    conn.close()
    assert called == []
    assert requests.get(url, timeout=5).text == "ok"
    assert called == ["/"]


def test_a_websocket_may_stay_silent_longer_than_a_kept_open_connection(serve, monkeypatch):
    """Kept-open connections are cut after KEEP_ALIVE_SECONDS without a request; a websocket (and
    anything else that goes Werkzeug's way) must not be."""
    import simple_websocket

    monkeypatch.setattr(web_server, "KEEP_ALIVE_SECONDS", 0.3)

    def app(environ, start_response):
        ws = simple_websocket.Server(environ)
        try:
            while True:
                ws.send("echo: " + ws.receive())
        except simple_websocket.ConnectionClosed:
            pass
        return []

    server, url = serve(app)
    client = simple_websocket.Client(url.replace("http://", "ws://") + "/ws")
    try:
        client.send("one")
        assert client.receive(timeout=5) == "echo: one"
        time.sleep(1.0)
        client.send("two")
        assert client.receive(timeout=5) == "echo: two"
    finally:
        client.close()
