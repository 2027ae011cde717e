"""One simulated day through the real engine: a heap of what happens next, the clock set to each
moment before the engine is asked to act.

Officers sign in at the start of the day (or when their absence ends; an absence later in the day
is a pause of the counter), call as soon as they are
free within a session, wait `walk_minutes` for the citizen to sit down, serve for a time drawn from
the service's distribution divided by the counter's speed, finish, and call again after
`gap_minutes`. A called citizen who does not come is marked a no-show after `no_show_wait_minutes`.
An officer with nothing to call waits until a ticket they may call is issued. Nobody is called
after a session's end; what waits over the lunch break is called in the afternoon, and what still
waits at closing is closed with the day. A citizen whose patience runs out leaves (the ticket is
cancelled). At every issue the queue is kept, for every estimator to be asked the new ticket's wait.
"""
from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hangdoi import engine
from hangdoi.engine.sql import Tx
from hangdoi.services.estimates.model import learn
from hangdoi.services.estimates.state import QueueState, read_state
from hangdoi.services.simulation.scenario import Scenario, ServiceSpec, draw_minutes, working_time

# Events that share a moment happen in this order: officers arrive before the first citizens.
SIGN_IN, RESUME, AWAY, FREE, START, FINISH, NO_SHOW, ABANDON, ARRIVE = range(9)


@dataclass(slots=True)
class Ask:
    """A ticket just issued and the queue as it stood: what every estimator is asked about."""
    ticket_id: int
    issued: float
    left: float                        # minutes until closing: what "not today" counts as
    state: QueueState


@dataclass(slots=True)
class Prediction:
    ticket_id: int
    issued: float
    minutes: dict[str, float]          # estimator name → predicted wait
    # estimator name → its runs' outcomes in order (inf: not today), for those that print a range
    runs: dict[str, tuple[float, ...]] = field(default_factory=dict)


