"""SAKURA end to end on the bundled fixture subset (24 clips, 48 questions), offline: prepare ->
predict with a tiny random Qwen2-Audio on CPU -> judge (deterministic matcher) -> score ->
compare -> report; then the verdicts exported from that run rescore the same predictions with
no judge at all and give identical scores; and without any judge, every model predicts and the
run names the options."""

from __future__ import annotations

import json

import pytest

from audiorepro.jsonl import read_jsonl
from audiorepro.tasks import list_tasks

MODEL = "tiny-qwen2-audio"


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    for var, sub in (
        ("AUDIOREPRO_RUNS", "runs"),
        ("AUDIOREPRO_REPORTS", "reports"),
        ("AUDIOREPRO_CACHE", "cache"),
    ):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("AUDIOREPRO_MODEL_PLUGINS", f"{MODEL}=sakura_support:tiny_qwen2_audio_model")
    monkeypatch.setenv("SAKURA_TINY_QWEN2_AUDIO", str(tmp_path / "tiny"))
    return tmp_path


def _options(report=False, **judge):
    from audiorepro.pipeline import RunOptions

    return RunOptions(
        suite="sakura",
        models=[MODEL],
        subset="fixture",
        decoding={"max_new_tokens": 6},
        judge=judge or None,
        progress=False,
        report=report,
    )


def test_sakura_fixture_run_with_matcher_then_rescore_from_verdicts(sandbox):
    from audiorepro.pipeline import run_suite

    result = run_suite(_options(kind="matcher"))
    assert result["not_run"] == {}
    tasks = list_tasks("sakura")
    scores = {}
    for task in tasks:
        folder = sandbox / "runs" / "sakura" / task.name / MODEL
        verdicts = read_jsonl(folder / "verdicts.jsonl")
        assert len(verdicts) == 6
        assert {v["judge_id"] for v in verdicts} == {"option-matcher-v1"}
        score = json.loads((folder / "scores.json").read_text())
        n_correct = sum(v["verdict"] == "correct" for v in verdicts)
        assert score["n"] == 6 and score["value"] is not None
        assert score["value"] == pytest.approx(100.0 * n_correct / 6) or score["value"] == pytest.approx(
            n_correct / 6
        )
        scores[task.name] = score["value"]
        meta = json.loads((folder / "judge_meta.json").read_text())
        assert meta["judge"]["deviations"][0]["name"] == "judge"  # the matcher is a recorded deviation
        assert meta["counts"]["total"] == 6 and meta["counts"]["correct"] == n_correct

    # ship the verdicts, wipe the cache, rescore with `--verdicts` only
    shipped = sandbox / "shipped_verdicts.jsonl"
    shipped.write_text(
        "".join(
            (sandbox / "runs" / "sakura" / t.name / MODEL / "verdicts.jsonl").read_text(encoding="utf-8")
            for t in tasks
        ),
        encoding="utf-8",
    )
    for t in tasks:
        (sandbox / "runs" / "sakura" / t.name / MODEL / "verdicts.jsonl").unlink()
    for f in (sandbox / "cache" / "judge").glob("*"):
        f.unlink()
    run_suite(_options(kind="import", verdicts_file=str(shipped)))
    for task in tasks:
        folder = sandbox / "runs" / "sakura" / task.name / MODEL
        assert json.loads((folder / "scores.json").read_text())["value"] == scores[task.name]


def test_without_a_judge_every_model_predicts_then_the_run_names_the_options(sandbox, monkeypatch):
    from dataclasses import replace

    from audiorepro.pipeline import run_suite

    # two models: the first one's missing verdicts must not stop the second from predicting
    monkeypatch.setenv(
        "AUDIOREPRO_MODEL_PLUGINS",
        f"{MODEL}=sakura_support:tiny_qwen2_audio_model,{MODEL}-b=sakura_support:tiny_qwen2_audio_model",
    )
    result = run_suite(replace(_options(), models=[MODEL, f"{MODEL}-b"]))
    tasks = sorted(t.name for t in list_tasks("sakura"))
    assert {run: sorted(names) for run, names in result["awaiting_judge"].items()} == {MODEL: tasks, f"{MODEL}-b": tasks}
    assert result["failed"] == {} and result["ok"]
    for run in (MODEL, f"{MODEL}-b"):
        for task in tasks:
            folder = sandbox / "runs" / "sakura" / task / run
            assert len(read_jsonl(folder / "predictions.jsonl")) == 6
            assert not (folder / "scores.json").exists()
    for option in ("--judge api", "--judge local", "--judge matcher", "--verdicts", "JUDGE=", "VERDICTS="):
        assert option in result["judge_hint"]


def test_sakura_fixture_report(sandbox):
    from audiorepro.pipeline import run_suite

    result = run_suite(_options(report=True, kind="matcher"))
    assert result["report"] is not None
    assert (sandbox / "reports" / "sakura").is_dir()
