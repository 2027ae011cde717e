"""`simulate_visits(scenario)`: what booking and remote numbers do to a centre's day.

Each day is played twice through the real engine, in two databases, with the same citizens
(common random numbers: one arrival stream, and one draw per citizen of everything else):
- as the scenario says: `booking_share` of each service's citizens book a slot (the evening before,
  the slot around when they would have walked in, or the next with room) and arrive around its
  start (`booked_arrival_minutes`); `remote_share` take a number from home when they would have
  walked in, and set off when the centre tells them their turn is near (its forecast puts the
  call within `near_minutes`: the rule hangdoi/services/notify.py applies), arriving after
  `travel_minutes`; each kind fails to come with its own probability;
- and all walking in, at the moment they would have.

Measured: booked citizens' lateness of call after their slot's start, the walk-ins' mean wait
against the same citizens' wait when nobody books, remote citizens' time in the hall (arrival to
call) and the share who arrive after their turn came.
"""
from __future__ import annotations

import math
import os
import random
import statistics
import tempfile
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from hangdoi import engine
from hangdoi.clock import FixedClock
from hangdoi.database import Database
from hangdoi.engine import bookings
from hangdoi.engine.booking_rules import rules_of
from hangdoi.engine.errors import DomainError
from hangdoi.engine.sql import Tx
from hangdoi.schema import upgrade
from hangdoi.services.catalogue import create_centre
from hangdoi.services.estimates.forecast import Forecast
from hangdoi.services.estimates.state import read_state
from hangdoi.services.estimates.wording import wait_view
from hangdoi.services.simulation.day import ABANDON, FREE, Day
from hangdoi.services.simulation.run import centre_spec, working_days
from hangdoi.services.notify import near
from hangdoi.services.simulation.scenario import Scenario

# After the engine's own events (day.py): bookings made the evening before, arrivals, check-ins,
# a remote number taken, the centre looking whose turn is near, expiry.
BOOK, WALK_IN, BOOKED_ARRIVE, CHECK_IN, REMOTE_TAKE, REMOTE_ARRIVE, NEAR_CHECK, EXPIRE = range(9, 17)
NEAR_CHECK_MINUTES = 2          # how often the centre looks (hangdoi/services/notify.py: 20 s, and at calls)
EXPIRE_MINUTES = 5
TARGETS = {"booked_lateness_p90": 10, "walk_in_wait_ratio": 1.10, "remote_hall_p90": 15, "remote_late_share": 0.05}


@dataclass(slots=True)
class Citizen:
    index: int
    at: float                       # when they would walk in (minutes after midnight)
    code: str
    priority: str | None
    kind: str                       # "walk", "booked", "remote"
    comes: bool                     # a booked or remote citizen who turns up at all
    travel: float                   # today's way here
    reported: int                   # what they said it takes them (bookings.TRAVEL_CHOICES)
    offset: float                   # a booked citizen's arrival relative to the slot's start
    patience: float | None          # a walk-in's, when the scenario has citizens give up
    ticket_id: int | None = None
    booking_code: str | None = None
    slot_start: float | None = None
    arrived: float | None = None
    told: float | None = None       # when a remote citizen was told their turn is near
    arrived_late: bool = False      # a remote citizen who came after they were due


