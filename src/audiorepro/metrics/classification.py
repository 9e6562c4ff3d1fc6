"""Accuracy-type metrics on free-text answers: emotion and speaker-verification labels, keyword
extraction (KE) and slot filling (SF). The answer-parsing rules *are* the metric here, so each is
spelled out and unit-tested; none of them has an external golden implementation."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ..errors import InputError
from .base import MetricResult, aligned_option, proportion_result, ratio_bootstrap_ci
from .text import make_normalizer, normalize_all, word_error_counts

# IEMOCAP, 4-class protocol (Session 5 test): excited is merged into happy; every other label
# (frustrated, surprised, fearful, disgusted, other, xxx) is not scored.
IEMOCAP4_REFERENCE = {
    "neu": "neutral", "neutral": "neutral",
    "hap": "happy", "happy": "happy", "happiness": "happy", "exc": "happy", "excited": "happy",
    "sad": "sad", "sadness": "sad",
    "ang": "angry", "angry": "angry", "anger": "angry",
}  # fmt: skip
# Words in a free-text answer that name one of the four classes.
IEMOCAP4_ANSWER_WORDS = {
    "neutral": "neutral", "neutrality": "neutral",
    "happy": "happy", "happiness": "happy", "joy": "happy", "joyful": "happy", "excited": "happy",
    "excitement": "happy", "cheerful": "happy",
    "sad": "sad", "sadness": "sad", "unhappy": "sad", "sorrowful": "sad", "sorrow": "sad",
    "angry": "angry", "anger": "angry", "furious": "angry", "annoyed": "angry",
}  # fmt: skip
YES_NO_REFERENCE = {"yes": "yes", "no": "no", "true": "yes", "false": "no", "same": "yes", "different": "no"}
LABEL_SETS = ("iemocap4", "yes_no")

_WORDS = re.compile(r"[a-z']+")


def _first_label(answer: str, vocabulary: dict[str, str]) -> str | None:
    """The label of the first word of `answer` that is in `vocabulary` (None when none is)."""
    for word in _WORDS.findall(answer.lower()):
        if word in vocabulary:
            return vocabulary[word]
    return None


def _plain(text: str) -> str:
    return " ".join(_WORDS.findall(text.lower()))


def accuracy(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    labels: str | None = None,
    interval: str = "wilson",
) -> MetricResult:
    """Fraction of answers whose parsed label equals the reference label, with a 95% interval.

    Options:
    - labels: "iemocap4" (neutral/happy/sad/angry; excited counts as happy; other reference labels
      are skipped; the answer's label is the first emotion word in it), "yes_no" (speaker
      verification; the answer's label is its first yes/no word), or None (the whole answer,
      lowercased and without punctuation, must equal a reference).
    - interval: "wilson" (default) or "wald".
    Unparseable answers count as wrong and are reported in details.
    """
    if labels not in (None, *LABEL_SETS):
        raise InputError(
            None, f"metric 'accuracy': labels must be one of {LABEL_SETS} or None, got {labels!r}"
        )
    correct = scored = unparsed = skipped = 0
    confusion: Counter = Counter()
    for answer, refs in zip(predictions, references, strict=True):
        if labels is None:
            predicted, gold = _plain(answer), {_plain(r) for r in refs}
            scored += 1
            correct += predicted in gold
            continue
        reference_map = IEMOCAP4_REFERENCE if labels == "iemocap4" else YES_NO_REFERENCE
        answer_map = IEMOCAP4_ANSWER_WORDS if labels == "iemocap4" else YES_NO_REFERENCE
        gold_label = reference_map.get(refs[0].strip().lower())
        if gold_label is None:
            if labels == "yes_no":
                raise InputError(None, f"metric 'accuracy' (yes_no): reference {refs[0]!r} is not yes/no")
            skipped += 1  # an IEMOCAP label outside the 4-class protocol
            continue
        predicted = _first_label(answer, answer_map if labels == "iemocap4" else {"yes": "yes", "no": "no"})
        scored += 1
        unparsed += predicted is None
        correct += predicted == gold_label
        confusion[f"{gold_label}->{predicted or 'unparsed'}"] += 1
    return proportion_result(
        "accuracy",
        correct,
        scored,
        len(predictions),
        interval=interval,
        details={
            "labels": labels,
            "unparsed": unparsed,
            "skipped_labels": skipped,
            "confusion": dict(confusion),
        },
    )


def _ke_clean(keyword: str, lowercase: bool) -> str:
    """The prior reproduction's post-processing, applied literally: drop '.', drop 'and ' (so a
    trailing "..., and keyword" works; note it also cuts words ending in "and "), '-' to space."""
    keyword = keyword.replace(".", "").replace("and ", "").replace("-", " ")
    keyword = " ".join(keyword.split())
    return keyword.lower() if lowercase else keyword


def split_keywords(text: str, lowercase: bool = True) -> list[str]:
    return [k for k in (_ke_clean(piece, lowercase) for piece in text.split(",")) if k]


def keyword_match_counts(answer: str, gold: Sequence[str], lowercase: bool = True) -> tuple[int, int]:
    """(correct, total) for one KE item under the top-3 rule:
    total = min(#gold keywords, 3); correct = min(sum over predicted keywords k of
    (#gold keywords containing k if k has several words, else 1 if k is a gold keyword), 3)."""
    gold_keywords = [k for g in gold for k in split_keywords(g, lowercase)]
    total = min(len(gold_keywords), 3)
    hits = 0
    for keyword in split_keywords(answer, lowercase):
        if len(keyword.split()) > 1:
            hits += sum(1 for g in gold_keywords if keyword in g)
        else:
            hits += keyword in gold_keywords
    return min(hits, 3), total


def keyword_accuracy(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    lowercase: bool = True,
    n_resamples: int = 1000,
    seed: int = 0,
) -> MetricResult:
    """KE accuracy (Inspec), the rule of the prior reproduction (0.32 for SALMONN-13B):
    references hold the gold keywords (a list, or comma-separated strings); answers are split on
    commas; both sides drop '.', drop 'and ', turn '-' into a space. Per item,
    total += min(#gold, 3) and correct += min(sum over predicted keywords k of (#gold keywords
    containing k if k has several words, else 1 if k is a gold keyword), 3). Value = correct/total.

    Options: lowercase (default True; the source rule compares case-sensitively, lowercase=False),
    n_resamples, seed (bootstrap over items of the pooled ratio).
    """
    correct, total = [], []
    for answer, refs in zip(predictions, references, strict=True):
        c, t = keyword_match_counts(answer, refs, lowercase)
        correct.append(c)
        total.append(t)
    all_correct, all_total = sum(correct), sum(total)
    n = len(predictions)
    if all_total == 0:
        return MetricResult.not_computable(
            "keyword_accuracy", n, "no gold keywords"
        )
    return MetricResult(
        name="keyword_accuracy",
        value=all_correct / all_total,
        ci=ratio_bootstrap_ci(correct, total, n_resamples=n_resamples, seed=seed),
        n=n,
        n_scored=sum(1 for t in total if t > 0),
        details={
            "correct": all_correct,
            "total": all_total,
            "lowercase": lowercase,
            "rule": "top-3 (see docs/metrics.md)",
        },
    )


def slot_accuracy(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    slot_types: Sequence[str] | None = None,
    match: str = "contains",
    normalizer: str = "whisper_english",
    interval: str = "wilson",
) -> MetricResult:
    """SLURP slot filling: an answer is correct when a normalised gold slot value appears in the
    normalised answer as a whole-word span (match="contains", default) or equals it (match="exact").
    Several references are alternative values.

    Options: slot_types (per-item slot names, for a per-type breakdown in details), match,
    normalizer (as for `wer`), interval ("wilson" or "wald").
    """
    if match not in ("contains", "exact"):
        raise InputError(None, f"metric 'slot_accuracy': match must be 'contains' or 'exact', got {match!r}")
    n = len(predictions)
    types = aligned_option("slot_accuracy", "slot_types", slot_types, n) if slot_types is not None else None
    correct_flags = _answer_matches(predictions, references, match, normalizer)
    details: dict = {"match": match, "normalizer": normalizer}
    if types is not None:
        by_type: dict[str, list[int]] = {}
        for slot, ok in zip(types, correct_flags, strict=True):
            by_type.setdefault(str(slot), [0, 0])
            by_type[str(slot)][0] += ok
            by_type[str(slot)][1] += 1
        details["by_slot_type"] = {k: {"correct": c, "n": t} for k, (c, t) in sorted(by_type.items())}
    return proportion_result("slot_accuracy", sum(correct_flags), n, n, interval=interval, details=details)


def _answer_matches(
    predictions: Sequence[str], references: Sequence[Sequence[str]], match: str, normalizer: str
) -> list[bool]:
    """Per item: does a normalised reference occur in the normalised answer as a whole-word span
    ("contains") or equal it ("exact")?"""
    normalize = make_normalizer(normalizer)
    answers = normalize_all(predictions, normalize)
    flags = []
    for answer, refs in zip(answers, references, strict=True):
        gold = [g for g in normalize_all(refs, normalize) if g]
        if match == "exact":
            flags.append(answer in gold)
        else:
            flags.append(any(f" {g} " in f" {answer} " for g in gold))
    return flags


def qa_accuracy(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    questions: Sequence[str] | None = None,
    match: str = "contains",
    normalizer: str = "whisper_english",
    repeat_threshold: float = 0.30,
    interval: str = "wilson",
) -> MetricResult:
    """Question-answering accuracy without a judge: an answer is correct when a normalised
    reference answer occurs in it as a whole-word span (match="contains") or equals it ("exact").
    With `questions`, an answer that merely repeats the spoken question (WER against it below
    `repeat_threshold`, SALMONN's following rule) is incorrect even if it contains the reference.

    This is a deterministic stand-in for the LLM judge the prior reproduction used on SQQA; it
    suits short references ("Paris") and undercounts when references are whole sentences (WikiQA).

    Options: questions (per item), match, normalizer, repeat_threshold, interval.
    """
    if match not in ("contains", "exact"):
        raise InputError(None, f"metric 'qa_accuracy': match must be 'contains' or 'exact', got {match!r}")
    n = len(predictions)
    flags = _answer_matches(predictions, references, match, normalizer)
    repeats = 0
    if questions is not None:
        spoken = aligned_option("qa_accuracy", "questions", questions, n)
        normalize = make_normalizer(normalizer)
        counts = word_error_counts(normalize_all(spoken, normalize), normalize_all(predictions, normalize))
        words = counts["ref_words"]
        repeated = (words > 0) & (counts["errors"] < repeat_threshold * words)
        repeats = int(repeated.sum())
        flags = [ok and not r for ok, r in zip(flags, repeated, strict=True)]
    return proportion_result(
        "qa_accuracy",
        sum(flags),
        n,
        n,
        interval=interval,
        details={
            "match": match,
            "normalizer": normalizer,
            "rule": "normalised reference answer found in the answer (no LLM judge)",
            "answers_repeating_the_question": repeats if questions is not None else None,
        },
    )
