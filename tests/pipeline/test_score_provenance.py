"""scores.json carries the provenance a reviewer needs: code commit, package versions, the model's
description, sha256 of its inputs, finish reasons, and every deviation (model, task, command line)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

TESTS_DIR = Path(__file__).resolve().parent


def test_scores_json_provenance_and_deviations(tmp_path):
    runs = tmp_path / "runs"
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(8000, dtype=np.float32), 16000, subtype="PCM_16")
    examples = runs / "demo" / "demo-en2de" / "examples.jsonl"
    examples.parent.mkdir(parents=True)
    examples.write_text(json.dumps({"id": "x1", "task": "demo-en2de", "audio": str(wav), "prompt": "p",
                                    "references": ["ein Satz"], "meta": {}}) + "\n")
    env = dict(os.environ, AUDIOREPRO_RUNS=str(runs), AUDIOREPRO_MODEL_PLUGINS="toy=toy_models:SlowSignalStats",
               PYTHONPATH=os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]))
    common = ["--suite", "demo", "--tasks", "demo-en2de", "--models", "toy"]
    subprocess.run([sys.executable, "-m", "audiorepro.cli", "predict", *common, "--decoding", "max_new_tokens=3",
                    "--no-progress"], env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "audiorepro.cli", "score", *common], env=env, check=True, capture_output=True)

    scores = json.loads((runs / "demo" / "demo-en2de" / "toy" / "scores.json").read_text())
    prov = scores["provenance"]
    assert scores["main_metric"] == "bleu" and scores["n"] == 1
    assert len(prov["code_commit"] or "") in (0, 40)
    assert "torch" in prov["package_versions"] and "sacrebleu" in prov["package_versions"]
    assert prov["examples_sha256"] == hashlib.sha256(examples.read_bytes()).hexdigest()
    assert prov["decoding"]["max_new_tokens"] == 3
    assert prov["finish_reasons"] == {"eos": 1}
    deviations = {(d["name"], d["value"]) for d in prov["deviations"]}
    assert ("model", "toy test double") in deviations  # from the model's describe()
    assert ("decoding.max_new_tokens", "64 (demo budget)") in deviations  # from the task YAML
    assert ("decoding.max_new_tokens", "3") in deviations  # from the command line
