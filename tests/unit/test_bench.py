"""`make bench` (audiorepro.bench): the floor formula, and both benches' code paths on the tiny
parity network on the CPU (the GPU path with device="cpu"), where batching must not change ids."""

from __future__ import annotations

import pytest

from audiorepro import bench


def test_floor_for_table3_on_an_h100():
    """Issue 12's setting by hand: 120k generations, batch 32, 200 tokens, 26e9 bytes of fp16
    13B weights, 3.35 TB/s: 3750 batches x 200 steps x 7.76 ms = 1.62 h."""
    assert bench.floor_hours(120_000, 32, 200, 26e9, 3.35e12) == pytest.approx(1.617, abs=0.001)
    # batch 1: every generation pays the full weight read per step
    assert bench.floor_hours(120_000, 1, 200, 26e9, 3.35e12) == pytest.approx(51.74, abs=0.01)


@pytest.fixture(scope="module")
def tiny():
    return bench.tiny_salmonn()


def test_gpu_bench_code_path_on_the_tiny_network(tiny):
    result = bench.bench_gpu(
        "13b", [1, 2], items=4, new_tokens=3, seconds=1.0, reference_items=2, device="cpu", network=tiny.network
    )
    rows = result["rows"]
    assert [r["batch_size"] for r in rows] == [1, 2]
    # batch 1 only over the first two items; the batched run over all four
    assert [r["items"] for r in rows] == [2, 4]
    # float32 on the CPU: a batch gives every item its one-by-one ids
    assert [r["ids_differ_from_batch1"] for r in rows] == ["0/2", "0/2"]
    assert [r["nonfinite_scores"] for r in rows] == [0, 0]
    assert result["logit_drift"]["2"]["same_argmax"] and result["logit_drift"]["2"]["max_abs_diff"] < 1e-3
    for r in rows:
        assert r["table3_hours"] == pytest.approx(bench.TABLE3_GENERATIONS / r["items_per_s"] / 3600, rel=0.01)
        assert r["tokens_per_s"] == pytest.approx(3 * r["items_per_s"], abs=0.06)  # both rounded
    table = bench.gpu_markdown(result)
    assert table.count("\n| 1 |") == 1 and table.count("\n| 2 |") == 1


def test_qwen2_audio_bench_code_path_on_a_tiny_model(tmp_path):
    from transformers import Qwen2AudioForConditionalGeneration

    from sakura_support import build_tiny_qwen2_audio

    model = Qwen2AudioForConditionalGeneration.from_pretrained(build_tiny_qwen2_audio(tmp_path)).eval()
    result = bench.bench_qwen2_audio([1, 2], items=4, new_tokens=3, seconds=1.0, reference_items=2, device="cpu", model=model)
    # the processor's count for 1 s: 100 mel frames -> (100 - 1) // 2 + 1 = 50 after the conv
    # stride, -> (50 - 2) // 2 + 1 = 25 after the pooling
    assert result["audio_tokens"] == 25
    assert result["prompt_tokens"] == 25 + 44
    rows = result["rows"]
    assert [r["items"] for r in rows] == [2, 4]
    assert [r["ids_differ_from_batch1"] for r in rows] == ["0/2", "0/2"]
    for r in rows:
        assert r["sakura_hours"] == pytest.approx(bench.SAKURA_GENERATIONS / r["items_per_s"] / 3600, rel=0.01)
    assert "| 2 |" in bench.gpu_markdown(result)


def test_qwen2_audio_config_has_the_published_checkpoint_size():
    """The bench's Qwen2-Audio-7B-Instruct network holds as many bf16 bytes as the five published
    safetensors shards: 3.91 + 3.98 + 3.98 + 3.64 + 1.28 = 16.79 GB."""
    import torch
    from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration

    with torch.device("meta"):
        model = Qwen2AudioForConditionalGeneration(Qwen2AudioConfig(**bench.QWEN2_AUDIO_7B_CONFIG))
    bf16_bytes = 2 * sum(p.numel() for p in model.parameters())
    assert bf16_bytes == pytest.approx(16.79e9, rel=0.005)


def test_cpu_bench_reports_identical_ids_and_a_stage_split(tiny, monkeypatch):
    monkeypatch.setattr(bench, "tiny_salmonn", lambda: tiny)
    result = bench.bench_cpu(items=4, batch_size=2, max_new_tokens=4, torchrun=False, threads=1, repeats=1)
    assert [r["num_beams"] for r in result["rows"]] == [1, 4]
    for row in result["rows"]:
        assert row["identical_ids"] == "4/4"
        for key in ("batch1", "batched"):
            m = row[key]
            assert sum(m["stage_seconds"].values()) <= m["seconds"] + 0.01
    assert "| 4 | 2 |" in bench.cpu_markdown(result)
