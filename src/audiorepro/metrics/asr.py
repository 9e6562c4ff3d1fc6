"""Word error rate for ASR (LibriSpeech test-clean/other, GigaSpeech test).

Corpus WER = (S + D + I) / reference words, pooled over all utterances, as NIST sclite and
`jiwer.wer(list, list)` compute it, after openai-whisper's `EnglishTextNormalizer` on both sides
(the Whisper paper's protocol, which the SALMONN paper compares against).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .base import MetricResult, error_rate_result, per_item
from .text import jiwer_version, make_normalizer, normalize_all, whisper_version, word_error_counts

# Below this many utterances a process pool saves less than a second.
PARALLEL_MIN_ITEMS = 5_000


def wer(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    normalizer: str = "whisper_english",
    gigaspeech_strict: bool = False,
    skip_empty_references: bool = False,
    workers: int | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> MetricResult:
    """Corpus WER in percent (jiwer alignment, Whisper normaliser), bootstrap 95% CI over utterances.

    Options:
    - normalizer: "whisper_english" (default), "whisper_basic", "gigaspeech_official" (GigaSpeech's
      utils/gigaspeech_scoring.py post-processing, the default of the GigaSpeech cell) or "none"
      (whitespace split only).
    - gigaspeech_strict: with a Whisper normaliser, also apply GigaSpeech's official post-processing
      (drop the fillers UH UM AH ER HUH ..., <UNK>, punctuation and garbage tags <SIL> <NOISE> ...).
    - skip_empty_references: leave out items whose reference has no word after normalisation
      (GigaSpeech segments labelled only with garbage tags such as <SIL> or <MUSIC>, which the
      GigaSpeech recipes delete before scoring); they are counted in details and n_scored.
    - workers: processes used to normalise large corpora (default: all usable cores from 5,000 items).
    - n_resamples, seed: the bootstrap.
    The first reference of each item is used (ASR has one); items with more are counted in details.
    An empty prediction scores as all deletions.
    """
    normalize = make_normalizer(normalizer, gigaspeech_strict)
    refs = [r[0] for r in references]
    hyp_norm, ref_norm, counts = _normalize_and_align(list(predictions), refs, normalize, workers)
    n = len(predictions)
    skipped = 0
    if skip_empty_references:
        keep = counts["ref_words"] > 0
        skipped = int((~keep).sum())
        counts = {key: value[keep] for key, value in counts.items()}
        hyp_norm = [h for h, k in zip(hyp_norm, keep, strict=True) if k]
        ref_norm = [r for r, k in zip(ref_norm, keep, strict=True) if k]
    total_words = int(counts["ref_words"].sum())
    errors = int(counts["errors"].sum())
    details = {
        "substitutions": int(counts["sub"].sum()),
        "deletions": int(counts["del"].sum()),
        "insertions": int(counts["ins"].sum()),
        "hits": int(counts["hit"].sum()),
        "reference_words": total_words,
        "errors": errors,
        "empty_predictions": sum(1 for h in hyp_norm if not h),
        "empty_references_after_normalization": sum(1 for r in ref_norm if not r),
        "skipped_empty_references": skipped,
        "items_with_several_references": sum(1 for r in references if len(r) > 1),
        "normalizer": normalizer,
        "gigaspeech_strict": gigaspeech_strict,
        "scorer": f"jiwer {jiwer_version()}",
        "normalizer_package": f"openai-whisper {whisper_version()}" if normalizer.startswith("whisper") else None,
        "bootstrap": {"n_resamples": n_resamples, "seed": seed},
        **per_item(
            [
                {"errors": int(e), "reference_words": int(w)}
                for e, w in zip(counts["errors"], counts["ref_words"], strict=True)
            ]
        ),
    }
    result = error_rate_result(
        "wer", counts["errors"], counts["ref_words"], n - skipped,
        empty_reason="the references contain no words after normalisation",
        details=details, n_resamples=n_resamples, seed=seed,
    )  # fmt: skip
    result.n = n  # every item given; n_scored leaves out the skipped ones
    return result


def _align(hypotheses: list[str], references: list[str], normalize) -> tuple[list[str], list[str], dict]:
    hyp_norm = normalize_all(hypotheses, normalize)
    ref_norm = normalize_all(references, normalize)
    return hyp_norm, ref_norm, word_error_counts(ref_norm, hyp_norm)


def _normalize_and_align(hypotheses: list[str], references: list[str], normalize, workers: int | None):
    """Normalise both sides and count errors per item, in chunks over processes for large corpora.

    The Whisper normaliser is pure-Python regex work (about 0.3 ms a sentence, 90% of the time),
    so 100k utterances need both cores to stay within a minute. fork shares the normaliser already
    built; where fork is unavailable this runs serially.
    """
    import multiprocessing

    n = len(hypotheses)
    if workers is None:
        workers = _usable_cores() if n >= PARALLEL_MIN_ITEMS else 1
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return _align(hypotheses, references, normalize)
    global _shared_normalize
    _shared_normalize = normalize
    size = -(-n // (workers * 4))
    chunks = [(i, min(n, i + size)) for i in range(0, n, size)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.map(_align_slice, [(hypotheses[a:b], references[a:b]) for a, b in chunks])
    hyp_norm = [h for part in parts for h in part[0]]
    ref_norm = [r for part in parts for r in part[1]]
    counts = {key: np.concatenate([part[2][key] for part in parts]) for key in parts[0][2]}
    return hyp_norm, ref_norm, counts


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


_shared_normalize = None  # set before forking; the children inherit it


def _align_slice(chunk: tuple[list[str], list[str]]):
    return _align(chunk[0], chunk[1], _shared_normalize)
