"""A kiosk's tickets while anonymous sockets flood the server with events.

    .venv/bin/python bench/socket_flood.py [--rounds 3] [--sockets 10] [--sends 300]

The attack the security issue found: ten anonymous sockets sending 300 `subscribe` events each, as fast
as they can, made 2,183 server threads and a kiosk's ticket took 11.6 s. Each round starts a fresh
demo centre (one gunicorn worker, SQLite, the default cap of sockets per address), measures 100 kiosk
tickets with no flood, then keeps issuing while the flood runs in a process of its own at the lowest
priority (an attacker's machine is not the server's). Prints one JSON object; the figure the issue
asks for is the median over rounds of the kiosk's p99 under the flood (≤ 100 ms).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import threading
import time

import requests
import socketio
from common import demo_server, percentile

TARGET_P99_MS = 100


def flood(url: str, sockets: int, sends: int) -> None:
    os.nice(19)
    threads = [threading.Thread(target=flooder, args=(url, sends)) for _ in range(sockets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def flooder(url: str, sends: int) -> None:
    client = socketio.Client(reconnection=False)
    try:
        client.connect(url, transports=["websocket"])
    except socketio.exceptions.ConnectionError:
        return
    for _ in range(sends):
        if not client.connected:
            break
        try:
            client.emit("subscribe", {"room": "display"})
        except socketio.exceptions.BadNamespaceError:
            break
    deadline = time.monotonic() + 15
    while client.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    client.disconnect()


def one_round(sockets: int, sends: int) -> dict:
    server, _ = demo_server("hangdoi-flood-bench-", extra_env={"HANGDOI_MAX_SOCKETS_PER_ADDRESS": "10"})
    http = requests.Session()
    http.headers["X-Hangdoi-Kiosk-Key"] = server.kiosk_key
    service = http.get(f"{server.url}/api/v1/services").json()[0]["id"]

    def issue() -> float:
        started = time.perf_counter()
        answer = http.post(f"{server.url}/api/v1/tickets", json={"service": service}, timeout=30)
        assert answer.status_code == 201, answer.text
        return (time.perf_counter() - started) * 1000

    try:
        for _ in range(10):
            issue()                                   # warm the worker's caches
        quiet = [issue() for _ in range(100)]
        flooding = multiprocessing.get_context("spawn").Process(target=flood, args=(server.url, sockets, sends))
        flooding.start()
        under = []
        while (flooding.is_alive() or len(under) < 100) and len(under) < 400:
            under.append(issue())
        flooding.join(timeout=60)
        return {"quiet_p99_ms": percentile(quiet, 99), "flood_p50_ms": percentile(under, 50),
                "flood_p99_ms": percentile(under, 99), "flood_max_ms": round(max(under), 1), "tickets": len(under)}
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sockets", type=int, default=10)
    parser.add_argument("--sends", type=int, default=300)
    args = parser.parse_args()
    rounds = [one_round(args.sockets, args.sends) for _ in range(args.rounds)]
    median = statistics.median(r["flood_p99_ms"] for r in rounds)
    print(json.dumps({"benchmark": "kiosk tickets under a socket flood", "sockets": args.sockets,
                      "sends_per_socket": args.sends, "rounds": rounds,
                      "median_flood_p99_ms": median, "target_p99_ms": TARGET_P99_MS,
                      "meets_target": median <= TARGET_P99_MS}, indent=2))


if __name__ == "__main__":
    main()
