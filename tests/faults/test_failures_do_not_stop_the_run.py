"""Issue 9 item 3: one model failing does not stop the others. `audiorepro run` goes on past a
model that cannot load and past a task that raises, records each failure (model, task, the
error's first line) in the run summary and as "failed" in compare.json and the report, and exits
non-zero at the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def test_a_model_that_cannot_load_and_a_task_that_raises_do_not_stop_the_others(tmp_path):
    env = dict(
        os.environ,
        AUDIOREPRO_RUNS=str(tmp_path / "runs"),
        AUDIOREPRO_REPORTS=str(tmp_path / "reports"),
        # "cascade" (the demo row's model) is a double that breaks on the spoken questions
        AUDIOREPRO_MODEL_PLUGINS=",".join([
            "broken=failing_models:CannotLoad",
            "cascade=failing_models:BreaksOnQuestions",
            "stats=failing_models:SignalStats",
        ]),
        PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    )
    cmd = [sys.executable, "-m", "audiorepro.cli", "run", "--suite", "demo", "--models", "broken,cascade,stats", "--no-progress"]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr

    failed_lines = sorted(x for x in result.stdout.splitlines() if x.startswith("FAILED: "))
    load_error = "model broken did not load: ImportError: cannot import name 'DisjunctiveConstraint' from 'transformers'"
    assert failed_lines == [
        f"FAILED: broken demo-asr: {load_error}",
        f"FAILED: broken demo-en2de: {load_error}",
        f"FAILED: broken demo-sqqa: {load_error}",
        "FAILED: cascade demo-sqqa: predict: RuntimeError: CUDA out of memory (simulated)",
    ]
    assert "second line" not in result.stdout
    assert "4 task(s) failed" in result.stderr

    # everything that could run did: the models after the broken one, the tasks after the failing one
    runs = tmp_path / "runs" / "demo"
    scored = sorted(str(p.parent.relative_to(runs)) for p in runs.glob("*/*/scores.json"))
    assert scored == ["demo-asr/cascade", "demo-asr/stats", "demo-en2de/cascade", "demo-en2de/stats", "demo-sqqa/stats"]

    summary = json.loads((runs / "run_summary.json").read_text())
    assert set(summary["failed"]) == {"broken", "cascade"} and list(summary["failed"]["cascade"]) == ["demo-sqqa"]

    compare = json.loads((tmp_path / "reports" / "demo" / "compare.json").read_text())
    (row,) = [c for c in compare["comparisons"] if c["model"] == "cascade"]
    cells = {c["cell"]: c for c in row["cells"]}
    assert cells["demo-sqqa"]["verdict"] == "failed"
    assert cells["demo-sqqa"]["reason"] == "predict: RuntimeError: CUDA out of memory (simulated)"
    assert cells["demo-asr"]["verdict"] != "failed"
    assert compare["summary"]["failed"] == 1
    html = (tmp_path / "reports" / "demo" / "index.html").read_text()
    assert "1 failed" in html and "CUDA out of memory (simulated)" in html


def test_an_unknown_decoding_preset_names_the_model_and_the_accepted_values(tmp_path):
    from audiorepro.errors import AudioreproError
    from audiorepro.models.registry import build_model

    try:
        build_model("cascade", decoding="beam")
    except AudioreproError as e:
        assert str(e) == "cascade: unknown decoding preset 'beam'; accepted: greedy"
    else:
        raise AssertionError("no error")


def test_a_model_without_decoding_presets_says_so(monkeypatch):
    import pytest

    from audiorepro.errors import AudioreproError
    from audiorepro.models.registry import build_model

    monkeypatch.syspath_prepend(str(HERE))
    monkeypatch.setenv("AUDIOREPRO_MODEL_PLUGINS", "stats=failing_models:SignalStats")
    with pytest.raises(AudioreproError, match=r"^model stats has no decoding presets \(--model-arg decoding=\.\.\.\); "):
        build_model("stats", decoding="greedy")
    with pytest.raises(AudioreproError, match=r"^model stats: unknown option\(s\) beams \(--model-arg\); it takes: none$"):
        build_model("stats", beams=2)
