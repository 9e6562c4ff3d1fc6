"""A metric's scale, direction and display unit are declared once, in its registry entry
(audiorepro/metrics/__init__.py), and every result carries that declaration: a metric function
cannot state them (MetricResult does not take them), and `compute` / `metrics.not_computable` set
them on results that were computed and on results that could not be."""

from __future__ import annotations

import inspect

import pytest

from audiorepro import metrics
from audiorepro.metrics import MetricResult, captioning

# The `unit` labels scores.json has carried for each metric, as the metric functions wrote them
# before the registry declared them (commit eb39bcb): moving the declaration must not change them.
UNITS_IN_SCORES_JSON = {
    "wer": "%WER",
    "per": "%PER",
    "cpwer": "%cpWER",
    "bleu": "BLEU",
    "meteor": "METEOR",
    "cider_d": "CIDEr-D",
    "spice": "SPICE",
    "spider": "SPIDEr",
    "rouge_l": "ROUGE-L",
    "accuracy": "accuracy",
    "keyword_accuracy": "accuracy",
    "slot_accuracy": "accuracy",
    "qa_accuracy": "accuracy",
    "judge_accuracy": "accuracy",
    "following_rate": "rate",
    "story_following_rate": "rate",
    "story": "distinct words",
    "output_perplexity": "perplexity",
}

# (predictions, references, options) giving a value. METEOR runs a Java process for seconds and
# SPICE / SPIDEr need the CoreNLP jars: their results are checked on the not-computable path.
COMPUTED = {
    "wer": (["a cat sat"], [["a cat sat down"]], {}),
    "per": (["S T IY1"], [["STEW"]], {}),
    "cpwer": (["a b\nc d"], [["a b", "c d"]], {}),
    "bleu": (["the cat sat on the mat"], [["the cat sat on the mat"]], {}),
    "cider_d": (["a cat sits on the mat"], [["a cat sits on the mat"]], {}),
    "rouge_l": (["the cat"], [["the cat"]], {}),
    "accuracy": (["yes", "no"], [["yes"], ["yes"]], {}),
    "keyword_accuracy": (["cat, dog"], [["cat", "dog"]], {}),
    "slot_accuracy": (["the city is paris"], [["paris"]], {}),
    "qa_accuracy": (["it is paris"], [["paris"]], {}),
    "judge_accuracy": (["correct", "incorrect"], [[], []], {}),
    "following_rate": (["a b c d"], [[]], {"questions": ["e f g h"]}),
    "story": (["once upon a time"], [[]], {}),
    "story_following_rate": (["once upon a time"], [[]], {}),
    "output_perplexity": (["x"], [[]], {"token_logprobs": [[-1.0, -2.0]]}),
}

# Inputs that take each metric's own not-computable path (Java reported missing for the captioning
# metrics); the metrics without such a path get their not-computable results from
# `metrics.not_computable`, as the score stage does for a judge metric without verdicts.
NOT_COMPUTABLE = {
    "wer": (["a"], [["um uh"]], {}),  # fillers only: no reference word after normalisation
    "per": (["a"], [["..."]], {}),
    "cpwer": (["a b"], [["a", "b"]], {"only_matching_count": True}),  # one utterance, two speakers
    "accuracy": (["sad"], [["frustrated"]], {"labels": "iemocap4"}),  # outside the 4 classes
    "keyword_accuracy": (["cat"], [[","]], {}),
    "output_perplexity": (["x"], [[]], {"token_logprobs": [[]]}),
    "meteor": (["a cat"], [["a cat"]], {}),
    "cider_d": (["a cat"], [["a cat"]], {}),
    "spice": (["a cat"], [["a cat"]], {}),
    "spider": (["a cat"], [["a cat"]], {}),
}


def declaration(name: str) -> tuple:
    entry = metrics.entry(name)
    return entry.scale, entry.higher_is_better, entry.unit


def carried(result: MetricResult) -> tuple:
    return result.scale, result.higher_is_better, result.unit


def test_every_metric_declares_the_unit_scores_json_has_carried():
    assert {name: metrics.entry(name).unit for name in metrics.available()} == UNITS_IN_SCORES_JSON


def test_every_metric_is_checked_here():
    """A new metric joins these tables, so its results are checked against its entry too."""
    assert set(COMPUTED) | {"meteor", "spice", "spider"} == set(metrics.available())


@pytest.mark.parametrize("name", sorted(COMPUTED))
def test_a_computed_result_carries_its_registry_declaration(name):
    predictions, references, options = COMPUTED[name]
    result = metrics.compute(name, predictions, references, **options)
    assert result.status == "ok" and result.value is not None
    assert carried(result) == declaration(name)
    stored = result.to_dict()
    assert (stored["scale"], stored["higher_is_better"], stored["unit"]) == declaration(name)


@pytest.mark.parametrize("name", sorted(metrics.available()))
def test_a_not_computable_result_carries_its_registry_declaration(name, monkeypatch):
    monkeypatch.setattr(captioning, "_java_missing", lambda: "java not found (test)")
    if name in NOT_COMPUTABLE:
        predictions, references, options = NOT_COMPUTABLE[name]
        result = metrics.compute(name, predictions, references, **options)
    else:
        result = metrics.not_computable(name, 3, "not judged (test)")
        assert result.n == 3 and result.reason == "not judged (test)"
    assert result.status == "not_computable" and result.value is None and result.reason
    assert carried(result) == declaration(name)


@pytest.mark.parametrize("declared", ["scale", "higher_is_better", "unit"])
def test_a_metric_function_cannot_state_what_the_registry_declares(declared):
    with pytest.raises(TypeError, match=declared):
        MetricResult(name="wer", value=1.0, ci=None, n=1, n_scored=1, **{declared: "x"})
    assert declared not in inspect.signature(MetricResult.not_computable).parameters
