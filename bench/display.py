"""Lobby display benchmark: call-to-board latency in real Chromium, and announcement WAV build time.

    .venv/bin/python bench/display.py [--calls 60]

Call-to-board: from just before the call-next request is sent to the moment the board's script has
shown the number (the page stamps it), over a real server and Socket.IO. WAV build: a first-ever
announcement (espeak-ng generates the clips), later uncached announcements (new sentences from
clips already in the pack), and cached ones. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import CHROMIUM, CHROMIUM_ARGS, demo_server, spread
from playwright.sync_api import sync_playwright

from display.voice import VoicePack, build_call_wav

TARGETS = {"call_to_board_p99_ms": 250, "wav_uncached_ms": 50}


def call_to_board(calls: int) -> list[float]:
    server, ids = demo_server("hangdoi-display-bench-")
    try:
        tokens = {}
        for n in range(1, 7):
            tokens[n] = server.login(f"canbo{n}", f"matkhau{n}")
            server.post(f"/counters/{ids['counters'][n]}/sign-in", tokens[n]).raise_for_status()
        for i in range(calls):
            server.post("/tickets", json={"service": ["HT01", "CT01", "DD01", "KD01", "LD01", "NN01"][i % 6]})
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(f"{server.url}/display/{ids['displays']['Sảnh chờ chính']}")
            page.wait_for_selector(".card[data-counter='6']")
            latencies = []
            for i in range(calls):
                counter = i % 6 + 1
                sent = time.time() * 1000
                ticket = server.post(f"/counters/{ids['counters'][counter]}/call-next", tokens[counter],
                                     json={"previous": "served"}).json()["ticket"]
                if ticket is None:
                    continue
                page.wait_for_function("n => window.hangdoiAnnouncer.log.some(e => e.number === n)",
                                       arg=ticket["number"], polling=5)
                shown = page.evaluate("n => window.hangdoiAnnouncer.log.find(e => e.number === n).at", ticket["number"])
                latencies.append(shown - sent)
                time.sleep(0.05)
            browser.close()
        return latencies
    finally:
        server.stop()


def wav_builds() -> dict:
    pack = VoicePack(Path(tempfile.mkdtemp(prefix="hangdoi-voice-bench-")))
    t0 = time.perf_counter()
    build_call_wav(pack, "1005", 3)
    first = (time.perf_counter() - t0) * 1000
    for n in range(10):  # every digit word and every counter below ten, once
        build_call_wav(pack, str(1000 + n * 111), n + 1)
    uncached, cached = [], []
    for n in range(2000, 2200, 3):
        t0 = time.perf_counter()
        build_call_wav(pack, str(n), n % 9 + 1)
        uncached.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        build_call_wav(pack, str(n), n % 9 + 1)
        cached.append((time.perf_counter() - t0) * 1000)
    return {"first_ever_ms": round(first, 1),
            "uncached_ms": spread(uncached), "cached_ms": spread(cached)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60)
    args = parser.parse_args()
    latencies = call_to_board(args.calls)
    wav = wav_builds()
    result = {"benchmark": "lobby display",
              "call_to_board_ms": spread(latencies),
              "wav": wav, "targets": TARGETS}
    result["meets_targets"] = {
        "call_to_board_p99": (result["call_to_board_ms"]["p99"] or 1e9) <= TARGETS["call_to_board_p99_ms"],
        "wav_uncached_p99": (wav["uncached_ms"]["p99"] or 1e9) <= TARGETS["wav_uncached_ms"]}
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
