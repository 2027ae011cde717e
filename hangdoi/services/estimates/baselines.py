"""The estimates other queue systems give, behind the same interface as ours, so that the simulator
can measure all of them on the same citizens:

- naive (Mitel-style): people ahead in the ticket's own queue × the centre's average handling time
  ÷ counters open;
- service_ql: people ahead as the policy orders them (priority first) × the service's own average
  time ÷ the counters serving it (a backup counter counts half);
- les: how long the last citizen of the service to be called had waited;
- hol: how long the citizen at the head of the service's queue has waited so far;
- rolling: the mean wait of the service's last ROLLING_CALLS calls today.

les and rolling know nothing before the service's first call of the day; they answer as service_ql
then. Each gets the same learned model as ours, so they differ in method only.
"""
from __future__ import annotations

from hangdoi.services.estimates.forecast import Estimate, Estimates
from hangdoi.services.estimates.model import Model
from hangdoi.services.estimates.state import RECENT_PER_SERVICE, QueueState

BACKUP_WEIGHT = 0.5
ROLLING_CALLS = RECENT_PER_SERVICE         # 10


def _point(minutes: float | None) -> Estimate:
    return Estimate(minutes, minutes, minutes) if minutes is not None else Estimate(None, None, None, True)


def _per_ticket(state: QueueState, wait_of, only=None) -> Estimates:
    return Estimates(tickets={t.id: _point(wait_of(t)) for t in state.waiting if only is None or t.id in only},
                     services={})


def _fifo_ahead(state: QueueState) -> dict[int, int]:
    seen: dict[int, int] = {}
    ahead = {}
    for t in state.waiting:
        ahead[t.id] = seen.get(t.service_id, 0)
        seen[t.service_id] = ahead[t.id] + 1
    return ahead


def policy_ahead(state: QueueState) -> dict[int, int]:
    """People ahead within the service: every priority ticket before a normal one, then queue order."""
    priority: dict[int, int] = {}
    for t in state.waiting:
        if t.priority:
            priority[t.service_id] = priority.get(t.service_id, 0) + 1
    seen_priority: dict[int, int] = {}
    seen_normal: dict[int, int] = {}
    ahead = {}
    for t in state.waiting:
        s = t.service_id
        if t.priority:
            ahead[t.id] = seen_priority.get(s, 0)
            seen_priority[s] = ahead[t.id] + 1
        else:
            ahead[t.id] = priority.get(s, 0) + seen_normal.get(s, 0)
            seen_normal[s] = seen_normal.get(s, 0) + 1
    return ahead


def _capacity(state: QueueState) -> dict[int, float]:
    capacity: dict[int, float] = {}
    for c in state.counters:
        if c.paused:
            continue
        for s in c.primary:
            capacity[s] = capacity.get(s, 0.0) + 1.0
        for s in c.backup:
            capacity[s] = capacity.get(s, 0.0) + BACKUP_WEIGHT
    return capacity


class Naive:
    name = "naive"

    def estimate(self, state: QueueState, model: Model, only=None) -> Estimates:
        counters = sum(1 for c in state.counters if not c.paused)
        handling = model.centre_mean_occupancy()
        ahead = _fifo_ahead(state)
        return _per_ticket(state, lambda t: ahead[t.id] * handling / counters if counters else None, only)


class ServiceQueueLength:
    name = "service_ql"

    def estimate(self, state: QueueState, model: Model, only=None) -> Estimates:
        capacity = _capacity(state)
        ahead = policy_ahead(state)

        def wait(t):
            counters = capacity.get(t.service_id, 0.0)
            return ahead[t.id] * model.mean_occupancy(t.service_id) / counters if counters else None
        return _per_ticket(state, wait, only)


class LastToEnterService:
    name = "les"

    def estimate(self, state: QueueState, model: Model, only=None) -> Estimates:
        fallback = ServiceQueueLength().estimate(state, model).tickets

        def wait(t):
            calls = state.recent_calls.get(t.service_id)
            return calls[0][1] if calls else fallback[t.id].minutes
        return _per_ticket(state, wait, only)


class HeadOfLine:
    name = "hol"

    def estimate(self, state: QueueState, model: Model, only=None) -> Estimates:
        head: dict[int, float] = {}
        for t in state.waiting:
            head.setdefault(t.service_id, t.queued)
        return _per_ticket(state, lambda t: state.now - head[t.service_id], only)


class RollingAverage:
    name = "rolling"

    def estimate(self, state: QueueState, model: Model, only=None) -> Estimates:
        fallback = ServiceQueueLength().estimate(state, model).tickets

        def wait(t):
            calls = state.recent_calls.get(t.service_id, [])[:ROLLING_CALLS]
            return sum(w for _, w in calls) / len(calls) if calls else fallback[t.id].minutes
        return _per_ticket(state, wait, only)


BASELINES = (Naive, ServiceQueueLength, LastToEnterService, HeadOfLine, RollingAverage)
