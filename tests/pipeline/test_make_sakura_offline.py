"""`make sakura-fixture` offline with a verdict file: predictions come from a tiny random
Qwen2-Audio registered under the `qwen2-audio` name (a test double standing in for the 7B model),
verdicts are imported from a JSONL (no judge, no network), and the report compares every cell with
the paper row, with Wald intervals and the row's CCC."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from audiorepro.tasks import list_tasks

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"


def _env(tmp_path: Path) -> dict:
    env = dict(os.environ)
    env.update(
        AUDIOREPRO_RUNS=str(tmp_path / "runs"),
        AUDIOREPRO_REPORTS=str(tmp_path / "reports"),
        AUDIOREPRO_CACHE=str(tmp_path / "cache"),
        AUDIOREPRO_MODEL_PLUGINS="qwen2-audio=sakura_support:tiny_qwen2_audio_model",
        SAKURA_TINY_QWEN2_AUDIO=str(tmp_path / "tiny"),
        PYTHONPATH=os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")]),
    )
    return env


def _make(tmp_path: Path, judge: str) -> subprocess.CompletedProcess:
    """`judge` is the README's plain Make variable, JUDGE=matcher or VERDICTS=FILE."""
    cmd = ["make", "-s", "sakura-fixture", "MODELS=qwen2-audio", judge,
           "SAKURA_RUN_FLAGS=--decoding max_new_tokens=6 --no-progress"]
    return subprocess.run(cmd, cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(not (REPO / ".venv" / "bin" / "audiorepro").exists(), reason="needs `make setup` (.venv)")
def test_make_sakura_fixture_with_a_verdict_file(tmp_path):
    # 1. a first run judged by the matcher produces the verdicts a reviewer would ship
    first = _make(tmp_path, "JUDGE=matcher")
    assert first.returncode == 0, first.stderr[-3000:]
    tasks = [t.name for t in list_tasks("sakura")]
    shipped = tmp_path / "shipped_verdicts.jsonl"
    shipped.write_text("".join((tmp_path / "runs" / "sakura" / t / "qwen2-audio" / "verdicts.jsonl").read_text() for t in tasks))
    expected_values = {
        t: json.loads((tmp_path / "runs" / "sakura" / t / "qwen2-audio" / "scores.json").read_text())["value"] for t in tasks
    }

    # 2. a reviewer without any judge: wipe verdicts and the judge cache, rescore from the file
    for t in tasks:
        (tmp_path / "runs" / "sakura" / t / "qwen2-audio" / "verdicts.jsonl").unlink()
    for f in (tmp_path / "cache" / "judge").glob("*"):
        f.unlink()
    second = _make(tmp_path, f"VERDICTS={shipped}")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "reports/sakura/index.html" in second.stdout

    values = {t: json.loads((tmp_path / "runs" / "sakura" / t / "qwen2-audio" / "scores.json").read_text())["value"] for t in tasks}
    assert values == expected_values

    compare = json.loads((tmp_path / "reports" / "sakura" / "compare.json").read_text())
    (row,) = [c for c in compare["comparisons"] if c["model"] == "qwen2-audio"]
    assert row["row"] == "qwen2-audio-instruct"
    cells = {c["cell"]: c for c in row["cells"]}
    assert set(cells) == {*tasks, "sakura-avg-single", "sakura-avg-multi"}
    for cell in cells.values():
        assert cell["verdict"] in {"reproduced", "deviates"}
        assert cell["paper"] is not None and cell["ours"]["ci"] is not None
    assert cells["sakura-gender-single"]["paper"] == 88.0  # the leaderboard's Qwen2-Audio-Instruct value
    assert row["agreement"]["n"] == 10 and row["agreement"]["ccc"] is not None
    deviations = {d["name"] for d in row["deviations"]}
    assert {"data_subset", "judge"} <= deviations  # the fixture subset and the non-GPT-4o judge are shown
    html = (tmp_path / "reports" / "sakura" / "index.html").read_text()
    assert "CCC" in html and "data_subset" in html
