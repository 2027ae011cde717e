"""`simulate(scenario)`: build the scenario's centre in a fresh SQLite database, play its days
through the engine and score every estimator on the same citizens. All estimators see exactly the
same simulated days (common random numbers): they are asked side by side at each issue and what
they answer never changes what happens next."""
from __future__ import annotations

import json
import math
import os
import tempfile
from collections import deque
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
from hangdoi.services.simulation.day import Ask, Day, Prediction
from hangdoi.services.simulation.oracle import Oracle
from hangdoi.services.simulation.scenario import Scenario
from hangdoi.services.simulation.scores import in_range, scores
from hangdoi.services.simulation.workers import Workers

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
             progress=None, record: TextIO | None = None, jobs: int = 1) -> dict:
    """`record`: a file that gets one JSON line per predicted ticket (`record_line`). `jobs`: processes
    that ask the estimators (what they answer never changes a day, so the next days are played while
    earlier ones are being estimated); the figures are the same for any number."""
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
            tally = _Tally(record)
            with Workers(jobs, _start_worker, scenario, ids) as workers:
                pending: deque = deque()
                for n, day in enumerate(working_days(scenario, days)):
                    played = Day(db, clock, scenario, ids, day, f"{seed}-{day.isoformat()}")
                    asks = played.play()
                    pending.append((day, called_waits(db, ids["centre"], day),
                                    workers.submit(_predict_here, asks, played.model, played.hour_factors)))
                    while pending and (len(pending) > 2 * jobs or pending[0][2].done()):
                        tally.add(*pending.popleft())
                    if progress:
                        progress(n + 1, days)
                while pending:
                    tally.add(*pending.popleft())
        finally:
            db.dispose()
    return {"scenario": scenario.name, "days": days, "tickets": tally.tickets,
            "estimators": {name: scores(tally.pairs[name], tally.inside[name]) for name in ESTIMATOR_ORDER},
            "seed": seed, "not_called": tally.not_called}


class _Tally:
    """Every estimator's predictions beside the truth, day after day in order."""

    def __init__(self, record: TextIO | None):
        self.record = record
        self.pairs: dict[str, list[tuple[float, float]]] = {name: [] for name in ESTIMATOR_ORDER}
        self.inside: dict[str, list[float]] = {name: [] for name in ESTIMATOR_ORDER}   # share of each wait in range
        self.tickets = self.not_called = 0

    def add(self, day, waited: dict[int, float], predictions) -> None:
        for p in predictions.result():
            actual = waited.get(p.ticket_id)
            if self.record is not None:
                self.record.write(record_line(day, p, actual) + "\n")
            if actual is None:
                self.not_called += 1
                continue
            self.tickets += 1
            for name, minutes in p.minutes.items():
                self.pairs[name].append((minutes, actual))
            for name, runs in p.runs.items():
                self.inside[name].append(in_range(runs, actual))


def predict(asks: list[Ask], estimators: list, model, hour_factors: list[float]) -> list[Prediction]:
    """Every estimator's answer for each ticket just issued, from the queue as it stood then."""
    for estimator in estimators:
        if isinstance(estimator, Oracle):           # it knows how busy the day was drawn to be
            estimator.start_day(hour_factors)
    predictions = []
    for ask in asks:
        minutes, runs = {}, {}
        for estimator in estimators:
            estimates = estimator.estimate(ask.state, model, only=(ask.ticket_id,))
            found = estimates.tickets.get(ask.ticket_id)
            # "Not today" counts as predicting the time left until closing.
            minutes[estimator.name] = found.minutes if found is not None and found.minutes is not None else ask.left
            if getattr(estimator, "prints_range", False):
                runs[estimator.name] = (estimates.runs or {}).get(ask.ticket_id, ())
        predictions.append(Prediction(ask.ticket_id, ask.issued, minutes, runs))
    return predictions


_WORKER_ESTIMATORS: list = []       # in each worker process: built once, asked day after day


def _start_worker(scenario: Scenario, ids: dict) -> None:
    _WORKER_ESTIMATORS[:] = estimators(scenario, ids)


def _predict_here(asks: list[Ask], model, hour_factors: list[float]) -> list[Prediction]:
    return predict(asks, _WORKER_ESTIMATORS, model, hour_factors)


def record_line(day, prediction, waited: float | None) -> str:
    """One predicted ticket: when it was issued (minutes after midnight), how long it waited (null:
    never called), what each estimator said, and our forecast's P5 … P95 (null: not called today
    in that share of its runs). bench/calibration.py reads these."""
    def rounded(value):
        return None if value is None or math.isinf(value) else round(value, 3)
    return json.dumps({"day": day.isoformat(), "issued": round(prediction.issued, 3), "waited": rounded(waited),
                       "predicted": {name: rounded(m) for name, m in prediction.minutes.items()},
                       "spread": [rounded(v) for v in spread_of(runs)] if (runs := prediction.runs.get("hangdoi")) else None})


def called_waits(db, centre_id: int, day) -> dict[int, float]:
    """The truth: the moment each ticket was last called minus its issue time, in minutes."""
    with db.read() as session:
        tx = Tx(session)
        return {r["id"]: (tx.read_instant(r["called_at"]) - tx.read_instant(r["issued_at"])).total_seconds() / 60
                for r in tx.rows("SELECT id, issued_at, called_at FROM ticket WHERE centre_id = :centre "
                                 "AND local_day = :day AND called_at IS NOT NULL", centre=centre_id, day=tx.day(day))}
