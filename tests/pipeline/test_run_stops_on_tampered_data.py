"""A tampered bundled file stops `audiorepro run` at the fetch stage, before any model is loaded,
with the file name, both hashes and the advice to restore it from git in the message; nothing is
predicted. (A row of the fault table, docs/faults.md.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_tampered_bundled_wav_stops_the_demo_run(tmp_path):
    root = tmp_path / "checkout"
    for sub in ("data_manifests", "data", "expected"):
        shutil.copytree(REPO / sub, root / sub)
    (root / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    victim = root / "data" / "demo" / "librivox" / "sense_and_sensibility_01_austen_64kb-0890.wav"
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0xFF  # same size, different content
    victim.write_bytes(bytes(data))

    env = dict(os.environ, AUDIOREPRO_ROOT=str(root), AUDIOREPRO_CACHE=str(tmp_path / "cache"),
               AUDIOREPRO_RUNS=str(tmp_path / "runs"), AUDIOREPRO_REPORTS=str(tmp_path / "reports"))
    result = subprocess.run(
        [sys.executable, "-m", "audiorepro.cli", "run", "--suite", "demo", "--models", "cascade", "--no-progress"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "sha256 mismatch" in result.stderr
    # a bundled file cannot be fetched again: the advice is to restore it from git
    assert "restore it with `git checkout -- <file>`" in result.stderr and "fetch again" not in result.stderr
    assert "sense_and_sensibility_01_austen_64kb-0890.wav" in result.stderr
    assert "load model" not in result.stdout  # stopped before any model work
    assert not list((tmp_path / "runs").rglob("predictions.jsonl"))
