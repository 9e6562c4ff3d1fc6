"""Overlapped speech recognition (LibriMix two-speaker mixtures): cpWER.

The model answers in free text; the answer is split into utterances (one per speaker, ideally),
each utterance and each speaker's reference are normalised, and meeteval's cpWER takes the best
assignment of hypothesis utterances to reference speakers, scoring each pair and pooling errors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .base import MetricResult, per_item, ratio_bootstrap_ci
from .text import make_normalizer

# "Speaker 1: ...", "speaker A - ...", "Spk2: ...", "S1: ..." at the start of a line or sentence.
_SPEAKER_MARK = re.compile(
    r"(?:^|(?<=[\s.!?;]))(?:speaker\s*(?:\d+|[a-z])\b|spk\s*\d+|s\d+)\s*[:\-\u2013]", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# A period after these does not end a sentence ("Mr. Smith").
_ABBREVIATIONS = frozenset("mr mrs ms dr st jr sr prof mt vs etc no gen capt col lt rev hon".split())


def _sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for piece in _SENTENCE_END.split(text.strip()):
        previous_word = sentences[-1].rsplit(None, 1)[-1].rstrip(".").lower() if sentences else ""
        if sentences and sentences[-1].endswith(".") and previous_word in _ABBREVIATIONS:
            sentences[-1] += " " + piece
        else:
            sentences.append(piece)
    return sentences


def split_utterances(answer: str) -> list[str]:
    """Split an answer into utterances: by speaker labels when present, else by non-empty lines,
    else by sentence ends (. ! ? followed by a space). Returns the non-empty pieces."""
    if _SPEAKER_MARK.search(answer):
        pieces = _SPEAKER_MARK.split(answer)
    else:
        lines = [line for line in answer.splitlines() if line.strip()]
        pieces = lines if len(lines) > 1 else _sentences(answer)
    return [p.strip() for p in pieces if p.strip()]


def cpwer(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    normalizer: str = "whisper_english",
    only_matching_count: bool = False,
    n_resamples: int = 1000,
    seed: int = 0,
) -> MetricResult:
    """cpWER in percent (meeteval), pooled over mixtures; references[i] holds one transcript per speaker.

    Options:
    - normalizer: as for `wer` ("whisper_english" default).
    - only_matching_count: score only answers with as many utterances as reference speakers (the
      prior reproduction's protocol: "WER on the answers with two sentences"); default False
      scores every answer, missing or extra utterances counting as deletions or insertions.
    - n_resamples, seed: the bootstrap over mixtures.
    Details count answers with 0, 1, 2 and 3+ utterances.
    """
    from importlib.metadata import version

    from meeteval.wer import cp_word_error_rate

    normalize = make_normalizer(normalizer)
    n = len(predictions)
    errors, lengths = [], []
    histogram = {"0": 0, "1": 0, "2": 0, "3+": 0}
    for answer, speakers in zip(predictions, references, strict=True):
        utterances = [u for u in (normalize(p) for p in split_utterances(answer)) if u]
        histogram[str(len(utterances)) if len(utterances) < 3 else "3+"] += 1
        if only_matching_count and len(utterances) != len(speakers):
            continue
        result = cp_word_error_rate(
            reference=[normalize(s) for s in speakers],
            hypothesis=utterances,
            reference_sort=False,
            hypothesis_sort=False,
        )
        errors.append(result.errors)
        lengths.append(result.length)
    errors_arr, lengths_arr = np.asarray(errors, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    total = int(lengths_arr.sum())
    details = {
        "utterances_per_answer": histogram,
        "errors": int(errors_arr.sum()),
        "reference_words": total,
        "only_matching_count": only_matching_count,
        "normalizer": normalizer,
        "scorer": f"meeteval {version('meeteval')} cp_word_error_rate",
        **per_item(
            [{"errors": int(e), "reference_words": int(w)} for e, w in zip(errors, lengths, strict=True)]
        ),
    }
    if total == 0:
        return MetricResult.not_computable(
            "cpwer",
            n,
            "no scored answer (or no reference words)",
            **details,
        )
    return MetricResult(
        name="cpwer",
        value=100.0 * int(errors_arr.sum()) / total,
        ci=ratio_bootstrap_ci(errors_arr, lengths_arr, scale=100.0, n_resamples=n_resamples, seed=seed),
        n=n,
        n_scored=len(errors),
        details=details,
    )
