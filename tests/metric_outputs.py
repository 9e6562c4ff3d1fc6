"""scores.json metric entries in the form the real metrics write them, for compare and report
tests that choose the values: the display unit each metric function sets and the scale its
registry entry declares (test_metric_outputs_are_the_real_ones checks both against real runs)."""

from __future__ import annotations

from typing import Any

from audiorepro import metrics
from audiorepro.metrics import MetricResult

# The `unit` label each metric function writes (audiorepro/metrics/*.py).
UNITS = {
    "wer": "%WER",
    "per": "%PER",
    "cpwer": "%cpWER",
    "bleu": "BLEU",
    "meteor": "METEOR",
    "cider_d": "CIDEr-D",
    "spice": "SPICE",
    "spider": "SPIDEr",
    "rouge_l": "ROUGE-L",
    "accuracy": "accuracy",
    "keyword_accuracy": "accuracy",
    "judge_accuracy": "accuracy",
    "following_rate": "rate",
    "story": "distinct words",
    "output_perplexity": "perplexity",
}


def metric_output(
    name: str, value: float, *, ci: list[float] | None = None, n: int | None = None, **details: Any
) -> dict:
    """What `metrics.compute(name, ...).to_dict()` holds for a result of `value` over n items."""
    declared = metrics.entry(name)
    result = MetricResult(
        name=name,
        value=value,
        ci=ci,
        n=n or 0,
        n_scored=n or 0,
        details=details,
        higher_is_better=declared.higher_is_better,
        unit=UNITS[name],
        scale=declared.scale,
    )
    out = result.to_dict()
    if n is None:  # a results file that does not say over how many items
        out["n"] = out["n_scored"] = None
    return out


def not_computable_output(name: str, reason: str) -> dict:
    declared = metrics.entry(name)
    result = MetricResult.not_computable(
        name, 0, reason, higher_is_better=declared.higher_is_better, unit=UNITS[name]
    )
    result.scale = declared.scale
    return result.to_dict()
