"""A simulation scenario: a JSON description of a centre's day, checked field by field.

    {"name": "...", "timezone": "Asia/Ho_Chi_Minh",
     "sessions": [["07:30", "11:30"], ["13:30", "17:00"]],
     "services": [{"code": "HT", "domain": "Tư pháp – Hộ tịch", "name": "optional",
                   "service_minutes": {"dist": "lognormal", "mean": 8.0, "sd": 5.0},
                   "arrivals_per_hour": {"07": 4, "08": 20, ...}}],
     "counters": [{"number": 1, "primary": ["HT"], "backup": ["CT"], "speed": 1.0,
                   "absent": [["07:30", "11:30"]]}],
     "priority_share": 0.08, "no_show_prob": 0.05, "abandon_patience_minutes": null,
     "days": 200, "seed": 1}

Optional, with these defaults: "day_variation" 0.15 (the sd of each day's arrival multiplier, whose
mean is 1), "walk_minutes" 0.5 (call → the citizen sits down), "gap_minutes" 0.3 (finish → the
next call), "no_show_wait_minutes" 1.5 (the officer waits this long before marking a no-show),
"service_minutes_prior" 8 (the centre's configured prior, all a new centre's estimates start from),
"priority_streak_limit" 0, "first_day" "2027-01-04", "weekdays" [0, 1, 2, 3, 4], "market_days" none
({"every_days": 5, "multiplier": 2.0, "hours": ["07", "08"]}: every fifth day from the first, a rural
market day, twice the citizens in those hours).

Visits that begin on a phone (`hangdoi simulate --visits`; all optional, none by default):
"booking_share" (of each service's citizens, who book a slot instead of walking in), "remote_share"
(who take a number from home and set off when told their turn is near), "travel_minutes" {"dist",
"mean", "sd"} (home → centre), "booked_no_show_prob", "remote_no_show_prob", "booked_arrival_minutes"
{"mean": -5, "sd": 5} (arrival relative to the slot's start: negative is early), and "booking" (the
centre's booking settings, as in `settings.booking`). Statutory priority citizens walk in.
"""
from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DISTRIBUTIONS = ("lognormal", "exponential", "gamma")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
HOUR = re.compile(r"([01]?\d|2[0-3])")
KNOWN = {"name", "timezone", "sessions", "services", "counters", "priority_share", "no_show_prob",
         "abandon_patience_minutes", "days", "seed", "day_variation", "walk_minutes", "gap_minutes",
         "no_show_wait_minutes", "service_minutes_prior", "priority_streak_limit", "first_day", "weekdays",
         "description", "booking_share", "remote_share", "travel_minutes", "booked_no_show_prob",
         "remote_no_show_prob", "booked_arrival_minutes", "booking", "market_days"}


class ScenarioError(ValueError):
    """The scenario file says something that cannot be simulated; the message names the field."""


@dataclass(frozen=True)
class ServiceSpec:
    code: str
    domain: str
    name: str
    dist: str
    mean: float
    sd: float
    arrivals_per_hour: dict[int, float]


@dataclass(frozen=True)
class CounterSpec:
    number: int
    primary: tuple[str, ...]
    backup: tuple[str, ...]
    speed: float
    absent: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Visits:
    booking_share: float = 0.0
    remote_share: float = 0.0
    travel: tuple[str, float, float] = ("lognormal", 12.0, 6.0)      # dist, mean, sd (minutes)
    booked_no_show_prob: float = 0.1
    remote_no_show_prob: float = 0.1
    booked_arrival: tuple[float, float] = (-5.0, 5.0)                 # mean, sd (minutes from the slot's start)
    booking: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MarketDays:
    """Every `every_days` calendar days (from the first day) is a market day: more citizens come,
    `multiplier` times the usual in `hours` (all day when empty)."""
    every_days: int
    multiplier: float
    hours: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Scenario:
    name: str
    timezone: str
    sessions: tuple[tuple[float, float], ...]
    services: tuple[ServiceSpec, ...]
    counters: tuple[CounterSpec, ...]
    priority_share: float
    no_show_prob: float
    abandon_patience_minutes: float | None
    days: int
    seed: int
    day_variation: float = 0.15
    walk_minutes: float = 0.5
    gap_minutes: float = 0.3
    no_show_wait_minutes: float = 1.5
    service_minutes_prior: float = 8.0
    priority_streak_limit: int = 0
    first_day: date = date(2027, 1, 4)
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    visits: Visits = field(default_factory=Visits)
    market_days: MarketDays | None = None
    raw: dict = field(default_factory=dict, compare=False)


def draw_minutes(rng: random.Random, service: ServiceSpec) -> float:
    """One citizen's service time at a counter of speed 1, from the service's distribution."""
    if service.dist == "exponential":
        return rng.expovariate(1 / service.mean)
    if service.dist == "gamma":
        shape = (service.mean / service.sd) ** 2
        return rng.gammavariate(shape, service.sd ** 2 / service.mean)
    sigma2 = math.log(1 + (service.sd / service.mean) ** 2)
    return rng.lognormvariate(math.log(service.mean) - sigma2 / 2, math.sqrt(sigma2))


