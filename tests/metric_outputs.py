"""scores.json metric entries in the form the real metrics write them, for compare and report
tests that choose the values: the scale, direction and display unit come from the metric's registry
entry, as `metrics.compute` sets them (test_metric_outputs_are_the_real_ones checks them against
real runs)."""

from __future__ import annotations

from typing import Any

from audiorepro import metrics
from audiorepro.metrics import MetricResult


def metric_output(
    name: str, value: float, *, ci: list[float] | None = None, n: int | None = None, **details: Any
) -> dict:
    """What `metrics.compute(name, ...).to_dict()` holds for a result of `value` over n items."""
    result = MetricResult(name=name, value=value, ci=ci, n=n or 0, n_scored=n or 0, details=details)
    out = metrics.declared(name, result).to_dict()
    if n is None:  # a results file that does not say over how many items
        out["n"] = out["n_scored"] = None
    return out


def not_computable_output(name: str, reason: str) -> dict:
    return metrics.not_computable(name, 0, reason).to_dict()
