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

from ..errors import InputError
from .base import MetricResult, check_inputs

__all__ = ["MetricResult", "available", "compute", "describe"]

# name -> (module:function, needs references, one-line description)
_REGISTRY: dict[str, tuple[str, bool, str]] = {
    "wer": ("asr:wer", True, "corpus word error rate (%), jiwer alignment after openai-whisper's EnglishTextNormalizer"),
    "bleu": ("translation:bleu", True, "corpus BLEU-4 (x100) with sacrebleu (tokenize/smooth options, signature kept)"),
    "meteor": ("captioning:meteor", True, "METEOR 1.5 (x100), coco-caption's jar via pycocoevalcap after PTB tokenisation"),
    "cider_d": ("captioning:cider_d", True, "CIDEr-D (x100), pycocoevalcap's Cider after PTB tokenisation"),
    "spice": ("captioning:spice", True, "SPICE (x100), coco-caption's spice-1.0.jar; needs Stanford CoreNLP 3.6.0 jars"),
    "spider": ("captioning:spider", True, "SPIDEr = (CIDEr-D + SPICE) / 2 (x100); needs the SPICE jars"),
    "rouge_l": ("captioning:rouge_l", True, "ROUGE-L F-measure mean (x100) with rouge_score, as LP-MusicCaps reports it"),
    "per": ("phones:per", True, "phone error rate (%), jiwer on ARPAbet phones, references from CMUdict (+g2p_en for OOV)"),
    "cpwer": ("overlap:cpwer", True, "concatenated minimum-permutation WER (%) with meeteval, answers split into utterances"),
    "accuracy": ("classification:accuracy", True, "label accuracy (fraction) with task label maps (iemocap4, yes_no), Wilson CI"),
    "keyword_accuracy": ("classification:keyword_accuracy", True, "keyword extraction accuracy (fraction), top-3 rule of the prior reproduction"),
    "slot_accuracy": ("classification:slot_accuracy", True, "slot filling accuracy (fraction): normalised gold value found in the answer"),
    "qa_accuracy": ("classification:qa_accuracy", True, "QA accuracy (fraction) without a judge: normalised reference answer found in the answer"),
    "following_rate": ("following:following_rate", False, "instruction following rate: WER(question, answer) >= 30% counts as following"),
    "story": ("following:story", False, "story diversity: mean distinct words per answer; following = at least 50 words"),
    "story_following_rate": ("following:story_following_rate", False, "story following rate: fraction of answers with at least 50 words, Wilson CI"),
    "judge_accuracy": ("judged:judge_accuracy", False, "accuracy from judge verdicts (correct/incorrect/invalid), Wald 95% CI"),
    "output_perplexity": ("perplexity:output_perplexity", False, "mean (sd) over items of each output's perplexity under the generating model, teacher-forced (Table 4)"),
}  # fmt: skip


def available() -> list[str]:
    """Names accepted by `compute`."""
    return sorted(_REGISTRY)


def describe(name: str) -> str:
    """One line: what the metric computes and with which scorer."""
    return _entry(name)[2]


def compute(
    name: str, predictions: Sequence[str], references: Sequence[Sequence[str]], **options
) -> MetricResult:
    """Score `predictions` against `references` with metric `name`; options are metric-specific
    (see each metric function's docstring). Raises InputError for misaligned or non-string input."""
    target, needs_references, _ = _entry(name)
    check_inputs(name, predictions, references, needs_references=needs_references)
    module_name, function_name = target.split(":")
    function = getattr(importlib.import_module(f"{__name__}.{module_name}"), function_name)
    try:
        inspect.signature(function).bind(predictions, references, **options)
    except TypeError as error:
        raise InputError(None, f"metric {name!r}: bad options {sorted(options)}: {error}") from None
    result = function(list(predictions), [list(r) for r in references], **options)
    result.details.setdefault("options", {k: _describe_option(v) for k, v in options.items()})
    return result


def _entry(name: str) -> tuple[str, bool, str]:
    if name not in _REGISTRY:
        raise InputError(None, f"unknown metric {name!r}; available: {', '.join(available())}")
    return _REGISTRY[name]


def _describe_option(value):
    """Options go into scores.json: per-item lists are summarised, scalars kept."""
    if isinstance(value, list | tuple):
        return f"<{len(value)} per-item values>"
    return value
