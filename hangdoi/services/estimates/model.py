"""What this centre's own timeline says about its queue, learned over the last days:

- how long a counter is held per ticket (call → finish), a lognormal per service with the times'
  own mean and spread, with a factor per officer and per hour of the day (some officers are
  quicker; late-morning files are heavier);
- the pause between finishing one citizen and calling the next;
- how often a called citizen does not come, and how long the officer waits before giving up;
- how many citizens arrive per service and hour, and how many of them are priority;
- when each counter usually opens (an officer who is out every morning comes in the afternoon),
  and how long a pause usually lasts;
- how patient citizens are: at a centre where waiting citizens give up and leave (their tickets
  cancelled while waiting), the mean time one waits before leaving.

A new centre has no timeline yet: every figure starts from a prior (the centre's
`settings.service_minutes`, 8 by default) and the learned figures take over as tickets are served.
Priors weigh as a few observations, so one odd day moves nothing much.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hangdoi.engine.sql import Tx
from hangdoi.models import ORIGIN_BOOKED
from hangdoi.services.reports.timeline import EPOCH

LOOKBACK_DAYS = 14
DEFAULT_SERVICE_MINUTES = 8.0
DEFAULT_SPREAD = 0.6                # sd / mean of a service's time before anything is learned
PRIOR_WEIGHT = 10                   # the prior counts as this many served tickets
FACTOR_PRIOR_WEIGHT = 20            # an officer's or an hour's factor starts at 1 worth this many tickets
DEFAULT_GAP_MINUTES = 0.3
DEFAULT_NO_SHOW_MINUTES = 1.5
DEFAULT_PAUSE_MINUTES = 10.0
MAX_GAP_MINUTES = 3.0               # a longer pause before the next call was idling, not turnaround
OUTLIER_SPREADS = 3.0              # a service time this many log-spreads above its service's is capped
SLOT_MINUTES = 15                   # pauses are learned per quarter of an hour of the day
MIN_LEAVES = 20                     # fewer citizens left over the days seen: nobody is taken to leave


@dataclass(frozen=True, slots=True)
class Lognormal:
    mu: float
    sigma: float

    @classmethod
    def from_mean_sd(cls, mean: float, sd: float) -> "Lognormal":
        variance = math.log(1 + (sd / mean) ** 2)
        return cls(math.log(mean) - variance / 2, math.sqrt(variance))

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma ** 2 / 2)


@dataclass(slots=True)
class Model:
    prior: Lognormal
    service: dict[int, Lognormal] = field(default_factory=dict)
    service_log_centre: dict[int, float] = field(default_factory=dict)     # mean log-minutes per service
    officer_log_factor: dict[int, float] = field(default_factory=dict)
    hour_log_factor: dict[int, float] = field(default_factory=dict)
    gap_minutes: float = DEFAULT_GAP_MINUTES
    no_show_prob: float = 0.0
    no_show_minutes: float = DEFAULT_NO_SHOW_MINUTES
    pause_minutes: float = DEFAULT_PAUSE_MINUTES
    arrivals_per_hour: dict[int, list[float]] = field(default_factory=dict)   # service → 24 rates
    priority_share: float = 0.0
    served: int = 0                                                            # tickets learned from
    usual_opening: dict[int, float] = field(default_factory=dict)   # counter → minutes since midnight
    usual_away: dict[int, list[tuple[float, float]]] = field(default_factory=dict)   # counter → paused spans
    patience_minutes: float | None = None    # mean wait before a citizen leaves; None: too few leave to say

    def occupancy(self, service_id: int) -> Lognormal:
        return self.service.get(service_id, self.prior)

    def mean_occupancy(self, service_id: int) -> float:
        return self.occupancy(service_id).mean + self.gap_minutes

    def centre_mean_occupancy(self) -> float:
        """The one average handling time a naive estimate would use: over services, weighted by arrivals."""
        weights = {s: sum(rates) for s, rates in self.arrivals_per_hour.items() if sum(rates) > 0}
        if not weights:
            return self.prior.mean + self.gap_minutes
        return sum(self.mean_occupancy(s) * w for s, w in weights.items()) / sum(weights.values())


def prior_model(settings: dict) -> Model:
    mean = float(settings.get("service_minutes") or DEFAULT_SERVICE_MINUTES)
    return Model(prior=Lognormal.from_mean_sd(mean, mean * DEFAULT_SPREAD))


@dataclass(slots=True)
class _Served:
    service_id: int
    officer_id: int | None
    hour: int
    log_minutes: float


def learn(tx: Tx, centre_id: int, today: date, lookback_days: int = LOOKBACK_DAYS) -> Model:
    """The model from the days before `today` and today so far."""
    centre = tx.centre(centre_id)
    model = prior_model(centre["settings"])
    first = today - timedelta(days=lookback_days)
    tz = ZoneInfo(centre["timezone"])
    offset_ms = int(tz.utcoffset(datetime(today.year, today.month, today.day, 12)).total_seconds() * 1000)
    dialect = "postgresql" if tx.postgres else "sqlite"
    _learn_arrivals(tx, model, centre_id, first, today, offset_ms, dialect)
    _learn_staffing(tx, model, centre_id, first, today, offset_ms, dialect)
    _learn_patience(tx, model, centre_id, first, today, dialect)
    events = tx.rows(
        f"SELECT e.ticket_id, e.kind, {EPOCH[dialect].replace('at)', 'e.at)')} AS at_ms, e.service_id, "
        "e.counter_id, e.officer_id FROM ticket_event e JOIN ticket t ON t.id = e.ticket_id "
        "WHERE t.centre_id = :centre AND t.local_day >= :first AND t.local_day <= :last "
        "AND e.kind IN ('called', 'finished', 'no_show', 'transferred', 'requeued') ORDER BY e.id",
        centre=centre_id, first=tx.day(first), last=tx.day(today))
    served, no_show_minutes, calls, no_shows = [], [], set(), 0
    counter_calls: dict[int, list[int]] = {}
    counter_ends: list[tuple[int, int]] = []
    called_at: dict[int, int] = {}
    for e in events:
        ticket, at = e["ticket_id"], int(e["at_ms"])
        if e["kind"] == "called":
            called_at[ticket] = at
            calls.add(ticket)
            counter_calls.setdefault(e["counter_id"], []).append(at)
        elif e["kind"] in ("transferred", "requeued"):
            called_at.pop(ticket, None)
        elif ticket in called_at:
            since = called_at.pop(ticket)
            minutes = (at - since) / 60000
            counter_ends.append((e["counter_id"], at))
            if e["kind"] == "no_show":
                no_shows += 1
                no_show_minutes.append(minutes)
            elif minutes > 0:
                hour = (since + offset_ms) // 3_600_000 % 24
                served.append(_Served(e["service_id"], e["officer_id"], hour, math.log(minutes)))
    model.served = len(served)
    if calls:
        model.no_show_prob = (no_shows + 0.05 * PRIOR_WEIGHT) / (len(calls) + PRIOR_WEIGHT)
    if no_show_minutes:
        model.no_show_minutes = _median(no_show_minutes)
    gaps = _gaps(counter_calls, counter_ends)
    if gaps:
        model.gap_minutes = _median(gaps)
    _learn_service_times(model, served)
    return model


def _learn_arrivals(tx: Tx, model: Model, centre_id: int, first: date, today: date, offset_ms: int,
                    dialect: str) -> None:
    """Arrivals per service and hour, averaged over the past days that had any ticket. Booked
    citizens are not among them: the forecast knows each day's bookings (state.expected)."""
    rows = tx.rows(
        f"SELECT service_id, priority_id, local_day, {EPOCH[dialect].replace('at)', 'issued_at)')} AS at_ms "
        "FROM ticket WHERE centre_id = :centre AND local_day >= :first AND local_day < :today "
        "AND (origin IS NULL OR origin <> :booked)",
        centre=centre_id, first=tx.day(first), today=tx.day(today), booked=ORIGIN_BOOKED)
    days = {r["local_day"] for r in rows}
    if not days:
        return
    priority = 0
    for r in rows:
        hour = (int(r["at_ms"]) + offset_ms) // 3_600_000 % 24
        model.arrivals_per_hour.setdefault(r["service_id"], [0.0] * 24)[hour] += 1 / len(days)
        priority += r["priority_id"] is not None
    model.priority_share = priority / len(rows)