def working_time(scenario: Scenario, counter: CounterSpec, at: float) -> float | None:
    """`at` if this counter's officer calls then; else when they next may (sessions and absences);
    None when their day is over."""
    for start, end in scenario.sessions:
        at = max(at, start)
        if at < end:
            for away_from, away_to in counter.absent:
                if away_from <= at < away_to:
                    return working_time(scenario, counter, away_to)
            return at
    return None


def load(path: str | Path) -> Scenario:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno})") from exc
    return parse(raw)


def parse(raw) -> Scenario:
    if not isinstance(raw, dict):
        raise ScenarioError("a scenario is a JSON object")
    unknown = sorted(set(raw) - KNOWN)
    if unknown:
        raise ScenarioError(f"unknown field “{unknown[0]}”")
    timezone = _text(raw, "timezone", "Asia/Ho_Chi_Minh")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScenarioError(f"timezone: unknown time zone “{timezone}”") from exc
    sessions = _sessions(raw.get("sessions", [["07:30", "11:30"], ["13:30", "17:00"]]))
    services = _services(raw.get("services"))
    codes = {s.code for s in services}
    counters = _counters(raw.get("counters"), codes)
    patience = raw.get("abandon_patience_minutes")
    if patience is not None:
        patience = _number(raw, "abandon_patience_minutes", low=1, high=1440)
    try:
        first_day = date.fromisoformat(_text(raw, "first_day", "2027-01-04"))
    except ValueError as exc:
        raise ScenarioError("first_day: expected YYYY-MM-DD") from exc
    weekdays = raw.get("weekdays", [0, 1, 2, 3, 4])
    if not isinstance(weekdays, list) or not weekdays or any(
            not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in weekdays):
        raise ScenarioError("weekdays: a non-empty list of 0 (Monday) … 6 (Sunday)")
    return Scenario(
        name=_text(raw, "name", None), timezone=timezone, sessions=sessions, services=services,
        counters=counters,
        priority_share=_number(raw, "priority_share", 0.0, low=0, high=1),
        no_show_prob=_number(raw, "no_show_prob", 0.0, low=0, high=1),
        abandon_patience_minutes=patience,
        days=int(_number(raw, "days", 200, low=1, high=100_000, integer=True)),
        seed=int(_number(raw, "seed", 1, low=0, high=2**63, integer=True)),
        day_variation=_number(raw, "day_variation", 0.15, low=0, high=2),
        walk_minutes=_number(raw, "walk_minutes", 0.5, low=0, high=30),
        gap_minutes=_number(raw, "gap_minutes", 0.3, low=0, high=30),
        no_show_wait_minutes=_number(raw, "no_show_wait_minutes", 1.5, low=0, high=30),
        service_minutes_prior=_number(raw, "service_minutes_prior", 8.0, low=0.5, high=240),
        priority_streak_limit=int(_number(raw, "priority_streak_limit", 0, low=0, high=10, integer=True)),
        first_day=first_day, weekdays=tuple(sorted(set(weekdays))), visits=_visits(raw),
        market_days=_market_days(raw.get("market_days")), raw=raw)


def _market_days(value) -> MarketDays | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"every_days", "multiplier", "hours"}:
        raise ScenarioError("market_days: expected {\"every_days\", \"multiplier\", \"hours\"}")
    hours = value.get("hours", [])
    if not isinstance(hours, list) or any(not isinstance(h, str) or not HOUR.fullmatch(h) for h in hours):
        raise ScenarioError("market_days.hours: a list of hours \"00\"–\"23\"")
    return MarketDays(int(_number(value, "every_days", low=2, high=60, integer=True)),
                      _number(value, "multiplier", low=0.1, high=20), frozenset(int(h) for h in hours))


def _visits(raw: dict) -> Visits:
    booking_share = _number(raw, "booking_share", 0.0, low=0, high=1)
    remote_share = _number(raw, "remote_share", 0.0, low=0, high=1)
    if booking_share + remote_share > 1:
        raise ScenarioError("booking_share + remote_share: at most 1")
    travel = raw.get("travel_minutes", {"dist": "lognormal", "mean": 12.0, "sd": 6.0})
    if not isinstance(travel, dict) or travel.get("dist") not in DISTRIBUTIONS:
        raise ScenarioError(f"travel_minutes.dist: one of {', '.join(DISTRIBUTIONS)}")
    mean = _number(travel, "mean", low=0.1, high=600)
    sd = mean if travel["dist"] == "exponential" else _number(travel, "sd", low=0.01, high=600)
    arrival = raw.get("booked_arrival_minutes", {"mean": -5.0, "sd": 5.0})
    if not isinstance(arrival, dict):
        raise ScenarioError("booked_arrival_minutes: expected {\"mean\", \"sd\"}")
    booking = raw.get("booking", {})
    if not isinstance(booking, dict):
        raise ScenarioError("booking: expected the centre's booking settings")
    return Visits(booking_share=booking_share, remote_share=remote_share, travel=(travel["dist"], mean, sd),
                  booked_no_show_prob=_number(raw, "booked_no_show_prob", 0.1, low=0, high=1),
                  remote_no_show_prob=_number(raw, "remote_no_show_prob", 0.1, low=0, high=1),
                  booked_arrival=(_number(arrival, "mean", low=-120, high=120), _number(arrival, "sd", low=0, high=120)),
                  booking=booking)


