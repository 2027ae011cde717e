"""`hangdoi simulate --notices`: "your turn is near" rules scored on a hand-checked day, and on
simulated days through the real engine."""
from __future__ import annotations

import pytest

from hangdoi.services.simulation.notices import OURS, Look, _figures, _holds, _messages, rule_names, simulate_notices
from hangdoi.services.simulation.scenario import parse
from tests.test_simulation import TINY

# (chance of a call within 10, 15, 20, 30 minutes; naive minutes; people ahead)
FAR = ((0.0, 0.1, 0.2, 0.6), 40.0, 6)
NEARER = ((0.2, 0.6, 0.8, 0.95), 14.0, 2)
NOW = ((0.9, 1.0, 1.0, 1.0), 2.0, 0)


def test_each_rule_reads_its_own_figure():
    assert _holds("chance 15 0.5", NEARER) and not _holds("chance 15 0.7", NEARER)
    assert _holds("chance 30 0.5", FAR) and not _holds("chance 20 0.5", FAR)
    assert _holds("ahead 2", NEARER) and not _holds("ahead 5", FAR)
    assert _holds("naive 15", NEARER) and not _holds("naive 30", FAR)
    assert not _holds("naive 30", ((), None, 0))                 # no naive figure: never


def test_a_hand_checked_day():
    """Ticket 1 is called at 20, ticket 2 at 40 (both issued at 0). Ours (chance 15 ≥ 0.5) tells
    ticket 1 at 6 (14 minutes ahead: in time) and ticket 2 at 38 (2 minutes: it would miss it); with
    2 ahead, both are told at once: 20 minutes (in time) and 40 (too early)."""
    looks = [Look(at, None) for at in (0.0, 6.0, 30.0, 38.0)]
    answers = [{1: FAR, 2: FAR}, {1: NEARER, 2: FAR}, {2: FAR}, {2: NOW}]
    answers[0] = {1: (FAR[0], FAR[1], 2), 2: (FAR[0], FAR[1], 2)}
    sent = _messages(looks, answers, ["chance 15 0.5", "ahead 2"])
    assert sent == {(1, "chance 15 0.5"): 6.0, (2, "chance 15 0.5"): 38.0, (1, "ahead 2"): 0.0, (2, "ahead 2"): 0.0}
    called = {1: 20.0, 2: 40.0}
    ours = _figures([called[t] - sent[(t, "chance 15 0.5")] for t in (1, 2)])
    theirs = _figures([called[t] - sent[(t, "ahead 2")] for t in (1, 2)])
    assert ours == {"called_5_30": 0.5, "called_under_5": 0.5, "called_over_30": 0.0, "median_lead_min": 8.0}
    assert theirs == {"called_5_30": 0.5, "called_under_5": 0.0, "called_over_30": 0.5, "median_lead_min": 30.0}


def test_a_rule_that_never_held_told_the_citizen_at_the_call():
    sent = _messages([Look(0.0, None)], [{1: FAR}], ["chance 15 0.5"])
    assert sent == {}
    assert _figures([0.0])["called_under_5"] == 1.0                # the report counts the lead as 0


def test_simulated_days_score_every_rule_on_the_same_citizens():
    report = simulate_notices(parse(TINY), days=2)
    assert report["citizens"] > 5 and set(report["rules"]) == set(rule_names())
    assert report["target"]["rule"] == f"chance 15 {OURS}"
    for figures in report["rules"].values():
        assert figures["called_5_30"] + figures["called_under_5"] + figures["called_over_30"] == pytest.approx(1, abs=1e-3)
    # Telling people earlier can only make fewer of them late.
    assert report["rules"]["chance 15 0.3"]["called_under_5"] <= report["rules"]["chance 15 0.9"]["called_under_5"]
    assert report["rules"]["ahead 5"]["called_under_5"] <= report["rules"]["ahead 2"]["called_under_5"]
    assert simulate_notices(parse(TINY), days=2, jobs=2) == report
