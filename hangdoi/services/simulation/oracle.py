"""The best estimate anyone could give: our forecast's forward simulation from the exact live
state, told the scenario's TRUE parameters instead of what it learned.

It knows each service's real time distribution, each counter's speed and when its officer is away,
how long citizens walk to the counter, how many do not come and how long an officer waits for them,
the arrival rate of every service in each hour today (the day's multiplier and a market day
included), who is priority and will overtake, and how patient citizens are. What it cannot know is what chance will draw: its error is
the noise floor of the day, the part of a wait nobody can foresee. `hangdoi simulate` scores it
beside the other estimators (bench/estimates.py compares ours with it).

It plays the same policy with the same number of runs and the same quantiles as ours, so the
difference between the two is what ours does not know, not how it summarises.
"""
from __future__ import annotations

import math
import random
from statistics import NormalDist

from hangdoi.services.estimates.forecast import Forecast, RunPlan, lognormal_rest
from hangdoi.services.estimates.model import Model
from hangdoi.services.estimates.state import QueueState
from hangdoi.services.simulation.scenario import Scenario, ServiceSpec, draw_minutes, working_time

# A service that has already lasted far into its tail: after this many draws that all end earlier,
# the rest is taken as a short while (it happens with probability below 1e-6 per busy counter).
TAIL_TRIES = 200
UNIT_NORMAL = NormalDist()


class Oracle(Forecast):
    name = "oracle"

    def __init__(self, scenario: Scenario, ids: dict, **kwargs):
        super().__init__(**kwargs)
        self.scenario = scenario
        self.counter_spec = {ids["counters"][c.number]: c for c in scenario.counters}
        self.service_spec = {ids["services"][s.code]: s for s in scenario.services}
        self.hour_factors = [1.0] * 24

    def start_day(self, hour_factors: list[float]) -> None:
        """How busy each hour of this day was drawn to be (hangdoi/services/simulation/day.py)."""
        self.hour_factors = hour_factors

    def _plan(self, state: QueueState, model: Model) -> RunPlan:
        return _TruePlan(state, model, self)


class _TruePlan(RunPlan):
    """The forecast's runs with the scenario's parameters in place of the learned ones."""

    def __init__(self, state: QueueState, model: Model, oracle: Oracle):
        self.oracle, self.scenario, self.spec_of_counter = oracle, oracle.scenario, oracle.counter_spec
        super().__init__(state, model)
        self.priority_share = self.scenario.priority_share
        self.patience = self.scenario.abandon_patience_minutes   # None: nobody leaves
        self.busy = {c.id: c for c in state.counters if c.busy_since is not None}

    def _openings(self, state: QueueState) -> list[tuple[float, int]]:
        """A counter nobody is signed in at opens when its officer's absence ends."""
        found = []
        for c in state.closed:
            spec = self.spec_of_counter.get(c.id)
            opens = working_time(self.scenario, spec, state.now) if spec is not None else None
            if opens is not None:
                found.append((opens, c.id))
        return found

    def _arrivals_per_minute(self, state: QueueState) -> dict[int, list[float]]:
        opens = self.scenario.sessions[0][0]
        rates = {}
        for service_id, spec in self.oracle.service_spec.items():
            per_hour = [spec.arrivals_per_hour.get(h, 0.0) * self.oracle.hour_factors[h] for h in range(24)]
            # Tickets are issued from the first session's start: nobody arrives before it.
            rates[service_id] = [r / 60 if (h + 1) * 60 > opens else 0.0 for h, r in enumerate(per_hour)]
        return rates

    def _away(self, state: QueueState) -> dict[int, list[tuple[float, float]]]:
        return {c: list(spec.absent) for c, spec in self.spec_of_counter.items() if spec.absent}

    def _resumes_at(self, counter) -> float:
        """Counters pause only while their officer is away: they call again when the absence ends."""
        for start, end in self.spec_of_counter[counter.id].absent:
            if start <= self.now < end:
                return end
        return self.now

    def _hold(self, rng: random.Random, counter: int, service: int, at: float) -> float:
        s = self.scenario
        if rng.random() < s.no_show_prob:
            return s.no_show_wait_minutes + s.gap_minutes
        spec = self.oracle.service_spec[service]
        return s.walk_minutes + draw_minutes(rng, spec) / self.spec_of_counter[counter].speed + s.gap_minutes

    def _rest_of_service(self, rng: random.Random, counter: int) -> float:
        """The rest of what the counter holds, given how long it has lasted and whether the citizen came."""
        s, c = self.scenario, self.busy[counter]
        elapsed = self.now - c.busy_since
        if not c.busy_serving:
            if elapsed >= s.walk_minutes or rng.random() < s.no_show_prob:   # nobody came: a no-show soon
                return max(s.no_show_wait_minutes - elapsed, 0.0) + s.gap_minutes
            elapsed_service, walk_left = 0.0, s.walk_minutes - elapsed
        else:
            elapsed_service, walk_left = max(elapsed - s.walk_minutes, 0.0), 0.0
        speed = self.spec_of_counter[counter].speed
        spec = self.oracle.service_spec[c.busy_service]
        return walk_left + _rest(rng, spec, speed, elapsed_service) + s.gap_minutes


def _rest(rng: random.Random, spec: ServiceSpec, speed: float, elapsed: float) -> float:
    """A service time drawn given that it has lasted `elapsed` minutes already, less those minutes:
    memoryless for the exponential, the inverse CDF over the upper tail for the lognormal, and
    drawing until one is long enough for the gamma."""
    if spec.dist == "exponential":
        return rng.expovariate(1 / spec.mean) / speed
    if spec.dist == "lognormal":
        sigma = math.sqrt(math.log(1 + (spec.sd / spec.mean) ** 2))
        mu = math.log(spec.mean) - sigma * sigma / 2 - math.log(speed)
        tail_from = UNIT_NORMAL.cdf((math.log(elapsed) - mu) / sigma) if elapsed > 0 else 0.0
        return max(lognormal_rest(rng, mu, sigma, elapsed, tail_from), 0.0)
    for _ in range(TAIL_TRIES):
        total = draw_minutes(rng, spec) / speed
        if total > elapsed:
            return total - elapsed
    return spec.mean / speed / 10
