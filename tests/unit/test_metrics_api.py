"""The metrics entry point: registry, input checks shared by all metrics, result format."""

import json
import subprocess
import sys

import pytest

from audiorepro import metrics
from audiorepro.errors import InputError

SPEC_NAMES = {
    "wer", "bleu", "meteor", "cider_d", "spice", "spider", "rouge_l", "per", "cpwer", "accuracy",
    "keyword_accuracy", "following_rate", "story", "slot_accuracy", "judge_accuracy",
}  # fmt: skip


# Named by the task YAMLs beyond the list.
TASK_NAMES = {"qa_accuracy", "story_following_rate", "output_perplexity"}


def test_every_metric_of_the_spec_is_registered_and_described():
    assert set(metrics.available()) == SPEC_NAMES | TASK_NAMES
    for name in metrics.available():
        line = metrics.describe(name)
        assert line and "\n" not in line


def test_unknown_metric_and_unknown_option_are_input_errors():
    with pytest.raises(InputError, match="unknown metric 'bleurt'"):
        metrics.compute("bleurt", ["a"], [["a"]])
    with pytest.raises(InputError, match="bad options"):
        metrics.compute("wer", ["a"], [["a"]], tokenizer="13a")


@pytest.mark.parametrize("name", ["wer", "bleu", "rouge_l", "accuracy", "per"])
def test_misaligned_inputs_name_the_metric_and_counts(name):
    with pytest.raises(InputError, match=rf"metric '{name}': 2 predictions but 1 reference lists"):
        metrics.compute(name, ["a", "b"], [["a"]])


@pytest.mark.parametrize("name", ["wer", "bleu", "rouge_l", "cider_d", "per", "cpwer"])
def test_empty_references_are_rejected(name):
    with pytest.raises(InputError, match="item 1 has no"):
        metrics.compute(name, ["a", "b"], [["a"], []])
    with pytest.raises(InputError, match="item 0 has no"):
        metrics.compute(name, ["a"], [["  "]])


@pytest.mark.parametrize("bad", [None, 3, ["a"]])
def test_non_string_predictions_are_rejected(bad):
    with pytest.raises(InputError, match="prediction 1 is"):
        metrics.compute("wer", ["a", bad], [["a"], ["b"]])


def test_no_items_and_string_instead_of_list_are_rejected():
    with pytest.raises(InputError, match="no items"):
        metrics.compute("wer", [], [])
    with pytest.raises(InputError, match="list of strings"):
        metrics.compute("wer", "hello", [["hello"]])
    with pytest.raises(InputError, match=r"references\[0\] must be a list"):
        metrics.compute("wer", ["hello"], ["hello"])


def test_empty_prediction_is_scored_not_skipped():
    # Two reference words, one empty answer: 2 deletions out of 4 words -> 50%.
    result = metrics.compute("wer", ["", "good morning"], [["hello world"], ["good morning"]])
    assert result.n == result.n_scored == 2
    assert result.value == pytest.approx(50.0)
    assert result.details["deletions"] == 2 and result.details["empty_predictions"] == 1


def test_result_is_json_serialisable_with_the_documented_fields():
    result = metrics.compute("bleu", ["the cat sat on the mat"], [["the cat sat on the mat"]])
    d = json.loads(json.dumps(result.to_dict()))
    assert set(d) == {
        "name", "value", "ci", "n", "n_scored", "details", "status", "reason", "higher_is_better", "unit", "scale",
    }  # fmt: skip
    assert d["status"] == "ok" and d["reason"] is None and d["unit"] == "BLEU" and d["scale"] == "x100"
    assert d["ci"][0] <= d["value"] <= d["ci"][1] + 1e-9


def test_importing_metrics_does_not_import_scorers():
    code = (
        "import sys, audiorepro.metrics; "
        "heavy = [m for m in ('torch', 'jiwer', 'sacrebleu', 'pycocoevalcap', 'meeteval', 'g2p_en', 'nltk', "
        "'rouge_score', 'whisper', 'scipy') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
