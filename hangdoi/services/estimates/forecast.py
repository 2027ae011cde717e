"""Our estimate: the rest of the day played forward many times from the live state.

Each run starts from the queue as it is now: counters that hold a citizen are busy for the rest of
a service that has already lasted so long (sampled from the service's time, given that it has lasted
that long), paused counters come back after a typical pause, idle counters call at once. Every
counter then calls exactly as the engine's policy does (tickets transferred to it; its primary
services, priority first, then the longest waiting; its backup services only when nothing waits
there; the interleave limit on priority streaks), holds each citizen for a time drawn from the
learned model for that service, officer and hour, and now and then gets a no-show. Citizens keep
arriving at the learned rates, so later priority tickets overtake and a backup counter's own queue
refills, just as in the lobby. Where citizens give up and leave, those ahead of a ticket leave as
often as they have been seen to (its own estimate is for when it stays: runs in which it left are
not counted). Counters stop at the end of a session and resume after the break,
and a counter whose officer is usually away at some hour (learned: a site visit every afternoon)
stops then too.

A run records when each waiting ticket is called, and when a newcomer to each service would be
(a newcomer who takes no counter time, so it changes no one else's run). Over the runs, the 60th
percentile is the estimate and P20–P80 the range. Not the median: a citizen told 40 minutes who is
called after 50 has lost more than one called after 30, and a long queue's outcomes spread widely;
the simulator's benchmark shows P60 keeps late surprises rare for a small cost in mean error. The
share of runs in which a ticket is called within 10, 15, 20 or 30 minutes is its second answer:
the chance that its turn is near.
Each run has a fixed seed of its own, so the same state gives the same answer, and a ticket's answer
does not depend on which others are asked about.
"""
from __future__ import annotations

import heapq
import itertools
import math
import random
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass
from statistics import NormalDist
from typing import Callable, Collection

from hangdoi.services.estimates.model import Model
from hangdoi.services.estimates.state import APPOINTMENT_AHEAD, RECENT_ARRIVALS_MINUTES, QueueState

MAX_RUNS = 100
MIN_RUNS = 16
# Runs × (tickets + services) is kept near this: a long queue needs fewer runs for the same precision
# (its waits add up many service times), and the estimate must stay fast at 100 waiting.
WORK_BUDGET = 2000
SEED = 20251
RUN_SEED_STRIDE = 1_000_003     # run k of an estimate is seeded SEED × stride + k
POINT_QUANTILE = 0.6
WITHIN_MINUTES = (10, 15, 20, 30)
SPREAD_QUANTILES = tuple(i / 20 for i in range(1, 20))     # P5 … P95, for the simulator's record
SUMMARY_PIECE = 500          # tickets summarised between two pauses
RUN_PIECE = 256              # events of a run played between two pauses
UNIT_NORMAL = NormalDist()
# Today's crowd against the usual (a market morning, a deadline week): the last hour's arrivals over
# the learned rate for it, shrunk towards 1 as if this many usual arrivals had been seen as well, and
# carried forward fading with this time constant (a crowd lasts hours, not the whole day).
CROWD_PRIOR_ARRIVALS = 10.0
CROWD_FADE_MINUTES = 120.0


@dataclass(frozen=True, slots=True)
class Estimate:
    minutes: float | None          # P60 of the runs; None: not before closing in most runs
    low: float | None              # P20
    high: float | None             # P80
    beyond_closing: bool = False
    after_break: bool = False      # called in a later session than the coming one
    maybe_after_break: bool = False  # not at the point, but in the range: a fifth of the runs or more
    # The share of runs in which it is called within each of WITHIN_MINUTES from now: "your turn is
    # near" is a probability (hangdoi/services/notify.py), not a point estimate crossing a line.
    within: tuple[float, ...] = ()


@dataclass(slots=True)
class Estimates:
    tickets: dict[int, Estimate]
    services: dict[int, Estimate]   # a newcomer (not priority) taking a ticket now
    # Per waiting ticket, its runs' outcomes in order (inf: not called today); Forecast(keep_runs=True) only.
    runs: dict[int, tuple[float, ...]] | None = None


# No counter open for the service: nothing honest to say.
NO_COUNTER = Estimate(None, None, None)
NOT_TODAY = Estimate(None, None, None, beyond_closing=True)


