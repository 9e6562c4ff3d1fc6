"""The result every metric returns, input checks shared by all metrics, and interval helpers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from .. import stats
from ..errors import InputError

# Per-item statistics are kept in `details["per_item"]` only up to this many items, so scores.json
# stays small for 100k-utterance corpora.
PER_ITEM_LIMIT = 100


@dataclass
class MetricResult:
    """What a metric function returns. Its scale, direction and display unit are not the
    function's to say: `metrics.compute` (or `metrics.declared`) sets them from the metric's registry
    entry, the one declaration, so a result cannot disagree with it."""

    name: str
    value: float | None
    ci: list[float] | None  # 95% [low, high], on the scale of `value`
    n: int  # items given
    n_scored: int  # items that entered the value
    details: dict[str, Any] = field(default_factory=dict)
    status: Literal["ok", "not_computable"] = "ok"
    reason: str | None = None
    # stamped from the metric's registry entry (metrics/__init__.py), never passed by the function
    higher_is_better: bool | None = field(default=None, init=False)
    unit: str = field(default="", init=False)  # display label only ("%WER", "CIDEr-D"); never parsed
    scale: str = field(default="", init=False)  # audiorepro.scale.Scale of `value`

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def not_computable(cls, name: str, n: int, reason: str, **details):
        """A value that cannot be computed here: no number (never 0), the reason instead."""
        return cls(
            name=name,
            value=None,
            ci=None,
            n=n,
            n_scored=0,
            details=details,
            status="not_computable",
            reason=reason,
        )


def check_inputs(
    metric: str, predictions: Sequence, references: Sequence, *, needs_references: bool = True
) -> None:
    """Raise InputError for inputs no metric can score: the message names the metric and the item."""
    if isinstance(predictions, str) or not isinstance(predictions, Sequence):
        raise InputError(None, f"metric {metric!r}: predictions must be a list of strings")
    if isinstance(references, str) or not isinstance(references, Sequence):
        raise InputError(None, f"metric {metric!r}: references must be a list of reference lists")
    if len(predictions) == 0:
        raise InputError(None, f"metric {metric!r}: no items to score")
    if len(predictions) != len(references):
        raise InputError(
            None,
            f"metric {metric!r}: {len(predictions)} predictions but {len(references)} reference lists; "
            "they must be aligned item by item",
        )
    for i, prediction in enumerate(predictions):
        if not isinstance(prediction, str):
            raise InputError(
                None,
                f"metric {metric!r}: prediction {i} is {type(prediction).__name__}, not a string "
                "(an empty answer must be given as '')",
            )
    for i, refs in enumerate(references):
        if isinstance(refs, str) or not isinstance(refs, Sequence):
            raise InputError(
                None,
                f"metric {metric!r}: references[{i}] must be a list of strings, got {type(refs).__name__}",
            )
        if not all(isinstance(r, str) for r in refs):
            raise InputError(None, f"metric {metric!r}: references[{i}] contains a non-string")
        if needs_references and (len(refs) == 0 or all(not r.strip() for r in refs)):
            raise InputError(None, f"metric {metric!r}: item {i} has no (non-empty) reference")


def aligned_option(metric: str, option: str, values: Sequence | None, n: int) -> list:
    """A per-item keyword option (e.g. `questions=`) must be a list aligned with the predictions."""
    if values is None:
        raise InputError(None, f"metric {metric!r} needs the per-item option {option}=[...] ({n} values)")
    if isinstance(values, str) or len(values) != n:
        got = "a string" if isinstance(values, str) else f"{len(values)} values"
        raise InputError(None, f"metric {metric!r}: option {option} must hold {n} values, got {got}")
    return list(values)


def proportion_result(
    name: str,
    correct: int,
    n_scored: int,
    n: int,
    *,
    interval: str = "wilson",
    details: dict | None = None,
) -> MetricResult:
    """A fraction with a Wilson (default) or Wald 95% interval."""
    if interval not in ("wilson", "wald"):
        raise InputError(None, f"metric {name!r}: interval must be 'wilson' or 'wald', got {interval!r}")
    details = dict(details or {})
    details.update(correct=int(correct), n_scored=int(n_scored), interval=interval)
    if n_scored == 0:
        return MetricResult.not_computable(name, n, "no item could be scored", **details)
    low, high = (stats.wilson_interval if interval == "wilson" else stats.wald_interval)(correct, n_scored)
    return MetricResult(
        name=name,
        value=correct / n_scored,
        ci=[low, high],
        n=n,
        n_scored=n_scored,
        details=details,
    )


def error_rate_result(
    name: str,
    errors: np.ndarray,
    reference_tokens: np.ndarray,
    n: int,
    *,
    empty_reason: str,
    details: dict,
    n_resamples: int,
    seed: int,
) -> MetricResult:
    """A corpus error rate in percent (WER, PER): pooled errors over pooled reference tokens, with
    a bootstrap CI over items; "not computable" when the references hold no tokens at all."""
    total = int(np.sum(reference_tokens))
    if total == 0:
        return MetricResult.not_computable(name, n, empty_reason, **details)
    return MetricResult(
        name=name,
        value=100.0 * int(np.sum(errors)) / total,
        ci=ratio_bootstrap_ci(errors, reference_tokens, scale=100.0, n_resamples=n_resamples, seed=seed),
        n=n,
        n_scored=n,
        details=details,
    )


def ratio_bootstrap_ci(
    numerator: np.ndarray,
    denominator: np.ndarray,
    *,
    scale: float = 1.0,
    n_resamples: int = 1000,
    seed: int = 0,
) -> list[float] | None:
    """Bootstrap CI of a pooled ratio sum(numerator) / sum(denominator) over items (WER, PER, ...)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    if numerator.size == 0 or n_resamples == 0:
        return None

    def pooled(idx: np.ndarray) -> float:
        total = denominator[idx].sum()
        return math.nan if total == 0 else scale * numerator[idx].sum() / total

    low, high = stats.bootstrap_ci(numerator.size, pooled, n_resamples=n_resamples, seed=seed)
    return None if math.isnan(low) else [low, high]


def mean_bootstrap_ci(
    values: np.ndarray, *, scale: float = 1.0, n_resamples: int = 1000, seed: int = 0
) -> list[float] | None:
    """Bootstrap CI of a mean of per-item scores (CIDEr-D, ROUGE-L, story diversity, ...)."""
    return ratio_bootstrap_ci(
        np.asarray(values, dtype=np.float64),
        np.ones(len(values)),
        scale=scale,
        n_resamples=n_resamples,
        seed=seed,
    )


def per_item(values: Sequence, limit: int = PER_ITEM_LIMIT) -> dict:
    """`{"per_item": [...]}` for small inputs only (JSON-safe floats), else {}."""
    if len(values) > limit:
        return {}
    return {"per_item": [_json_safe(v) for v in values]}


def _json_safe(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


MetricFunction = Callable[..., MetricResult]