class VisitDay(Day):
    def __init__(self, db, clock, scenario: Scenario, ids: dict, day, seed: str, mixed: bool):
        super().__init__(db, clock, scenario, ids, day, seed)
        self.mixed = mixed
        self.visits = scenario.visits
        self.citizen_rng = random.Random(f"{seed}-citizens")
        self.forecast = Forecast()
        self.people: list[Citizen] = []
        self.waiting_remote: dict[int, Citizen] = {}
        self.service_ids = ids["services"]

    def play(self) -> list[Citizen]:
        self.open_the_day()
        opens, closes = self.scenario.sessions[0][0], self.scenario.sessions[-1][1]
        for i, (at, code, priority) in enumerate(sorted(self._arrivals())):
            citizen = self._citizen(i, at, code, priority)
            self.people.append(citizen)
            if citizen.kind == "walk":
                self.push(at, WALK_IN, citizen)
            elif citizen.kind == "remote":       # from home, when they would have set off
                self.push(max(at - citizen.travel, opens), REMOTE_TAKE, citizen)
        self.push(opens - 60, BOOK, None)
        for step, kind in ((NEAR_CHECK_MINUTES, NEAR_CHECK), (EXPIRE_MINUTES, EXPIRE)):
            t = opens
            while t < closes:
                self.push(t, kind, None)
                t += step
        self.run_the_day()
        return self.people

    def _citizen(self, i: int, at: float, code: str, priority: str | None) -> Citizen:
        """Every draw is made whatever the kind, so both runs of the day see the same citizens."""
        rng, v = self.citizen_rng, self.visits
        choice, show = rng.random(), rng.random()
        usual = self._draw(rng, *v.travel)
        travel = usual * rng.lognormvariate(0, 0.2)          # today's traffic
        reported = next((m for m in bookings.TRAVEL_CHOICES if m >= usual), bookings.TRAVEL_CHOICES[-1])
        offset = rng.gauss(*v.booked_arrival)
        patience = self.scenario.abandon_patience_minutes
        patience = rng.expovariate(1 / patience) if patience else None
        kind = "walk"
        if self.mixed and priority is None:
            kind = "booked" if choice < v.booking_share else "remote" if choice < v.booking_share + v.remote_share else "walk"
        no_show = v.booked_no_show_prob if kind == "booked" else v.remote_no_show_prob
        return Citizen(i, at, code, priority, kind, kind == "walk" or show >= no_show, travel, reported, offset,
                       patience)

    @staticmethod
    def _draw(rng, dist: str, mean: float, sd: float) -> float:
        if dist == "exponential":
            return rng.expovariate(1 / mean)
        if dist == "gamma":
            shape = (mean / sd) ** 2
            return rng.gammavariate(shape, sd ** 2 / mean)
        sigma2 = math.log(1 + (sd / mean) ** 2)
        return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))

    def _predict(self, ticket_id: int, at: float) -> None:
        """No estimator is scored here."""

    # -- events -----------------------------------------------------------------------------
    def handle(self, at: float, kind: int, what) -> None:
        if kind == WALK_IN:
            self._walk_in(at, what)
        elif kind == BOOK:
            self._book_all()
        elif kind == BOOKED_ARRIVE:
            what.arrived = at
            self._check_in(at, what)
        elif kind == CHECK_IN:
            self._check_in(at, what)
        elif kind == REMOTE_TAKE:
            self._take_remote(at, what)
        elif kind == REMOTE_ARRIVE:
            self._remote_arrives(at, what)
        elif kind == NEAR_CHECK:
            self._near_check(at)
        elif kind == EXPIRE:
            bookings.expire_due(self.db, self.ids["centre"])
        else:
            super().handle(at, kind, what)

    def _book_all(self) -> None:
        """The evening before: each booking citizen takes the slot around when they would have come,
        or the next one with room; none left that day, they walk in."""
        step = rules_of({"booking": self.visits.booking}).slot_minutes
        for citizen in (p for p in self.people if p.kind == "booked"):
            service_id = self.service_ids[citizen.code]
            booked = None
            for slot in bookings.slots(self.db, service_id, self.day):
                start = _minutes(slot["start"])
                if slot["free"] > 0 and start + step > citizen.at:
                    try:
                        booked = bookings.book(self.db, self.ids["centre"], service_id, self.day, slot["start"],
                                               f"09{citizen.index:08d}", "Công Dân Mô Phỏng")
                    except DomainError:
                        continue
                    citizen.slot_start, citizen.booking_code = start, booked["code"]
                    break
            if booked is None:
                citizen.kind = "walk"
                self.push(citizen.at, WALK_IN, citizen)
            elif citizen.comes:
                self.push(citizen.slot_start + citizen.offset, BOOKED_ARRIVE, citizen)

    def _check_in(self, at: float, citizen: Citizen) -> None:
        try:
            ticket = bookings.check_in(self.db, self.ids["centre"], citizen.booking_code)
        except DomainError as refused:
            if refused.code == "booking_too_early":
                self.push(_minutes(refused.params["at"]), CHECK_IN, citizen)
            return
        citizen.ticket_id = ticket["id"]
        self._wake(at, citizen.code)

    def _take_remote(self, at: float, citizen: Citizen) -> None:
        try:
            taken = bookings.take_remote(self.db, self.ids["centre"], citizen.code, f"09{citizen.index:08d}",
                                         "Công Dân Mô Phỏng", travel_minutes=citizen.reported)
        except DomainError:
            citizen.kind = "walk"          # no number online: they come and take one
            self.push(at, WALK_IN, citizen)
            return
        citizen.ticket_id, citizen.booking_code = taken["ticket"]["id"], taken["code"]
        self.waiting_remote[citizen.ticket_id] = citizen

    def _near_check(self, at: float) -> None:
        """The centre's rule (hangdoi/services/notify.py, `near`): told when the forecast puts the call
        within their lead. A citizen told sets off (if they come at all)."""
        if not self.waiting_remote:
            return
        rules = rules_of({"booking": self.visits.booking})
        with self.db.read() as session:
            state = read_state(Tx(session), self.ids["centre"], self.clock.now())
        estimates = self.forecast.estimate(state, self.model, only=set(self.waiting_remote))   # the same answers, sooner
        # As the live rule sees it: the wait as the status page shows it, the session's end.
        left = next((b - state.now for a, b in state.sessions if a <= state.now < b), None)
        for ticket_id, citizen in list(self.waiting_remote.items()):
            lead = bookings.lead_minutes(rules, {"travel_minutes": citizen.reported})
            if near(wait_view(estimates.tickets.get(ticket_id)), lead, left):
                del self.waiting_remote[ticket_id]
                citizen.told = at
                bookings.claim_notice(self.db, bookings.of_ticket(self.db, ticket_id)["id"], "near")
                if citizen.comes:
                    self.push(at + citizen.travel, REMOTE_ARRIVE, citizen)

    def _remote_arrives(self, at: float, citizen: Citizen) -> None:
        citizen.arrived = at
        with self.db.read() as session:
            tx = Tx(session)
            turn = tx.read_instant(tx.value("SELECT turn_at FROM booking WHERE code = :code AND centre_id = :c",
                                            code=citizen.booking_code, c=self.ids["centre"]))
        # Due when their turn came, but not before the time they were told they had to get here.
        lead = bookings.lead_minutes(rules_of({"booking": self.visits.booking}), {"travel_minutes": citizen.reported})
        if turn is not None:
            due = max((turn - self.midnight).total_seconds() / 60, citizen.told + lead)
            citizen.arrived_late = at > due
        try:
            bookings.check_in(self.db, self.ids["centre"], citizen.booking_code)
        except DomainError:               # cancelled meanwhile: they take an ordinary number
            self._walk_in(at, citizen)
            return
        self._wake(at, citizen.code)

    def _walk_in(self, at: float, citizen: Citizen) -> None:
        try:
            ticket = engine.issue_ticket(self.db, self.ids["centre"], citizen.code, citizen.priority)
        except engine.Conflict:
            return                       # a full range or a closed service: the citizen goes home
        citizen.ticket_id = ticket["id"]
        if citizen.patience is not None:
            self.push(at + citizen.patience, ABANDON, ticket["id"])
        self._wake(at, citizen.code)

    def _wake(self, at: float, code: str) -> None:
        for number in sorted(self.idle):
            if code in self.serves[number]:
                self.idle.discard(number)
                self.push(at, FREE, number)


