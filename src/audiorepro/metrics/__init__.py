"""Every metric of SALMONN Table 3 and SAKURA, behind one call:

    compute(name, predictions, references, **options) -> MetricResult

`predictions` is a list of strings, `references` a list of reference lists (several references per
item where the data has them). Values are on the scale the papers print: WER, PER and cpWER in
percent; BLEU, METEOR, CIDEr-D, SPICE, SPIDEr and ROUGE-L times 100; accuracies and rates as
fractions. Each result carries a 95% interval (`ci`), counts and the scorer's version/signature.
Metric modules import their scorers lazily, so importing this package stays fast.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from ..errors import InputError
from ..registry import Entry, Registry
from ..scale import Scale
from .base import MetricResult, check_inputs

__all__ = ["METRICS", "MetricResult", "available", "compute", "declared", "describe", "entry", "not_computable"]

METRICS: Registry = Registry("metric")
"""Metric name -> scoring function. Each entry declares `needs_references`, `scale`,
`higher_is_better` and the display `unit` once: `compute` stamps the last three on every result (the
metric functions do not state them), and compare converts values by `scale`, never by `unit`.
Targets are imported on first use (the scorers' libraries are heavy)."""


def _register(
    name: str, target: str, needs_references: bool, scale: Scale, higher_is_better: bool, unit: str, description: str
) -> None:
    METRICS.register(
        name,
        f"{__name__}.{target}",
        description=description,
        needs_references=needs_references,
        scale=scale,
        higher_is_better=higher_is_better,
        unit=unit,
    )


# fmt: off
_register("wer", "asr:wer", True, Scale.PERCENT, False, "%WER", "corpus word error rate (%), jiwer alignment after openai-whisper's EnglishTextNormalizer")
_register("bleu", "translation:bleu", True, Scale.X100, True, "BLEU", "corpus BLEU-4 (x100) with sacrebleu (tokenize/smooth options, signature kept)")
_register("meteor", "captioning:meteor", True, Scale.X100, True, "METEOR", "METEOR 1.5 (x100), coco-caption's jar via pycocoevalcap after PTB tokenisation")
_register("cider_d", "captioning:cider_d", True, Scale.X100, True, "CIDEr-D", "CIDEr-D (x100), pycocoevalcap's Cider after PTB tokenisation")
_register("spice", "captioning:spice", True, Scale.X100, True, "SPICE", "SPICE (x100), coco-caption's spice-1.0.jar; needs Stanford CoreNLP 3.6.0 jars")
_register("spider", "captioning:spider", True, Scale.X100, True, "SPIDEr", "SPIDEr = (CIDEr-D + SPICE) / 2 (x100); needs the SPICE jars")
_register("rouge_l", "captioning:rouge_l", True, Scale.X100, True, "ROUGE-L", "ROUGE-L F-measure mean (x100) with rouge_score, as LP-MusicCaps reports it")
_register("per", "phones:per", True, Scale.PERCENT, False, "%PER", "phone error rate (%), jiwer on ARPAbet phones, references from CMUdict (+g2p_en for OOV)")
_register("cpwer", "overlap:cpwer", True, Scale.PERCENT, False, "%cpWER", "concatenated minimum-permutation WER (%) with meeteval, answers split into utterances")
_register("accuracy", "classification:accuracy", True, Scale.FRACTION, True, "accuracy", "label accuracy (fraction) with task label maps (iemocap4, yes_no), Wilson CI")
_register("keyword_accuracy", "classification:keyword_accuracy", True, Scale.FRACTION, True, "accuracy", "keyword extraction accuracy (fraction), top-3 rule of the prior reproduction")
_register("slot_accuracy", "classification:slot_accuracy", True, Scale.FRACTION, True, "accuracy", "slot filling accuracy (fraction): normalised gold value found in the answer")
_register("qa_accuracy", "classification:qa_accuracy", True, Scale.FRACTION, True, "accuracy", "QA accuracy (fraction) without a judge: normalised reference answer found in the answer")
_register("following_rate", "following:following_rate", False, Scale.FRACTION, True, "rate", "instruction following rate: WER(question, answer) >= 30% counts as following")
_register("story", "following:story", False, Scale.COUNT, True, "distinct words", "story diversity: mean distinct words per answer; following = at least 50 words")
_register("story_following_rate", "following:story_following_rate", False, Scale.FRACTION, True, "rate", "story following rate: fraction of answers with at least 50 words, Wilson CI")
_register("judge_accuracy", "judged:judge_accuracy", False, Scale.FRACTION, True, "accuracy", "accuracy from judge verdicts (correct/incorrect/invalid), Wald 95% CI")
_register("output_perplexity", "perplexity:output_perplexity", False, Scale.PLAIN, False, "perplexity", "mean (sd) over items of each output's perplexity under the generating model, teacher-forced (Table 4)")
# fmt: on


def available() -> list[str]:
    """Names accepted by `compute`."""
    return sorted(METRICS.names())


def describe(name: str) -> str:
    """One line: what the metric computes and with which scorer."""
    return entry(name).description


def compute(
    name: str, predictions: Sequence[str], references: Sequence[Sequence[str]], **options
) -> MetricResult:
    """Score `predictions` against `references` with metric `name`; options are metric-specific
    (see each metric function's docstring). Raises InputError for misaligned or non-string input."""
    declaration = entry(name)
    check_inputs(name, predictions, references, needs_references=declaration.needs_references)
    function = declaration.load()
    try:
        inspect.signature(function).bind(predictions, references, **options)
    except TypeError as error:
        raise InputError(None, f"metric {name!r}: bad options {sorted(options)}: {error}") from None
    result = function(list(predictions), [list(r) for r in references], **options)
    result.details.setdefault("options", {k: _describe_option(v) for k, v in options.items()})
    return declared(name, result)


def declared(name: str, result: MetricResult) -> MetricResult:
    """`result` with the scale, direction and display unit that metric `name`'s registry entry
    declares: the one place they are set, for every result `compute` returns and any built
    outside it (a judge metric without verdicts, test fixtures)."""
    declaration = entry(name)
    result.scale = declaration.scale
    result.higher_is_better = declaration.higher_is_better
    # a display label only: a plug-in metric registered without one is labelled by its name
    result.unit = declaration.metadata.get("unit", name)
    return result


def not_computable(name: str, n: int, reason: str, **details) -> MetricResult:
    """Metric `name` over n items has no value here (never 0): the reason, with its declaration."""
    return declared(name, MetricResult.not_computable(name, n, reason, **details))


def entry(name: str) -> Entry:
    """The registry entry of metric `name` (`.scale`, `.higher_is_better`, `.unit`,
    `.needs_references`, `.description`); InputError naming the available ones otherwise (a bad
    metric name in a task is the user's input)."""
    if name not in METRICS:
        raise InputError(None, f"unknown metric {name!r}; available: {', '.join(available())}")
    return METRICS.entry(name)


def _describe_option(value):
    """Options go into scores.json: per-item lists are summarised, scalars kept."""
    if isinstance(value, list | tuple):
        return f"<{len(value)} per-item values>"
    return value
