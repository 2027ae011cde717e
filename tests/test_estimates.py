"""The wait-time forecast on hand-built queues whose answers are known, and its baselines."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from hangdoi.services.estimates.baselines import (
    HeadOfLine,
    LastToEnterService,
    Naive,
    RollingAverage,
    ServiceQueueLength,
)
from hangdoi.services.estimates import forecast
from hangdoi.services.estimates.forecast import Estimate, Forecast
from hangdoi.services.estimates.model import Lognormal, Model
from hangdoi.services.estimates.state import OpenCounter, QueueState, WaitingTicket
from hangdoi.services.estimates.wording import wait_text, wait_view

MORNING, AFTERNOON = (450.0, 690.0), (810.0, 1020.0)       # 07:30–11:30, 13:30–17:00
A, B = 1, 2


def counter(cid, primary=(A,), backup=(), busy=None, since=None, paused=False, streak=0, officer=None):
    return OpenCounter(cid, officer or cid, tuple(primary), tuple(backup), paused, busy, since, streak)


def tickets(n, service=A, start_id=1, queued_from=500.0, priority=False):
    return [WaitingTicket(start_id + i, service, priority, queued_from + i, queued_from + i, None) for i in range(n)]


def state(waiting, counters, now=600.0, sessions=(MORNING, AFTERNOON), services=(A, B), streak_limit=0):
    return QueueState(centre_id=1, day=date(2026, 11, 23), now=now, sessions=list(sessions),
                      counters=list(counters), waiting=list(waiting), services=list(services),
                      priority_streak_limit=streak_limit)


def model(mean=6.0, sd=6.0, **extra):
    return Model(prior=Lognormal.from_mean_sd(mean, sd), gap_minutes=0.0, **extra)


def fixed(minutes):
    """Service times that hardly vary: the answer is arithmetic."""
    return model(mean=minutes, sd=minutes * 0.001)


def test_one_counter_n_ahead_waits_about_n_times_the_mean():
    waiting = tickets(10)
    found = Forecast(runs=400).estimate(state(waiting, [counter(1)]), model(mean=6.0, sd=6.0))
    # The 11th citizen waits for ten services: about 10 × 6 minutes (the median of a sum of ten
    # exponential-like times sits a little below its mean).
    last = found.tickets[waiting[-1].id].minutes
    assert 50 <= last <= 62
    assert found.tickets[waiting[0].id].minutes == pytest.approx(0, abs=0.01)      # the counter is free now
    # Every later place in line waits longer, and the range holds the median.
    minutes = [found.tickets[t.id].minutes for t in waiting]
    assert minutes == sorted(minutes)
    e = found.tickets[waiting[5].id]
    assert e.low <= e.minutes <= e.high and e.high - e.low > 5


def test_a_newcomer_waits_behind_everyone_already_there():
    waiting = tickets(4)
    found = Forecast().estimate(state(waiting, [counter(1)]), fixed(5.0))
    assert found.services[A].minutes == pytest.approx(20.0, abs=0.1)
    assert found.tickets[waiting[-1].id].minutes == pytest.approx(15.0, abs=0.1)


def test_the_lunch_break_is_waited_out():
    # 11:20, sessions end at 11:30 and resume at 13:30; each citizen takes 8 minutes.
    waiting = tickets(4, queued_from=650.0)
    found = Forecast().estimate(state(waiting, [counter(1)], now=680.0), fixed(8.0))
    minutes = [round(found.tickets[t.id].minutes) for t in waiting]
    assert minutes == [0, 8, 130, 138]             # the third is called at 13:30, the fourth at 13:38
    assert found.tickets[waiting[3].id].after_break and not found.tickets[waiting[1].id].after_break
    assert wait_text(found.tickets[waiting[3].id]) == "hơn 2 giờ — có thể quay lại vào buổi chiều"


def test_a_wait_that_may_run_into_the_break_says_so():
    # 11:00, half an hour before the break; each citizen takes 9 ± 3 minutes. The fourth is called
    # after three services (about 28 minutes): by 11:30 in about seven futures of ten, after 13:30 in the others.
    waiting = tickets(4, queued_from=640.0)
    found = Forecast(runs=400).estimate(state(waiting, [counter(1)], now=660.0), model(mean=9.0, sd=3.0))
    fourth, second = found.tickets[waiting[3].id], found.tickets[waiting[1].id]
    assert fourth.minutes < 30 and fourth.high >= 150              # 13:30 is 150 minutes away
    assert fourth.maybe_after_break and not fourth.after_break
    assert wait_text(fourth) == "khoảng 30 phút — có thể sang buổi chiều"
    assert wait_text(fourth, "en") == "about 30 minutes — perhaps after the lunch break"
    assert not second.maybe_after_break and wait_text(second) == "khoảng 10 phút"


def test_a_ticket_not_reached_before_closing_says_so():
    waiting = tickets(6, queued_from=990.0)
    found = Forecast().estimate(state(waiting, [counter(1)], now=1000.0), fixed(8.0))   # 16:40, closes 17:00
    assert found.tickets[waiting[0].id].minutes == pytest.approx(0, abs=0.1)
    assert found.tickets[waiting[5].id] == Estimate(None, None, None, beyond_closing=True, within=(0.0, 0.0, 0.0, 0.0))
    assert wait_text(found.tickets[waiting[5].id]) == "có thể không kịp trong hôm nay"


def test_a_priority_ticket_issued_behind_normal_ones_overtakes_them():
    normal = tickets(5)
    late_priority = WaitingTicket(99, A, True, 590.0, 590.0, None)
    busy = counter(1, busy=A, since=598.0)
    found = Forecast().estimate(state([*normal, late_priority], [busy]), fixed(6.0))
    assert found.tickets[99].minutes == pytest.approx(4.0, abs=0.1)     # right after the current citizen
    assert found.tickets[normal[0].id].minutes == pytest.approx(10.0, abs=0.1)


def test_with_a_priority_streak_limit_a_normal_ticket_goes_first_after_the_streak():
    normal = tickets(1)
    priority = tickets(2, start_id=50, queued_from=550.0, priority=True)
    streaked = counter(1, streak=2)
    found = Forecast().estimate(state([*normal, *priority], [streaked], streak_limit=2), fixed(5.0))
    assert found.tickets[normal[0].id].minutes == pytest.approx(0, abs=0.1)
    assert found.tickets[50].minutes == pytest.approx(5.0, abs=0.1)


def test_a_backup_counter_with_nothing_of_its_own_halves_the_wait():
    waiting = tickets(12)
    alone = Forecast().estimate(state(waiting, [counter(1)]), fixed(6.0))
    helped = Forecast().estimate(state(waiting, [counter(1), counter(2, primary=(B,), backup=(A,))]), fixed(6.0))
    last = waiting[-1].id
    assert alone.tickets[last].minutes == pytest.approx(66.0, abs=0.2)
    assert helped.tickets[last].minutes == pytest.approx(30.0, abs=0.2)


def test_a_backup_counter_serves_its_own_queue_first():
    own = tickets(3, service=B, start_id=100, queued_from=560.0)
    waiting = tickets(4, queued_from=500.0)
    counters = [counter(1), counter(2, primary=(B,), backup=(A,))]
    found = Forecast().estimate(state([*waiting, *own], counters), fixed(10.0))
    # Counter 2 spends 30 minutes on its own three B citizens before it helps with A.
    assert found.tickets[waiting[2].id].minutes == pytest.approx(20.0, abs=0.2)
    assert found.tickets[waiting[3].id].minutes == pytest.approx(30.0, abs=0.2)


def test_a_service_already_running_is_counted_from_where_it_is():
    waiting = tickets(1)
    busy = counter(1, busy=A, since=590.0)           # serving for 10 minutes of a typical 8
    found = Forecast(runs=400).estimate(state(waiting, [busy]), model(mean=8.0, sd=4.0))
    assert 0 < found.tickets[1].minutes < 8


def test_a_paused_counter_comes_back_after_a_typical_pause():
    waiting = tickets(1)
    found = Forecast().estimate(state(waiting, [counter(1, paused=True)]), fixed(5.0))
    assert found.tickets[1].minutes == pytest.approx(10.0, abs=0.1)     # DEFAULT_PAUSE_MINUTES


def test_no_counter_open_for_the_service_means_no_estimate():
    waiting = tickets(2, service=B)
    found = Forecast().estimate(state(waiting, [counter(1)]), fixed(5.0))
    assert found.tickets[1] == Estimate(None, None, None)
    assert found.services[B] == Estimate(None, None, None)
    assert wait_text(found.services[B]) is None and wait_view(found.services[B])["text"] == {"vi": None, "en": None}


def test_the_same_state_gives_the_same_answer():
    waiting = tickets(30)
    counters = [counter(1), counter(2, primary=(B,), backup=(A,))]
    first = Forecast().estimate(state(waiting, counters), model())
    assert Forecast().estimate(state(waiting, counters), model()) == first


def test_later_arrivals_of_a_backup_counters_own_service_slow_the_help_down():
    waiting = tickets(12)
    counters = [counter(1), counter(2, primary=(B,), backup=(A,))]
    quiet = Forecast().estimate(state(waiting, counters), fixed(6.0))
    rates = [0.0] * 24
    rates[10] = rates[11] = 8.0                 # eight B citizens an hour keep counter 2 busy
    busy = Forecast().estimate(state(waiting, counters), Model(prior=Lognormal.from_mean_sd(6.0, 0.006),
                                                              gap_minutes=0.0, arrivals_per_hour={B: rates}))
    assert busy.tickets[waiting[-1].id].minutes > quiet.tickets[waiting[-1].id].minutes + 5


def test_baselines_on_a_plain_queue():
    waiting = [*tickets(4), *tickets(2, service=B, start_id=10)]
    counters = [counter(1), counter(2, primary=(B,), backup=(A,))]
    s = state(waiting, counters)
    s.recent_calls = {A: [(595.0, 12.0), (590.0, 20.0)]}
    m = fixed(6.0)
    assert Naive().estimate(s, m).tickets[4].minutes == pytest.approx(3 * 6.0 / 2)
    assert ServiceQueueLength().estimate(s, m).tickets[4].minutes == pytest.approx(3 * 6.0 / 1.5)
    assert LastToEnterService().estimate(s, m).tickets[4].minutes == 12.0
    assert HeadOfLine().estimate(s, m).tickets[4].minutes == 100.0                  # queued at 08:20
    assert RollingAverage().estimate(s, m).tickets[4].minutes == 16.0
    assert LastToEnterService().estimate(s, m).tickets[11].minutes == pytest.approx(1 * 6.0 / 1)   # no call yet


@pytest.mark.parametrize("minutes, after_break, words", [
    (2.2, False, "dưới 5 phút"), (23.0, False, "khoảng 25 phút"), (61.0, False, "khoảng 1 giờ"),
    (80.0, False, "khoảng 1 giờ 15 phút"), (150.0, True, "hơn 2 giờ — có thể quay lại vào buổi chiều")])
def test_waits_are_said_in_round_human_figures(minutes, after_break, words):
    assert wait_text(Estimate(minutes, minutes, minutes, after_break=after_break)) == words


def test_english_wording():
    assert wait_text(Estimate(23.0, 20.0, 30.0), "en") == "about 25 minutes"
    assert wait_view(Estimate(23.4, 18.6, 30.2)) == {
        "minutes": 23, "low": 19, "high": 30, "beyond_closing": False, "after_break": False,
        "maybe_after_break": False,
        "text": {"vi": "khoảng 25 phút", "en": "about 25 minutes"}}


def test_a_centre_open_at_all_hours_keeps_estimating_in_the_evening():
    waiting = tickets(3, queued_from=1100.0)
    evening = state(waiting, [counter(1)], now=1110.0)                   # 18:30, after the last session
    assert Forecast().estimate(evening, fixed(5.0)).tickets[3].beyond_closing
    evening.open_all_hours = True
    assert Forecast().estimate(evening, fixed(5.0)).tickets[3].minutes == pytest.approx(10.0, abs=0.1)


def test_a_ticket_transferred_to_a_closed_counter_gets_no_estimate():
    moved = WaitingTicket(7, A, False, 590.0, 520.0, target_counter=9)
    mine = WaitingTicket(8, A, False, 595.0, 595.0, target_counter=1)
    found = Forecast().estimate(state([*tickets(2), moved, mine], [counter(1)]), fixed(5.0))
    assert found.tickets[7] == Estimate(None, None, None)
    assert found.tickets[8].minutes == pytest.approx(0, abs=0.1)        # transferred here: called first
    assert found.tickets[1].minutes == pytest.approx(5.0, abs=0.1)


def test_a_counter_that_usually_opens_in_the_afternoon_is_expected_then():
    from hangdoi.services.estimates.state import ClosedCounter
    waiting = tickets(30, queued_from=600.0)
    morning = state(waiting, [counter(1)], now=640.0)                       # 10:40, one counter open
    alone = Forecast().estimate(morning, fixed(10.0)).tickets[30]
    morning.closed = [ClosedCounter(2, (A,), ())]
    learned = Model(prior=Lognormal.from_mean_sd(10.0, 0.01), gap_minutes=0.0, usual_opening={2: 810.0})
    helped = Forecast().estimate(morning, learned).tickets[30]
    assert alone.beyond_closing or alone.minutes > helped.minutes + 60
    # Five more before the break, then two counters from 13:30: the 30th is called at about 15:50.
    assert 800 - 640 < helped.minutes < 1000 - 640 and helped.after_break


def test_a_paused_counter_returns_after_the_learned_pause_less_what_has_passed():
    waiting = tickets(1)
    away = counter(1, paused=True)
    away = OpenCounter(away.id, away.officer_id, away.primary, away.backup, True, None, None, 0, paused_since=570.0)
    learned = Model(prior=Lognormal.from_mean_sd(5.0, 0.005), gap_minutes=0.0, pause_minutes=90.0)
    assert Forecast().estimate(state(waiting, [away]), learned).tickets[1].minutes == pytest.approx(60.0, abs=0.1)


def test_a_counter_whose_officer_is_usually_away_after_lunch_stops_then():
    waiting = tickets(12, queued_from=600.0)
    counters = [counter(1), counter(2)]
    usual = Forecast().estimate(state(waiting, counters, now=645.0), fixed(10.0)).tickets[12]
    learned = Model(prior=Lognormal.from_mean_sd(10.0, 0.01), gap_minutes=0.0, usual_away={2: [(810.0, 900.0)]})
    away = Forecast().estimate(state(waiting, counters, now=645.0), learned).tickets[12]
    # Ten are called before the break. At 13:30 both counters call the last two; with counter 2's
    # officer usually away until 15:00, counter 1 calls them one after the other.
    assert usual.minutes == pytest.approx(810 - 645, abs=0.5)
    assert away.minutes == pytest.approx(810 - 645 + 10, abs=0.5)


def test_a_long_queue_is_played_forward_in_pieces_and_pausing_changes_no_figure():
    """One run of a queue of thousands plays tens of milliseconds with the interpreter held: the
    live server must be able to rest within a run, not only between runs."""
    waiting = tickets(3000)
    counters = [counter(c) for c in range(1, 21)]
    queue = state(waiting, counters, now=460.0, sessions=(MORNING,))
    calls = []
    paused = Forecast(runs=2).estimate(queue, fixed(2.0), pause=lambda: calls.append(1))
    # Between runs and in the summary it pauses 2 + 6 times; each run also calls some 2,400 tickets
    # (20 counters, 2 minutes each, four hours) and pauses every RUN_PIECE events.
    assert len(calls) >= 2 + 6 + 2 * 2000 // forecast.RUN_PIECE
    assert paused == Forecast(runs=2).estimate(queue, fixed(2.0))


def test_booked_citizens_still_to_come_are_called_before_the_walk_ins_from_their_slot():
    """Two appointments at 10:10 for service A (now 10:00), at a counter that takes 5 minutes a
    citizen: the walk-ins queued now wait for them too, from the slot on."""
    waiting = tickets(4, queued_from=590.0)
    plain = state(waiting, [counter(1)])
    booked = replace(plain, expected=[(A, 610.0), (A, 610.0)], booked_show=1.0)
    before = Forecast().estimate(plain, fixed(5.0))
    ahead = Forecast().estimate(booked, fixed(5.0))
    # The first two walk-ins are called at 10:00 and 10:05, before the slot; the others after both.
    assert [ahead.tickets[t.id].minutes for t in waiting[:2]] == pytest.approx([0.0, 5.0], abs=0.1)
    assert ahead.tickets[waiting[2].id].minutes == pytest.approx(20.0, abs=0.1)
    assert before.tickets[waiting[2].id].minutes == pytest.approx(10.0, abs=0.1)
    assert ahead.services[A].minutes == pytest.approx(30.0, abs=0.1)
    # Nobody who books ever comes: the walk-ins' figures are as without bookings.
    never = Forecast().estimate(replace(booked, booked_show=0.0), fixed(5.0))
    assert never.tickets[waiting[2].id].minutes == pytest.approx(10.0, abs=0.1)


def test_asking_for_one_ticket_gives_the_answer_it_gets_among_all():
    """The simulator asks only for the ticket just issued (its runs stop once it is called): the
    answer must be the very one the live screens show for it among the whole queue."""
    waiting = [*tickets(12), *tickets(6, service=B, start_id=20, queued_from=505.0),
               *tickets(2, start_id=30, queued_from=590.0, priority=True)]
    counters = [counter(1, busy=A, since=596.0), counter(2, primary=(B,), backup=(A,)),
                counter(3, primary=(A, B), paused=True)]
    m = model(mean=7.0, sd=5.0, arrivals_per_hour={A: [6.0] * 24, B: [3.0] * 24}, no_show_prob=0.1)
    whole = Forecast(keep_runs=True).estimate(state(waiting, counters), m)
    for ticket in (1, 7, 25, 31):
        alone = Forecast(keep_runs=True).estimate(state(waiting, counters), m, only={ticket})
        assert set(alone.tickets) == {ticket}
        assert alone.tickets[ticket] == whole.tickets[ticket]
        assert alone.runs[ticket] == whole.runs[ticket]


def test_the_chance_of_being_called_soon_grows_with_the_minutes_and_falls_with_the_queue():
    waiting = tickets(8)
    found = Forecast(runs=400).estimate(state(waiting, [counter(1)]), fixed(4.0))
    first, fifth, last = (found.tickets[waiting[i].id].within for i in (0, 4, 7))
    assert forecast.WITHIN_MINUTES == (10, 15, 20, 30)
    assert first == (1.0, 1.0, 1.0, 1.0)                       # called now
    assert fifth == (0.0, 0.0, 1.0, 1.0)                       # after four services of 4 minutes: 16
    assert last == (0.0, 0.0, 0.0, 1.0)                        # 28 minutes


def test_where_citizens_give_up_the_queue_ahead_thins_and_ones_own_wait_assumes_staying():
    waiting = tickets(12)
    patient = Forecast(runs=400).estimate(state(waiting, [counter(1)]), fixed(5.0))
    leaving = Forecast(runs=400).estimate(state(waiting, [counter(1)]), replace(fixed(5.0), patience_minutes=30.0))
    last_patient, last_leaving = patient.tickets[waiting[-1].id], leaving.tickets[waiting[-1].id]
    assert last_patient.minutes == pytest.approx(55, abs=0.5)          # eleven ahead, 5 minutes each
    assert last_leaving.minutes < 45                                   # a good share of them gave up
    assert leaving.tickets[waiting[0].id].minutes == pytest.approx(0, abs=0.01)


def test_todays_crowd_is_the_last_hours_arrivals_over_the_usual_for_its_open_minutes():
    rates = [0.0] * 24
    rates[9], rates[10], rates[13] = 30.0, 20.0, 12.0            # per hour; 13:00–13:30 is lunch
    usual = Model(prior=Lognormal.from_mean_sd(6.0, 6.0), gap_minutes=0.0, arrivals_per_hour={A: rates})
    at_1010 = replace(state([], [counter(1)], now=610.0), recent_arrivals=50)
    # 09:10–10:10: 50 minutes of hour 9 (25 usual) and 10 of hour 10 (20 × 10/60): 28.33 usual, 50 seen.
    assert forecast.today_crowd(at_1010, usual.arrivals_per_hour) == pytest.approx((10 + 50) / (10 + 25 + 20 / 6))
    # 13:40: the last hour was open only 13:30–13:40, a third of hour 13's 30 open minutes.
    at_1340 = replace(state([], [counter(1)], now=820.0), recent_arrivals=4)
    assert forecast.today_crowd(at_1340, usual.arrivals_per_hour) == pytest.approx((10 + 4) / (10 + 4))
    unknown = state([], [counter(1)], now=610.0)                  # a state that did not count them
    assert forecast.today_crowd(unknown, usual.arrivals_per_hour) == 1.0


def test_a_crowd_like_a_market_morning_lengthens_the_newcomers_wait_and_a_quiet_hour_shortens_it():
    rates = [0.0] * 24
    rates[9] = rates[10] = rates[11] = 6.0                        # six an hour usually, 5 minutes each,
    usual = Model(prior=Lognormal.from_mean_sd(5.0, 0.005), gap_minutes=0.0, arrivals_per_hour={A: rates},
                  priority_share=0.5)                             # half of them priority: they overtake
    waiting = tickets(3, queued_from=595.0)
    as_usual = replace(state(waiting, [counter(1)]), recent_arrivals=6)
    crowded = replace(as_usual, recent_arrivals=18)
    quiet = replace(as_usual, recent_arrivals=0)
    first = waiting[0].id

    def wait(s):
        return Forecast(runs=400).estimate(s, usual).services[A].minutes

    assert wait(crowded) > wait(as_usual) > wait(quiet)
    # The first in line is called now, whatever the crowd.
    for s in (crowded, as_usual, quiet):
        assert Forecast(runs=400).estimate(s, usual).tickets[first].minutes == pytest.approx(0.0, abs=0.01)
