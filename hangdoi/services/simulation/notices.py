"""`hangdoi simulate --notices`: when to tell a citizen who waits away from the hall that their
turn is near, compared on the same simulated days (hangdoi/services/simulation/day.py).

Rules, each sending one message, the first time it holds while the ticket waits:
- `chance T p`: ours: the forecast's chance of being called within T minutes reaches p;
- `ahead k`: what products do: k people or fewer ahead in its queue (priority first, as called);
- `naive T`: what products do: the naive estimate (people ahead × average time ÷ counters) is T
  minutes or less.

The queue is looked at whenever it changes (a ticket issued, a call, a citizen leaving) and every
TICK_MINUTES besides, as the live notifier looks every few seconds. A rule that never held before the
call sends its message at the call: too late, it counts as under 5 minutes.

Who is counted: citizens called at least MIN_WAIT minutes after taking their number. For anyone
called sooner no message can come 5 minutes ahead, whatever the rule, and at a quiet centre they
would be most of the day; every rule is scored on the same citizens. For each rule: the share
called 5–30 minutes after the message (the aim: time to come, little waiting in the hall), the
share called under 5 minutes after (they would miss it), and the median lead.
"""
from __future__ import annotations

import os
import tempfile
from collections import deque
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from statistics import median
from zoneinfo import ZoneInfo

from hangdoi.clock import FixedClock
from hangdoi.database import Database
from hangdoi.engine.sql import Tx
from hangdoi.schema import upgrade
from hangdoi.services.catalogue import create_centre
from hangdoi.services.estimates.baselines import Naive, policy_ahead
from hangdoi.services.estimates.forecast import WITHIN_MINUTES, Forecast
from hangdoi.services.estimates.state import QueueState, read_state
from hangdoi.services.simulation.day import ABANDON, ARRIVE, FREE, RESUME, SIGN_IN, Day
from hangdoi.services.simulation.run import called_waits, centre_spec, working_days
from hangdoi.services.simulation.scenario import Scenario
from hangdoi.services.simulation.workers import Workers

TICK = 99                      # an event kind of this module: look at the queue although nothing changed
TICK_MINUTES = 2.0
MIN_WAIT = 5.0
CHANCES = (0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9)
AHEAD = (2, 3, 5)
GOOD = (5.0, 30.0)             # a message this many minutes before the call is in time and not too early
TARGET_T = 15
# Our rule at the target: the chance that, of those tried, told the most citizens 5–30 minutes ahead
# while almost none got under 5, on every shipped scenario (30 days each). The live notice for remote
# numbers asks more (0.8, hangdoi/services/notify.py): a holder who comes late keeps their place.
OURS = 0.3
TARGET = {"called_5_30_at_least": 0.90, "called_under_5_at_most": 0.03}


@dataclass(slots=True)
class Look:
    at: float
    state: QueueState


class NoticeDay(Day):
    """A day whose queue is kept at every change and every TICK_MINUTES."""

    def __init__(self, *args):
        super().__init__(*args)
        self.looks: list[Look] = []

    def play(self) -> list[Look]:
        self.open_the_day()
        for at, code, priority in self._arrivals():
            self.push(at, ARRIVE, (code, priority))
        t, closes = self.scenario.sessions[0][0], self.scenario.sessions[-1][1]
        while t < closes:
            self.push(t, TICK, None)
            t += TICK_MINUTES
        self.run_the_day()
        return self.looks

    def handle(self, at: float, kind: int, what) -> None:
        if kind != TICK:
            super().handle(at, kind, what)
        if kind in (TICK, ARRIVE, FREE, RESUME, SIGN_IN, ABANDON):
            self._look(at)

    def _predict(self, ticket_id: int, at: float) -> None:
        """Nothing is asked at the issue itself: the look after it sees the new ticket."""

    def _look(self, at: float) -> None:
        with self.db.read() as session:
            state = read_state(Tx(session), self.ids["centre"], self.clock.now())
        if self.looks and self.looks[-1].at == at:       # several changes at one moment: the last counts
            self.looks[-1] = Look(at, state)
        else:
            self.looks.append(Look(at, state))


def rule_names() -> list[str]:
    return ([f"chance {t} {p}" for t in WITHIN_MINUTES for p in CHANCES]
            + [f"ahead {k}" for k in AHEAD] + [f"naive {t}" for t in WITHIN_MINUTES])


def _answers(looks: list[Look], model) -> list[dict[int, tuple]]:
    """At each look, per waiting ticket: (chances of a call within WITHIN_MINUTES, naive minutes, ahead)."""
    forecast, naive = Forecast(), Naive()
    answers = []
    for look in looks:
        ours = forecast.estimate(look.state, model).tickets
        theirs = naive.estimate(look.state, model).tickets
        ahead = policy_ahead(look.state)
        answers.append({t.id: (ours[t.id].within, theirs[t.id].minutes, ahead[t.id]) for t in look.state.waiting})
    return answers