def _minutes(hhmm: str) -> float:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def simulate_visits(scenario: Scenario, days: int | None = None, seed: int | None = None, progress=None) -> dict:
    days = days or scenario.days
    seed = scenario.seed if seed is None else seed
    scratch = Path("/dev/shm") if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None
    spec = centre_spec(scenario)
    spec["settings"] = {**spec["settings"], "booking": scenario.visits.booking}
    results = {"mixed": [], "walk": []}
    with tempfile.TemporaryDirectory(prefix="hangdoi-visits-", dir=scratch) as folder:
        first = datetime.combine(scenario.first_day, time(), ZoneInfo(scenario.timezone))
        worlds = {}
        for name in results:
            url = f"sqlite:///{folder}/{name}.sqlite3"
            upgrade(url)
            clock = FixedClock(first)
            db = Database(url, clock)
            worlds[name] = (db, clock, create_centre(db, spec))
        try:
            for n, day in enumerate(working_days(scenario, days)):
                for name, (db, clock, ids) in worlds.items():
                    people = VisitDay(db, clock, scenario, ids, day, f"{seed}-{day.isoformat()}", name == "mixed").play()
                    results[name].append(_outcomes(db, ids["centre"], day, people, first.tzinfo))
                if progress:
                    progress(n + 1, days)
        finally:
            for db, _, _ in worlds.values():
                db.dispose()
    return {"scenario": scenario.name, "days": days, "seed": seed, **_figures(results)}


