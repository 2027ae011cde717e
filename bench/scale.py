"""Scale-out benchmark: gunicorn with 1, 2 and 4 threaded workers on PostgreSQL and Redis, as
README "Deployment" runs it, with 20 centres × 10 counters × 2 displays connected. Prints one JSON
object: per worker count, tickets issued per second (kiosks back to back over every centre), issue
and call-next latency, call-to-display latency (a counter's call-next request sent → each of its
centre's two display sockets receiving `ticket_called`), the workers' CPU time per request and the
throughput ratio to one worker. Back to back, every
request waits behind the kiosks' (latency = kiosks ÷ throughput), so each worker count then runs
again at a steady `--steady-rate` that all of them carry, for the latency a lobby would see.

    .venv/bin/python bench/scale.py [--seconds 15] [--workers 1 2 4] [--kiosks 16]

Needs PostgreSQL at $HANGDOI_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1/test;
a private schema is made and dropped) and Redis at $HANGDOI_BENCH_REDIS_URL. The clients run on the
same machine as the servers: on a 2-core machine they take their share of the cores.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import psutil
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import browser_like_socket, spread  # noqa: E402 — common also sets sys.path
from hangdoi.services.auth import hash_password  # noqa: E402
from hangdoi.services.catalogue import create_centre  # noqa: E402
from hangdoi.clock import SystemClock  # noqa: E402
from hangdoi.database import Database  # noqa: E402
from hangdoi.engine import close_day  # noqa: E402
from hangdoi.schema import upgrade  # noqa: E402
from hangdoi.fixtures.testing import LiveServer  # noqa: E402

POSTGRES_URL = os.environ.get("HANGDOI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HANGDOI_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
CENTRES, COUNTERS, DISPLAYS = 20, 10, 2
PASSWORD = "bench-password"
TARGETS = {"ratio_4_to_1": 2.5, "call_to_display_p99_ms": 100}


def centre_spec(c: int, password_hash: str) -> dict:
    domains = [{"code": f"D{d}", "name": f"Lĩnh vực {d}", "series": {"first": (d + 1) * 100000,
                                                                       "last": (d + 1) * 100000 + 99999},
                "services": [{"code": f"S{d}", "name": f"Thủ tục {d}"}]} for d in range(5)]
    return {"name": f"Trung tâm {c}", "settings": {"accept_outside_hours": True}, "domains": domains,
            "counters": [{"number": n, "primary": [f"D{n % 5}"], "backup": [f"D{(n + 1) % 5}"]}
                         for n in range(1, COUNTERS + 1)],
            "officers": [{"username": f"c{c}cb{n}", "full_name": f"Cán bộ {n}", "password_hash": password_hash}
                         for n in range(1, COUNTERS + 1)],
            "displays": [{"name": f"Sảnh {d}"} for d in range(DISPLAYS)],
            "kiosks": [{"name": "Kiosk"}]}


# -- the listening side, a process of its own --------------------------------------------------
def listen(url, displays, counters, ready, stop, out) -> None:
    asyncio.run(_listen(url, displays, counters, ready, stop, out))


async def _listen(url, displays, counters, ready, stop, out) -> None:
    """`displays`: [(centre id, key)]; `counters`: [(counter id, token)]. One asyncio loop."""
    heard: list[tuple[int, str, float]] = []
    clients = []

    async def connect(ask: dict, token: str | None, centre: int | None) -> None:
        client = browser_like_socket()
        if centre is not None:
            async def on_called(data, centre=centre):
                if not data.get("recall"):
                    heard.append((centre, data["ticket"]["number"], time.monotonic()))
            client.on("ticket_called", on_called)
        await client.connect(url, transports=["websocket"], auth={"token": token} if token else None)
        ack = await client.call("subscribe", ask, timeout=60)
        if "error" in ack:
            raise RuntimeError(ack["error"])
        clients.append(client)

    for centre, key in displays:
        await connect({"room": "display", "device": key}, None, centre)
    for counter_id, token in counters:
        await connect({"room": f"counter:{counter_id}"}, token, None)
    ready.set()
    while not stop.is_set():
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    out.put(heard)
    for client in clients:
        await client.disconnect()


# -- the load side -----------------------------------------------------------------------------
async def load(url, centres, counters, seconds, kiosks, call_rate, issue_rate=None) -> dict:
    """`centres`: {centre id: its kiosk's key}; `counters`: [(centre id, counter id, token)]. Kiosks go
    back to back, or at `issue_rate` tickets a second in all."""
    issued, call_sent, errors = [], {}, []
    issue_ms, call_ms = [], []
    deadline = time.monotonic() + seconds
    started = time.monotonic()

    async def kiosk(k: int) -> None:
        rng = random.Random(k)
        interval = kiosks / issue_rate if issue_rate else 0.0
        next_at = time.monotonic() + interval * k / kiosks
        # A connection of its own, so the kernel spreads the kiosks over the workers.
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if interval:
                    next_at += interval
                    await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                centre = rng.choice(list(centres))
                body = {"service": f"S{rng.randrange(5)}", "centre": centre}
                t0 = time.perf_counter()
                async with http.post(f"{url}/api/v1/tickets", json=body,
                                     headers={"X-Hangdoi-Kiosk-Key": centres[centre]}) as response:
                    await response.read()
                    issue_ms.append((time.perf_counter() - t0) * 1000)
                    (issued if response.status == 201 else errors).append(response.status)

    async def caller(lane: int, lanes: int) -> None:
        mine = counters[lane::lanes]
        interval, i = lanes / call_rate, 0
        next_at = time.monotonic() + interval * lane / lanes   # staggered, like the kiosks: no bursts
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
                centre, counter_id, token = mine[i % len(mine)]
                i += 1
                sent = time.monotonic()
                async with http.post(f"{url}/api/v1/counters/{counter_id}/call-next", json={"previous": "served"},
                                     headers={"Authorization": f"Bearer {token}"}) as response:
                    body = await response.json()
                    call_ms.append((time.monotonic() - sent) * 1000)
                    if response.status != 200:
                        errors.append(response.status)
                    elif body["ticket"]:
                        call_sent[(centre, body["ticket"]["number"])] = sent

    await asyncio.gather(*(kiosk(k) for k in range(kiosks)), *(caller(lane, 4) for lane in range(4)))
    return {"issued": len(issued), "call_requests": len(call_ms), "call_sent": call_sent, "errors": len(errors),
            "issue_ms": spread(issue_ms), "call_next_ms": spread(call_ms),
            "elapsed": time.monotonic() - started}


def run_once(workers: int, pg_url: str, data_dir: Path, ids: list[dict], seconds: float, kiosks: int,
             call_rate: float, issue_rate: float | None = None) -> dict:
    """One worker count: a fresh day, every counter signed in, every screen and terminal connected."""
    db = Database(pg_url, clock=SystemClock())
    for centre in ids:                      # every run starts from empty queues and free counters
        close_day(db, centre["centre"])
    db.dispose()
    # Every device runs on this one machine: one address holds all the sockets.
    env = {"HANGDOI_KIOSK_RATE_LIMIT_PER_MINUTE": "0", "HANGDOI_LOGIN_RATE_LIMIT_PER_MINUTE": "0",
           "HANGDOI_MAX_SOCKETS_PER_ADDRESS": "0",
           "HANGDOI_REDIS_CHANNEL": f"hangdoi-bench-{uuid.uuid4().hex[:8]}", "HANGDOI_DB_POOL_SIZE": "10"}
    # Every socket holds a worker thread: one worker alone must hold them all, and the kiosks.
    sockets = CENTRES * (COUNTERS + DISPLAYS)
    server = LiveServer(data_dir, database_url=pg_url, redis_url=REDIS_URL, extra_env=env, gunicorn_workers=workers,
                        gunicorn_threads=sockets + kiosks + 40).start(timeout=60)
    try:
        counters = []
        for c, centre in enumerate(ids):
            for n, counter_id in centre["counters"].items():
                token = server.login(f"c{c}cb{n}", PASSWORD)
                server.post(f"/counters/{counter_id}/sign-in", token).raise_for_status()
                counters.append((centre["centre"], counter_id, token))
        # Counter 1 of every centre, then counter 2 of every centre, …: the callers take turns down
        # this list, so calls made at the same moment are in different centres, as officers' presses
        # are, rather than four at once in one centre, waiting on each other.
        counters = [counters[i * COUNTERS + n] for n in range(COUNTERS) for i in range(len(ids))]
        displays = [(centre["centre"], key) for centre in ids for key in centre["displays"].values()]
        ctx = multiprocessing.get_context("spawn")
        ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
        listener = ctx.Process(target=listen, args=(server.url, displays, [(c, t) for _, c, t in counters],
                                                   ready, stop, out))
        listener.start()
        if not ready.wait(180):
            raise TimeoutError("listeners did not connect")
        workers_cpu = [psutil.Process(pid) for pid in server.worker_pids()]
        cpu_before = sum(sum(p.cpu_times()[:2]) for p in workers_cpu)
        result = asyncio.run(load(server.url, {c["centre"]: c["kiosks"]["Kiosk"] for c in ids}, counters, seconds, kiosks, call_rate,
                                  issue_rate))
        cpu_used = sum(sum(p.cpu_times()[:2]) for p in workers_cpu) - cpu_before
        stop.set()
        heard = out.get(timeout=120)
        listener.join(timeout=30)
    finally:
        server.stop()
    sent = result["call_sent"]
    latency = [(at - sent[(centre, number)]) * 1000 for centre, number, at in heard if (centre, number) in sent]
    return {"workers": workers, "tickets_per_second": round(result["issued"] / result["elapsed"], 1),
            "tickets": result["issued"], "calls": len(sent), "issue_ms": result["issue_ms"],
            "call_next_ms": result["call_next_ms"], "call_to_display_ms": spread(latency),
            "display_deliveries": len(latency), "display_deliveries_expected": len(sent) * DISPLAYS,
            "errors": result["errors"],
            "server_cpu_ms_per_request": round(cpu_used * 1000 / max(1, result["issued"] + result["call_requests"]), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--kiosks", type=int, default=16, help="kiosks issuing back to back, each its own connection")
    parser.add_argument("--call-rate", type=float, default=20, help="call-next requests per second in all")
    parser.add_argument("--steady-rate", type=float, default=100,
                        help="then again at this many tickets a second in all, a load every worker count carries, "
                             "for latency that is not a queue's (0: skip)")
    args = parser.parse_args()

    schema = f"hd_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    pg_url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    try:
        upgrade(pg_url)
        db = Database(pg_url, clock=SystemClock())
        password_hash = hash_password(PASSWORD)
        ids = [create_centre(db, centre_spec(c, password_hash)) for c in range(CENTRES)]
        db.dispose()
        data_dir = Path(tempfile.mkdtemp(prefix="hangdoi-scale-"))
        runs = [run_once(n, pg_url, data_dir, ids, args.seconds, args.kiosks, args.call_rate) for n in args.workers]
        steady = [run_once(n, pg_url, data_dir, ids, args.seconds, args.kiosks, args.call_rate, args.steady_rate)
                  for n in args.workers] if args.steady_rate else []
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    base = runs[0]["tickets_per_second"] or 1
    for run in runs:
        run["throughput_ratio"] = round(run["tickets_per_second"] / base, 2)
    last = runs[-1]
    print(json.dumps({
        "benchmark": "scale-out (gunicorn workers, PostgreSQL, Redis)", "cpus": os.cpu_count(),
        "centres": CENTRES, "counters_per_centre": COUNTERS, "displays_per_centre": DISPLAYS,
        "seconds": args.seconds, "kiosks": args.kiosks, "call_rate": args.call_rate, "runs": runs,
        "steady_rate": args.steady_rate, "steady_runs": steady,
        "targets": TARGETS,
        "meets_targets": {"ratio": last["workers"] == 4 and last["throughput_ratio"] >= TARGETS["ratio_4_to_1"],
                          "call_to_display_p99": _p99_met(runs),
                          "call_to_display_p99_at_steady_rate": _p99_met(steady) if steady else None},
    }, ensure_ascii=False, indent=2))


def _p99_met(runs: list[dict]) -> bool:
    return all((r["call_to_display_ms"]["p99"] or 1e9) <= TARGETS["call_to_display_p99_ms"] for r in runs)


if __name__ == "__main__":
    main()
