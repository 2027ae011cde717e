"""Province benchmark: one province server (gunicorn workers on PostgreSQL) with 100 linked centres
pushing real timelines, played by the engine from `hangdoi simulate` days. Prints one JSON object.

    .venv/bin/python bench/province.py [--centres 100] [--steady-seconds 120] [--offline 30]
                                       [--offline-hours 4] [--workers 2] [--centre-rounds 3]

Each simulated centre replays one day of bench/scenarios/urban-ward-busy.json (the busiest
scenario) at its real pace, from a morning hour of its own (spread over half an hour), and pushes
as the centre's pusher does (hangdoi/services/replication/pusher.py): what is new, in batches of
whole changes of about 2,000 rows, back to back while behind, otherwise looking once a second.
- **warm-up**: every centre sends its day so far; the time until all are current.
- **steady**: the replication lag of each change, from the moment the centre made it to the
  moment the province acknowledged it (the once-a-second look included), over every centre.
- **catch-up**: `--offline` centres had no link for `--offline-hours`: their clocks jump ahead,
  and the changes of those hours are all waiting at once. The time until every one is current, the
  rows ingested per second meanwhile, and the lag of the centres that stayed online.
- Throughout, each centre also exchanges bookings as the pusher does every BOOKINGS_SECONDS (from
  a moment of its own): it pulls the bookings made for it at the province and, every
  OFFER_EVERY-th time (its free slots change as they are booked), sends its offer: the slots of a
  week for the scenario's procedures, as `offer_document` builds them.
- **centre**: a centre's own figures (bench/load.py, at 310 tickets/s offered unless told) with and without
  pushing to a province, in interleaved rounds. The province server then runs at the lowest CPU
  priority, as it would on a machine of its own, so what is measured is the pushing centre.

Needs PostgreSQL at $HANGDOI_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1/test;
a private schema is made and dropped). The clients share the machine's cores with the servers.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import psutil
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import load as centre_load  # noqa: E402 — bench/load.py, the centre's own benchmark
from hangdoi.clock import FixedClock, SystemClock  # noqa: E402
from hangdoi.database import Database  # noqa: E402
from hangdoi.engine.sql import Tx  # noqa: E402
from hangdoi.fixtures.testing import LiveServer  # noqa: E402
from hangdoi.schema import upgrade  # noqa: E402
from hangdoi.services.catalogue import create_centre  # noqa: E402
from hangdoi.services.replication import ingest  # noqa: E402
from hangdoi.engine.bookings_from_province import offer_document  # noqa: E402
from hangdoi.services.replication.pusher import BOOKINGS_SECONDS, IDLE_SECONDS, KEY_HEADER  # noqa: E402
from hangdoi.services.replication.timeline import ROWS_PER_BATCH, batch_after  # noqa: E402
from hangdoi.services.simulation.day import Day  # noqa: E402
from hangdoi.services.simulation.run import centre_spec, working_days  # noqa: E402
from hangdoi.services.simulation.scenario import load as load_scenario  # noqa: E402

POSTGRES_URL = os.environ.get("HANGDOI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCENARIO = Path(__file__).resolve().parent / "scenarios" / "urban-ward-busy.json"
DAYS = 5                     # distinct days of timeline; centre i replays day i mod 5
MORNING = 8.5 * 3600         # the steady phase starts around 08:30 local time…
SPREAD = 1800                # …each centre at its own moment in the half hour after
TARGETS = {"steady_lag_p99_s": 5.0, "catch_up_s": 120.0}
OFFER_EVERY = 6              # a centre's free slots change about once a minute at a busy ward


@dataclass
class Change:
    at: float                # seconds after local midnight when the centre made it
    seq: int
    rows: list


def play_days(days: int) -> tuple[list[list[Change]], dict]:
    """The engine plays `days` days of the scenario; each day's timeline as its changes, in order,
    and the centre's offer of free slots to the province afterwards."""
    scenario = load_scenario(str(SCENARIO))
    tz = ZoneInfo(scenario.timezone)
    with tempfile.TemporaryDirectory(prefix="hangdoi-province-bench-") as folder:
        url = f"sqlite:///{folder}/centre.sqlite3"
        upgrade(url)
        clock = FixedClock(datetime.combine(scenario.first_day, datetime.min.time(), tz))
        db = Database(url, clock)
        ids = create_centre(db, centre_spec(scenario))
        played = list(working_days(scenario, days))
        for day in played:
            Day(db, clock, scenario, ids, day, f"bench-{day.isoformat()}").play()
        with db.read() as session:
            rows = batch_after(Tx(session), ids["centre"], 0, 10**9).rows
        offer = offer_document(db, ids["centre"])
        db.dispose()
    by_day: dict = {day.isoformat(): {} for day in played}
    for row in rows:
        local = datetime.fromisoformat((row.get("at") or row["issued_at"]).replace("Z", "+00:00")).astimezone(tz)
        changes = by_day.setdefault(local.date().isoformat(), {})
        seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        change = changes.setdefault(row["seq"], Change(seconds, row["seq"], []))
        change.at = max(change.at, seconds)
        change.rows.append(row)
    timelines = []
    for day in played:
        changes = sorted(by_day[day.isoformat()].values(), key=lambda c: c.seq)
        latest = 0.0
        for change in changes:          # a change is made no earlier than the one before it
            latest = change.at = max(latest, change.at)
        timelines.append(changes)
    return timelines, offer