class Day:
    def __init__(self, db, clock, scenario: Scenario, ids: dict, day: date, seed: str):
        self.db, self.clock, self.scenario, self.ids = db, clock, scenario, ids
        self.day = day
        self.midnight = datetime.combine(day, time(), ZoneInfo(scenario.timezone))
        self.arrival_rng = random.Random(f"{seed}-arrivals")
        self.multiplier = self._day_multiplier()       # this day's arrivals × the scenario's rates
        # …and per hour, a market day's crowd too (the oracle is told these: hangdoi/services/simulation/oracle.py)
        self.hour_factors = self._hour_factors()
        self.work_rng = random.Random(f"{seed}-work")
        self.events: list = []
        self.order = 0
        self.idle: set[int] = set()
        self.asks: list[Ask] = []
        self.closing = scenario.sessions[-1][1]
        self.counters = {c.number: c for c in scenario.counters}
        self.serves = {c.number: {*c.primary, *c.backup} for c in scenario.counters}
        self.services = {s.code: s for s in scenario.services}
        self.model = None

    # -- the day ---------------------------------------------------------------------------
    def play(self) -> list[Ask]:
        """The day, and at each issue the queue as it stood (hangdoi/services/simulation/run.py asks
        the estimators afterwards: what they answer never changes what happens)."""
        self.open_the_day()
        for at, code, priority in self._arrivals():
            self.push(at, ARRIVE, (code, priority))
        self.run_the_day()
        return self.asks

    def open_the_day(self) -> None:
        """The model learnt from the days before; officers' arrivals and absences scheduled."""
        with self.db.read() as session:
            self.model = learn(Tx(session), self.ids["centre"], self.day)
        for counter in self.scenario.counters:
            arrives = self._arrives_at(counter)
            self.push(arrives, SIGN_IN, counter.number)
            for away_from, _ in counter.absent:
                if away_from > arrives:
                    self.push(away_from, AWAY, counter.number)

    def run_the_day(self) -> None:
        """Every event in order, the clock set to each; then the day is closed."""
        while self.events:
            at, kind, _, what = heapq.heappop(self.events)
            self.clock.set(self.midnight + timedelta(minutes=at))
            self.handle(at, kind, what)
        self.clock.set(self.midnight + timedelta(minutes=self.closing))
        engine.close_day(self.db, self.ids["centre"], self.day)     # also signs every officer out

    def push(self, at: float, kind: int, what) -> None:
        heapq.heappush(self.events, (at, kind, self.order, what))
        self.order += 1

    def handle(self, at: float, kind: int, what) -> None:
        if kind == ARRIVE:
            self._issue(at, *what)
        elif kind == SIGN_IN:
            engine.sign_in(self.db, self._counter_id(what), self._officer_id(what))
            self.push(at, FREE, what)
        elif kind == AWAY:
            if what in self.idle:        # an officer with nobody to call leaves now; a busy one after this citizen
                self.idle.discard(what)
                self._call(at, what)
        elif kind == RESUME:
            engine.resume(self.db, self._counter_id(what), self._officer_id(what))
            self.push(at, FREE, what)
        elif kind == FREE:
            self._call(at, what)
        elif kind == START:
            engine.start(self.db, self._counter_id(what[0]), self._officer_id(what[0]))
            minutes = self._service_minutes(self.services[what[1]]) / self.counters[what[0]].speed
            self.push(at + minutes, FINISH, what[0])
        elif kind == FINISH:
            engine.finish(self.db, self._counter_id(what), self._officer_id(what))
            self.push(at + self.scenario.gap_minutes, FREE, what)
        elif kind == NO_SHOW:
            engine.no_show(self.db, self._counter_id(what), self._officer_id(what))
            self.push(at + self.scenario.gap_minutes, FREE, what)
        elif kind == ABANDON:
            self._abandon(what)

    # -- citizens --------------------------------------------------------------------------
    def _arrivals(self) -> list[tuple[float, str, str | None]]:
        """Each service's citizens: a Poisson process with the hourly rates × the day's factors,
        while the centre hands out tickets (first session's start to last session's end)."""
        rng, s = self.arrival_rng, self.scenario
        opens, closes = s.sessions[0][0], s.sessions[-1][1]
        arrivals = []
        for service in s.services:
            for hour, rate in sorted(service.arrivals_per_hour.items()):
                start, end = max(hour * 60.0, opens), min(hour * 60.0 + 60, closes)
                per_minute = rate * self.hour_factors[hour % 24] / 60
                at = start
                while per_minute > 0:
                    at += rng.expovariate(per_minute)
                    if at >= end:
                        break
                    priority = "cao_tuoi" if rng.random() < s.priority_share else None
                    arrivals.append((at, service.code, priority))
        return arrivals

    def _day_multiplier(self) -> float:
        """Busier or quieter than usual today: lognormal, mean 1, sd `day_variation`."""
        s = self.scenario
        sigma2 = math.log(1 + s.day_variation ** 2)
        return self.arrival_rng.lognormvariate(-sigma2 / 2, math.sqrt(sigma2)) if s.day_variation else 1.0

    def _hour_factors(self) -> list[float]:
        market = self.scenario.market_days
        if market is None or (self.day - self.scenario.first_day).days % market.every_days:
            return [self.multiplier] * 24
        return [self.multiplier * (market.multiplier if not market.hours or h in market.hours else 1.0)
                for h in range(24)]

    def _issue(self, at: float, code: str, priority: str | None) -> None:
        try:
            ticket = engine.issue_ticket(self.db, self.ids["centre"], code, priority)
        except engine.Conflict:
            return                       # a full range or a closed service: the citizen goes home
        self._predict(ticket["id"], at)
        patience = self.scenario.abandon_patience_minutes
        if patience:
            self.push(at + self.arrival_rng.expovariate(1 / patience), ABANDON, ticket["id"])
        for number in sorted(self.idle):
            if code in self.serves[number]:
                self.idle.discard(number)
                self.push(at, FREE, number)

    def _predict(self, ticket_id: int, at: float) -> None:
        with self.db.read() as session:
            state = read_state(Tx(session), self.ids["centre"], self.clock.now(), recent_calls=True)
        self.asks.append(Ask(ticket_id, at, max(0.0, self.closing - at), state))

    def _abandon(self, ticket_id: int) -> None:
        with self.db.read() as session:
            waiting = Tx(session).value("SELECT status FROM ticket WHERE id = :id", id=ticket_id) == "waiting"
        if waiting:                      # a citizen already called stayed
            engine.cancel_ticket(self.db, ticket_id, reason="left")

    # -- officers --------------------------------------------------------------------------
    def _call(self, at: float, number: int) -> None:
        working = self._session_time(at)
        if working is None:
            return
        if working > at:
            self.push(working, FREE, number)
            return
        back = self._away_until(at, number)
        if back is not None:             # away for a while: the officer pauses the counter, as they should
            engine.pause(self.db, self._counter_id(number), self._officer_id(number), "absent")
            self.push(back, RESUME, number)
            return
        result = engine.call_next(self.db, self._counter_id(number), self._officer_id(number))
        ticket = result["ticket"]
        if ticket is None:
            self.idle.add(number)
        elif self.work_rng.random() < self.scenario.no_show_prob:
            self.push(at + self.scenario.no_show_wait_minutes, NO_SHOW, number)
        else:
            self.push(at + self.scenario.walk_minutes, START, (number, ticket["service"]["code"]))

    def _session_time(self, at: float) -> float | None:
        """`at` if it is inside a session; else the next session's start; None after the last."""
        for start, end in self.scenario.sessions:
            if at < end:
                return max(at, start)
        return None

    def _away_until(self, at: float, number: int) -> float | None:
        for away_from, away_to in self.counters[number].absent:
            if away_from <= at < away_to:
                return away_to
        return None

    def _arrives_at(self, counter) -> float:
        return working_time(self.scenario, counter, self.scenario.sessions[0][0]) or self.closing

    def _service_minutes(self, service: ServiceSpec) -> float:
        return draw_minutes(self.work_rng, service)

    def _counter_id(self, number: int) -> int:
        return self.ids["counters"][number]

    def _officer_id(self, number: int) -> int:
        return self.ids["officers"][f"canbo{number}"]
