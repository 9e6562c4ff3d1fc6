"""Uncertainty and agreement statistics, in one place.

- Proportions (accuracies, following rates): `wald_interval` (what SAKURA prints: p +- 1.96 *
  sqrt(p(1-p)/n)) and `wilson_interval` (better coverage near 0 and 1; scipy's implementation).
- Corpus metrics (WER, BLEU, ...): `bootstrap_ci` resamples *items* with replacement; the metric
  itself is always the corpus value on all items, the bootstrap only gives the interval.
- Reproduction against paper rows: `lins_ccc` (Lin's concordance correlation coefficient with
  population variances, as the prior reproduction computed it), `bland_altman` (bias and 95%
  limits of agreement) and `cohens_kappa` (agreement of two labelers, e.g. two judges).

All intervals are (low, high) tuples on the scale of the inputs (fractions for proportions).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

Z_95 = 1.959964  # two-sided 95% normal quantile; SAKURA rounds it to 1.96, which changes nothing at 0.1%


def _check_counts(k: int, n: int) -> None:
    if n <= 0:
        raise ValueError(f"a proportion needs n > 0 items (got n={n})")
    if not 0 <= k <= n:
        raise ValueError(f"successes must lie in [0, n] (got k={k}, n={n})")


def wald_interval(k: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Normal-approximation interval p +- z*sqrt(p(1-p)/n), clipped to [0, 1].

    This is the interval the SAKURA paper prints (53.8% with n = 500 gives +- 4.4 points).
    """
    _check_counts(k, n)
    p = k / n
    half = z * math.sqrt(p * (1.0 - p) / n)
    return max(0.0, p - half), min(1.0, p + half)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval without continuity correction (scipy's `binomtest(...).proportion_ci`)."""
    from scipy.stats import binomtest

    _check_counts(k, n)
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap_ci(
    n_items: int,
    statistic: Callable[[np.ndarray], float],
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval over items.

    `statistic(idx)` receives an int array of `n_items` item indices drawn with replacement and
    returns the metric on that resample. Corpus metrics should pool per-item sufficient statistics
    so each call is a few vectorised sums, e.g. WER = errors[idx].sum() / ref_words[idx].sum().
    Resamples on which the statistic is undefined (NaN, e.g. zero reference words) are dropped.
    Seeded, so the same inputs always give the same interval.
    """
    if n_items <= 0:
        raise ValueError(f"bootstrap needs at least one item (got {n_items})")
    if n_resamples <= 0:
        raise ValueError(f"n_resamples must be positive (got {n_resamples})")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1) (got {confidence})")
    rng = np.random.default_rng(seed)
    values = np.empty(n_resamples, dtype=np.float64)
    for r in range(n_resamples):
        values[r] = statistic(rng.integers(0, n_items, size=n_items))
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)


def _paired_arrays(x: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.ndim != 1 or xa.shape != ya.shape:
        raise ValueError(f"x and y must be 1-D and of equal length (got {xa.shape} and {ya.shape})")
    if xa.size < 2:
        raise ValueError(f"need at least 2 paired values (got {xa.size})")
    if not (np.isfinite(xa).all() and np.isfinite(ya).all()):
        raise ValueError("x and y must not contain NaN or infinite values")
    return xa, ya


def lins_ccc(x: Sequence[float], y: Sequence[float]) -> float:
    """Lin's concordance correlation coefficient, 2 cov / (var_x + var_y + (mean_x - mean_y)^2).

    Population (1/n) variances and covariance, as in Lin (1989) and the prior reproduction.
    """
    xa, ya = _paired_arrays(x, y)
    mx, my = xa.mean(), ya.mean()
    cov = ((xa - mx) * (ya - my)).mean()
    denominator = xa.var() + ya.var() + (mx - my) ** 2
    if denominator == 0.0:
        return math.nan  # both constant and equal: concordance is undefined
    return float(2.0 * cov / denominator)


def bland_altman(x: Sequence[float], y: Sequence[float], z: float = Z_95) -> dict:
    """Bland-Altman agreement: bias = mean(x - y), sd = sample sd of x - y, limits bias +- z*sd."""
    xa, ya = _paired_arrays(x, y)
    diff = xa - ya
    bias = float(diff.mean())
    sd = float(diff.std(ddof=1))
    return {"bias": bias, "sd": sd, "lower": bias - z * sd, "upper": bias + z * sd, "n": int(diff.size)}


def cohens_kappa(labels_a: Sequence, labels_b: Sequence) -> float:
    """Cohen's kappa for two labelings of the same items: (p_o - p_e) / (1 - p_e)."""
    if len(labels_a) != len(labels_b):
        raise ValueError(f"label lists differ in length ({len(labels_a)} vs {len(labels_b)})")
    n = len(labels_a)
    if n == 0:
        raise ValueError("need at least one labelled item")
    observed = sum(a == b for a, b in zip(labels_a, labels_b, strict=True)) / n
    categories = set(labels_a) | set(labels_b)
    expected = sum(
        (sum(a == c for a in labels_a) / n) * (sum(b == c for b in labels_b) / n) for c in categories
    )
    if expected == 1.0:
        return math.nan  # both labelers used one and the same single category: kappa is 0/0
    return float((observed - expected) / (1.0 - expected))
