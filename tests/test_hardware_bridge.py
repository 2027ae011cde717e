"""Keypads and LED signs through the bridge, a live server and pty pairs, like the real wiring."""
from __future__ import annotations

import os
import select
import time
import tty

import pytest
import requests
import socketio

from drivers.bridge import BridgeConfig, HardwareBridge
from drivers.keypad import KeyPress, line_frame
from drivers.led import ModbusLed
from hangdoi.clock import SystemClock
from hangdoi.database import Database
from hangdoi.schema import upgrade
from hangdoi.fixtures.testing import LiveServer

from .centres import PASSWORD, SMALL_CENTRE, always_open
from .conftest import build_centre

KEY = "khoa-phan-cung-thu-nghiem"


class Pty:
    """The far side of a serial line: what the keypad or the LED board holds."""

    def __init__(self, tmp_path, name):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = tmp_path / name
        os.symlink(os.ttyname(self.slave), self.path)
        self.received = b""

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def frames(self, protocol=ModbusLed, timeout=5.0, count=1):
        """LED frames arriving on this line (Modbus frames are 17 bytes)."""
        deadline = time.monotonic() + timeout
        out = []
        while len(out) < count and time.monotonic() < deadline:
            if select.select([self.master], [], [], 0.05)[0]:
                self.received += os.read(self.master, 4096)
            while len(self.received) >= 17:
                out.append(protocol.parse(self.received[:17]))
                self.received = self.received[17:]
        return out

    def close(self):
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


def hardware_centre(tmp_path):
    """A centre open at any hour behind a live server that knows the hardware key."""
    url = f"sqlite:///{tmp_path / 'hangdoi.sqlite3'}"
    upgrade(url)
    db = Database(url, clock=SystemClock())
    ids = build_centre(db, always_open(SMALL_CENTRE))
    db.dispose()
    server = LiveServer(tmp_path, extra_env={"HANGDOI_HARDWARE_KEY": KEY}).start()
    server.kiosk_key = ids.kiosks["k1"]
    return server, ids


@pytest.fixture
def wiring(tmp_path):
    server, ids = hardware_centre(tmp_path)
    keypad, led = Pty(tmp_path, "keypad"), Pty(tmp_path, "led")
    bridge = HardwareBridge(BridgeConfig.from_dict({
        "server": server.url, "key": KEY,
        "keypads": [{"port": str(keypad.path)}],
        "leds": [{"port": str(led.path), "protocol": "modbus", "counters": [1, 2]}]})).start()
    assert bridge.realtime is not None
    deadline = time.monotonic() + 10
    while not bridge.realtime.synced.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    yield server, ids, keypad, led, bridge
    bridge.stop()
    keypad.close()
    led.close()
    server.stop()


def test_a_keypad_press_calls_and_the_sign_shows_the_number(wiring):
    server, ids, keypad, led, bridge = wiring
    assert {f[0] for f in led.frames(count=2)} == {1, 2}        # the snapshot clears both signs
    token = server.login("an", PASSWORD)
    server.post(f"/counters/{ids.counter(1)}/sign-in", token).raise_for_status()
    server.post("/tickets", json={"service": "HT01"}).raise_for_status()
    server.post("/tickets", json={"service": "HT01"}).raise_for_status()
    keypad.send(line_frame(1, "NEXT"))
    frames = led.frames()
    assert frames[0] == (1, "1001", True)                    # counter 1 blinks 1001
    assert server.get(f"/counters/{ids.counter(1)}/state", token).json()["ticket"]["number"] == "1001"
    keypad.send(b"\x00\xffnoise" + line_frame(1, "NEXT"))   # line noise does not lose the press
    assert (1, "1002", True) in led.frames(count=2)


def test_keys_do_nothing_at_a_counter_nobody_is_signed_in_to(wiring):
    server, ids, keypad, led, bridge = wiring
    led.frames(count=2)
    server.post("/tickets", json={"service": "HT01"}).raise_for_status()
    answer = bridge.press(KeyPress(2, "NEXT"))
    assert answer["error"]["code"] == "not_signed_in_here"
    assert server.get("/services").json()[0]["waiting"] == 1      # still waiting: nothing changed