def _outcomes(db, centre_id: int, day, people: list[Citizen], tz) -> list[dict]:
    """Each citizen's day: kind, when they came, when first called (minutes after midnight)."""
    with db.read() as session:
        tx = Tx(session)
        calls = {r["ticket_id"]: tx.read_instant(r["at"]) for r in tx.rows(
            "SELECT ticket_id, min(at) AS at FROM ticket_event WHERE centre_id = :c AND kind = 'called' "
            "AND ticket_id IN (SELECT id FROM ticket WHERE centre_id = :c AND local_day = :d) GROUP BY ticket_id",
            c=centre_id, d=tx.day(day))}
    midnight = datetime.combine(day, time(), tz)
    return [{"index": p.index, "kind": p.kind, "at": p.at, "arrived": p.arrived, "slot": p.slot_start,
             "late": p.arrived_late, "comes": p.comes,
             "called": (calls[p.ticket_id] - midnight).total_seconds() / 60 if p.ticket_id in calls else None}
            for p in people]


def _figures(results: dict) -> dict:
    mixed = [c for day in results["mixed"] for c in day]
    walk = {(d, c["index"]): c for d, day in enumerate(results["walk"]) for c in day}
    keyed_mixed = {(d, c["index"]): c for d, day in enumerate(results["mixed"]) for c in day}
    booked = [c["called"] - c["slot"] for c in mixed if c["kind"] == "booked" and c["called"] is not None and c["slot"] is not None]
    remote = [c for c in mixed if c["kind"] == "remote" and c["arrived"] is not None]
    hall = [c["called"] - c["arrived"] for c in remote if c["called"] is not None]
    pairs = [(c["called"] - c["at"], walk[key]["called"] - walk[key]["at"]) for key, c in keyed_mixed.items()
             if c["kind"] == "walk" and c["called"] is not None and key in walk and walk[key]["called"] is not None]
    mixed_wait = statistics.fmean(p[0] for p in pairs) if pairs else None
    alone_wait = statistics.fmean(p[1] for p in pairs) if pairs else None
    ratio = round(mixed_wait / alone_wait, 3) if pairs and alone_wait else None
    figures = {
        "booked": {"n": len(booked), "lateness_p50": _q(booked, 0.5), "lateness_p90": _q(booked, 0.9)},
        "walk_ins": {"n": len(pairs), "mean_wait": _round(mixed_wait), "mean_wait_all_walk_in": _round(alone_wait),
                     "ratio": ratio},
        "remote": {"n": len(remote), "hall_p50": _q(hall, 0.5), "hall_p90": _q(hall, 0.9),
                   "late_share": round(sum(1 for c in remote if c["late"]) / len(remote), 4) if remote else None},
        "targets": TARGETS,
    }
    figures["meets_targets"] = {
        "booked_lateness_p90": _within(figures["booked"]["lateness_p90"], TARGETS["booked_lateness_p90"]),
        "walk_in_wait_ratio": _within(ratio, TARGETS["walk_in_wait_ratio"]),
        "remote_hall_p90": _within(figures["remote"]["hall_p90"], TARGETS["remote_hall_p90"]),
        "remote_late_share": _within(figures["remote"]["late_share"], TARGETS["remote_late_share"]),
    }
    return figures


def _q(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 2)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _within(value, limit) -> bool | None:
    return None if value is None else value <= limit
