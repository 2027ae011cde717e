"""What the wait model learns from a centre's own timeline (real SQLite and PostgreSQL)."""
from __future__ import annotations

import math
from datetime import timedelta

from hangdoi import engine
from hangdoi.engine.sql import Tx
from hangdoi.services.estimates.model import learn

from .centres import MONDAY_9AM


def at(clock, day: int, hhmm: str) -> None:
    """Set the clock to a local time (Hà Nội, UTC+7) on MONDAY_9AM's day + `day`."""
    hours, minutes = map(int, hhmm.split(":"))
    local_midnight = MONDAY_9AM - timedelta(hours=9)
    clock.set(local_midnight + timedelta(days=day, hours=hours, minutes=minutes))


def test_it_learns_service_times_when_counters_open_and_usual_absences(db, clock, centre):
    for day in range(3):                                        # Monday to Wednesday
        at(clock, day, "07:30")
        engine.sign_in(db, centre.counter(1), centre.officer("an"))
        for n in range(6):
            at(clock, day, f"08:{n * 10:02d}")
            engine.issue_ticket(db, centre.centre, "HT01")
            engine.call_next(db, centre.counter(1), centre.officer("an"), previous="served")
            at(clock, day, f"08:{n * 10 + 6:02d}")              # six minutes each
            engine.finish(db, centre.counter(1), centre.officer("an"))
        at(clock, day, "13:30")
        engine.sign_in(db, centre.counter(2), centre.officer("binh"))   # counter 2 opens after lunch
        engine.pause(db, centre.counter(1), centre.officer("an"), "site visit")
        at(clock, day, "15:00")
        engine.resume(db, centre.counter(1), centre.officer("an"))
        at(clock, day, "17:00")
        engine.close_day(db, centre.centre)
    with db.read() as session:
        model = learn(Tx(session), centre.centre, (MONDAY_9AM + timedelta(days=3)).date())
    assert model.served == 18
    # Six minutes each, pulled a little towards the configured 8 while there are few tickets.
    assert 6.0 < model.occupancy(centre.service("HT01")).mean < 7.0 < model.prior.mean
    assert model.usual_opening == {centre.counter(1): 450.0, centre.counter(2): 810.0}
    assert model.usual_away == {centre.counter(1): [(810.0, 900.0)]}
    assert model.pause_minutes == 90.0
    assert abs(sum(model.arrivals_per_hour[centre.service("HT01")]) - 6) < 1e-9   # six a day


def test_skewed_service_times_are_learned_with_their_own_mean_and_spread(db, clock, centre):
    """Exponential times (most short, a few very long) with a mean of 6 minutes: a lognormal fitted
    to their logarithms would say 7.7 on average, and every wait built from it would run long."""
    import random
    rng = random.Random(7)
    durations = [rng.expovariate(1 / 6.0) for _ in range(400)]
    for day in range(4):
        at(clock, day, "07:30")
        engine.sign_in(db, centre.counter(1), centre.officer("an"))
        for _ in range(100):                                   # the morning's queue, all before 08:10
            engine.issue_ticket(db, centre.centre, "HT01")
            clock.advance(seconds=5)
        for minutes in durations[day * 100:(day + 1) * 100]:
            engine.call_next(db, centre.counter(1), centre.officer("an"), previous="served")
            clock.advance(seconds=max(1, round(minutes * 60)))
            engine.finish(db, centre.counter(1), centre.officer("an"))
        engine.close_day(db, centre.centre)
    with db.read() as session:
        model = learn(Tx(session), centre.centre, (MONDAY_9AM + timedelta(days=4)).date())
    true_mean = sum(durations) / len(durations)
    true_sd = (sum((d - true_mean) ** 2 for d in durations) / len(durations)) ** 0.5
    learned = model.occupancy(centre.service("HT01"))
    sd = learned.mean * (math.exp(learned.sigma ** 2) - 1) ** 0.5
    assert abs(learned.mean - true_mean) < 0.1 * true_mean, (learned.mean, true_mean)
    assert abs(sd - true_sd) < 0.15 * true_sd, (sd, true_sd)
    # The officer's factor stays near 1: one officer served them all.
    assert abs(model.officer_log_factor[centre.officer("an")]) < 0.05


def test_a_ticket_left_open_over_lunch_does_not_make_every_service_look_long(db, clock, centre):
    """Six-minute services, and twice the officer forgot to press finish before lunch: the next call
    at 13:30 closed those tickets after two and a half hours."""
    for day in range(3):
        at(clock, day, "07:30")
        engine.sign_in(db, centre.counter(1), centre.officer("an"))
        for n in range(30):
            at(clock, day, f"{8 + n // 10:02d}:{(n % 10) * 6:02d}")
            engine.issue_ticket(db, centre.centre, "HT01")
            engine.call_next(db, centre.counter(1), centre.officer("an"), previous="served")
            clock.advance(minutes=5 + n % 3)                   # 5, 6 or 7 minutes
            if not (day < 2 and n == 29):
                engine.finish(db, centre.counter(1), centre.officer("an"))
        at(clock, day, "13:30")
        engine.issue_ticket(db, centre.centre, "HT01")
        engine.call_next(db, centre.counter(1), centre.officer("an"), previous="served")      # finishes a forgotten one
        clock.advance(minutes=6)
        engine.finish(db, centre.counter(1), centre.officer("an"))
        engine.close_day(db, centre.centre)
    with db.read() as session:
        model = learn(Tx(session), centre.centre, (MONDAY_9AM + timedelta(days=3)).date())
    # Without the cap the two 2½-hour "services" alone would add over 3 minutes to the mean.
    assert 6.0 <= model.occupancy(centre.service("HT01")).mean < 7.5


def test_patience_is_learned_from_those_who_left_and_the_time_everyone_waited(db, clock, centre):
    """Each of five days: 6 citizens wait 10 minutes and are called; 4 leave after 20 minutes of
    waiting; 2 are still waiting at closing, 60 minutes each. Waited in all: 5 × (60 + 80 + 120)
    minutes; left: 20. Patience: 1300 / 20 = 65 minutes."""
    engine.sign_in(db, centre.counter(1), centre.officer("an"))
    for day in range(5):
        at(clock, day, "16:00")
        called = [engine.issue_ticket(db, centre.centre, "HT01") for _ in range(6)]
        leaving = [engine.issue_ticket(db, centre.centre, "HT01") for _ in range(4)]
        staying = [engine.issue_ticket(db, centre.centre, "HT02") for _ in range(2)]
        at(clock, day, "16:10")
        for _ in called:
            engine.call_next(db, centre.counter(1), centre.officer("an"), previous="served")
        at(clock, day, "16:20")
        for t in leaving:
            engine.cancel_ticket(db, t["id"], reason="left")
        assert len(staying) == 2
        at(clock, day, "17:00")
        engine.close_day(db, centre.centre)
        if day < 4:
            at(clock, day + 1, "07:30")
            engine.sign_in(db, centre.counter(1), centre.officer("an"))
    with db.read() as session:
        model = learn(Tx(session), centre.centre, (MONDAY_9AM + timedelta(days=5)).date())
    assert model.patience_minutes == 65.0
    with db.read() as session:          # over the first four days only 16 left: too few to say
        assert learn(Tx(session), centre.centre, (MONDAY_9AM + timedelta(days=4)).date()).patience_minutes is None
