"""Load benchmark of the core: one real server process on SQLite, 50 counter and 20 display clients
on Socket.IO, kiosks issuing and counters calling at the same time. Prints one JSON object.

    .venv/bin/python bench/load.py [--seconds 20] [--kiosks 6] [--call-rate 40]

Figures: issue and call-next latency (HTTP round trip, p50/p99), call-to-display latency (from
sending the call request to a display's socket receiving `ticket_called`, over every display),
call-to-dashboard latency (to a manager's dashboard having re-read /api/v1/supervision after the
call, as the page does: one read at a time, at most one a second), tickets issued per
second, the server's peak RSS, the share of the machine's CPU time its hypervisor gave other
guests meanwhile (steal, a sign of a busy host), and how long the disk took to sync a small write
meanwhile (a sign of a slow host disk: SQLite syncs every commit, and a ticket is answered only
once its commit is on disk). The listening clients
run in a process of their own, on one asyncio loop, so that neither they nor the load generator
delay what they measure; they offer permessage-deflate, as browsers do, and speak Socket.IO
through bench/common.py: LeanSocketIO.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import LeanSocketIO  # noqa: E402
from hangdoi.services.auth import hash_password  # noqa: E402
from hangdoi.services.catalogue import create_centre  # noqa: E402
from hangdoi.clock import SystemClock  # noqa: E402
from hangdoi.database import Database  # noqa: E402
from hangdoi.schema import upgrade  # noqa: E402
from hangdoi.fixtures.testing import LiveServer  # noqa: E402

PASSWORD = "bench-password"
DOMAINS = 5
SERVICES_PER_DOMAIN = 2
DASHBOARD_READ_INTERVAL = 1.0   # as hangdoi/web/admin/static/dashboard.js
SYNC_PROBE_INTERVAL = 0.05
# The officers serve whom they call: each call-next finishes the citizen before (never only called).
SERVED = {"previous": "served"}
TARGETS = {"call_to_display_p99_ms": 50, "issue_p99_ms": 25, "tickets_per_second": 300, "peak_rss_mb": 150}


def bench_centre(counters: int, kiosks: int = 0) -> dict:
    password_hash = hash_password(PASSWORD)
    domains = [{"code": f"D{d}", "name": f"Lĩnh vực {d}",
                "series": {"first": (d + 1) * 100000, "last": (d + 1) * 100000 + 99999},
                "services": [{"code": f"S{d}{s}", "name": f"Thủ tục {d}.{s}"}
                             for s in range(SERVICES_PER_DOMAIN)]} for d in range(DOMAINS)]
    return {
        "name": "Trung tâm đo tải", "settings": {"accept_outside_hours": True},
        "domains": domains,
        "counters": [{"number": n, "primary": [f"D{n % DOMAINS}"], "backup": [f"D{(n + 1) % DOMAINS}"]}
                     for n in range(1, counters + 1)],
        "officers": [*({"username": f"cb{n}", "full_name": f"Cán bộ {n}", "password_hash": password_hash}
                       for n in range(1, counters + 1)),
                     {"username": "lanhdao", "full_name": "Lãnh đạo", "role": "manager", "password_hash": password_hash}],
        "kiosks": [{"name": f"k{k}"} for k in range(kiosks)],
    }


def cpu_seconds(processes) -> float:
    """User and system CPU time of the server's processes."""
    return sum(sum(p.cpu_times()[:2]) for p in processes)