def _learn_patience(tx: Tx, model: Model, centre_id: int, first: date, today: date, dialect: str) -> None:
    """Patience as an exponential with censoring: every walk-in's first spell of waiting ends in a
    call, in leaving (cancelled while waiting) or at closing; the mean patience is the minutes spent
    waiting by all of them over the number who left (its maximum-likelihood estimate)."""
    rows = tx.rows(
        f"SELECT e.ticket_id, e.kind, e.counter_id, {EPOCH[dialect].replace('at)', 'e.at)')} AS at_ms, "
        f"{EPOCH[dialect].replace('at)', 't.issued_at)')} AS issued_ms FROM ticket_event e "
        "JOIN ticket t ON t.id = e.ticket_id WHERE t.centre_id = :centre AND t.local_day >= :first "
        "AND t.local_day < :today AND t.origin IS NULL AND e.kind IN ('called', 'cancelled', 'closed') "
        "ORDER BY e.id", centre=centre_id, first=tx.day(first), today=tx.day(today))
    seen: set[int] = set()
    waited_ms = left = 0
    for r in rows:
        if r["ticket_id"] in seen:
            continue
        seen.add(r["ticket_id"])
        waited_ms += max(0, int(r["at_ms"]) - int(r["issued_ms"]))
        left += r["kind"] == "cancelled" and r["counter_id"] is None
    if left >= MIN_LEAVES:
        model.patience_minutes = waited_ms / 60000 / left


