"""Output-sequence perplexity (SALMONN Table 4): mean and standard deviation over items of each
generated output's perplexity under the model that generated it (definition: audiorepro.perplexity)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import InputError
from ..perplexity import DEFINITION, perplexity
from .base import MetricResult, aligned_option, mean_bootstrap_ci, per_item


def output_perplexity(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    token_logprobs: Sequence[Sequence[float]] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> MetricResult:
    """Mean of per-item exp(mean NLL) with a bootstrap CI; `details.sd` is the sample standard
    deviation the paper prints in brackets. Items with no generated id cannot have a perplexity:
    they are counted (`empty_outputs`) and left out of n_scored.

    Options: token_logprobs (per item, recorded by the predict stage), n_resamples, seed.
    """
    n = len(predictions)
    rows = aligned_option("output_perplexity", "token_logprobs", token_logprobs, n)
    values = []
    for i, row in enumerate(rows):
        if not all(isinstance(x, int | float) and x <= 0 and math.isfinite(x) for x in row):
            raise InputError(None, f"metric 'output_perplexity': token_logprobs[{i}] must hold finite log-probabilities <= 0")
        values.append(perplexity(list(row)))
    scored = np.array([v for v in values if not math.isnan(v)])
    details = {"definition": DEFINITION, "empty_outputs": n - scored.size}
    if scored.size == 0:
        return MetricResult.not_computable(
            "output_perplexity", n, "no item has generated ids", **details
        )
    details["sd"] = float(np.std(scored, ddof=1)) if scored.size > 1 else None
    details["median"] = float(np.median(scored))
    details.update(per_item([round(v, 6) for v in values]))
    return MetricResult(
        name="output_perplexity",
        value=float(scored.mean()),
        ci=mean_bootstrap_ci(scored, n_resamples=n_resamples, seed=seed),
        n=n,
        n_scored=int(scored.size),
        details=details,
    )