def machine_times() -> list[int] | None:
    """The machine's CPU time counters (Linux /proc/stat: user nice system idle iowait irq softirq
    steal), or None where there are none."""
    try:
        with open("/proc/stat") as stat:
            return [int(x) for x in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None


def stolen_share(before: list[int] | None, after: list[int] | None) -> float | None:
    """The share of the machine's time its hypervisor gave to other guests meanwhile: one sign of a
    busy host, on which runs of the same code minutes apart differ twofold in p99 (14% stolen: issue
    p99 44 ms; 3% stolen, the next run: 23 ms). Not the only one: a host's other guests also slow
    this one without taking its time."""
    if not before or not after or len(before) < 8:
        return None
    elapsed = sum(after) - sum(before)
    return round((after[7] - before[7]) / elapsed, 3) if elapsed > 0 else None


class DiskSyncProbe:
    """Times a synced 4 KiB write, every SYNC_PROBE_INTERVAL, in the server's data directory while
    the load runs. The server runs SQLite with synchronous=FULL: a kiosk is answered only once its
    ticket's commit is synced, so while one sync takes 100 ms every request in flight waits it out.
    Such syncs come from the host (seen here: 30-600 ms, several in one 15 s run and none in the
    next seven, with nothing else of ours writing); the probe tells a run that met them from one
    that did not."""

    def __init__(self, directory: Path):
        self.path = directory / "disk-sync-probe"
        self.times_ms: list[float] = []
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._probe, daemon=True)

    def __enter__(self) -> "DiskSyncProbe":
        self._running.set()
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._running.clear()
        self._thread.join()
        self.path.unlink(missing_ok=True)

    def _probe(self) -> None:
        # Overwritten in place, as SQLite overwrites its write-ahead log once it has reached its size.
        descriptor = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            while self._running.is_set():
                os.pwrite(descriptor, os.urandom(4096), 0)
                started = time.perf_counter()
                os.fdatasync(descriptor)
                self.times_ms.append((time.perf_counter() - started) * 1000)
                time.sleep(SYNC_PROBE_INTERVAL)
        finally:
            os.close(descriptor)

    def summary(self) -> dict:
        return {"p50": percentile(self.times_ms, 50), "max": round(max(self.times_ms, default=0), 2),
                "over_25ms": sum(t > 25 for t in self.times_ms), "n": len(self.times_ms)}


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 2)


def summary(values: list[float]) -> dict:
    return {"p50": percentile(values, 50), "p99": percentile(values, 99), "n": len(values)}


# -- the listening side, in its own process ----------------------------------------------------
def listeners(url: str, tokens: dict[int, str], manager: str, displays: int, counter_listeners: int, ready,
              stop, out) -> None:
    """70 sockets in one asyncio loop: as threads, the clients would cost more than the server."""
    asyncio.run(_listen(url, tokens, manager, displays, counter_listeners, ready, stop, out))


async def _listen(url, tokens, manager, displays, counter_listeners, ready, stop, out) -> None:
    received: list[tuple[str, float]] = []
    dashboard: list[tuple[str, float]] = []
    pending: list[str] = []
    reading = asyncio.Event()

    async def on_dashboard_state(data):
        # The page re-reads on every state_changed (coalesced by the server to one per 100 ms).
        pending.extend(t["number"] for t in data.get("tickets", []) if t.get("status") == "called")
        reading.set()

    async def read_dashboard(http: aiohttp.ClientSession) -> None:
        last_read = 0.0
        while not stop.is_set():
            try:
                await asyncio.wait_for(reading.wait(), 0.1)
            except asyncio.TimeoutError:
                continue
            await asyncio.sleep(max(0.0, last_read + DASHBOARD_READ_INTERVAL - time.monotonic()))
            reading.clear()
            last_read = time.monotonic()
            numbers = list(pending)
            pending.clear()
            async with http.get(f"{url}/api/v1/supervision", headers={"Authorization": f"Bearer {manager}"}) as r:
                await r.read()
            done = time.monotonic()
            dashboard.extend((number, done) for number in numbers)

    async def on_called(data):
        if not data.get("recall"):
            received.append((data["ticket"]["number"], time.monotonic()))

    async def connect(room: str, token: str | None, record):
        client = LeanSocketIO(http, url)
        if record:
            client.on("ticket_called", record)
        await client.connect(auth={"token": token} if token else None)
        ack = await client.call("subscribe", {"room": room}, timeout=30)
        if "error" in ack:
            raise RuntimeError(ack["error"])
        return client

    clients = []
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    try:
        for _ in range(displays):
            clients.append(await connect("display", None, on_called))
        for counter_id, token in list(tokens.items())[:counter_listeners]:
            clients.append(await connect(f"counter:{counter_id}", token, None))
        clients.append(await connect("supervision", manager, None))
        clients[-1].on("state_changed", on_dashboard_state)
        reader = asyncio.create_task(read_dashboard(http))
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # let the last messages arrive
        await reader
    finally:
        await http.close()
        out.put((list(received), list(dashboard)))
        for client in clients:
            await client.disconnect()


