"""Issue 10 item 7: "not run because gated data is not placed yet" is a normal state (exit 0, the
other tasks go on), but "not run because something is broken" (a malformed manifest, a missing
bundled file, a bad task YAML) is a failure: the run exits non-zero, the message names the file,
the report shows the task as "failed", and nothing is written that a later stage could mistake for
a result of that task.

Each case runs `audiorepro run --suite demo` in a sandbox checkout (AUDIOREPRO_ROOT: copies of
data_manifests/, data/ and expected/) with a signal-statistics test double as the model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SPOKEN_MANIFEST = Path("data_manifests/datasets/demo-spoken.yaml")


@pytest.fixture
def checkout(tmp_path) -> Path:
    root = tmp_path / "checkout"
    for sub in ("data_manifests", "data", "expected"):
        shutil.copytree(REPO / sub, root / sub)
    (root / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    return root


def _run(checkout: Path, *extra: str) -> subprocess.CompletedProcess:
    sandbox = checkout.parent
    env = dict(
        os.environ,
        AUDIOREPRO_ROOT=str(checkout),
        AUDIOREPRO_CACHE=str(sandbox / "cache"),
        AUDIOREPRO_RUNS=str(sandbox / "runs"),
        AUDIOREPRO_REPORTS=str(sandbox / "reports"),
        # the test double under the demo row's model name, so compare.json has the row
        AUDIOREPRO_MODEL_PLUGINS="cascade=failing_models:SignalStats",
        PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
    )
    cmd = [sys.executable, "-m", "audiorepro.cli", "run", "--suite", "demo", "--models", "cascade", "--no-progress", *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def _verdicts(checkout: Path) -> dict[str, tuple[str, str]]:
    doc = json.loads((checkout.parent / "reports" / "demo" / "compare.json").read_text())
    (row,) = [c for c in doc["comparisons"] if c["model"] == "cascade"]
    return {c["cell"]: (c["verdict"], c["reason"]) for c in row["cells"]}


def _task_outputs(checkout: Path, task: str) -> list[str]:
    folder = checkout.parent / "runs" / "demo" / task
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _assert_only_asr_scored(checkout: Path) -> None:
    assert (checkout.parent / "runs" / "demo" / "demo-asr" / "cascade" / "scores.json").is_file()
    for task in ("demo-en2de", "demo-sqqa"):
        assert _task_outputs(checkout, task) == [], task  # no examples, predictions or scores


def test_gated_data_not_placed_is_not_run_and_exits_0(checkout):
    manifest = checkout / SPOKEN_MANIFEST
    text = manifest.read_text()
    text = text.replace("access: bundled\nsource:\n  type: bundled\n", "access: gated\nsource:\n  type: manual\n  gated: true\n")
    text = text.replace("local_root: data/demo/spoken", "local_root: data/demo/not-placed-yet").replace("trust: bundled", "trust: tofu")
    manifest.write_text(text)

    result = _run(checkout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not run: demo-en2de: dataset demo-spoken not available" in result.stdout
    assert "FAILED" not in result.stdout
    _assert_only_asr_scored(checkout)
    assert "failed" not in {verdict for verdict, _ in _verdicts(checkout).values()}
    summary = json.loads((checkout.parent / "runs" / "demo" / "run_summary.json").read_text())
    assert set(summary["not_run"]) == {"demo-en2de", "demo-sqqa"}
    assert summary["broken"] == {} and summary["failed"] == {}


def test_malformed_manifest_is_a_failure(checkout):
    manifest = checkout / SPOKEN_MANIFEST
    manifest.write_text(manifest.read_text().replace("preparer: demo_spoken", "preparer: demo_spoken\nprepaer_options: {}"))

    result = _run(checkout)
    assert result.returncode == 1, result.stdout + result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("FAILED: demo-en2de"))
    assert "demo-spoken.yaml" in line and "prepaer_options" in line
    assert "2 task(s) failed" in result.stderr
    _assert_only_asr_scored(checkout)
    verdicts = _verdicts(checkout)
    assert verdicts["demo-en2de"][0] == "failed" and "demo-spoken.yaml" in verdicts["demo-en2de"][1]
    summary = json.loads((checkout.parent / "runs" / "demo" / "run_summary.json").read_text())
    assert set(summary["broken"]) == {"demo-en2de", "demo-sqqa"}


def test_missing_bundled_file_is_a_failure(checkout):
    (checkout / "data" / "demo" / "spoken" / "q03.wav").unlink()

    result = _run(checkout)
    assert result.returncode == 1, result.stdout + result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("FAILED: demo-sqqa"))
    assert "q03.wav" in line and "bundled file" in line and "missing" in line
    _assert_only_asr_scored(checkout)
    assert _verdicts(checkout)["demo-sqqa"][0] == "failed"


def test_bad_task_yaml_stops_the_run_naming_the_file(tmp_path, monkeypatch, capsys):
    """Task YAMLs live in the package; a copy with one broken file stands in for an edited checkout."""
    import audiorepro.tasks as tasks_module
    from audiorepro.cli import main

    tasks_dir = tmp_path / "tasks"
    shutil.copytree(Path(tasks_module.__file__).parent, tasks_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    bad = tasks_dir / "demo" / "demo-sqqa.yaml"
    bad.write_text(bad.read_text().replace("suite: demo", "suite: demo\nsuit: demo"))
    monkeypatch.setattr(tasks_module, "TASKS_DIR", tasks_dir)
    tasks_module._index.cache_clear()
    monkeypatch.setenv("AUDIOREPRO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("AUDIOREPRO_REPORTS", str(tmp_path / "reports"))
    try:
        code = main(["run", "--suite", "demo", "--models", "cascade", "--no-progress"])
    finally:
        tasks_module._index.cache_clear()
    err = capsys.readouterr().err
    assert code == 2
    first = err.splitlines()[0]
    assert first.startswith("audiorepro: error: ") and "demo-sqqa.yaml" in first and "suit" in first
    assert not (tmp_path / "runs").exists()  # stopped before anything was written
