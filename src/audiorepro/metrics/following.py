"""Instruction following (SALMONN's task over-fitting analysis).

- `following_rate` (SQQA, SF): a model that has over-fitted to ASR transcribes the spoken question
  instead of answering it. WER(spoken question -> answer) below 30% means "transcribed", so not
  following; the rate is the fraction of answers with WER >= 30%.
- `story`: the story task's diversity, the number of distinct words per story, averaged; a story
  counts as following when it has at least 50 words (generation capped at 200 new tokens).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .. import stats
from ..errors import InputError
from .base import MetricResult, aligned_option, mean_bootstrap_ci, per_item, proportion_result
from .text import make_normalizer, normalize_all, word_error_counts

_STORY_WORD = re.compile(r"[a-z']+")


def following_rate(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    questions: Sequence[str] | None = None,
    threshold: float = 0.30,
    normalizer: str = "whisper_english",
    interval: str = "wilson",
) -> MetricResult:
    """Fraction of answers that follow the instruction: WER(question, answer) >= threshold.

    Options:
    - questions (required): the spoken question's text per item (the SQQA question, the SF utterance).
    - threshold: 0.30 (SALMONN's rule).
    - normalizer: as for `wer` (both sides normalised; the question is the WER reference).
    - interval: "wilson" (default) or "wald".
    """
    n = len(predictions)
    spoken = aligned_option("following_rate", "questions", questions, n)
    for i, question in enumerate(spoken):
        if not isinstance(question, str) or not question.strip():
            raise InputError(None, f"metric 'following_rate': questions[{i}] is empty or not a string")
    normalize = make_normalizer(normalizer)
    counts = word_error_counts(normalize_all(spoken, normalize), normalize_all(predictions, normalize))
    if (counts["ref_words"] == 0).any():
        i = int(np.argmax(counts["ref_words"] == 0))
        raise InputError(None, f"metric 'following_rate': questions[{i}] has no words after normalisation")
    item_wer = counts["errors"] / counts["ref_words"]
    following = item_wer >= threshold
    return proportion_result(
        "following_rate",
        int(following.sum()),
        n,
        n,
        interval=interval,
        details={
            "threshold": threshold,
            "normalizer": normalizer,
            "transcribed": int((~following).sum()),
            "median_question_wer": float(np.median(item_wer)),
            **per_item([round(float(w), 4) for w in item_wer]),
        },
    )


def story_words(text: str) -> list[str]:
    """The story metric's tokenisation: lowercase runs of letters and apostrophes."""
    return _STORY_WORD.findall(text.lower())


def story(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    min_words: int = 50,
    n_resamples: int = 1000,
    seed: int = 0,
) -> MetricResult:
    """Mean number of distinct words per story; details carry the following rate (>= min_words
    words) with its Wilson interval. References are not used.

    Options: min_words (50), n_resamples, seed (bootstrap of the mean).
    """
    words = [story_words(p) for p in predictions]
    distinct = np.asarray([len(set(w)) for w in words], dtype=np.float64)
    following = sum(1 for w in words if len(w) >= min_words)
    n = len(predictions)
    low, high = stats.wilson_interval(following, n)
    return MetricResult(
        name="story",
        value=float(distinct.mean()),
        ci=mean_bootstrap_ci(distinct, n_resamples=n_resamples, seed=seed),
        n=n,
        n_scored=n,
        details={
            "following_rate": following / n,
            "following_ci": [low, high],
            "following": following,
            "min_words": min_words,
            "mean_words": float(np.mean([len(w) for w in words])),
            "tokenization": 're.findall(r"[a-z\']+", text.lower())',
            **per_item([int(d) for d in distinct]),
        },
    )


def story_following_rate(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    min_words: int = 50,
    interval: str = "wilson",
) -> MetricResult:
    """The story task's following rate: fraction of stories with at least `min_words` words
    (the `story` tokenisation), with a Wilson (default) or Wald interval. References are not used.

    Options: min_words (50), interval.
    """
    following = sum(1 for p in predictions if len(story_words(p)) >= min_words)
    n = len(predictions)
    return proportion_result(
        "story_following_rate",
        following,
        n,
        n,
        interval=interval,
        details={"min_words": min_words},
    )
