"""Background preparation of batches (audiorepro.prefetch and its use in the predict runner):
results in order and unchanged, errors surface, and preparation overlaps generation."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiorepro.prefetch import prefetched

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipeline"))
from toy_models import SlowPrepareStats  # noqa: E402


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_order_kept_when_later_items_finish_first(depth):
    def prepare(i):
        time.sleep(0.02 * (5 - i))  # the first items are the slowest
        return i * i

    assert list(prefetched(range(6), prepare, depth=depth, workers=3)) == [0, 1, 4, 9, 16, 25]


def test_error_in_worker_reaches_the_consumer():
    def prepare(i):
        if i == 2:
            raise ValueError("bad item 2")
        return i

    got = []
    with pytest.raises(ValueError, match="bad item 2"):
        for x in prefetched(range(5), prepare, depth=2):
            got.append(x)
    assert got == [0, 1]


def _examples(tmp_path: Path, n: int) -> Path:
    rng = np.random.default_rng(1)
    lines = []
    for i in range(n):
        wav = tmp_path / f"clip{i}.wav"
        sf.write(wav, (0.1 * rng.standard_normal(800 * (i % 3 + 1))).astype(np.float32), 16000, subtype="PCM_16")
        lines.append({"id": f"item{i}", "task": "demo-asr", "audio": str(wav), "prompt": "p", "references": ["x"], "meta": {}})
    path = tmp_path / "examples.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def _predict(tmp_path, monkeypatch, model, prefetch, name):
    from audiorepro.predict import predict_task
    from audiorepro.tasks import load_task

    monkeypatch.setenv("AUDIOREPRO_RUNS", str(tmp_path / name))
    model.name = "toy"
    start = time.perf_counter()
    out = predict_task(load_task("demo-asr"), _examples(tmp_path, 8), model, "toy", batch_size=2, progress=False, prefetch=prefetch)
    return out.read_text().splitlines(), time.perf_counter() - start


def test_prefetch_changes_neither_predictions_nor_their_order(tmp_path, monkeypatch):
    inline, _ = _predict(tmp_path, monkeypatch, SlowPrepareStats(delay=0.0), 0, "inline")
    ahead, _ = _predict(tmp_path, monkeypatch, SlowPrepareStats(delay=0.0), 2, "ahead")
    strip = [{k: v for k, v in json.loads(x).items() if k != "seconds"} for x in inline]
    assert [{k: v for k, v in json.loads(x).items() if k != "seconds"} for x in ahead] == strip
    assert len(strip) == 8 and len({p["output"] for p in strip}) >= 3


def test_preparation_overlaps_generation(tmp_path, monkeypatch):
    """4 batches, 0.3 s to prepare and 0.3 s to generate each: 2.4 s one after the other, about
    1.5 s (first prepare + 4 generates) when the next batch is prepared during generation."""
    _, inline = _predict(tmp_path, monkeypatch, SlowPrepareStats(delay=0.3, prepare_delay=0.3), 0, "inline")
    _, ahead = _predict(tmp_path, monkeypatch, SlowPrepareStats(delay=0.3, prepare_delay=0.3), 2, "ahead")
    assert inline >= 2.4
    assert ahead < 2.0, f"no overlap: {ahead:.2f} s with prefetch vs {inline:.2f} s without"
