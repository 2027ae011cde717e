"""Accuracy figures from (predicted, actual) pairs, in minutes.

- mae_min, rmse_min: mean absolute and root-mean-square error;
- p90_abs_min: 90% of predictions were off by at most this;
- bias_min: mean of predicted − actual (below 0: we promise shorter waits than happen);
- under5_rate: share of citizens who waited more than 5 minutes longer than predicted;
- within5_rate: share predicted within ±5 minutes.
"""
from __future__ import annotations

import math


def scores(pairs: list[tuple[float, float]]) -> dict:
    if not pairs:
        return {"mae_min": None, "rmse_min": None, "p90_abs_min": None, "bias_min": None,
                "under5_rate": None, "within5_rate": None}
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
    }
