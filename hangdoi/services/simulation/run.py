"""`simulate(scenario)`: build the scenario's centre in a fresh SQLite database, play its days
through the engine and score every estimator on the same citizens. All estimators see exactly the
same simulated days (common random numbers): they are asked side by side at each issue and what
they answer never changes what happens next."""
from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from hangdoi.clock import FixedClock
from hangdoi.database import Database
from hangdoi.engine.sql import Tx
from hangdoi.schema import upgrade
from hangdoi.services.auth import hash_password
from hangdoi.services.catalogue import create_centre
from hangdoi.services.estimates.baselines import BASELINES
from hangdoi.services.estimates.forecast import Forecast, spread_of
from hangdoi.services.simulation.day import Day
from hangdoi.services.simulation.oracle import Oracle
from hangdoi.services.simulation.scenario import Scenario
from hangdoi.services.simulation.scores import scores

ESTIMATOR_ORDER = ("naive", "service_ql", "les", "hol", "rolling", "hangdoi", "oracle")


def estimators(scenario: Scenario, ids: dict) -> list:
    """The baselines, ours, and the oracle that knows the scenario's true parameters (the floor).
    Those that print a range keep their runs, for the range's coverage and the record."""
    return [*(baseline() for baseline in BASELINES), Forecast(keep_runs=True), Oracle(scenario, ids, keep_runs=True)]


def centre_spec(scenario: Scenario) -> dict:
    domains: dict[str, list] = {}
    for service in scenario.services:
        domains.setdefault(service.domain, []).append({"code": service.code, "name": service.name})
    password = hash_password("simulated")
    return {
        "name": scenario.name, "timezone": scenario.timezone,
        "opening_hours": {"sessions": [[_hhmm(a), _hhmm(b)] for a, b in scenario.sessions],
                          "weekdays": list(scenario.weekdays)},
        "settings": {"service_minutes": scenario.service_minutes_prior,
                     "priority_streak_limit": scenario.priority_streak_limit},
        "domains": [{"code": f"D{i + 1}", "name": name,
                     "series": {"prefix": chr(ord("A") + i % 26), "first": 1, "last": 9999},
                     "services": services} for i, (name, services) in enumerate(domains.items())],
        "counters": [{"number": c.number, "primary": list(c.primary), "backup": list(c.backup)}
                     for c in scenario.counters],
        "officers": [{"username": f"canbo{c.number}", "full_name": f"Cán bộ {c.number}",
                      "password_hash": password} for c in scenario.counters],
    }


def _hhmm(minutes: float) -> str:
    return f"{int(minutes) // 60:02d}:{int(minutes) % 60:02d}"


def working_days(scenario: Scenario, count: int):
    day = scenario.first_day
    while count:
        if day.weekday() in scenario.weekdays:
            yield day
            count -= 1
        day += timedelta(days=1)


def simulate(scenario: Scenario, days: int | None = None, seed: int | None = None,
             progress=None, record: TextIO | None = None) -> dict:
    """`record`: a file that gets one JSON line per predicted ticket (`record_line`)."""
    days = days or scenario.days
    seed = scenario.seed if seed is None else seed
    scratch = Path("/dev/shm") if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="hangdoi-sim-", dir=scratch) as folder:
        url = f"sqlite:///{folder}/simulation.sqlite3"
        upgrade(url)
        first = datetime.combine(scenario.first_day, time(), ZoneInfo(scenario.timezone))
        clock = FixedClock(first)
        db = Database(url, clock)
        try:
            ids = create_centre(db, centre_spec(scenario))
            pairs: dict[str, list[tuple[float, float]]] = {name: [] for name in ESTIMATOR_ORDER}
            outcomes: dict[str, list[tuple[tuple, float]]] = {name: [] for name in ESTIMATOR_ORDER}
            tickets = not_called = 0
            for n, day in enumerate(working_days(scenario, days)):
                predictions = Day(db, clock, scenario, ids, estimators(scenario, ids), day,
                                  f"{seed}-{day.isoformat()}").play()
                waited = _waits(db, ids["centre"], day)
                for p in predictions:
                    actual = waited.get(p.ticket_id)
                    if record is not None:
                        record.write(record_line(day, p, actual) + "\n")
                    if actual is None:
                        not_called += 1
                        continue
                    tickets += 1
                    for name, minutes in p.minutes.items():
                        pairs[name].append((minutes, actual))
                    for name, runs in p.runs.items():
                        outcomes[name].append((runs, actual))
                if progress:
                    progress(n + 1, days)
        finally:
            db.dispose()
    return {"scenario": scenario.name, "days": days, "tickets": tickets,
            "estimators": {name: scores(pairs[name], outcomes[name]) for name in ESTIMATOR_ORDER},
            "seed": seed, "not_called": not_called}


def record_line(day, prediction, waited: float | None) -> str:
    """One predicted ticket: when it was issued (minutes after midnight), how long it waited (null:
    never called), what each estimator said, and our forecast's P5 … P95 (null: not called today
    in that share of its runs). bench/calibration.py reads these."""
    def rounded(value):
        return None if value is None or math.isinf(value) else round(value, 3)
    return json.dumps({"day": day.isoformat(), "issued": round(prediction.issued, 3), "waited": rounded(waited),
                       "predicted": {name: rounded(m) for name, m in prediction.minutes.items()},
                       "spread": [rounded(v) for v in spread_of(runs)] if (runs := prediction.runs.get("hangdoi")) else None})


def _waits(db, centre_id: int, day) -> dict[int, float]:
    """The truth: the moment each ticket was last called minus its issue time, in minutes."""
    with db.read() as session:
        tx = Tx(session)
        return {r["id"]: (tx.read_instant(r["called_at"]) - tx.read_instant(r["issued_at"])).total_seconds() / 60
                for r in tx.rows("SELECT id, issued_at, called_at FROM ticket WHERE centre_id = :centre "
                                 "AND local_day = :day AND called_at IS NOT NULL", centre=centre_id, day=tx.day(day))}