# -- the load side -----------------------------------------------------------------------------
async def generate_load(url, tokens, services, seconds, kiosks, issue_rate, call_rate, kiosk_keys) -> dict:
    """Kiosks issue and counters call over HTTP keep-alive, all in one asyncio loop."""
    issue_ms: list[float] = []
    call_ms: list[float] = []
    sent_at: dict[str, float] = {}
    errors: list[str] = []
    started = time.monotonic()
    deadline = started + seconds

    async def kiosk(http: aiohttp.ClientSession, k: int) -> None:
        interval = kiosks / issue_rate if issue_rate else 0.0
        next_at, i = time.monotonic() + interval * k / kiosks, k
        while time.monotonic() < deadline:
            if interval:
                next_at += interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            i += 1
            t0 = time.perf_counter()
            async with http.post(f"{url}/api/v1/tickets", json={"service": services[i % len(services)]},
                                 headers={"X-Hangdoi-Kiosk-Key": kiosk_keys[f"k{k}"]}) as response:
                await response.read()
                issue_ms.append((time.perf_counter() - t0) * 1000)
                if response.status != 201:
                    errors.append(f"issue {response.status}")

    async def caller(http: aiohttp.ClientSession) -> None:
        order, i = list(tokens.items()), 0
        interval, next_at = 1.0 / call_rate, time.monotonic()
        while time.monotonic() < deadline:
            counter_id, token = order[i % len(order)]
            i += 1
            sent = time.monotonic()
            t0 = time.perf_counter()
            async with http.post(f"{url}/api/v1/counters/{counter_id}/call-next", json=SERVED,
                                 headers={"Authorization": f"Bearer {token}"}) as response:
                body = await response.json()
                call_ms.append((time.perf_counter() - t0) * 1000)
                if response.status != 200:
                    errors.append(f"call {response.status}")
                elif body["ticket"]:
                    sent_at[body["ticket"]["number"]] = sent
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    connector = aiohttp.TCPConnector(limit=kiosks + 2)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(kiosk(http, k) for k in range(kiosks)), *([caller(http)] if call_rate else []))
    return {"issue_ms": issue_ms, "call_ms": call_ms, "sent_at": sent_at, "errors": errors,
            "elapsed": time.monotonic() - started}


