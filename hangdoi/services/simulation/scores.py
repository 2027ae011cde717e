"""Accuracy figures from (predicted, actual) pairs, in minutes.

- mae_min, rmse_min: mean absolute and root-mean-square error;
- p90_abs_min: 90% of predictions were off by at most this;
- bias_min: mean of predicted − actual (below 0: we promise shorter waits than happen);
- under5_rate: share of citizens who waited more than 5 minutes longer than predicted;
- within5_rate: share predicted within ±5 minutes;
- range_coverage: share of real waits inside the printed P20–P80 range (estimators that print one;
  a calibrated range holds 60%). A wait that many runs share exactly (called at once: 0 minutes in
  most runs) counts for the share of those runs that lies between P20 and P80, as a randomised PIT
  does: otherwise every "0–0 minutes, called at once" would count as a hit and hide a range too wide.
"""
from __future__ import annotations

import math
from bisect import bisect_left, bisect_right


def scores(pairs: list[tuple[float, float]], inside: list[float] | None = None) -> dict:
    """`inside`: for each pair, how much of the real wait lay inside the printed range (`in_range`),
    when the estimator prints one."""
    coverage = {"range_coverage": round(sum(inside) / len(inside), 4) if inside else None}
    if not pairs:
        return {"mae_min": None, "rmse_min": None, "p90_abs_min": None, "bias_min": None,
                "under5_rate": None, "within5_rate": None} | coverage
    errors = [predicted - actual for predicted, actual in pairs]
    absolute = sorted(abs(e) for e in errors)
    n = len(errors)
    return {
        "mae_min": round(sum(absolute) / n, 3),
        "rmse_min": round(math.sqrt(sum(e * e for e in errors) / n), 3),
        "p90_abs_min": round(absolute[min(n - 1, math.ceil(0.9 * n) - 1)], 3),
        "bias_min": round(sum(errors) / n, 3),
        "under5_rate": round(sum(1 for e in errors if e < -5) / n, 4),
        "within5_rate": round(sum(1 for e in errors if abs(e) <= 5) / n, 4),
    } | coverage


RANGE = (0.2, 0.8)
TIE = 1e-6          # minutes: a run and the truth this close are the same moment


def in_range(runs: tuple[float, ...], actual: float) -> float:
    """How much of a real wait lies inside the P20–P80 of the runs (sorted; inf: not today): 1 or 0,
    or the share of tied runs inside when the wait equals several of them. No runs: 0."""
    if not runs:
        return 0.0
    n = len(runs)
    below, upto = bisect_left(runs, actual - TIE) / n, bisect_right(runs, actual + TIE) / n
    if upto > below:
        return max(0.0, min(upto, RANGE[1]) - max(below, RANGE[0])) / (upto - below)
    low, high = runs[n // 5], runs[min(n - 1, (4 * n) // 5)]      # as the forecast prints them
    return 1.0 if low <= actual <= high else 0.0
