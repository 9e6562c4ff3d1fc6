"""Kill tests (issue 9 and issue 10): `audiorepro run --suite demo --models cascade` (what `make
demo` runs, with the demo's real Whisper tiny.en + SmolLM2-135M weights) is killed with SIGKILL at
seeded random moments and rerun each time. The final predictions must equal an uninterrupted
run's byte for byte (ignoring the `seconds` timing field), with no duplicate or lost id, no rerun
refused, and the same scores; a rerun of the finished suite loads no model and takes seconds.

The default version kills 5 times on three items of two demo tasks with short answers (ASR:
Whisper only; spoken QA: Whisper, then the lazily loaded LLM, where a describe()-based fingerprint
used to refuse every resume); the slow versions kill the whole demo run 10 times (issue 9) and
`audiorepro predict` 20 times over the whole prepared demo suite (issue 10)."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REFUSAL = "existing predictions were made"


def _env(root: Path) -> dict:
    env = dict(os.environ)
    # runs and reports in the sandbox; cache/ (the converted demo weights) stays the checkout's
    env.update(AUDIOREPRO_RUNS=str(root / "runs"), AUDIOREPRO_REPORTS=str(root / "reports"), PYTHONUNBUFFERED="1")
    return env


# The default-run version: 3 items per task, one per batch (more moments between appends), and
# short answers; the slow version kills `predict` over the whole prepared demo suite (issue 10).
QUICK = ["--tasks", "demo-asr,demo-sqqa", "--limit", "3", "--batch-size", "1", "--decoding", "max_new_tokens=24"]
FULL = ["--batch-size", "2"]


def _cmd(stage: str, options: list[str]) -> list[str]:
    """`run` (all stages, what `make demo` runs) or `predict` (examples prepared beforehand)."""
    return [sys.executable, "-m", "audiorepro.cli", stage, "--suite", "demo", "--models", "cascade", "--no-progress", *options]


def _prediction_files(root: Path) -> list[Path]:
    return sorted((root / "runs" / "demo").glob("*/cascade/predictions*.jsonl"))


def _lines_on_disk(root: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in _prediction_files(root))


def _without_timing(text: str) -> str:
    return re.sub(r'"seconds": [0-9.eE+-]+', '"seconds": 0', text)


def _scores(root: Path) -> dict[str, float]:
    return {
        p.parent.parent.name: json.loads(p.read_text())["value"]
        for p in sorted((root / "runs" / "demo").glob("*/cascade/scores.json"))
    }


def _run_with_kills(root: Path, stage: str, options: list[str], n_kills: int, total_lines: int, seed: int) -> list[str]:
    """Start the run again and again; kill #i once `threshold_i` predictions are on disk plus a
    random delay (thresholds sorted, so kills spread over the whole run, some before the first
    prediction). Returns what happened to each attempt."""
    rng = random.Random(seed)
    thresholds = sorted(rng.randrange(0, total_lines) for _ in range(n_kills))
    delays = [rng.uniform(0.0, 2.5) for _ in range(n_kills)]
    outcomes = []
    for threshold, delay in zip(thresholds, delays, strict=True):
        proc = subprocess.Popen(_cmd(stage, options), env=_env(root), cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.time() + 300
        while proc.poll() is None and _lines_on_disk(root) < threshold and time.time() < deadline:
            time.sleep(0.02)
        end = time.time() + delay
        while proc.poll() is None and time.time() < end:
            time.sleep(0.02)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        assert REFUSAL not in err, err[-2000:]
        assert proc.returncode in (0, -signal.SIGKILL), (proc.returncode, err[-2000:])
        outcomes.append("killed" if proc.returncode == -signal.SIGKILL else "finished")
    final = subprocess.run(_cmd(stage, options), env=_env(root), cwd=REPO, capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr[-3000:]
    return outcomes


def _kill_and_compare(tmp_path: Path, stage: str, options: list[str], n_kills: int, seed: int) -> None:
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    if stage == "predict":
        for root in (reference, killed):
            prepare = [sys.executable, "-m", "audiorepro.cli", "prepare", "--suite", "demo"]
            subprocess.run(prepare, env=_env(root), cwd=REPO, check=True, capture_output=True, timeout=300)
    first = subprocess.run(_cmd(stage, options), env=_env(reference), cwd=REPO, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr[-3000:]
    examples = {
        p.parent.name: [json.loads(x)["id"] for x in p.read_text().splitlines()]
        for p in sorted((reference / "runs" / "demo").glob("*/examples.jsonl"))
    }
    total = sum(len(ids) for ids in examples.values())

    outcomes = _run_with_kills(killed, stage, options, n_kills, total, seed)
    assert outcomes.count("killed") >= n_kills // 2, outcomes  # the kills really interrupted runs

    ref_files = [p.relative_to(reference) for p in _prediction_files(reference)]
    assert [p.relative_to(killed) for p in _prediction_files(killed)] == ref_files
    for rel in ref_files:
        got, want = (killed / rel).read_text(), (reference / rel).read_text()
        ids = [json.loads(x)["id"] for x in got.splitlines()]
        assert len(ids) == len(set(ids)), f"{rel}: duplicate ids"
        assert sorted(ids) == sorted(examples[rel.parts[2]]), f"{rel}: lost or unknown ids"
        assert _without_timing(got) == _without_timing(want), rel
    if stage == "predict":
        return
    assert _scores(killed) == _scores(reference)

    # a rerun of the finished suite: no model load, no refusal, same report, in seconds
    compare_before = json.loads((killed / "reports" / "demo" / "compare.json").read_text())
    t0 = time.perf_counter()
    again = subprocess.run(_cmd(stage, options), env=_env(killed), cwd=REPO, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - t0
    assert again.returncode == 0, again.stderr[-3000:]
    assert "load model" not in again.stdout and "model not loaded" in again.stdout
    assert f"report: {killed / 'reports' / 'demo' / 'index.html'}" in again.stdout
    assert elapsed < 15, elapsed
    compare_after = json.loads((killed / "reports" / "demo" / "compare.json").read_text())
    cells = lambda doc: [(c["cell"], c["ours"]["value"], c["verdict"]) for row in doc["comparisons"] for c in row["cells"]]  # noqa: E731
    assert cells(compare_after) == cells(compare_before)


def test_demo_killed_5_times_equals_an_uninterrupted_run(tmp_path):
    _kill_and_compare(tmp_path, "run", QUICK, n_kills=5, seed=9)


@pytest.mark.slow
def test_make_demo_killed_10_times_equals_an_uninterrupted_run(tmp_path):
    """Issue 9's acceptance: the whole demo as `make demo` runs it, 10 kills."""
    _kill_and_compare(tmp_path, "run", FULL, n_kills=10, seed=11)


@pytest.mark.slow
def test_demo_predict_killed_20_times_equals_an_uninterrupted_run(tmp_path):
    _kill_and_compare(tmp_path, "predict", FULL, n_kills=20, seed=10)


def test_cascade_identity_ignores_timings_and_lazy_state():
    """The resume fingerprint must not change once the LLM is loaded, nor between two loads
    (describe() holds a conversion time and the resolved template)."""
    from audiorepro.models.cascade import CascadeModel

    first = CascadeModel(device="cpu")
    before = first.identity()
    first._load_llm()
    assert first.identity() == before
    assert "prepare_seconds" not in json.dumps(before)
    assert CascadeModel(device="cpu").identity() == before
    assert CascadeModel(device="cpu", llm_template="vicuna_v1.1").identity() != before
