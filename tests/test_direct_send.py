"""Socket.IO messages written to websockets by the emitting thread (hangdoi/web/realtime/direct_send.py),
with real clients on real sockets. Served here in-process by Werkzeug's threaded server, so the
test can look at DirectSend's writers; tests/test_realtime.py and tests/test_deployment.py run
the same path under gunicorn, as `hangdoi serve` does."""
from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time

import pytest
import socketio
from flask import Flask
from flask_socketio import SocketIO, join_room
from wsproto.frame_protocol import FrameProtocol

from hangdoi.web.realtime import direct_send
from hangdoi.web.realtime.direct_send import DirectSend, text_frame
from hangdoi.web.realtime.uncompressed import WithoutCompression
from werkzeug.serving import make_server


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Served:
    """A Flask-SocketIO server as the hub sets it up: threading mode, plain frames, DirectSend."""

    def __init__(self):
        app = Flask(__name__)
        self.sio = SocketIO(app, async_mode="threading", ping_interval=10, ping_timeout=10)
        app.wsgi_app = WithoutCompression(app.wsgi_app)
        self.direct = DirectSend(self.sio.server)
        self.gone = threading.Event()

        @self.sio.on("join")
        def _join(room):
            join_room(room)
            return "joined"

        @self.sio.on("disconnect")
        def _gone(*_args):
            self.gone.set()

        self.http = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_port}"

    def stop(self):
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def served():
    server = Served()
    yield server
    server.stop()


def joined_client(url: str, room: str, transport: str = "websocket") -> tuple[socketio.Client, list]:
    received: list = []
    client = socketio.Client(reconnection=False)
    client.on("news", received.append)
    client.connect(url, transports=[transport])
    assert client.call("join", room, timeout=10) == "joined"
    return client, received


def test_a_frame_is_what_a_websocket_library_makes_of_the_same_text():
    for text in ["", "a" * 125, "b" * 126, "c" * 65535, "d" * 65536, '42["news",{"số":"Hộ tịch"}]']:
        assert text_frame(text) == FrameProtocol(client=False, extensions=[]).send_data(text, fin=True)