@dataclass
class CentreClient:
    key: str
    changes: list[Change]
    virtual_start: float             # the centre's local time of day when the run started
    wall_start: float
    sent: int = 0                    # changes acknowledged
    acknowledged: int = 0
    lags: list[float] = field(default_factory=list)
    rows: int = 0
    pushes: int = 0
    exchanges: int = 0
    errors: list[str] = field(default_factory=list)

    def due_at(self, change: Change) -> float:
        return self.wall_start + (change.at - self.virtual_start)

    def due(self, now: float) -> int:
        """How many changes the centre has made by wall time `now`."""
        n = self.sent
        while n < len(self.changes) and self.due_at(self.changes[n]) <= now:
            n += 1
        return n

    async def run(self, http: aiohttp.ClientSession, url: str, stop: asyncio.Event, measure_from: list[float]) -> None:
        headers = {KEY_HEADER: self.key}
        async with http.get(f"{url}/api/v1/province/link", headers=headers) as response:
            self.acknowledged = (await response.json())["acknowledged"]
        while not stop.is_set():
            now = time.monotonic()
            due = self.due(now)
            if due == self.sent:
                await asyncio.sleep(IDLE_SECONDS)
                continue
            batch, rows = [], 0
            for change in self.changes[self.sent:due]:
                if batch and rows + len(change.rows) > ROWS_PER_BATCH:
                    break
                batch.append(change)
                rows += len(change.rows)
            payload = {"centre": 1, "after": self.acknowledged, "through": batch[-1].seq,
                       "rows": [row for change in batch for row in change.rows]}
            try:
                async with http.post(f"{url}/api/v1/province/push", json=payload, headers=headers) as response:
                    answer = await response.json()
                    if response.status != 200:
                        self.errors.append(f"{response.status} {answer}")
                        await asyncio.sleep(1.0)
                        continue
            except aiohttp.ClientError as exc:
                self.errors.append(repr(exc))
                await asyncio.sleep(1.0)
                continue
            heard = time.monotonic()
            self.acknowledged = answer["acknowledged"]
            for change in batch:
                if self.due_at(change) >= measure_from[0]:
                    self.lags.append(heard - self.due_at(change))
            self.sent += len(batch)
            self.rows += rows
            self.pushes += 1

    async def exchange(self, http: aiohttp.ClientSession, url: str, stop: asyncio.Event, offer: dict,
                       offset: float) -> None:
        """The pusher's other duty: pull the bookings made at the province, send the free slots."""
        headers = {KEY_HEADER: self.key}
        await asyncio.sleep(offset)
        while not stop.is_set():
            try:
                async with http.get(f"{url}/api/v1/province/bookings?after=0", headers=headers) as response:
                    if response.status != 200:
                        self.errors.append(f"bookings {response.status}")
                    await response.read()
                if self.exchanges % OFFER_EVERY == 0:
                    async with http.put(f"{url}/api/v1/province/offer", json=offer, headers=headers) as response:
                        if response.status != 200:
                            self.errors.append(f"offer {response.status} {await response.text()}"[:300])
                        await response.read()
                self.exchanges += 1
            except aiohttp.ClientError as exc:
                self.errors.append(repr(exc))
            try:
                await asyncio.wait_for(stop.wait(), BOOKINGS_SECONDS)
            except asyncio.TimeoutError:
                pass

    def current(self, now: float) -> bool:
        return self.sent >= self.due(now)


def spread(values: list[float]) -> dict:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}
    pick = lambda p: round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3)  # noqa: E731
    return {"n": len(ordered), "p50": pick(0.50), "p99": pick(0.99), "max": round(ordered[-1], 3)}


async def wait_until(check, timeout: float, step: float = 0.1) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        await asyncio.sleep(step)
    return None


