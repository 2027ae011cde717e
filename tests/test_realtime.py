"""The realtime hub through a live server and real Socket.IO clients."""
from __future__ import annotations

import base64
import os
import queue
import socket
import time

import pytest
import socketio

from hangdoi import engine
from hangdoi.app import create_app
from hangdoi.clock import SystemClock
from hangdoi.config import load_settings
from hangdoi.database import Database
from drivers.realtime_client import RealtimeClient
from hangdoi.schema import upgrade
from hangdoi.fixtures.testing import LiveServer

from .centres import PASSWORD, SMALL_CENTRE, always_open, open_now
from .conftest import build_centre


def wait_for(predicate, timeout=5.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class Recorder:
    """Collects what a RealtimeClient delivers."""

    def __init__(self):
        self.messages: queue.Queue = queue.Queue()
        self.snapshots: list[dict] = []
        self.held: list[tuple[str, dict]] = []

    def on_message(self, event, data):
        self.messages.put((event, data))

    def next(self, event, timeout=5.0):
        """The oldest message of this kind not yet taken; messages of other kinds stay for later."""
        for i, (held_event, _) in enumerate(self.held):
            if held_event == event:
                return self.held.pop(i)[1]
        deadline = time.monotonic() + timeout
        while True:
            got_event, data = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            if got_event == event:
                return data
            self.held.append((got_event, data))


@pytest.fixture
def prepared(tmp_path):
    """A migrated SQLite database with a centre that is always open, and mid-morning whenever the tests
    run (they use real time, and estimates near closing say something else)."""
    url = f"sqlite:///{tmp_path / 'data' / 'hangdoi.sqlite3'}"
    (tmp_path / "data").mkdir()
    upgrade(url)
    db = Database(url, clock=SystemClock())
    ids = build_centre(db, always_open(open_now(SMALL_CENTRE)))
    db.dispose()
    return url, ids


@pytest.fixture
def server(tmp_path, prepared):
    live = LiveServer(tmp_path / "data").start()
    live.kiosk_key = prepared[1].kiosks["k1"]
    yield live
    live.stop()


def subscriber(server, room="display", token=None, gap_grace=1.0):
    recorder = Recorder()
    client = RealtimeClient(server.url, room, token=token, on_message=recorder.on_message,
                            on_snapshot=recorder.snapshots.append, gap_grace=gap_grace)
    client.connect()
    return client, recorder


def sign_in(server, ids, username="an", number=1):
    token = server.login(username, PASSWORD)
    assert server.post(f"/counters/{ids.counter(number)}/sign-in", token).status_code == 200
    return token


def test_subscribe_gives_a_snapshot_with_its_seq(server, prepared):
    _, ids = prepared
    server.post("/tickets", json={"service": "HT01"})
    client, recorder = subscriber(server)
    try:
        snapshot = recorder.snapshots[0]
        assert client.seq == snapshot["seq"] >= 1
        assert next(q for q in snapshot["queues"] if q["code"] == "HT01")["waiting"] == 1
        assert {c["number"] for c in snapshot["counters"]} == {1, 2, 3}
    finally:
        client.close()


def test_a_call_reaches_the_display_with_the_next_seq(server, prepared):
    _, ids = prepared
    token = sign_in(server, ids)
    server.post("/tickets", json={"service": "HT01"})
    client, recorder = subscriber(server)
    try:
        seq_before = client.seq
        assert server.post(f"/counters/{ids.counter(1)}/call-next", token).status_code == 200
        changed = recorder.next("state_changed")
        called = recorder.next("ticket_called")
        assert changed["seq"] == called["seq"] == seq_before + 1
        assert called["ticket"]["number"] == "1001" and called["recall"] is False
        assert called["counter"] == {"id": ids.counter(1), "number": 1, "name": "Quầy 1"}
        assert all("public_id" not in t for t in changed["tickets"])
        server.post(f"/counters/{ids.counter(1)}/recall", token)
        recalled = recorder.next("ticket_called")
        assert recalled["recall"] is True and recalled["seq"] == seq_before + 2
    finally:
        client.close()


def test_every_change_is_covered_by_consecutive_seqs(server, prepared):
    _, ids = prepared
    token = sign_in(server, ids)
    client, recorder = subscriber(server, "kiosk")
    try:
        start = client.seq
        for _ in range(5):
            server.post("/tickets", json={"service": "HT01"})
        server.post(f"/counters/{ids.counter(1)}/call-next", token)
        covered, last = [], None
        while len(covered) < 6:
            last = recorder.next("state_changed")
            covered += last["seqs"]
        assert sorted(covered) == list(range(start + 1, start + 7))
        assert client.seq == start + 6
        # The newest queue figures came with the last change: five issued, one called.
        assert last["queues"]["waiting"] == [{"service_id": ids.service("HT01"), "waiting": 4}]
        called = next(t for t in last["tickets"] if t["number"] == "1001")
        assert (called["status"], called["seq"]) == ("called", start + 6)
    finally:
        client.close()


def test_a_gap_makes_the_client_subscribe_again(server, prepared):
    _, ids = prepared
    client, recorder = subscriber(server, gap_grace=0.2)
    try:
        assert client.subscriptions == 1
        # A message that skips ahead, as if one had been lost on the way.
        ahead = client.seq + 5
        client._on_event("state_changed", {"seq": ahead, "seqs": [ahead], "tickets": [], "counters": []})
        assert wait_for(lambda: client.subscriptions == 2 and client.synced.is_set())
        resynced_at = client.seq
        assert resynced_at < ahead  # the snapshot's own seq, not the invented one
        server.post("/tickets", json={"service": "HT01"})
        assert wait_for(lambda: client.seq == resynced_at + 1)
    finally:
        client.close()


def test_reconnect_after_a_server_restart_resyncs(server, prepared):
    url, ids = prepared
    client, recorder = subscriber(server)
    try:
        seq_before = client.seq
        server.kill()
        # While the server is down, a ticket is issued by another path straight into the database.
        db = Database(url, clock=SystemClock())
        engine.issue_ticket(db, ids.centre, "HT02")
        db.dispose()
        server.start()
        assert wait_for(lambda: client.subscriptions == 2 and client.synced.is_set(), timeout=15)
        latest = recorder.snapshots[-1]
        assert latest["seq"] == seq_before + 1
        assert next(q for q in latest["queues"] if q["code"] == "HT02")["waiting"] == 1
    finally:
        client.close()


def test_kiosks_and_boards_get_new_estimates_after_a_change(server, prepared):
    _, ids = prepared
    sign_in(server, ids)                                        # counter 1: HT primary, CT backup
    client, recorder = subscriber(server, room="kiosk")
    received: queue.Queue = queue.Queue()
    client.sio.on("estimates", received.put)
    ht, dd = str(ids.service("HT01")), str(ids.service("DD01"))
    try:
        assert recorder.snapshots[0]["estimates"][ht]["text"]["vi"] == "dưới 5 phút"
        for _ in range(6):
            server.post("/tickets", json={"service": "HT01"})
        deadline = time.monotonic() + 10
        latest = received.get(timeout=10)["services"]
        while latest[ht]["minutes"] < 30 and time.monotonic() < deadline:   # six citizens of ~8 minutes ahead
            latest = received.get(timeout=10)["services"]
        assert latest[ht]["minutes"] >= 30 and latest[ht]["text"]["vi"].startswith("khoảng")
        assert latest[dd]["minutes"] is None and latest[dd]["text"]["vi"] is None    # no counter for land
    finally:
        client.close()


def test_counter_actions_over_the_socket(server, prepared):
    _, ids = prepared
    token = sign_in(server, ids)
    server.post("/tickets", json={"service": "HT01"})
    client, recorder = subscriber(server, f"counter:{ids.counter(1)}", token=token)
    try:
        assert recorder.snapshots[0]["waiting"][0]["number"] == "1001"
        result = client.call("counter_action", {"counter": ids.counter(1), "action": "call-next"})
        assert result["ticket"]["number"] == "1001"
        assert recorder.next("ticket_called")["counter"]["id"] == ids.counter(1)
        refused = client.call("counter_action", {"counter": ids.counter(1), "action": "start", "x": 1})
        assert refused["error"]["code"] == "unknown_field"
    finally:
        client.close()


@pytest.mark.parametrize("payload, code", [
    (None, "expected_object"),
    ("display", "expected_object"),
    ({}, "missing_field"),
    ({"room": "lobby"}, "invalid_field"),
    ({"room": "counter:abc"}, "invalid_field"),
    ({"room": "counter:1"}, "auth_required"),
    ({"room": "display", "centre": "one"}, "invalid_field"),
    ({"room": "display", "centre": 424242}, "centre_not_found"),
])
def test_bad_subscriptions_are_answered_with_an_error(server, prepared, payload, code):
    client, _ = subscriber(server)
    try:
        assert client.call("subscribe", payload)["error"]["code"] == code
    finally:
        client.close()


@pytest.mark.parametrize("payload, code", [
    ({"counter": 1, "action": "call-next"}, "auth_required"),
    ({"counter": "1", "action": "call-next"}, "invalid_field"),
    ({"counter": 1, "action": "explode"}, "invalid_field"),
    ([1, 2], "expected_object"),
])
def test_anonymous_or_malformed_socket_actions_change_nothing(server, prepared, payload, code):
    _, ids = prepared
    server.post("/tickets", json={"service": "HT01"})
    client, _ = subscriber(server)
    try:
        before = server.get("/display/state").json()
        assert client.call("counter_action", payload)["error"]["code"] == code
        assert server.get("/display/state").json() == before
    finally:
        client.close()


def test_a_wrong_token_is_refused_at_connect(server):
    client = RealtimeClient(server.url, "display", token="not-a-token")
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(wait_timeout=3)
    client.close()


def test_the_event_is_emitted_before_the_http_response(db, tmp_path):
    """In one process: by the time the REST call returns, the socket message has been sent."""
    ids = build_centre(db, SMALL_CENTRE)
    app = create_app(load_settings(env={}, data_dir=tmp_path / "d"), db=db)
    http = app.test_client()
    token = http.post("/api/v1/auth/login", json={"username": "an", "password": PASSWORD}).json["token"]
    http.post("/api/v1/tickets", json={"service": "HT01"}, headers={"X-Hangdoi-Kiosk-Key": ids.kiosks["k1"]})
    http.post(f"/api/v1/counters/{ids.counter(1)}/sign-in", headers={"Authorization": f"Bearer {token}"})
    display = app.extensions["hangdoi"].hub.socketio.test_client(app)
    display.emit("subscribe", {"room": "display"}, callback=True)
    display.get_received()
    http.post(f"/api/v1/counters/{ids.counter(1)}/call-next", headers={"Authorization": f"Bearer {token}"})
    received = {m["name"]: m["args"][0] for m in display.get_received()}
    assert received["ticket_called"]["ticket"]["number"] == "1001"
    assert received["ticket_called"]["seq"] == 3  # issue, sign-in, call


def test_websockets_offered_compression_as_browsers_do_get_plain_frames(server):
    """Each compressed socket costs a zlib compressor and a compression of every message it gets;
    the server must settle on plain frames even when the client offers permessage-deflate."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
                     b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     b"Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)) + b"\r\n"
                     b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
        reader = conn.makefile("rb")
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += reader.readline()
        first, length = reader.read(2)
        opening = reader.read(length)
    assert head.startswith(b"HTTP/1.1 101") and b"sec-websocket-extensions" not in head.lower()
    assert first == 0x81                    # FIN, text, RSV1 clear: not compressed
    assert opening.startswith(b'0{"sid"')