def test_an_unplugged_sign_is_reported_to_managers(wiring, tmp_path):
    server, ids, keypad, led, bridge = wiring
    led.frames(count=2)
    events = []
    manager = socketio.Client()
    manager.on("device_status", events.append)
    manager.connect(server.url, transports=["websocket"], auth={"token": server.login("dung", PASSWORD)})
    try:
        manager.call("subscribe", {"room": "supervision"})
        led.close()
        led.path.unlink()
        token = server.login("an", PASSWORD)
        server.post(f"/counters/{ids.counter(1)}/sign-in", token).raise_for_status()
        server.post("/tickets", json={"service": "HT01"}).raise_for_status()
        keypad.send(line_frame(1, "NEXT"))                        # the sign cannot show it
        deadline = time.monotonic() + 5
        while not any(e.get("device") == "led" for e in events) and time.monotonic() < deadline:
            time.sleep(0.05)
        led_events = [e for e in events if e.get("device") == "led"]
        assert led_events and led_events[-1]["state"] == "offline" and led_events[-1]["ok"] is False
        # The call still happened: the keypad and the server do not depend on the sign.
        assert server.get(f"/counters/{ids.counter(1)}/state", token).json()["ticket"]["number"] == "1001"
    finally:
        manager.disconnect()


def test_the_hardware_endpoints_want_the_key_and_good_input(wiring):
    server, ids, *_ = wiring
    url = f"{server.url}/api/v1/hardware/keypad"
    assert requests.post(url, json={"counter": 1, "key": "NEXT"}).status_code == 403
    assert requests.post(url, json={"counter": 1, "key": "NEXT"},
                         headers={"X-Hangdoi-Hardware-Key": "sai"}).status_code == 403
    good = {"X-Hangdoi-Hardware-Key": KEY}
    token = server.login("an", PASSWORD)
    server.post(f"/counters/{ids.counter(1)}/sign-in", token).raise_for_status()
    assert requests.post(url, json={"counter": 1, "key": "FIRE"}, headers=good).status_code == 422
    assert requests.post(url, json={"counter": 99, "key": "NEXT"}, headers=good).status_code == 404
    assert requests.post(url, json={"counter": "1", "key": "NEXT"}, headers=good).status_code == 422
    assert requests.post(url, json={"counter": 1, "key": "TRANSFER"}, headers=good).status_code == 422
    assert requests.post(url, data="#1:NEXT", headers=good).status_code == 415
    status = f"{server.url}/api/v1/hardware/status"
    assert requests.post(status, json={"device": "led"}, headers=good).status_code == 422
    assert server.get(f"/counters/{ids.counter(1)}/state", token).json()["ticket"] is None


def test_bridge_config_is_checked():
    with pytest.raises(ValueError):
        BridgeConfig.from_dict({"server": "http://x"})
    with pytest.raises(ValueError):
        BridgeConfig.from_dict({"server": "http://x", "key": "k", "leds": [{"port": "/dev/x", "protocol": "morse"}]})


def test_keypads_of_several_counters_share_one_line(wiring):
    server, ids, keypad, led, bridge = wiring
    led.frames(count=2)
    tokens = {1: server.login("an", PASSWORD), 2: server.login("binh", PASSWORD)}
    for n, token in tokens.items():
        server.post(f"/counters/{ids.counter(n)}/sign-in", token).raise_for_status()
    for _ in range(3):
        server.post("/tickets", json={"service": "HT01"}).raise_for_status()
    keypad.send(line_frame(1, "NEXT") + line_frame(2, "NEXT"))      # one burst on the RS-485 line
    shown = {address: text for address, text, blink in led.frames(count=2) if blink}
    assert set(shown) == {1, 2} and sorted(shown.values()) == ["1001", "1002"]
    moved = shown[1]
    keypad.send(line_frame(1, "TRANSFER", 2))                        # counter 1 sends its citizen to 2
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if server.get(f"/counters/{ids.counter(1)}/state", tokens[1]).json()["ticket"] is None:
            break
        time.sleep(0.05)
    queue = server.get(f"/counters/{ids.counter(2)}/state", tokens[2]).json()["waiting"]
    assert queue[0]["number"] == moved and queue[0]["target_counter"]["number"] == 2