class Forecast:
    name = "hangdoi"
    prints_range = True             # P20–P80: the dashboard and the phone page show it

    def __init__(self, runs: int | None = None, seed: int = SEED, keep_runs: bool = False):
        self.runs, self.seed, self.keep_runs = runs, seed, keep_runs

    def estimate(self, state: QueueState, model: Model, pause: Callable[[], None] = lambda: None,
                 only: Collection[int] | None = None) -> Estimates:
        """`pause` is called between pieces of the work (the live server lets requests run then).
        `only`: the waiting tickets whose estimates are wanted (the simulator asks for the one just
        issued); its runs stop once those are called. Each run has its own seed and the number of
        runs depends on the whole queue, so a ticket's answer is the same whatever else is asked."""
        spans = working_spans(state)
        tracked = [t.id for t in state.waiting] + [-s for s in state.services]
        runs = self.runs or max(MIN_RUNS, min(MAX_RUNS, WORK_BUDGET // max(1, len(tracked))))
        plan = self._plan(state, model)
        if only is not None:
            tracked = [key for key in tracked if key in only]
        watch = None if only is None else frozenset(tracked) - frozenset(plan.uncallable)
        times: dict[int, list[float]] = {key: [] for key in tracked}
        rng = random.Random()
        for k in range(runs):
            rng.seed(self.seed * RUN_SEED_STRIDE + k)
            called = plan.run(rng, spans, pause, watch)
            for key in tracked:
                times[key].append(called.get(key, math.inf) - state.now)
            pause()
        break_at = spans[0][1] - state.now if len(spans) > 1 else math.inf
        summary = {}
        for i, (key, values) in enumerate(times.items()):
            if plan.patience:       # runs in which this citizen left say nothing about when they are called
                values = times[key] = [v for v in values if v == v]
            summary[key] = _summarise(values, break_at) if values else NOT_TODAY
            if i % SUMMARY_PIECE == SUMMARY_PIECE - 1:
                pause()
        for key in plan.uncallable:
            summary[key] = NO_COUNTER
        kept = None
        if self.keep_runs:          # the values are sorted by now
            kept = {key: tuple(times[key]) for key in tracked if key > 0 and key not in plan.uncallable}
        return Estimates(tickets={t.id: summary[t.id] for t in state.waiting if t.id in summary},
                         services={s: summary[-s] for s in state.services if -s in summary}, runs=kept)

    def _plan(self, state: QueueState, model: Model) -> "RunPlan":
        return RunPlan(state, model)


def working_spans(state: QueueState) -> list[tuple[float, float]]:
    """The rest of today's sessions. A centre with no sessions today, or one that issues tickets at
    any hour and is outside its sessions now, works until midnight: someone is there to call."""
    spans = [(max(a, state.now), b) for a, b in state.sessions if b > state.now]
    inside = any(a <= state.now < b for a, b in state.sessions)
    if not state.sessions or (state.open_all_hours and not inside):
        return [(state.now, 24 * 60.0)]
    return spans


def _summarise(values: list[float], break_at: float) -> Estimate:
    values.sort()
    n = len(values)
    point, low, high = values[int(POINT_QUANTILE * n)], values[n // 5], values[min(n - 1, (4 * n) // 5)]
    within = tuple(bisect_right(values, minutes) / n for minutes in WITHIN_MINUTES)
    if math.isinf(point):
        return Estimate(None, None if math.isinf(low) else low, None, beyond_closing=True, within=within)
    return Estimate(point, low, None if math.isinf(high) else high, after_break=point >= break_at,
                    maybe_after_break=point < break_at <= high and not math.isinf(break_at), within=within)


def spread_of(ordered) -> tuple[float, ...]:
    """SPREAD_QUANTILES of a ticket's runs, in order (the simulator's record keeps them)."""
    n = len(ordered)
    return tuple(ordered[min(n - 1, int(q * n))] for q in SPREAD_QUANTILES)


class RunPlan:
    """What every run shares: who serves what, in which tier, and the learned figures."""

    def __init__(self, state: QueueState, model: Model):
        self.model = model
        self.counters = state.counters
        self.now = state.now
        self.expected = self._openings(state)
        coming = {counter for _, counter in self.expected}
        later = {c.id: c for c in state.closed if c.id in coming}
        self.serves = {c.id: (c.primary, c.backup) for c in [*state.counters, *later.values()]}
        self.helpers: dict[int, list[int]] = {}     # service → the counters that may call it
        for c in [*state.counters, *later.values()]:
            for s in (*c.primary, *c.backup):
                self.helpers.setdefault(s, []).append(c.id)
        self.service_of = {t.id: t.service_id for t in state.waiting}
        self.occupancy = {s: model.occupancy(s) for s in {*state.services, *(t.service_id for t in state.waiting)}}
        self.officer = {c.id: model.officer_log_factor.get(c.officer_id, 0.0) for c in state.counters}
        self.officer.update({c: 0.0 for _, c in self.expected})
        self.hour = [model.hour_log_factor.get(h, 0.0) for h in range(24)]
        self.tails = {c.id: self._tail(c, state.now) for c in state.counters if c.busy_since is not None}
        self.arrivals = {s: rates for s, rates in self._arrivals_per_minute(state).items()
                         if any(rates) and s in self.helpers}
        self.priority_share = model.priority_share
        self.away = self._away(state)
        self.patience = model.patience_minutes  # citizens ahead who give up and leave (None: nobody does)
        self.streak_limit = state.priority_streak_limit
        self.initial_streak = {c: 0 for c in self.serves} | {c.id: c.priority_streak for c in state.counters}
        # The queues as they stand, copied into each run: per service [priority, normal], and per
        # counter the tickets transferred to it; each service ends with a watched newcomer.
        self.initial_queues: dict[int, tuple[list, list]] = {}
        self.initial_targeted: dict[int, list] = {c: [] for c in self.serves}
        # Tickets no open counter may call (their service has none; or they were transferred to a
        # counter that is closed) and newcomers to such services get no estimate, and no run waits
        # for them.
        self.uncallable: list[int] = []
        for t in state.waiting:
            if t.target_counter is not None:
                if t.target_counter in self.initial_targeted:
                    self.initial_targeted[t.target_counter].append((t.queued, t.id))
                else:
                    self.uncallable.append(t.id)
            elif t.service_id in self.helpers:
                self.initial_queues.setdefault(t.service_id, ([], []))[0 if t.priority else 1].append((t.queued, t.id))
            else:
                self.uncallable.append(t.id)
        # Booked citizens still to come, each due at its slot (and to come at all as often as they do).
        self.appointments = [(due, s) for s, due in state.expected if s in self.helpers]
        self.booked_show = state.booked_show
        for s in {*state.services, *self.arrivals, *(s for _, s in self.appointments)}:
            self.initial_queues.setdefault(s, ([], []))
        for s in state.services:
            if s in self.helpers:
                self.initial_queues[s][1].append((state.now, -s))
            else:
                self.uncallable.append(-s)
        self.tracked = len(state.waiting) + len(state.services) - len(self.uncallable)

    def run(self, rng: random.Random, spans: list[tuple[float, float]],
            pause: Callable[[], None] = lambda: None, watch: frozenset | None = None) -> dict[int, float]:
        """One possible rest of the day: when each tracked ticket is called (NaN: it left first),
        until every one in `watch` (None: all tracked) is. Kept flat and with local names: this loop is
        nearly all of the estimate's time. One run of a queue of thousands, at a big centre open
        till late, plays tens of milliseconds: it pauses every RUN_PIECE events."""
        now = self.now
        heappush, heappop, uniform = heapq.heappush, heapq.heappop, rng.random
        queues = {s: (deque(lines[0]), deque(lines[1])) for s, lines in self.initial_queues.items()}
        targeted = {c: deque(line) for c, line in self.initial_targeted.items() if line}
        remaining = self.tracked if watch is None else len(watch)
        called: dict[int, float] = {}
        order = itertools.count().__next__
        streak = dict(self.initial_streak)
        events = []
        for c in self.counters:
            start = now
            if c.paused:
                start = self._resumes_at(c)
            elif c.busy_since is not None:
                start = now + self._rest_of_service(rng, c.id)
            events.append((start, order(), 0, c.id))
        for opens, counter in self.expected:
            events.append((opens, order(), 0, counter))
        close = spans[-1][1] if spans else now
        for s, rates in self.arrivals.items():
            first = _next_arrival(uniform, rates, now, close)
            if first is not None:
                events.append((first, order(), 1, s))
        for due, s in self.appointments:
            if uniform() < self.booked_show:
                events.append((max(due, now), order(), 2, (s, due)))
        heapq.heapify(events)
        idle: set[int] = set()
        limit, share, patience = self.streak_limit, self.priority_share, self.patience
        pick, hold_for, away_of, arrivals, helpers = self._pick, self._hold, self.away.get, self.arrivals, self.helpers
        span, last_span = 0, len(spans) - 1
        span_start, span_end = spans[0] if spans else (now, now)
        steps = 0
        while events and remaining:
            steps += 1
            if steps == RUN_PIECE:
                pause()
                steps = 0
            at, _, kind, key = heappop(events)
            if kind:
                if kind == 2:                                    # a booked citizen is due: ahead of walk-ins
                    key, due = key
                    _insert_ordered(queues[key][1], (due - APPOINTMENT_AHEAD, 0))
                else:                                            # a citizen arrives for service `key`
                    queues[key][0 if uniform() < share else 1].append((at, 0))
                    following = _next_arrival(uniform, arrivals[key], at, close)
                    if following is not None:
                        heappush(events, (following, order(), 1, key))
                if idle:
                    for counter in helpers[key]:
                        if counter in idle:
                            idle.discard(counter)
                            heappush(events, (at, order(), 0, counter))
                continue
            while at >= span_end and span < last_span:         # time only moves forwards
                span += 1
                span_start, span_end = spans[span]
            if at >= span_end:
                continue                                         # this counter is done for the day
            if at < span_start:
                heappush(events, (span_start, order(), 0, key))
                continue
            away = away_of(key)
            if away:
                back = _away_until(away, at)
                if back is not None:                             # the officer is usually away now
                    heappush(events, (back, order(), 0, key))
                    continue
            picked = pick(key, queues, targeted, streak, limit)
            while patience and picked is not None and picked[0] >= 0 and \
                    uniform() > math.exp((max(picked[3], now) - at) / patience):
                if picked[0]:                                    # this citizen left before being called
                    called[picked[0]] = math.nan
                    if watch is None or picked[0] in watch:
                        remaining -= 1
                picked = pick(key, queues, targeted, streak, limit)
            if picked is None:
                idle.add(key)
                continue
            ticket, priority, service, _ = picked
            streak[key] = streak[key] + 1 if priority else 0
            if ticket:
                called[ticket] = at
                if watch is None or ticket in watch:
                    remaining -= 1
                if ticket < 0:                                   # a newcomer we only watch takes no time
                    heappush(events, (at, order(), 0, key))
                    continue
            heappush(events, (at + hold_for(rng, key, service, at), order(), 0, key))
        return called

    def _pick(self, counter: int, queues, targeted, streak, limit):
        """The ticket this counter calls now: (ticket id or 0 for an arrival, priority?, service, queued)."""
        if targeted:
            own = targeted.get(counter)
            if own:
                queued, ticket = own.popleft()
                return ticket, False, self.service_of[ticket], queued
        kinds = (1, 0) if limit > 0 and streak[counter] >= limit else (0, 1)
        for tier in self.serves[counter]:
            for kind in kinds:
                best = None
                for s in tier:
                    q = queues.get(s)
                    if q:
                        line = q[kind]
                        if line and (best is None or line[0][0] < best[0][0]):
                            best, best_service = line, s
                if best is not None:
                    queued, ticket = best.popleft()
                    return ticket, kind == 0, best_service, queued
        return None

    # -- what the runs assume; the simulator's oracle (simulation/oracle.py) knows the truth instead --
    def _openings(self, state: QueueState) -> list[tuple[float, int]]:
        """Closed counters that usually open later today join then (an officer out every morning)."""
        usual = self.model.usual_opening
        return [(usual[c.id], c.id) for c in state.closed if usual.get(c.id, -1.0) > state.now]

    def _arrivals_per_minute(self, state: QueueState) -> dict[int, list[float]]:
        """Per service, the learned arrival rate in each hour of the day, scaled in the hours ahead by
        how much busier (or quieter) than usual the last hour has been."""
        learned = self.model.arrivals_per_hour
        crowd = today_crowd(state, learned)
        scale = [1.0] * 24
        for h in range(int(state.now // 60), 24):
            scale[h] += (crowd - 1) * math.exp(-max(0.0, h * 60 - state.now) / CROWD_FADE_MINUTES)
        return {s: [r * k / 60 for r, k in zip(rates, scale)] for s, rates in learned.items()}

    def _away(self, state: QueueState) -> dict[int, list[tuple[float, float]]]:
        """Usual pauses still ahead (one already under way is the counter's own pause, or was skipped today)."""
        return {c: [(a, b) for a, b in spans if a >= state.now]
                for c, spans in self.model.usual_away.items() if c in self.serves}

    def _resumes_at(self, counter) -> float:
        """When a paused counter calls again: after a typical pause, at least a minute from now."""
        paused_for = self.now - counter.paused_since if counter.paused_since is not None else 0.0
        return self.now + max(self.model.pause_minutes - paused_for, 1.0)

    def _hold(self, rng: random.Random, counter: int, service: int, at: float) -> float:
        """How long the counter is taken by the citizen it calls at `at`."""
        model = self.model
        if rng.random() < model.no_show_prob:
            return model.no_show_minutes + model.gap_minutes
        occupancy = self.occupancy.get(service) or model.occupancy(service)
        mu = occupancy.mu + self.officer[counter] + self.hour[int(at // 60) % 24]
        return math.exp(rng.gauss(mu, occupancy.sigma)) + model.gap_minutes    # lognormal; gauss is the faster normal

    def _tail(self, counter, now: float) -> tuple[float, float, float, float]:
        """(mu, sigma, elapsed, where the upper tail starts) of a service that has lasted `elapsed`."""
        occupancy = self.model.occupancy(counter.busy_service)
        mu = occupancy.mu + self.officer[counter.id]
        elapsed = max(0.0, now - counter.busy_since)
        tail_from = UNIT_NORMAL.cdf((math.log(elapsed) - mu) / occupancy.sigma) if elapsed > 0 else 0.0
        return mu, occupancy.sigma, elapsed, tail_from

    def _rest_of_service(self, rng: random.Random, counter: int) -> float:
        """The rest of a service that has lasted `elapsed` minutes: drawn from the service's time
        given that it is longer than `elapsed` (inverse CDF over the upper tail)."""
        mu, sigma, elapsed, tail_from = self.tails[counter]
        return lognormal_rest(rng, mu, sigma, elapsed, tail_from) + self.model.gap_minutes


def lognormal_rest(rng: random.Random, mu: float, sigma: float, elapsed: float, tail_from: float) -> float:
    """What is left of a lognormal time that has lasted `elapsed`: drawn by the inverse CDF over its
    upper tail, which starts at `tail_from` (the CDF at `elapsed`)."""
    u = min(max(tail_from + (1 - tail_from) * rng.random(), 1e-12), 1 - 1e-9)
    return math.exp(mu + sigma * UNIT_NORMAL.inv_cdf(u)) - elapsed


def _insert_ordered(line: deque, item: tuple[float, int]) -> None:
    """Into a queue line ordered by queued time: appointments go near its front, so the walk is short."""
    for i, queued in enumerate(line):
        if queued[0] > item[0]:
            line.insert(i, item)
            return
    line.append(item)


def _away_until(spans, at: float) -> float | None:
    for start, end in spans or ():
        if start <= at < end:
            return end
    return None


def today_crowd(state: QueueState, per_hour: dict[int, list[float]]) -> float:
    """The last hour's arrivals over the usual for those open minutes, shrunk towards 1."""
    if state.recent_arrivals is None:
        return 1.0
    start = state.now - RECENT_ARRIVALS_MINUTES
    sessions = state.sessions if state.sessions and not state.open_all_hours else [(0.0, 24 * 60.0)]
    usual = 0.0
    for h in range(max(0, int(start // 60)), min(24, int(state.now // 60) + 1)):
        hour = (h * 60.0, h * 60.0 + 60)
        open_in_hour = sum(_overlap(hour, span) for span in sessions)
        if open_in_hour:
            seen = sum(_overlap((max(hour[0], start), min(hour[1], state.now)), span) for span in sessions)
            usual += sum(rates[h] for rates in per_hour.values()) * seen / open_in_hour
    return (CROWD_PRIOR_ARRIVALS + state.recent_arrivals) / (CROWD_PRIOR_ARRIVALS + usual)


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def _next_arrival(uniform: Callable[[], float], per_minute: list[float], after: float, close: float) -> float | None:
    """The next arrival of a Poisson process whose rate is constant within each hour. `uniform` is the
    run's rng.random: the draw is rng.expovariate's own, written out (this is called for every arrival)."""
    at = after
    while at < close:
        hour = int(at // 60)
        rate = per_minute[hour % 24]
        if rate > 0:
            candidate = at - math.log(1.0 - uniform()) / rate
            if candidate < (hour + 1) * 60.0:
                return candidate if candidate < close else None
        at = (hour + 1) * 60.0
    return None