def run(seconds: float, kiosks: int, call_rate: float, counters: int, displays: int,
        listening_counters: int, issue_rate: float | None, extra_env: dict | None = None) -> dict:
    """`extra_env`: more settings for the centre's server (bench/province.py links it to a province)."""
    data_dir = Path(tempfile.mkdtemp(prefix="hangdoi-bench-"))
    url = f"sqlite:///{data_dir / 'hangdoi.sqlite3'}"
    upgrade(url)
    db = Database(url, clock=SystemClock())
    ids = create_centre(db, bench_centre(counters, kiosks))
    db.dispose()
    # Every device runs on this one machine: one address holds all the sockets.
    server = LiveServer(data_dir, extra_env={"HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "0",
                                             "HANGDOI_LOGIN_RATE_LIMIT_PER_MINUTE": "0",
                                             "HANGDOI_MAX_SOCKETS_PER_ADDRESS": "0", **(extra_env or {})}).start()
    # gunicorn's master and its worker: the worker answers, the master only watches it.
    worker = psutil.Process(server.worker_pids()[0])
    processes = [psutil.Process(server.process.pid), worker]
    try:
        tokens = {}
        for n, counter_id in ids["counters"].items():
            tokens[counter_id] = server.login(f"cb{n}", PASSWORD)
            server.post(f"/counters/{counter_id}/sign-in", tokens[counter_id]).raise_for_status()

        manager = server.login("lanhdao", PASSWORD)
        ctx = multiprocessing.get_context("spawn")
        ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
        listener = ctx.Process(target=listeners,
                               args=(server.url, tokens, manager, displays, listening_counters, ready, stop, out))
        listener.start()
        if not ready.wait(120):
            raise TimeoutError("listeners did not connect")

        services = [f"S{d}{s}" for d in range(DOMAINS) for s in range(SERVICES_PER_DOMAIN)]
        peak_rss = [worker.memory_info().rss]
        sampling = threading.Event()
        sampling.set()

        def sample_rss() -> None:
            while sampling.is_set():
                peak_rss.append(worker.memory_info().rss)
                time.sleep(0.2)

        sampler = threading.Thread(target=sample_rss)
        sampler.start()
        cpu_before, machine_before = cpu_seconds(processes), machine_times()
        with DiskSyncProbe(data_dir) as disk:
            load = asyncio.run(generate_load(server.url, tokens, services, seconds, kiosks, issue_rate, call_rate,
                                             ids["kiosks"]))
        cpu_used = cpu_seconds(processes) - cpu_before
        stolen = stolen_share(machine_before, machine_times())
        sampling.clear()
        sampler.join()
        stop.set()
        received, dashboard = out.get(timeout=60)
        listener.join(timeout=30)
        issue_ms, call_ms, sent_at, errors, elapsed = (load[k] for k in ("issue_ms", "call_ms", "sent_at",
                                                                         "errors", "elapsed"))

        display_ms = [(at - sent_at[number]) * 1000 for number, at in received if number in sent_at]
        dashboard_ms = [(at - sent_at[number]) * 1000 for number, at in dashboard if number in sent_at]
        result = {
            "benchmark": "core load (SQLite, one gunicorn worker)",
            "seconds": round(elapsed, 1), "kiosks": kiosks, "counters": counters,
            "displays": displays, "listening_counters": listening_counters,
            "issue_rate_target": issue_rate or "as fast as possible", "call_rate_target": call_rate,
            "tickets_issued": len(issue_ms), "tickets_per_second": round(len(issue_ms) / elapsed, 1),
            "calls": len(call_ms), "issue_ms": summary(issue_ms), "call_next_ms": summary(call_ms),
            "call_to_display_ms": summary(display_ms),
            "call_to_dashboard_ms": summary(dashboard_ms),
            "display_deliveries_expected": len(sent_at) * displays, "display_deliveries": len(display_ms),
            "peak_rss_mb": round(max(peak_rss) / 2**20, 1), "errors": len(errors),
            "server_cpu_ms_per_request": round(cpu_used * 1000 / max(1, len(issue_ms) + len(call_ms)), 3),
            "cpu_stolen_share": stolen, "disk_sync_ms": disk.summary(),
            "targets": TARGETS,
        }
        result["meets_targets"] = {
            "call_to_display_p99": (result["call_to_display_ms"]["p99"] or 1e9) <= TARGETS["call_to_display_p99_ms"],
            "issue_p99": (result["issue_ms"]["p99"] or 1e9) <= TARGETS["issue_p99_ms"],
            "tickets_per_second": result["tickets_per_second"] >= TARGETS["tickets_per_second"],
            "peak_rss": result["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        }
        return result
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--kiosks", type=int, default=6, help="kiosks issuing tickets at once")
    parser.add_argument("--issue-rate", type=float, default=None,
                        help="tickets per second offered in all (default: back to back, to find the ceiling)")
    parser.add_argument("--call-rate", type=float, default=40, help="call-next requests per second (0: none)")
    parser.add_argument("--counters", type=int, default=50)
    parser.add_argument("--displays", type=int, default=20)
    parser.add_argument("--listening-counters", type=int, default=None,
                        help="how many counters keep a socket open (default: all)")
    args = parser.parse_args()
    if args.call_rate < 0 or (args.issue_rate is not None and args.issue_rate <= 0) or args.kiosks < 1:
        parser.error("--call-rate must be 0 or more, --issue-rate above 0, --kiosks at least 1")
    listening = args.counters if args.listening_counters is None else args.listening_counters
    print(json.dumps(run(args.seconds, args.kiosks, args.call_rate, args.counters, args.displays, listening,
                         args.issue_rate),
                     ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()


