"""Resume after SIGKILL: `audiorepro predict` is killed at several points and restarted; the final
predictions must equal an uninterrupted run, with no duplicate and no lost id."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

N_ITEMS = 12
TESTS_DIR = Path(__file__).resolve().parent


def _write_examples(runs: Path, audio_dir: Path) -> None:
    audio_dir.mkdir(parents=True)
    rng = np.random.default_rng(0)
    lines = []
    for i in range(N_ITEMS):
        n = 1600 * (i % 5 + 1)  # mixed lengths so length-sorting reorders them
        wav = audio_dir / f"clip{i:02d}.wav"
        sf.write(wav, (0.1 * rng.standard_normal(n)).astype(np.float32), 16000, subtype="PCM_16")
        lines.append({"id": f"item{i:02d}", "task": "demo-asr", "audio": str(wav), "prompt": "p", "references": ["x"], "meta": {}})
    path = runs / "demo" / "demo-asr" / "examples.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


def _env(runs: Path, delay: float) -> dict:
    env = dict(os.environ)
    env.update(
        AUDIOREPRO_RUNS=str(runs),
        AUDIOREPRO_MODEL_PLUGINS="toy-signal-stats=toy_models:SlowSignalStats",
        PYTHONPATH=os.pathsep.join([str(TESTS_DIR), env.get("PYTHONPATH", "")]),
        TOY_MODEL_DELAY=str(delay),
    )
    return env


CMD = [sys.executable, "-m", "audiorepro.cli", "predict", "--suite", "demo", "--tasks", "demo-asr",
       "--models", "toy-signal-stats", "--batch-size", "2", "--no-progress"]


def _predictions(runs: Path) -> list[str]:
    return (runs / "demo" / "demo-asr" / "toy-signal-stats" / "predictions.jsonl").read_text().splitlines()


def _kill_after_lines(runs: Path, n_lines: int) -> None:
    """Start predict, SIGKILL it once `n_lines` predictions are on disk."""
    out = runs / "demo" / "demo-asr" / "toy-signal-stats" / "predictions.jsonl"
    proc = subprocess.Popen(CMD, env=_env(runs, delay=0.3), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline:
        if out.exists() and len(out.read_bytes().splitlines()) >= n_lines:
            break
        if proc.poll() is not None:
            pytest.fail(f"predict exited early: {proc.stderr.read().decode()}")
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_sigkill_resume_equals_uninterrupted_run(tmp_path):
    reference_runs, killed_runs = tmp_path / "ref", tmp_path / "killed"
    _write_examples(reference_runs, tmp_path / "audio")
    (killed_runs / "demo" / "demo-asr").mkdir(parents=True)
    (killed_runs / "demo" / "demo-asr" / "examples.jsonl").write_bytes(
        (reference_runs / "demo" / "demo-asr" / "examples.jsonl").read_bytes()
    )

    subprocess.run(CMD, env=_env(reference_runs, delay=0.0), check=True, capture_output=True)
    expected = {json.loads(x)["id"]: json.loads(x)["output"] for x in _predictions(reference_runs)}
    assert len(expected) == N_ITEMS

    for n_lines in (1, 4, 7):
        _kill_after_lines(killed_runs, n_lines)
    # A crash in the middle of a write leaves a torn line: simulate one on top of the kills.
    out = killed_runs / "demo" / "demo-asr" / "toy-signal-stats" / "predictions.jsonl"
    with out.open("a") as f:
        f.write('{"id": "item99", "output": "torn')
    done = subprocess.run(CMD, env=_env(killed_runs, delay=0.0), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "torn last line" in done.stdout

    lines = _predictions(killed_runs)
    ids = [json.loads(x)["id"] for x in lines]
    assert len(ids) == len(set(ids)) == N_ITEMS, "duplicate or lost ids after resume"
    assert {json.loads(x)["id"]: json.loads(x)["output"] for x in lines} == expected


def test_resume_refuses_other_decoding(tmp_path):
    runs = tmp_path / "runs"
    _write_examples(runs, tmp_path / "audio")
    subprocess.run(CMD, env=_env(runs, 0.0), check=True, capture_output=True)
    other = subprocess.run([*CMD, "--decoding", "max_new_tokens=3"], env=_env(runs, 0.0), capture_output=True, text=True)
    assert other.returncode == 2
    assert "made with another decoding (max_new_tokens " in other.stderr
    # the message names a flag that exists, and that flag resolves it
    assert "--restart" in other.stderr and "--run-name" not in other.stderr
    again = subprocess.run([*CMD, "--decoding", "max_new_tokens=3", "--restart"], env=_env(runs, 0.0), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