def _holds(name: str, answer: tuple) -> bool:
    within, naive, ahead = answer
    kind, *figures = name.split()
    if kind == "chance":
        t, p = int(figures[0]), float(figures[1])
        return bool(within) and within[WITHIN_MINUTES.index(t)] >= p
    if kind == "ahead":
        return ahead <= int(figures[0])
    return naive is not None and naive <= int(figures[0])


def _messages(looks: list[Look], answers: list[dict[int, tuple]], names: list[str]) -> dict[tuple[int, str], float]:
    """(ticket, rule) → when that rule's one message went out."""
    sent: dict[tuple[int, str], float] = {}
    for look, answer in zip(looks, answers):
        for ticket, figures in answer.items():
            for name in names:
                if (ticket, name) not in sent and _holds(name, figures):
                    sent[(ticket, name)] = look.at
    return sent


def _issued(db, centre_id: int, day) -> dict[int, float]:
    with db.read() as session:
        tx = Tx(session)
        midnight = datetime.combine(day, time(), ZoneInfo(tx.centre(centre_id)["timezone"]))
        return {r["id"]: (tx.read_instant(r["issued_at"]) - midnight).total_seconds() / 60
                for r in tx.rows("SELECT id, issued_at FROM ticket WHERE centre_id = :c AND local_day = :d",
                                 c=centre_id, d=tx.day(day))}


def simulate_notices(scenario: Scenario, days: int | None = None, seed: int | None = None,
                     progress=None, jobs: int = 1) -> dict:
    days = days or scenario.days
    seed = scenario.seed if seed is None else seed
    names = rule_names()
    leads: dict[str, list[float]] = {name: [] for name in names}
    scratch = Path("/dev/shm") if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="hangdoi-notices-", dir=scratch) as folder:
        url = f"sqlite:///{folder}/simulation.sqlite3"
        upgrade(url)
        clock = FixedClock(datetime.combine(scenario.first_day, time(), ZoneInfo(scenario.timezone)))
        db = Database(url, clock)
        try:
            ids = create_centre(db, centre_spec(scenario))
            pending: deque = deque()

            def tally(looks, issued, waited, answers) -> None:
                sent = _messages(looks, answers.result(), names)
                for ticket, wait in waited.items():
                    if wait < MIN_WAIT:
                        continue
                    called = issued[ticket] + wait
                    for name in names:
                        leads[name].append(called - sent.get((ticket, name), called))

            with Workers(jobs, _no_start) as workers:
                for n, day in enumerate(working_days(scenario, days)):
                    played = NoticeDay(db, clock, scenario, ids, day, f"{seed}-{day.isoformat()}")
                    looks = played.play()
                    pending.append((looks, _issued(db, ids["centre"], day), called_waits(db, ids["centre"], day),
                                    workers.submit(_answers, looks, played.model)))
                    while pending and (len(pending) > 2 * jobs or pending[0][3].done()):
                        tally(*pending.popleft())
                    if progress:
                        progress(n + 1, days)
                while pending:
                    tally(*pending.popleft())
        finally:
            db.dispose()
    rules = {name: _figures(leads[name]) for name in names}
    return {"scenario": scenario.name, "days": days, "seed": seed, "citizens": len(leads[names[0]]),
            "rules": rules, "target": {"rule": f"chance {TARGET_T} {OURS}", **TARGET},
            "meets_target": _meets(rules)}


def _no_start() -> None:
    """Workers need nothing prepared: each day's looks carry all they read."""


def _figures(leads: list[float]) -> dict:
    if not leads:
        return {"called_5_30": None, "called_under_5": None, "called_over_30": None, "median_lead_min": None}
    n = len(leads)
    return {"called_5_30": round(sum(1 for x in leads if GOOD[0] <= x <= GOOD[1]) / n, 4),
            "called_under_5": round(sum(1 for x in leads if x < GOOD[0]) / n, 4),
            "called_over_30": round(sum(1 for x in leads if x > GOOD[1]) / n, 4),
            "median_lead_min": round(median(leads), 2)}


def _meets(rules: dict) -> dict:
    """Ours at T = 15: the target, and better than every product rule (ahead k, naive 15) on each
    share. A product rule that tells everyone at once reaches 0 under 5 (and many over 30): nothing
    is strictly below it, so that part is reported on its own."""
    ours = rules[f"chance {TARGET_T} {OURS}"]
    if ours["called_5_30"] is None:
        return {"target": False, "more_called_5_30_than_products": False, "fewer_under_5_than_products": False}
    products = [rules[f"ahead {k}"] for k in AHEAD] + [rules[f"naive {TARGET_T}"]]
    return {"target": ours["called_5_30"] >= TARGET["called_5_30_at_least"]
            and ours["called_under_5"] <= TARGET["called_under_5_at_most"],
            "more_called_5_30_than_products": all(ours["called_5_30"] > p["called_5_30"] for p in products),
            "fewer_under_5_than_products": all(ours["called_under_5"] < p["called_under_5"] for p in products)}
