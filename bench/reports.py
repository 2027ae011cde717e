"""Report benchmark: how long a month report takes over 30 000 tickets, on SQLite and PostgreSQL.

    .venv/bin/python bench/reports.py [--tickets 30000] [--runs 5]

A centre with 15 counters gets one month of history (hangdoi/fixtures/history.py: about 1,360 tickets on
each of 22 working days, their whole timelines), then the month's report is built `runs` times per
grouping, cold (a fresh Database each time, so every timeline is read: the first report after a
start) and warm (settled days already in memory: hangdoi/services/reports/settled.py). Target: every
grouping's cold median ≤ 1 s. Prints JSON.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from common import Database, create_centre, upgrade  # noqa: F401 — common also sets sys.path
from sqlalchemy import create_engine, text

from hangdoi.fixtures.demo import DEMO_CENTRE
from hangdoi.fixtures.history import write_history
from hangdoi.services.reports import build_report, export

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FIRST, LAST = date(2026, 10, 1), date(2026, 10, 31)
WORKING_DAYS = 22
GROUPINGS = ("day", "service", "officer", "hour")
BUSY_CENTRE = {**DEMO_CENTRE, "counters": [
    {"number": n, "name": f"Quầy {n}", "primary": [code], "backup": ["HT", "CT"]}
    for n, code in enumerate(["HT", "HT", "HT", "CT", "CT", "CT", "DD", "DD", "XD", "KD", "KD", "LD", "LD", "NN", "NN"],
                             start=1)],
    "officers": [*DEMO_CENTRE["officers"], *({"username": f"canbo{n}", "full_name": f"Cán bộ {n}",
                                              "password_hash": "x"} for n in range(7, 16))]}


def measure(url: str, tickets: int, runs: int) -> dict:
    upgrade(url)
    db = Database(url)
    centre = create_centre(db, BUSY_CENTRE)["centre"]
    started = time.perf_counter()
    written = write_history(db, centre, FIRST, LAST, tickets_per_day=tickets // WORKING_DAYS)
    figures = {"tickets": written, "history_write_s": round(time.perf_counter() - started, 1)}
    for by in GROUPINGS:
        cold, warm = [], []
        for _ in range(runs):
            fresh = Database(url)
            started = time.perf_counter()
            report = build_report(fresh, centre, FIRST, LAST, by)
            cold.append(time.perf_counter() - started)
            fresh.dispose()
            started = time.perf_counter()
            build_report(db, centre, FIRST, LAST, by)
            warm.append(time.perf_counter() - started)
        assert report["totals"]["issued"] == written
        figures[f"month_by_{by}_s"] = {"cold_median": round(statistics.median(cold), 3), "cold_max": round(max(cold), 3),
                                        "warm_median": round(statistics.median(warm), 3)}
    started = time.perf_counter()
    export.to_xlsx(build_report(db, centre, FIRST, LAST, "service"))
    figures["month_by_service_xlsx_s"] = round(time.perf_counter() - started, 3)
    figures["meets_1s"] = all(figures[f"month_by_{by}_s"]["cold_median"] <= 1.0 for by in GROUPINGS)
    db.dispose()
    return figures


def postgres_schema() -> tuple[str, callable]:
    schema = f"hd_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=30000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    result = {"benchmark": "reports", "range": f"{FIRST}..{LAST}"}
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = measure(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.tickets, args.runs)
    try:
        url, drop = postgres_schema()
    except Exception as exc:  # noqa: BLE001 — no server: say so in the figures
        result["postgresql"] = {"skipped": f"PostgreSQL not reachable: {type(exc).__name__}"}
    else:
        try:
            result["postgresql"] = measure(url, args.tickets, args.runs)
        finally:
            drop()
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    print()


if __name__ == "__main__":
    main()