def _learn_staffing(tx: Tx, model: Model, centre_id: int, first: date, today: date, offset_ms: int,
                    dialect: str) -> None:
    """When each counter is first signed in on the days it opens (kept for counters open on at least
    half of the days seen), when it is usually paused (the quarter hours it was paused on at least
    half of the days it worked: an officer who leaves for a site visit every afternoon), and the
    median length of a pause."""
    since = datetime(first.year, first.month, first.day, tzinfo=ZoneInfo("UTC"))
    rows = tx.rows(
        f"SELECT counter_id, kind, {EPOCH[dialect]} AS at_ms FROM counter_event WHERE centre_id = :centre "
        "AND at >= :since AND kind IN ('signed_in', 'paused', 'resumed') ORDER BY id",
        centre=centre_id, since=tx.instant(since))
    first_sign_in: dict[tuple[int, int], float] = {}
    paused_at: dict[int, int] = {}
    pauses: list[float] = []
    paused_slots: dict[int, dict[int, int]] = {}          # counter → slot of the day → days paused then
    today_number = (datetime(today.year, today.month, today.day, tzinfo=ZoneInfo("UTC")).timestamp() * 1000
                    ) // 86_400_000
    for r in rows:
        local_ms = int(r["at_ms"]) + offset_ms
        day = local_ms // 86_400_000
        if r["kind"] == "signed_in":
            if day < today_number:
                first_sign_in.setdefault((r["counter_id"], day), local_ms % 86_400_000 / 60000)
        elif r["kind"] == "paused":
            paused_at[r["counter_id"]] = int(r["at_ms"])
        elif r["counter_id"] in paused_at:
            since = paused_at.pop(r["counter_id"])
            pauses.append((int(r["at_ms"]) - since) / 60000)
            if day < today_number:
                slots = paused_slots.setdefault(r["counter_id"], {})
                first_slot = (since + offset_ms) % 86_400_000 // (SLOT_MINUTES * 60000)
                for slot in range(int(first_slot), int(local_ms % 86_400_000 // (SLOT_MINUTES * 60000))):
                    slots[slot] = slots.get(slot, 0) + 1
    days = {day for _, day in first_sign_in}
    by_counter: dict[int, list[float]] = {}
    for (counter, _), minute in first_sign_in.items():
        by_counter.setdefault(counter, []).append(minute)
    model.usual_opening = {c: _median(m) for c, m in by_counter.items() if len(m) * 2 >= len(days)}
    for counter, slots in paused_slots.items():
        worked = len(by_counter.get(counter, ()))
        usual = sorted(slot for slot, n in slots.items() if worked and n * 2 >= worked)
        spans: list[tuple[float, float]] = []
        for slot in usual:
            start = slot * SLOT_MINUTES
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], start + SLOT_MINUTES)
            else:
                spans.append((start, start + SLOT_MINUTES))
        if spans:
            model.usual_away[counter] = spans
    if pauses:
        model.pause_minutes = _median(pauses)


