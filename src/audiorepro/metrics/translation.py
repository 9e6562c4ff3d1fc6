"""Corpus BLEU with sacrebleu (CoVoST2 En2Zh/En2De/En2Ja, MusicCaps BLEU-4)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import stats
from ..errors import InputError
from .base import MetricResult


def bleu(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    tokenize: str = "13a",
    smooth: str | None = None,
    smooth_method: str | None = None,
    smooth_value: float | None = None,
    lowercase: bool = False,
    max_ngram_order: int = 4,
    n_resamples: int = 1000,
    seed: int = 0,
) -> MetricResult:
    """sacrebleu corpus BLEU (x100), option names as in sacrebleu.

    Options:
    - tokenize: "13a" (default, En2De and MusicCaps), "zh" (En2Zh), "ja-mecab" (En2Ja, needs
      `sacrebleu[ja]`), "intl", "char", "none", ...
    - smooth (alias smooth_method, sacrebleu's own name): "exp" (sacrebleu's default), "none"
      (MusicCaps, as LP-MusicCaps' google-nmt BLEU), "floor", "add-k"; smooth_value for floor/add-k.
    - lowercase, max_ngram_order (4 = BLEU-4).
    - n_resamples, seed: the bootstrap over items (BLEU recomputed from pooled n-gram statistics;
      0 resamples: no CI).
    Items may have different numbers of references. The sacrebleu signature is in details.
    """
    from sacrebleu.metrics import BLEU

    if smooth is not None and smooth_method is not None and smooth != smooth_method:
        raise InputError(
            None, f"metric 'bleu': smooth={smooth!r} and smooth_method={smooth_method!r} disagree"
        )
    smooth = smooth or smooth_method or "exp"
    try:
        scorer = BLEU(
            tokenize=tokenize,
            smooth_method=smooth,
            smooth_value=smooth_value,
            lowercase=lowercase,
            max_ngram_order=max_ngram_order,
        )
    except (AssertionError, ValueError, KeyError, RuntimeError, ImportError) as error:
        raise InputError(None, f"metric 'bleu': cannot build sacrebleu BLEU ({error})") from error
    # sacrebleu takes reference *streams*; None marks a missing reference for items that have fewer.
    n_streams = max(len(refs) for refs in references)
    streams = [[refs[k] if k < len(refs) else None for refs in references] for k in range(n_streams)]
    # Per-item sufficient statistics (hyp len, ref len, matches and totals per order): the value is
    # BLEU on their sum, exactly what sacrebleu's corpus_score computes, and each bootstrap resample
    # is another sum, as in sacrebleu's own paired bootstrap (sacrebleu/significance.py).
    segment_stats = np.asarray(scorer._extract_corpus_statistics(list(predictions), streams), dtype=np.int64)
    score = scorer._compute_score_from_stats([int(v) for v in segment_stats.sum(axis=0)])
    signature = str(scorer.get_signature())
    ci = _bootstrap_bleu(scorer, segment_stats, n_resamples, seed) if n_resamples > 0 else None
    n = len(predictions)
    return MetricResult(
        name="bleu",
        value=float(score.score),
        ci=ci,
        n=n,
        n_scored=n,
        details={
            "signature": signature,
            "scorer": "sacrebleu",
            "precisions": [float(p) for p in score.precisions],
            "brevity_penalty": float(score.bp),
            "sys_len": int(score.sys_len),
            "ref_len": int(score.ref_len),
            "tokenize": tokenize,
            "smooth": smooth,
            "max_ngram_order": max_ngram_order,
            "empty_predictions": sum(1 for p in predictions if not p.strip()),
            "bootstrap": {"n_resamples": n_resamples, "seed": seed},
        },
    )


def _bootstrap_bleu(scorer, segment_stats: np.ndarray, n_resamples: int, seed: int) -> list[float]:
    def corpus_bleu(idx: np.ndarray) -> float:
        pooled = segment_stats[idx].sum(axis=0)
        return scorer._compute_score_from_stats([int(v) for v in pooled]).score

    low, high = stats.bootstrap_ci(len(segment_stats), corpus_bleu, n_resamples=n_resamples, seed=seed)
    return [low, high]
