"""Every metric of SALMONN Table 3 and SAKURA, behind one call:

    compute(name, predictions, references, **options) -> MetricResult

`predictions` is a list of strings, `references` a list of reference lists (several references per
item where the data has them). Values are on the scale the papers print: WER, PER and cpWER in
percent; BLEU, METEOR, CIDEr-D, SPICE, SPIDEr and ROUGE-L times 100; accuracies and rates as
fractions. Each result carries a 95% interval (`ci`), counts and the scorer's version/signature.
Metric modules import their scorers lazily, so importing this package stays fast.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..scale import Scale
from .base import MetricResult, check_inputs

__all__ = ["MetricEntry", "MetricResult", "available", "compute", "describe", "entry"]



@dataclass(frozen=True)
class MetricEntry:
    """A registered metric. `scale` and `higher_is_better` are declared here only: `compute`
    stamps them on every result, and compare converts values by `scale`, never by `unit`."""

    target: str  # "module:function" in this package, imported on first use
    needs_references: bool
    scale: Scale
    higher_is_better: bool
    description: str


_REGISTRY: dict[str, MetricEntry] = {
    "wer": MetricEntry("asr:wer", True, Scale.PERCENT, False, "corpus word error rate (%), jiwer alignment after openai-whisper's EnglishTextNormalizer"),
    "bleu": MetricEntry("translation:bleu", True, Scale.X100, True, "corpus BLEU-4 (x100) with sacrebleu (tokenize/smooth options, signature kept)"),
    "meteor": MetricEntry("captioning:meteor", True, Scale.X100, True, "METEOR 1.5 (x100), coco-caption's jar via pycocoevalcap after PTB tokenisation"),
    "cider_d": MetricEntry("captioning:cider_d", True, Scale.X100, True, "CIDEr-D (x100), pycocoevalcap's Cider after PTB tokenisation"),
    "spice": MetricEntry("captioning:spice", True, Scale.X100, True, "SPICE (x100), coco-caption's spice-1.0.jar; needs Stanford CoreNLP 3.6.0 jars"),
    "spider": MetricEntry("captioning:spider", True, Scale.X100, True, "SPIDEr = (CIDEr-D + SPICE) / 2 (x100); needs the SPICE jars"),
    "rouge_l": MetricEntry("captioning:rouge_l", True, Scale.X100, True, "ROUGE-L F-measure mean (x100) with rouge_score, as LP-MusicCaps reports it"),
    "per": MetricEntry("phones:per", True, Scale.PERCENT, False, "phone error rate (%), jiwer on ARPAbet phones, references from CMUdict (+g2p_en for OOV)"),
    "cpwer": MetricEntry("overlap:cpwer", True, Scale.PERCENT, False, "concatenated minimum-permutation WER (%) with meeteval, answers split into utterances"),
    "accuracy": MetricEntry("classification:accuracy", True, Scale.FRACTION, True, "label accuracy (fraction) with task label maps (iemocap4, yes_no), Wilson CI"),
    "keyword_accuracy": MetricEntry("classification:keyword_accuracy", True, Scale.FRACTION, True, "keyword extraction accuracy (fraction), top-3 rule of the prior reproduction"),
    "slot_accuracy": MetricEntry("classification:slot_accuracy", True, Scale.FRACTION, True, "slot filling accuracy (fraction): normalised gold value found in the answer"),
    "qa_accuracy": MetricEntry("classification:qa_accuracy", True, Scale.FRACTION, True, "QA accuracy (fraction) without a judge: normalised reference answer found in the answer"),
    "following_rate": MetricEntry("following:following_rate", False, Scale.FRACTION, True, "instruction following rate: WER(question, answer) >= 30% counts as following"),
    "story": MetricEntry("following:story", False, Scale.COUNT, True, "story diversity: mean distinct words per answer; following = at least 50 words"),
    "story_following_rate": MetricEntry("following:story_following_rate", False, Scale.FRACTION, True, "story following rate: fraction of answers with at least 50 words, Wilson CI"),
    "judge_accuracy": MetricEntry("judged:judge_accuracy", False, Scale.FRACTION, True, "accuracy from judge verdicts (correct/incorrect/invalid), Wald 95% CI"),
    "output_perplexity": MetricEntry("perplexity:output_perplexity", False, Scale.PLAIN, False, "mean (sd) over items of each output's perplexity under the generating model, teacher-forced (Table 4)"),
}  # fmt: skip


def available() -> list[str]:
    """Names accepted by `compute`."""
    return sorted(_REGISTRY)


def describe(name: str) -> str:
    """One line: what the metric computes and with which scorer."""
    return entry(name).description


def compute(
    name: str, predictions: Sequence[str], references: Sequence[Sequence[str]], **options
) -> MetricResult:
    """Score `predictions` against `references` with metric `name`; options are metric-specific
    (see each metric function's docstring). Raises InputError for misaligned or non-string input."""
    declared = entry(name)
    check_inputs(name, predictions, references, needs_references=declared.needs_references)
    module_name, function_name = declared.target.split(":")
    function = getattr(importlib.import_module(f"{__name__}.{module_name}"), function_name)
    try:
        inspect.signature(function).bind(predictions, references, **options)
    except TypeError as error:
        raise InputError(None, f"metric {name!r}: bad options {sorted(options)}: {error}") from None
    result = function(list(predictions), [list(r) for r in references], **options)
    result.details.setdefault("options", {k: _describe_option(v) for k, v in options.items()})
    result.scale = declared.scale
    result.higher_is_better = declared.higher_is_better
    return result


def entry(name: str) -> MetricEntry:
    """The registry entry of metric `name`; InputError naming the available ones otherwise."""
    if name not in _REGISTRY:
        raise InputError(None, f"unknown metric {name!r}; available: {', '.join(available())}")
    return _REGISTRY[name]


def _describe_option(value):
    """Options go into scores.json: per-item lists are summarised, scalars kept."""
    if isinstance(value, list | tuple):
        return f"<{len(value)} per-item values>"
    return value
