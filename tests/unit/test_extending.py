"""docs/ARCHITECTURE.md "How to add a model / task / metric / judge", followed step by step: a toy
model registered without editing the package (AUDIOREPRO_MODEL_PLUGINS) runs through prepare ->
predict -> score on the bundled demo data, a toy metric registered in the metric registry is
computed with the scale its entry declares, and a toy judge registered in the judge registry judges
its answers under the SALMONN SQQA protocol, through the stage and through `audiorepro judge --judge`."""

from __future__ import annotations

import json

import pytest

from audiorepro import metrics
from audiorepro.errors import InputError
from audiorepro.judge.base import Judge
from audiorepro.judge.registry import JUDGES
from audiorepro.judge.stage import judge_predictions
from audiorepro.layout import examples_path, scores_path
from audiorepro.metrics.base import MetricResult
from audiorepro.models.base import AudioLanguageModel, DecodingConfig, GenerationResult
from audiorepro.models.registry import build_model, list_models
from audiorepro.predict import load_examples, merged_predictions, predict_task
from audiorepro.prepare import prepare_task
from audiorepro.scale import Scale
from audiorepro.score import score_task
from audiorepro.tasks import load_task


class ReferenceParrot(AudioLanguageModel):
    """A toy model (the documented model step): answers each item with its first reference, so
    every reference-based score is known without running the scorer's code in the test."""

    answers: dict[str, str] = {}

    def default_decoding(self) -> DecodingConfig:
        return DecodingConfig(num_beams=1, do_sample=False, max_new_tokens=8)

    def generate(self, batch, decoding):
        return [
            GenerationResult(text=self.answers[r.id], raw_text=self.answers[r.id], token_ids=[1], finish_reason="eos")
            for r in batch
        ]

    def describe(self) -> dict:
        return {"name": self.name, "device": "cpu", "deviations": []}


class AlwaysCorrect(Judge):
    """A toy judge (the documented judge step): replies "correct" in the SQQA reply format and
    keeps what it was asked."""

    judge_id = "always-correct"
    endpoint = "builtin"

    def __init__(self) -> None:
        self.asked: list[list[dict]] = []

    def complete(self, messages: list[dict]) -> str:
        self.asked.append(messages)
        return '{"Correct": true, "Reason": "toy"}'


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    for name, folder in (("RUNS", "runs"), ("CACHE", "cache"), ("REPORTS", "reports")):
        monkeypatch.setenv(f"AUDIOREPRO_{name}", str(tmp_path / folder))
    monkeypatch.setenv("AUDIOREPRO_MODEL_PLUGINS", "parrot=test_extending:ReferenceParrot")
    return tmp_path


def test_a_plugged_in_model_runs_through_prepare_predict_score(workspace, monkeypatch):
    assert ("parrot", "plug-in (test_extending:ReferenceParrot)") in list_models()
    task = load_task("demo-sqqa")
    examples = load_examples(prepare_task(task))
    monkeypatch.setattr(ReferenceParrot, "answers", {e.id: e.references[0] for e in examples})

    model = build_model("parrot")
    predict_task(task, examples_path(task.suite, task.name), model, "parrot", progress=False)
    scores = json.loads(score_task(task, "parrot").read_text())

    assert scores_path(task.suite, task.name, "parrot").exists()
    assert scores["model"] == "parrot" and scores["main_metric"] == "following_rate"
    assert scores["metrics"]["qa_accuracy"]["value"] == 1.0  # every answer is its reference
    # a short answer ("Paris") is far (WER >= 30%) from its spoken question: it follows
    assert scores["metrics"]["following_rate"]["value"] == 1.0
    assert scores["metrics"]["qa_accuracy"]["n"] == len(examples) == 6