def test_messages_from_many_threads_reach_every_socket_whole_and_in_order(served):
    listeners = [RawListener(served.url, "room") for _ in range(5)]
    assert len(served.direct.writers) == 5      # each went the direct way, none through a queue
    readers = [reading_in_a_thread(listener, 1600) for listener in listeners]

    def emit_from(thread: int) -> None:
        for n in range(200):
            served.sio.emit("news", {"thread": thread, "n": n, "pad": "x" * (n * 7)}, to="room")

    threads = [threading.Thread(target=emit_from, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for listener, (reader, received) in zip(listeners, readers):
        reader.join(timeout=10)
        assert len(received) == 1600
        for thread in range(8):
            assert [m["n"] for m in received if m["thread"] == thread] == list(range(200))
        listener.close()
    wait_for(lambda: not served.direct.writers)


def test_long_polling_clients_still_get_every_message(served):
    polling, polled = joined_client(served.url, "room", transport="polling")
    websocket, pushed = joined_client(served.url, "room")
    assert len(served.direct.writers) == 1
    for n in range(50):
        served.sio.emit("news", {"n": n}, to="room")
        # python-engineio's polling client gives up on a poll answer carrying a burst of packets
        # ("Unexpected packet from server"), whichever server sends it (Werkzeug's too).
        time.sleep(0.01)
    wait_for(lambda: len(polled) == 50 and len(pushed) == 50)
    assert [m["n"] for m in polled] == [m["n"] for m in pushed] == list(range(50))
    polling.disconnect()
    websocket.disconnect()


class RawListener:
    """A websocket client that reads only when told to, with a small receive buffer."""

    def __init__(self, url: str, room: str):
        host, port = url.removeprefix("http://").split(":")
        self.conn = socket.socket()
        self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.conn.connect((host, int(port)))
        self.conn.settimeout(10)
        self.conn.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
                          b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                          b"Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)) + b"\r\n\r\n")
        self.reader = self.conn.makefile("rb")
        while self.reader.readline() not in (b"\r\n", b""):
            pass
        assert self.next_text().startswith("0{")
        self.send_text("40")
        assert self.next_text().startswith("40")
        self.send_text('421["join","%s"]' % room)
        assert self.next_text() == '431["joined"]'

    def send_text(self, text: str) -> None:
        payload, mask = text.encode(), os.urandom(4)
        assert len(payload) < 126
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.conn.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)

    def next_text(self) -> str | None:
        """The next text frame's payload; None at the end of the connection."""
        head = self.reader.read(2)
        if len(head) < 2:
            return None
        assert head[0] == 0x81, head   # FIN, text: whole frames only
        length = head[1] & 0x7F
        if length == 126:
            length = int.from_bytes(self.reader.read(2), "big")
        elif length == 127:
            length = int.from_bytes(self.reader.read(8), "big")
        payload = self.reader.read(length)
        return payload.decode() if len(payload) == length else None   # cut short by the end

    def next_news(self) -> dict | None:
        while (text := self.next_text()) is not None:
            if text == "2":
                continue    # Engine.IO's ping
            event, data = json.loads(text[2:])
            assert event == "news"
            return data
        return None

    def close(self) -> None:
        self.reader.close()
        self.conn.close()


def reading_in_a_thread(listener: RawListener, count: int) -> tuple[threading.Thread, list]:
    """The listener's next `count` messages, read as they come, in a thread of its own.

    The tests of order read this way: python-socketio's client hands each message to a thread of
    its own, so the order its handlers see is not the order on the wire (1 run in about 20)."""
    received: list = []

    def read() -> None:
        while len(received) < count and (data := listener.next_news()) is not None:
            received.append(data)
    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, received


def emit_in_a_thread(served: Served, count: int, size: int) -> threading.Thread:
    def emit() -> None:
        for n in range(count):
            served.sio.emit("news", {"n": n, "pad": "y" * size}, to="room")
    thread = threading.Thread(target=emit, daemon=True)
    thread.start()
    return thread


def test_a_socket_that_stops_reading_neither_holds_up_the_sender_nor_loses_a_message(served, monkeypatch):
    """8 MB for a client reading nothing, more than the connection holds: the sender goes on at
    once; the rest waits, and the client gets all of it, in order, when it reads again."""
    monkeypatch.setattr(direct_send, "BACKLOG_LIMIT", 64 * 1024 * 1024)
    slow = RawListener(served.url, "room")
    slow_writer = next(iter(served.direct.writers.values()))
    quick = RawListener(served.url, "room")
    reader, received = reading_in_a_thread(quick, 2000)
    sender = emit_in_a_thread(served, count=2000, size=4000)
    sender.join(timeout=30)
    assert not sender.is_alive()               # never waited for the client that does not read
    assert slow_writer.waiting > 0
    reader.join(timeout=10)                    # nor held up the one that does
    assert [m["n"] for m in received] == list(range(2000))
    assert [slow.next_news()["n"] for _ in range(2000)] == list(range(2000))
    quick.close()
    slow.close()


def test_a_socket_that_never_reads_is_closed_once_its_backlog_passes_the_limit(served, monkeypatch):
    monkeypatch.setattr(direct_send, "BACKLOG_LIMIT", 256 * 1024)
    stuck = RawListener(served.url, "room")
    sender = emit_in_a_thread(served, count=3000, size=4000)   # 12 MB: more than any socket buffer
    sender.join(timeout=30)
    assert not sender.is_alive()
    assert served.gone.wait(10)     # the session ended, so the backlog went with it
    wait_for(lambda: not served.direct.writers)
    numbers = []
    while (news := stuck.next_news()) is not None:
        numbers.append(news["n"])
    # Whole frames, in order, then the end (the frame being written when the server gave up is
    # cut short: the client sees that as the connection's end).
    assert numbers == list(range(len(numbers))) and len(numbers) < 3000
    stuck.close()


def test_the_installed_engineio_is_a_release_direct_send_is_tested_on():
    """pyproject.toml holds python-engineio to the tested range; a release outside it would make
    DirectSend stand aside (and the figures in its docstring no longer hold)."""
    from hangdoi.web.realtime.direct_send import engineio_tested
    assert engineio_tested()