def _learn_service_times(model: Model, served: list[_Served]) -> None:
    """Per service, the lognormal with the observed mean and spread of the times themselves (shrunk
    towards the prior). Not the one fitted to their logarithms: a wait adds up many service times, so
    their mean and variance are what must be right, and a log fit overstates the mean of skewed
    times (by 28% when they are exponential). Officers' and hours' factors are ratios measured in
    logarithms around each service's own log-centre, which is right whatever the shape."""
    by_service: dict[int, list[float]] = {}
    for s in served:
        by_service.setdefault(s.service_id, []).append(s.log_minutes)
    prior = model.prior
    prior_mean = prior.mean
    prior_square = prior_mean ** 2 * math.exp(prior.sigma ** 2)        # E[X²] of the prior
    for service_id, logs in by_service.items():
        n = len(logs)
        ceiling = _ceiling(logs)
        minutes = [math.exp(min(x, ceiling)) for x in logs]
        mean = (PRIOR_WEIGHT * prior_mean + sum(minutes)) / (PRIOR_WEIGHT + n)
        square = (PRIOR_WEIGHT * prior_square + sum(m * m for m in minutes)) / (PRIOR_WEIGHT + n)
        sd = math.sqrt(max(square - mean ** 2, (0.05 * mean) ** 2))
        model.service[service_id] = Lognormal.from_mean_sd(mean, sd)
        model.service_log_centre[service_id] = (PRIOR_WEIGHT * prior.mu + sum(logs)) / (PRIOR_WEIGHT + n)
    model.officer_log_factor = _factors(served, lambda s: s.officer_id, model, {})
    model.hour_log_factor = _factors(served, lambda s: s.hour, model, model.officer_log_factor, by_officer=True)


def _ceiling(logs: list[float]) -> float:
    """A log-time beyond which a service was most likely not one: a ticket left open while the
    officer went to lunch ends at the next call. Three log-spreads above the log-centre keeps every
    genuine time of a skewed service (for exponential ones, 26 × their mean)."""
    centre = sum(logs) / len(logs)
    spread = math.sqrt(sum((x - centre) ** 2 for x in logs) / len(logs))
    return centre + OUTLIER_SPREADS * spread


def _factors(served, key, model: Model, officer: dict, by_officer: bool = False) -> dict:
    """Per key, the mean log-ratio of its tickets to their service's typical time, shrunk towards 0."""
    sums: dict = {}
    for s in served:
        residual = s.log_minutes - model.service_log_centre.get(s.service_id, model.prior.mu)
        if by_officer:
            residual -= officer.get(s.officer_id, 0.0)
        total, n = sums.get(key(s), (0.0, 0))
        sums[key(s)] = (total + residual, n + 1)
    return {k: total / (n + FACTOR_PRIOR_WEIGHT) for k, (total, n) in sums.items() if k is not None}


def _gaps(counter_calls: dict[int, list[int]], counter_ends: list[tuple[int, int]]) -> list[float]:
    """Minutes from finishing a citizen to calling the next at the same counter."""
    gaps = []
    for counter, ended in counter_ends:
        calls = counter_calls.get(counter)
        if not calls:
            continue
        i = bisect.bisect_left(calls, ended)
        if i < len(calls):
            gap = (calls[i] - ended) / 60000
            if 0 <= gap < MAX_GAP_MINUTES:
                gaps.append(gap)
    return gaps


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
