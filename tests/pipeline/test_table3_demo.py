"""A Table 3 task end to end on bundled data: `audiorepro run --suite table3 --tasks
asr-librispeech-clean --models cascade --subset demo` reads the librispeech-test-clean-demo
manifest (the five bundled LibriVox utterances), and fetch -> prepare -> predict -> score runs
with the real demo weights (Whisper tiny.en + SmolLM2) on a CPU."""

from __future__ import annotations

import json

import pytest

from audiorepro.cli import main


@pytest.mark.slow
def test_table3_asr_task_on_demo_subset_with_cascade(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOREPRO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("AUDIOREPRO_REPORTS", str(tmp_path / "reports"))
    argv = ["run", "--suite", "table3", "--tasks", "asr-librispeech-clean", "--models", "cascade"]
    assert main([*argv, "--subset", "demo", "--limit", "2", "--no-report"]) == 0

    task_dir = tmp_path / "runs" / "table3" / "asr-librispeech-clean"
    examples = [json.loads(line) for line in (task_dir / "examples.jsonl").read_text().splitlines()]
    assert len(examples) == 2
    assert examples[0]["prompt"] == "Recognize the speech and give me the transcription."
    predictions = [
        json.loads(line) for line in (task_dir / "cascade" / "predictions.jsonl").read_text().splitlines()
    ]
    assert {p["id"] for p in predictions} == {e["id"] for e in examples}
    assert all(p["output"].strip() for p in predictions)
    scores = json.loads((task_dir / "cascade" / "scores.json").read_text())
    assert scores["main_metric"] == "wer" and scores["n"] == 2
    assert scores["provenance"]["data_subset"] == "demo"
    # Whisper tiny.en reads clean LibriVox speech with a few percent WER; 30 % would mean a broken
    # audio path or prompt, not a weak model.
    assert scores["value"] < 30