async def replication(url: str, keys: list[str], timelines: list[list[Change]], offer: dict, steady_seconds: float,
                      offline: int, offline_hours: float, workers: list[psutil.Process]) -> dict:
    wall = time.monotonic()
    clients = [CentreClient(key, timelines[i % len(timelines)], MORNING + SPREAD * i / len(keys), wall)
               for i, key in enumerate(keys)]
    measure_from = [float("inf")]        # lags are kept for changes made from then on
    stop = asyncio.Event()
    # A connection per request, as the pusher's urllib makes: no kept-alive connection the server
    # closes just as a push goes out on it.
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        tasks = [asyncio.create_task(c.run(http, url, stop, measure_from)) for c in clients]
        tasks += [asyncio.create_task(c.exchange(http, url, stop, offer, BOOKINGS_SECONDS * i / len(clients)))
                  for i, c in enumerate(clients)]
        history = sum(c.due(wall) for c in clients)
        warm = await wait_until(lambda: all(c.current(time.monotonic()) for c in clients), 600)
        warm_rows = sum(c.rows for c in clients)

        cpu = lambda: sum(sum(p.cpu_times()[:2]) for p in workers)  # noqa: E731
        measure_from[0] = time.monotonic()
        rows_before, cpu_before = sum(c.rows for c in clients), cpu()
        pushes_before = sum(c.pushes for c in clients)
        exchanges_before = sum(c.exchanges for c in clients)
        await asyncio.sleep(steady_seconds)
        steady_pushes = sum(c.pushes for c in clients) - pushes_before
        steady_exchanges = sum(c.exchanges for c in clients) - exchanges_before
        steady_elapsed = time.monotonic() - measure_from[0]
        steady_rows = sum(c.rows for c in clients) - rows_before
        steady_cpu = cpu() - cpu_before
        steady_lags = [lag for c in clients for lag in c.lags]
        for c in clients:
            c.lags = []

        # The offline centres come back: their clocks jump ahead by the hours they were cut off,
        # and everything they made meanwhile is waiting to go.
        back = time.monotonic()
        late, online = clients[:offline], clients[offline:]
        for c in late:
            c.virtual_start += offline_hours * 3600
        measure_from[0] = back           # online centres' lags; the late ones' backlog is not lag
        pending = {id(c): c.due(back) for c in late}
        waiting_rows = sum(len(ch.rows) for c in late for ch in c.changes[c.sent:pending[id(c)]])
        rows_before, cpu_before = sum(c.rows for c in clients), cpu()
        caught = await wait_until(lambda: all(c.sent >= pending[id(c)] for c in late), 900)
        catch_elapsed = time.monotonic() - back
        catch_rows = sum(c.rows for c in clients) - rows_before
        catch_cpu = cpu() - cpu_before
        for c in late:
            c.lags = []
        await asyncio.sleep(max(0.0, 10 - catch_elapsed))
        online_lags = [lag for c in online for lag in c.lags]
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    errors = [e for c in clients for e in c.errors]
    return {
        "centres": len(clients),
        "warm_up": {"changes": history, "rows": warm_rows, "seconds": None if warm is None else round(warm, 1)},
        "steady": {"seconds": round(steady_elapsed, 1), "rows": steady_rows,
                   "rows_per_second": round(steady_rows / steady_elapsed, 1),
                   "pushes_per_second": round(steady_pushes / steady_elapsed, 1),
                   "booking_exchanges_per_second": round(steady_exchanges / steady_elapsed, 1),
                   "lag_s": spread(steady_lags),
                   "server_cpu_share_of_one_core": round(steady_cpu / steady_elapsed, 3)},
        "catch_up": {"centres": offline, "offline_hours": offline_hours, "rows_waiting": waiting_rows,
                     "seconds_until_all_current": None if caught is None else round(caught, 1),
                     "rows_ingested": catch_rows,
                     "rows_per_second": round(catch_rows / catch_elapsed, 1) if catch_elapsed else None,
                     "server_cpu_share_of_one_core": round(catch_cpu / catch_elapsed, 3) if catch_elapsed else None,
                     "online_centres_lag_s": spread(online_lags)},
        "errors": len(errors), "first_errors": errors[:3],
    }


def report_timing(pg_url: str, timelines: list[list[Change]]) -> dict:
    """The province report by centre over every day pushed, read from the stored rows: how long it takes."""
    from datetime import date

    from hangdoi.services.reports.province import province_report
    days = sorted({row["day"] for timeline in timelines for change in timeline for row in change.rows})
    db = Database(pg_url, clock=SystemClock())
    try:
        with db.read() as session:
            rows = Tx(session).value("SELECT count(*) FROM replica_row")
        started = time.perf_counter()
        report = province_report(db, date.fromisoformat(days[0]), date.fromisoformat(days[-1]), "centre")
        seconds = time.perf_counter() - started
    finally:
        db.dispose()
    return {"days": len(days), "rows_stored": rows, "tickets": report["totals"]["issued"],
            "seconds_by_centre": round(seconds, 2)}


