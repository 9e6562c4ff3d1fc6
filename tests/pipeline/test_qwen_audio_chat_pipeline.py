"""`qwen-audio-chat` through the main CLI's pipeline with its worker subprocess (a stand-in worker:
tests/qwen_fake_worker.py, the real request loop around a fake model, started through
AUDIOREPRO_QWEN_AUDIO_CHAT_PYTHON as the real environment would be): every SAKURA fixture question
crosses the protocol once, the worker environment's versions and the decoding preset reach the
scores' provenance, and a rerun resumes without asking the worker anything."""

from __future__ import annotations

import importlib.metadata
import json
import stat
import sys
from pathlib import Path

import pytest

from audiorepro.jsonl import read_jsonl
from audiorepro.tasks import list_tasks

FAKE_WORKER = Path(__file__).resolve().parents[1] / "qwen_fake_worker.py"


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    for var, sub in (("AUDIOREPRO_RUNS", "runs"), ("AUDIOREPRO_REPORTS", "reports"), ("AUDIOREPRO_CACHE", "cache")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    # stands in for .venv-qwen-audio-chat/bin/python: ignores the worker script it is given
    python = tmp_path / "env" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_WORKER}" ok "{tmp_path / "calls.jsonl"}"\n')
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("AUDIOREPRO_QWEN_AUDIO_CHAT_PYTHON", str(python))
    weights = tmp_path / "weights"
    weights.mkdir()
    (weights / "config.json").write_text('{"model_type": "qwen"}\n')
    return tmp_path


def test_sakura_fixture_through_the_worker_then_resume(sandbox):
    from audiorepro.pipeline import RunOptions, run_suite

    options = RunOptions(
        suite="sakura",
        models=["qwen-audio-chat"],
        model_args={"model_path": str(sandbox / "weights"), "decoding": "greedy"},
        subset="fixture",
        judge={"kind": "matcher"},
        progress=False,
        report=False,
    )
    run_suite(options)
    calls = read_jsonl(sandbox / "calls.jsonl")
    tasks = list_tasks("sakura")
    n_items = 0
    for task in tasks:
        [folder] = [p for p in (sandbox / "runs" / "sakura" / task.name).iterdir() if p.is_dir()]
        predictions = read_jsonl(folder / "predictions.jsonl")
        n_items += len(predictions)
        score = json.loads((folder / "scores.json").read_text())
        model = score["provenance"]["model"]
        assert model["environment"]["transformers"] == importlib.metadata.version("transformers")
        assert model["decoding_preset"] == "greedy"
        assert {d["name"] for d in model["deviations"]} >= {"checkpoint", "decoding"}
    assert n_items == len(calls) == 48
    assert all(c["kwargs"] == {"do_sample": False, "max_new_tokens": 512} for c in calls)
    assert all(c["query"].startswith("Audio 1:<audio>") for c in calls)

    run_suite(options)  # finished: nothing is asked of the worker again
    assert len(read_jsonl(sandbox / "calls.jsonl")) == 48
