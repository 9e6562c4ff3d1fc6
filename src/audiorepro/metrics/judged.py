"""Accuracy from judge verdicts (SAKURA): the judge (GPT-4o in the paper, or an offline option
matcher) has already turned each answer into "correct", "incorrect" or "invalid"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .. import stats
from ..errors import InputError
from .base import MetricResult

VERDICTS = ("correct", "incorrect", "invalid")


def judge_accuracy(
    predictions: Sequence[str], references: Sequence[Sequence[str]], *, z: float = 1.96
) -> MetricResult:
    """correct / n, invalid verdicts staying in the denominator, with the Wald 95% interval SAKURA
    prints (z = 1.96). `predictions` are the verdicts; references are not used.

    Options: z (1.96).
    """
    for i, verdict in enumerate(predictions):
        if verdict not in VERDICTS:
            raise InputError(
                None, f"metric 'judge_accuracy': verdict {i} is {verdict!r}, not one of {VERDICTS}"
            )
    counts = Counter(predictions)
    n = len(predictions)
    correct = counts["correct"]
    low, high = stats.wald_interval(correct, n, z=z)
    return MetricResult(
        name="judge_accuracy",
        value=correct / n,
        ci=[low, high],
        n=n,
        n_scored=n,
        details={**{v: counts[v] for v in VERDICTS}, "interval": "wald", "z": z},
    )
