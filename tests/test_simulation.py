"""`hangdoi simulate`: whole days through the real engine, every estimator scored on the same citizens."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hangdoi.cli import main
from hangdoi.services.simulation.run import ESTIMATOR_ORDER, simulate
from hangdoi.services.simulation.scenario import ScenarioError, load, parse
from hangdoi.services.simulation.scores import scores

TINY = {
    "name": "Xã thử nghiệm", "timezone": "Asia/Ho_Chi_Minh",
    "sessions": [["07:30", "09:00"], ["13:30", "14:30"]],
    "services": [
        {"code": "HT", "domain": "Tư pháp – Hộ tịch",
         "service_minutes": {"dist": "lognormal", "mean": 6.0, "sd": 3.0},
         "arrivals_per_hour": {"07": 10, "08": 14, "13": 8, "14": 6}},
        {"code": "CT", "domain": "Chứng thực", "service_minutes": {"dist": "gamma", "mean": 3.0, "sd": 1.0},
         "arrivals_per_hour": {"07": 8, "08": 10, "13": 6}},
        {"code": "DD", "domain": "Đất đai", "service_minutes": {"dist": "exponential", "mean": 10.0},
         "arrivals_per_hour": {"08": 2}}],
    "counters": [{"number": 1, "primary": ["HT"], "backup": ["CT"]},
                 {"number": 2, "primary": ["CT"], "backup": ["HT", "DD"], "speed": 1.2,
                  "absent": [["07:30", "08:00"]]}],
    "priority_share": 0.1, "no_show_prob": 0.1, "abandon_patience_minutes": 40, "days": 2, "seed": 7,
}
KEYS = {"mae_min", "rmse_min", "p90_abs_min", "bias_min", "under5_rate", "within5_rate", "range_coverage"}


def test_a_seed_replays_the_same_days_and_the_same_figures():
    first = simulate(parse(TINY))
    assert first == simulate(parse(TINY))
    assert first == simulate(parse(TINY), jobs=2)       # estimated in two worker processes
    assert first["tickets"] > 40 and first["days"] == 2
    assert simulate(parse(TINY), seed=8) != first


def test_the_command_prints_every_estimator_in_the_documented_shape(tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", "--scenario", str(path), "--days", "1", "--seed", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {"scenario", "days", "tickets", "estimators"} <= set(report)
    assert report["scenario"] == "Xã thử nghiệm" and report["days"] == 1 and report["tickets"] > 0
    assert list(report["estimators"]) == list(ESTIMATOR_ORDER)
    for figures in report["estimators"].values():
        assert set(figures) == KEYS
        assert 0 <= figures["under5_rate"] <= 1 and 0 <= figures["within5_rate"] <= 1
        assert figures["mae_min"] <= figures["rmse_min"]


def test_a_recorded_run_gives_every_ticket_its_truth_and_the_forecast_spread_and_changes_no_figure(tmp_path):
    path, record = tmp_path / "tiny.json", tmp_path / "record.jsonl"
    path.write_text(json.dumps(TINY, ensure_ascii=False), encoding="utf-8")
    args = ["simulate", "--scenario", str(path), "--days", "1", "--seed", "3"]
    plain = json.loads(CliRunner().invoke(main, args).output)
    result = CliRunner().invoke(main, [*args, "--record", str(record)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == plain                   # recording leaves the days as they were
    rows = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == plain["tickets"] + plain["not_called"]
    assert sum(row["waited"] is not None for row in rows) == plain["tickets"]
    for row in rows:
        assert set(row["predicted"]) == set(ESTIMATOR_ORDER) and row["day"] == rows[0]["day"]
        if row["spread"] is not None:
            finite = [v for v in row["spread"] if v is not None]
            assert len(row["spread"]) == 19 and finite == sorted(finite)
            assert row["spread"][len(finite):] == [None] * (19 - len(finite))   # "not today" is the top
            if row["spread"][11] is not None:
                assert row["spread"][11] == row["predicted"]["hangdoi"]     # P60 is the estimate
    # The recorded pairs are the ones scored: our MAE comes back from them.
    pairs = [(row["predicted"]["hangdoi"], row["waited"]) for row in rows if row["waited"] is not None]
    mae = sum(abs(p - w) for p, w in pairs) / len(pairs)
    assert mae == pytest.approx(plain["estimators"]["hangdoi"]["mae_min"], abs=0.01)


@pytest.mark.parametrize("change, message", [
    ({"sessions": [["09:00", "08:00"]]}, "sessions[0]: spans must run forwards"),
    ({"sessions": [["7h30", "11:30"]]}, "sessions[0]: expected a time as HH:MM"),
    ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone"),
    ({"services": []}, "services: expected a non-empty list"),
    ({"counters": [{"number": 1, "primary": ["XX"]}]}, "counters[0].primary"),
    ({"priority_share": 1.5}, "priority_share: expected a number from 0 to 1"),
    ({"days": 0}, "days: expected a whole number"),
    ({"colour": "red"}, "unknown field “colour”"),
    ({"market_days": {"every_days": 1, "multiplier": 2}}, "every_days: expected a whole number from 2"),
    ({"market_days": {"every_days": 5, "multiplier": 2, "hours": ["7h"]}}, "market_days.hours"),
    ({"market_days": {"every": 5}}, "market_days: expected"),
])
def test_a_scenario_that_cannot_be_simulated_is_refused_by_name(change, message):
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse({**TINY, **change})


def test_the_command_refuses_a_bad_file_with_a_clear_message(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", "--scenario", str(path)])
    assert result.exit_code == 2 and "not valid JSON" in result.output
    with pytest.raises(ScenarioError, match="cannot read"):
        load(tmp_path / "missing.json")


@pytest.mark.parametrize("name", ["rural-commune", "urban-ward-busy", "counter-absent-morning",
                                  "overloaded-absent-morning", "rural-market-day", "ward-multi-field"])
def test_the_shipped_scenarios_are_valid(name):
    scenario = load(f"bench/scenarios/{name}.json")
    assert scenario.days >= 200 and len(scenario.counters) >= 3


def test_scores_from_known_pairs():
    figures = scores([(10, 10), (10, 20), (20, 10), (5, 6)])
    assert figures == {"mae_min": 5.25, "rmse_min": 7.089, "p90_abs_min": 10, "bias_min": -0.25,
                       "under5_rate": 0.25, "within5_rate": 0.5, "range_coverage": None}


WITH_PHONES = {**TINY, "booking_share": 0.3, "remote_share": 0.3, "booked_no_show_prob": 0.1,
               "remote_no_show_prob": 0.1, "travel_minutes": {"dist": "gamma", "mean": 8.0, "sd": 3.0},
               "booking": {"near_minutes": 15, "bookable_share": 0.8}}


def test_visits_play_the_same_citizens_booking_and_all_walking_in(tmp_path):
    path = tmp_path / "phones.json"
    path.write_text(json.dumps(WITH_PHONES, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", "--visits", "--scenario", str(path), "--days", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["booked"]["n"] > 5 and report["remote"]["n"] > 5 and report["walk_ins"]["n"] > 10
    assert report["booked"]["lateness_p50"] <= report["booked"]["lateness_p90"]
    assert report["remote"]["hall_p50"] <= report["remote"]["hall_p90"] and 0 <= report["remote"]["late_share"] <= 1
    assert report["walk_ins"]["ratio"] == round(report["walk_ins"]["mean_wait"] / report["walk_ins"]["mean_wait_all_walk_in"], 3) \
        or abs(report["walk_ins"]["ratio"] - report["walk_ins"]["mean_wait"] / report["walk_ins"]["mean_wait_all_walk_in"]) < 0.01
    assert set(report["meets_targets"]) == set(report["targets"])
    # Deterministic: the same seed, the same figures.
    again = json.loads(CliRunner().invoke(main, ["simulate", "--visits", "--scenario", str(path), "--days", "2"]).output)
    assert again == report
    # A scenario without phones has nothing to compare.
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(TINY, ensure_ascii=False), encoding="utf-8")
    refused = CliRunner().invoke(main, ["simulate", "--visits", "--scenario", str(plain)])
    assert refused.exit_code != 0 and "booking_share" in refused.output


def test_a_market_day_brings_its_crowd_in_its_hours_and_the_oracle_is_told():
    from hangdoi.services.simulation.day import Day
    scenario = parse({**TINY, "day_variation": 0, "market_days": {"every_days": 2, "multiplier": 3, "hours": ["08"]}})
    first, second = scenario.first_day, scenario.first_day.replace(day=scenario.first_day.day + 1)
    market = Day(None, None, scenario, {}, first, "s")          # day 0 of every second one: market
    usual = Day(None, None, scenario, {}, second, "s")
    assert market.hour_factors[8] == 3 and market.hour_factors[7] == 1 and usual.hour_factors == [1.0] * 24
    in_hour = [sum(1 for at, _, _ in d._arrivals() if 480 <= at < 540) for d in (market, usual)]
    assert in_hour[0] > 2 * in_hour[1]