def centre_rounds(province: LiveServer, pg_url: str, rounds: int, issue_rate: float, call_rate: float) -> dict:
    """bench/load.py's centre, without and with a link to the province, interleaved."""
    for pid in [province.process.pid, *province.worker_pids()]:
        psutil.Process(pid).nice(19)
    runs = {"alone": [], "pushing": []}
    for _ in range(rounds):
        for mode in ("alone", "pushing"):
            env = {}
            if mode == "pushing":
                db = Database(pg_url, clock=SystemClock())
                link_id, key = ingest.add_centre(db, f"Trung tâm đo {uuid.uuid4().hex[:6]}")
                env = {"HANGDOI_PROVINCE_URL": province.url, "HANGDOI_PROVINCE_KEY": key}
            result = centre_load.run(15, 6, call_rate, 50, 20, 50, issue_rate, extra_env=env)
            run = {"tickets_per_second": result["tickets_per_second"], "errors": result["errors"],
                   "issue_p99_ms": result["issue_ms"]["p99"], "call_to_display_p99_ms": result["call_to_display_ms"]["p99"],
                   "server_cpu_ms_per_request": result["server_cpu_ms_per_request"]}
            if mode == "pushing":
                run["province_acknowledged_changes"] = next(
                    link["acknowledged"] for link in ingest.links(db) if link["id"] == link_id)
                db.dispose()
            runs[mode].append(run)
    median = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    return {**runs, "median_issue_p99_ms": {m: median([r["issue_p99_ms"] for r in rs]) for m, rs in runs.items()},
            "median_call_to_display_p99_ms": {m: median([r["call_to_display_p99_ms"] for r in rs])
                                              for m, rs in runs.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--centres", type=int, default=100)
    parser.add_argument("--steady-seconds", type=float, default=120)
    parser.add_argument("--offline", type=int, default=30, help="centres that come back at once")
    parser.add_argument("--offline-hours", type=float, default=4)
    parser.add_argument("--workers", type=int, default=2, help="the province's gunicorn workers")
    parser.add_argument("--centre-rounds", type=int, default=3, help="rounds of the centre's own figures (0: skip)")
    parser.add_argument("--centre-issue-rate", type=float, default=310,
                        help="tickets a second offered at the centre then (bench/load.py's target; a real centre's "
                             "busiest hour is about 0.1)")
    parser.add_argument("--centre-call-rate", type=float, default=40)
    args = parser.parse_args()
    if not 0 <= args.offline <= args.centres:
        parser.error("--offline: from 0 to --centres")

    timelines, offer = play_days(DAYS)
    schema = f"hd_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    pg_url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    province = None
    try:
        upgrade(pg_url)
        db = Database(pg_url, clock=SystemClock())
        keys = [ingest.add_centre(db, f"Xã {n}", f"Khu vực {n % 10}")[1] for n in range(args.centres)]
        db.dispose()
        province = LiveServer(Path(tempfile.mkdtemp(prefix="hangdoi-province-")), database_url=pg_url,
                              gunicorn_workers=args.workers, gunicorn_threads=16,
                              extra_env={"HANGDOI_DB_POOL_SIZE": "10"}).start(timeout=60)
        workers = [psutil.Process(pid) for pid in province.worker_pids()]
        result = asyncio.run(replication(province.url, keys, timelines, offer, args.steady_seconds, args.offline,
                                         args.offline_hours, workers))
        result["report"] = report_timing(pg_url, timelines)
        centre = (centre_rounds(province, pg_url, args.centre_rounds, args.centre_issue_rate, args.centre_call_rate)
                  if args.centre_rounds else None)
    finally:
        if province is not None:
            province.stop()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    steady_p99 = result["steady"]["lag_s"].get("p99")
    caught = result["catch_up"]["seconds_until_all_current"]
    print(json.dumps({
        "benchmark": "province (one gunicorn server set on PostgreSQL, centres pushing simulated days)",
        "cpus": os.cpu_count(), "province_workers": args.workers, "scenario": SCENARIO.name,
        "offer_kb": round(len(json.dumps(offer, ensure_ascii=False).encode()) / 1024, 1), **result,
        "centre": centre, "targets": TARGETS,
        "meets_targets": {"steady_lag_p99": steady_p99 is not None and steady_p99 <= TARGETS["steady_lag_p99_s"],
                          "catch_up": caught is not None and caught <= TARGETS["catch_up_s"],
                          "errors": result["errors"] == 0},
    }, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
