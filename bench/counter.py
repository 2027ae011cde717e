"""Counter benchmark: keypad press → LED sign, and web button → lobby display.

    .venv/bin/python bench/counter.py [--presses 60] [--clicks 30]

Keypad → LED: a live server (SQLite), the hardware bridge on two pty pairs (a keypad line and a
Modbus LED line), an officer signed in at counter 1 with tickets waiting. Each press of NEXT is
written to the keypad pty; the time runs until the blinking frame with the new number is read
from the LED pty: serial in, HTTP to the server, the engine, Socket.IO back, serial out.
Web button → display: in real Chromium, the officer's terminal (1366×768) clicks "Gọi số tiếp
theo" and the lobby board (1920×1080, another page) shows the number; both stamp Date.now().
Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import time
import tty

from common import CHROMIUM, CHROMIUM_ARGS, demo_server, spread
from playwright.sync_api import sync_playwright

from drivers.bridge import BridgeConfig, HardwareBridge
from drivers.keypad import line_frame
from drivers.led import ModbusLed


TARGETS = {"keypad_to_led_p99_ms": 100, "button_to_display_p50_ms": 150}
KEY = "bench-hardware-key"
MODBUS_FRAME = 17
CLICK_NEXT = "() => { const t = Date.now(); document.querySelector('#call-next').click(); return t; }"


def pty(name: str, folder: str):
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.path.join(folder, name)
    os.symlink(os.ttyname(slave), path)
    return master, slave, path


def keypad_to_led(presses: int) -> list[float]:
    server, ids = demo_server("hangdoi-counter-bench-", extra_env={"HANGDOI_HARDWARE_KEY": KEY})
    keypad, _, keypad_path = pty("keypad", str(server.data_dir))
    led, _, led_path = pty("led", str(server.data_dir))
    bridge = HardwareBridge(BridgeConfig.from_dict({
        "server": server.url, "key": KEY, "keypads": [{"port": keypad_path}],
        "leds": [{"port": led_path, "protocol": "modbus", "counters": [1]}]})).start()
    try:
        token = server.login("canbo1", "matkhau1")
        server.post(f"/counters/{ids['counters'][1]}/sign-in", token).raise_for_status()
        for _ in range(presses + 1):
            server.post("/tickets", json={"service": "HT01"}).raise_for_status()
        while not bridge.realtime.synced.is_set():
            time.sleep(0.05)
        time.sleep(0.5)
        drain(led)
        latencies = []
        for i in range(presses + 1):
            started = time.perf_counter()
            os.write(keypad, line_frame(1, "NEXT"))
            expected = str(1001 + i)
            while True:
                frame = read_frame(led)
                if frame == (1, expected, True):
                    break
            if i:                                   # the first press warms every path
                latencies.append((time.perf_counter() - started) * 1000)
            time.sleep(0.05)
        return latencies
    finally:
        bridge.stop()
        server.stop()


def drain(fd) -> None:
    while select.select([fd], [], [], 0.1)[0]:
        os.read(fd, 4096)


def read_frame(fd, timeout: float = 5.0):
    data, deadline = b"", time.monotonic() + timeout
    while len(data) < MODBUS_FRAME:
        if time.monotonic() > deadline:
            raise TimeoutError("no LED frame")
        if select.select([fd], [], [], 0.05)[0]:
            data += os.read(fd, MODBUS_FRAME - len(data))
    return ModbusLed.parse(data)


def button_to_display(clicks: int) -> list[float]:
    server, ids = demo_server("hangdoi-button-bench-")
    try:
        for _ in range(clicks + 1):
            server.post("/tickets", json={"service": "HT01"}).raise_for_status()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            board = browser.new_page(viewport={"width": 1920, "height": 1080})
            board.goto(f"{server.url}/display/{ids['displays']['Sảnh chờ chính']}")
            board.wait_for_selector(".card[data-counter='6']")
            terminal = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
            terminal.goto(f"{server.url}/counter")
            terminal.fill("input[name=username]", "canbo1")
            terminal.fill("input[name=password]", "matkhau1")
            terminal.click("button[type=submit]")
            terminal.click(".counter-choice[data-counter='1']")
            terminal.wait_for_function("() => window.hangdoiTerminal && !document.querySelector('#call-next').disabled")
            latencies = []
            for i in range(clicks + 1):
                number = str(1001 + i)
                clicked = terminal.evaluate(CLICK_NEXT)
                board.wait_for_function("n => window.hangdoiAnnouncer.log.some(e => e.number === n)",
                                        arg=number, polling=5)
                shown = board.evaluate("n => window.hangdoiAnnouncer.log.find(e => e.number === n).at", number)
                if i:
                    latencies.append(shown - clicked)
                terminal.wait_for_function("n => document.querySelector('#ticket-number').textContent === n "
                                           "&& !document.querySelector('#call-next').disabled", arg=number)
            browser.close()
        return latencies
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--clicks", type=int, default=30)
    args = parser.parse_args()
    keypad = keypad_to_led(args.presses)
    button = button_to_display(args.clicks)
    result = {"benchmark": "counter: keypad and terminal", "keypad_to_led_ms": spread(keypad),
              "button_to_display_ms": spread(button), "targets": TARGETS}
    result["meets_targets"] = {
        "keypad_to_led_p99": result["keypad_to_led_ms"]["p99"] <= TARGETS["keypad_to_led_p99_ms"],
        "button_to_display_p50": result["button_to_display_ms"]["p50"] <= TARGETS["button_to_display_p50_ms"]}
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