def _text(raw: dict, key: str, default):
    value = raw.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{key}: expected a non-empty text")
    return value


def _number(raw: dict, key: str, default=None, *, low: float, high: float, integer: bool = False) -> float:
    value = raw.get(key, default)
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) \
            or (integer and not float(value).is_integer()) or not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise ScenarioError(f"{key}: expected {kind} from {low} to {high}")
    return float(value)


def _clock(value, where: str) -> float:
    if not isinstance(value, str) or not HHMM.match(value):
        raise ScenarioError(f"{where}: expected a time as HH:MM, got {json.dumps(value, ensure_ascii=False)}")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _spans(value, where: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: expected a list of [from, to] pairs")
    spans = []
    for i, pair in enumerate(value):
        if not isinstance(pair, list) or len(pair) != 2:
            raise ScenarioError(f"{where}[{i}]: expected [from, to]")
        start, end = _clock(pair[0], f"{where}[{i}]"), _clock(pair[1], f"{where}[{i}]")
        if end <= start or (spans and start < spans[-1][1]):
            raise ScenarioError(f"{where}[{i}]: spans must run forwards and in order without overlap")
        spans.append((start, end))
    return tuple(spans)


def _sessions(value) -> tuple[tuple[float, float], ...]:
    sessions = _spans(value, "sessions")
    if not sessions:
        raise ScenarioError("sessions: at least one session")
    return sessions


def _objects(value, name: str):
    """(where, item) for each object of a non-empty list, `where` naming it for error messages."""
    if not isinstance(value, list) or not value:
        raise ScenarioError(f"{name}: expected a non-empty list")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ScenarioError(f"{name}[{i}]: expected an object")
        yield f"{name}[{i}]", item


def _services(value) -> tuple[ServiceSpec, ...]:
    services, seen = [], set()
    for where, item in _objects(value, "services"):
        code = item.get("code")
        if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,20}", code) or code in seen:
            raise ScenarioError(f"{where}.code: expected a unique code of letters and digits")
        seen.add(code)
        times = item.get("service_minutes")
        if not isinstance(times, dict) or times.get("dist") not in DISTRIBUTIONS:
            raise ScenarioError(f"{where}.service_minutes.dist: one of {', '.join(DISTRIBUTIONS)}")
        mean = _number(times, "mean", low=0.1, high=480)
        sd = mean if times["dist"] == "exponential" else _number(times, "sd", low=0.01, high=480)
        rates = item.get("arrivals_per_hour")
        if not isinstance(rates, dict):
            raise ScenarioError(f"{where}.arrivals_per_hour: expected an object of hour → citizens per hour")
        hourly = {}
        for hour, rate in rates.items():
            if not HOUR.fullmatch(hour):
                raise ScenarioError(f"{where}.arrivals_per_hour: “{hour}” is not an hour 00–23")
            hourly[int(hour)] = _number(rates, hour, low=0, high=10_000)
        services.append(ServiceSpec(code, _text(item, "domain", "Khác"), _text(item, "name", code),
                                    times["dist"], mean, sd, hourly))
    return tuple(services)


def _counters(value, codes: set[str]) -> tuple[CounterSpec, ...]:
    counters, numbers = [], set()
    for where, item in _objects(value, "counters"):
        number = int(_number(item, "number", low=1, high=999, integer=True))
        if number in numbers:
            raise ScenarioError(f"{where}.number: counter {number} appears twice")
        numbers.add(number)
        lists = {}
        for role in ("primary", "backup"):
            names = item.get(role, [])
            if not isinstance(names, list) or any(n not in codes for n in names):
                raise ScenarioError(f"{where}.{role}: a list of the scenario's service codes")
            lists[role] = tuple(names)
        if not lists["primary"] and not lists["backup"]:
            raise ScenarioError(f"{where}: a counter serves at least one service")
        if set(lists["primary"]) & set(lists["backup"]):
            raise ScenarioError(f"{where}: a service is either primary or backup at a counter, not both")
        counters.append(CounterSpec(number, lists["primary"], lists["backup"],
                                    _number(item, "speed", 1.0, low=0.1, high=10),
                                    _spans(item.get("absent", []), f"{where}.absent")))
    return tuple(counters)
