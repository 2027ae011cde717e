"""The real `hangdoi hardware` process recovers by itself: a sign unplugged (the far end of its pty
closed) is noticed without a call and reported, and plugged back (the same path reopened) shows
what the board shows within seconds with no call; the reports are taken and kept for the dashboard;
a recall blinks its full time; a wrong key is said at start-up."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests

from drivers.bridge import BLINK_SECONDS

from .centres import PASSWORD
from .test_hardware_bridge import KEY, Pty, hardware_centre


@pytest.fixture
def centre_server(tmp_path):
    server, ids = hardware_centre(tmp_path)
    yield server, ids
    server.stop()


def start_bridge(tmp_path, server, sign_path, key=KEY):
    config = tmp_path / "bridge.toml"
    config.write_text(f'server = "{server.url}"\nkey = "{key}"\n'
                      f'[[leds]]\nport = "{sign_path}"\nprotocol = "modbus"\ncounters = [1, 2]\n')
    log = open(tmp_path / "bridge.log", "w")  # noqa: SIM115 — the process writes it while it runs
    process = subprocess.Popen([sys.executable, "-m", "hangdoi.cli", "hardware", "--config", str(config)],
                               stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    return process


def hardware(server, token, device):
    return {h["port"]: h for h in server.get("/supervision", token).json()["hardware"] if h["device"] == device}


def wait_until(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    return check()


def test_a_sign_unplugged_and_plugged_back_shows_the_board_with_no_call(tmp_path, centre_server):
    server, ids = centre_server
    officer, manager = server.login("an", PASSWORD), server.login("dung", PASSWORD)
    server.post(f"/counters/{ids.counter(1)}/sign-in", officer).raise_for_status()
    for _ in range(3):
        server.post("/tickets", json={"service": "HT01"}).raise_for_status()
    server.post(f"/counters/{ids.counter(1)}/call-next", officer).raise_for_status()          # 1001
    sign = Pty(tmp_path, "led")
    bridge = start_bridge(tmp_path, server, sign.path)
    try:
        assert (1, "1001", False) in sign.frames(count=2, timeout=15)   # the board's state, steady
        assert wait_until(lambda: hardware(server, manager, "led").get(str(sign.path), {}).get("ok"))
        assert wait_until(lambda: any(h["ok"] for h in hardware(server, manager, "bridge").values()))

        sign.close()                                  # unplugged: nothing is written to it meanwhile
        sign.path.unlink()
        down = wait_until(lambda: hardware(server, manager, "led").get(str(sign.path), {}).get("state") == "offline")
        assert down, "the unplugged sign was never reported"
        server.post(f"/counters/{ids.counter(1)}/call-next", officer, json={"previous": "served"}).raise_for_status()

        back = Pty(tmp_path, "led")                   # plugged back in, at the same path
        try:
            frames = back.frames(count=2, timeout=15)      # no call is made meanwhile
            assert (1, "1002", False) in frames, frames
            assert wait_until(lambda: hardware(server, manager, "led")[str(back.path)]["ok"])
        finally:
            back.close()
        # Every report the bridge sent was taken (the "online" ones carried "detail": "" and got 422).
        assert "did not take the report" not in (tmp_path / "bridge.log").read_text()
    finally:
        bridge.terminate()
        bridge.wait(timeout=10)
        sign.close()


def test_a_recall_soon_after_a_call_blinks_its_full_time(tmp_path, centre_server):
    server, ids = centre_server
    officer = server.login("an", PASSWORD)
    server.post(f"/counters/{ids.counter(1)}/sign-in", officer).raise_for_status()
    server.post("/tickets", json={"service": "HT01"}).raise_for_status()
    sign = Pty(tmp_path, "led")
    bridge = start_bridge(tmp_path, server, sign.path)
    try:
        sign.frames(count=2, timeout=15)                                 # the first snapshot
        server.post(f"/counters/{ids.counter(1)}/call-next", officer).raise_for_status()
        assert sign.frames(timeout=10) == [(1, "1001", True)]
        time.sleep(BLINK_SECONDS / 2)
        server.post(f"/counters/{ids.counter(1)}/recall", officer).raise_for_status()
        recalled = time.monotonic()
        assert sign.frames(timeout=10) == [(1, "1001", True)]
        steady = sign.frames(timeout=BLINK_SECONDS * 3)
        # The first call's timer once stopped the recall's blink halfway through.
        assert steady == [(1, "1001", False)] and time.monotonic() - recalled >= BLINK_SECONDS - 0.3
    finally:
        bridge.terminate()
        bridge.wait(timeout=10)
        sign.close()


def test_a_bridge_with_a_wrong_key_says_so_at_start_up(tmp_path, centre_server):
    server, _ = centre_server
    sign = Pty(tmp_path, "led")
    try:
        bridge = start_bridge(tmp_path, server, sign.path, key="not-the-key")
        assert bridge.wait(timeout=30) == 2
        assert "refused the bridge's key" in (tmp_path / "bridge.log").read_text()
        assert requests.get(f"{server.url}/api/v1/openapi.json", timeout=5).status_code == 200
    finally:
        sign.close()