def test_a_registered_judge_kind_judges_through_the_stage(workspace, monkeypatch):
    task = load_task("demo-sqqa")
    examples = load_examples(prepare_task(task))
    monkeypatch.setattr(ReferenceParrot, "answers", {e.id: e.references[0] for e in examples})
    predict_task(task, examples_path(task.suite, task.name), build_model("parrot"), "parrot", progress=False)
    predictions = list(merged_predictions(task.suite, task.name, "parrot").values())

    judge = AlwaysCorrect()
    JUDGES.register("always-correct", lambda family, **options: judge, description="toy")
    try:
        records = judge_predictions(
            examples, predictions, "always-correct", protocol_name="salmonn-sqqa",
            cache=workspace / "verdicts.sqlite",
        )
    finally:
        JUDGES.unregister("always-correct")
    assert [r["verdict"] for r in records] == ["correct"] * 6
    assert {r["judge_id"] for r in records} == {"always-correct"}
    # the judge saw each item's spoken question and the model's answer, rendered by the protocol
    first = next(e for e in examples if e.id == records[0]["id"])
    prompt = json.dumps(judge.asked, ensure_ascii=False)
    assert first.meta["question_text"] in prompt and first.references[0] in prompt


def exact_match(predictions, references):
    """A toy metric (the documented metric step): the fraction of answers equal to a reference."""
    hits = sum(p in refs for p, refs in zip(predictions, references, strict=True))
    return MetricResult(
        name="exact_match", value=hits / len(predictions), ci=None, n=len(predictions), n_scored=len(predictions)
    )


def test_a_registered_metric_is_computed_with_its_declared_scale(monkeypatch):
    registry = metrics.METRICS.copy()
    registry.register(
        "exact_match", f"{__name__}:exact_match", description="toy", needs_references=True,
        scale=Scale.FRACTION, higher_is_better=True,
    )
    monkeypatch.setattr(metrics, "METRICS", registry)
    assert "exact_match" in metrics.available()
    result = metrics.compute("exact_match", ["a", "b", "c", "d"], [["a"], ["x"], ["c"], ["y"]])
    assert result.value == 0.5  # 2 of 4, by hand
    # stamped from the registry entry, not from the function; no unit declared: labelled by its name
    assert (result.scale, result.higher_is_better, result.unit) == (Scale.FRACTION, True, "exact_match")
    with pytest.raises(InputError, match="unknown metric 'exact_matc'"):
        metrics.compute("exact_matc", ["a"], [["a"]])


MY_SQQA = """\
name: my-sqqa
suite: mine
description: demo-sqqa's items judged under the SALMONN SQQA protocol
dataset: demo-spoken
where: {kind: question}
prompt: Please answer the question in detail.
judge: salmonn-sqqa
metric: {name: following_rate, item_options: {questions: question_text}}
"""


def test_the_cli_accepts_a_registered_judge_kind(workspace, monkeypatch, capsys):
    """`--judge` takes whatever the judge registry holds when the command line is parsed: a judge
    registered after the CLI module was imported is listed by --help and judges through
    `audiorepro judge`; an unknown name is one line listing the registered kinds."""
    from audiorepro.cli import main

    (workspace / "tasks").mkdir()
    (workspace / "tasks" / "my-sqqa.yaml").write_text(MY_SQQA, encoding="utf-8")
    monkeypatch.setenv("AUDIOREPRO_TASKS", str(workspace / "tasks"))
    assert main(["prepare", "--suite", "mine"]) == 0
    examples = load_examples(examples_path("mine", "my-sqqa"))
    monkeypatch.setattr(ReferenceParrot, "answers", {e.id: e.references[0] for e in examples})
    assert main(["predict", "--suite", "mine", "--models", "parrot", "--no-progress"]) == 0
    capsys.readouterr()

    judge = AlwaysCorrect()
    JUDGES.register("always-correct", lambda family, **options: judge, description="toy")
    try:
        with pytest.raises(SystemExit):
            main(["judge", "--help"])
        assert "api, local, matcher, always-correct" in " ".join(capsys.readouterr().out.split())
        assert main(["judge", "--suite", "mine", "--models", "parrot", "--judge", "always-correct"]) == 0
        assert capsys.readouterr().out == "my-sqqa parrot: 6/6 correct, 0 invalid\n"
        assert len(judge.asked) == len(examples) == 6

        assert main(["run", "--suite", "mine", "--models", "parrot", "--judge", "oracle"]) == 2
        assert capsys.readouterr().err == (
            "audiorepro: error: --judge: unknown judge 'oracle'; registered: api, local, matcher, always-correct\n"
        )
    finally:
        JUDGES.unregister("always-correct")
    assert main(["judge", "--suite", "mine", "--models", "parrot", "--judge", "always-correct"]) == 2
    assert "registered: api, local, matcher\n" in capsys.readouterr().err
