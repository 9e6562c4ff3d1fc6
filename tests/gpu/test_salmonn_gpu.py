"""SALMONN on a CUDA GPU (opt in with --run-gpu).

1. Real checkpoints: set AUDIOREPRO_SALMONN_PRESET (salmonn-13b-v1 | salmonn-7b; components found
   in the fetched cache) or the four explicit paths SALMONN_WHISPER_PATH, SALMONN_BEATS_PATH,
   SALMONN_LLM_PATH, SALMONN_CKPT_PATH; plus SALMONN_TEST_AUDIO (an English speech file, e.g. a
   LibriSpeech test-clean flac) and SALMONN_TEST_TRANSCRIPT (its reference text).
2. Throughput with random full-size weights (no checkpoints needed): samples/s at batch 1 vs
   batched, beam 4, fp16 LLM (audiorepro.bench; `make bench DEVICE=cuda` is the full version).
   SALMONN_BENCH_SIZE=13b|7b (default 13b), SALMONN_BENCH_OUT=path for the JSON result (default:
   printed only). Takes a few minutes on one H100."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu


def _real_model_options():
    explicit = {
        "whisper_path": os.environ.get("SALMONN_WHISPER_PATH"),
        "beats_path": os.environ.get("SALMONN_BEATS_PATH"),
        "llm_path": os.environ.get("SALMONN_LLM_PATH"),
        "ckpt_path": os.environ.get("SALMONN_CKPT_PATH"),
    }
    preset = os.environ.get("AUDIOREPRO_SALMONN_PRESET")
    if preset is None and not all(explicit.values()):
        pytest.skip("set AUDIOREPRO_SALMONN_PRESET or SALMONN_{WHISPER,BEATS,LLM,CKPT}_PATH")
    return {"preset": preset, **{k: v for k, v in explicit.items() if v}}


def test_real_checkpoint_transcribes_speech():
    import jiwer

    from audiorepro.audio import load_audio
    from audiorepro.models.base import GenerationRequest
    from audiorepro.models.salmonn import SalmonnModel

    audio_path = os.environ.get("SALMONN_TEST_AUDIO")
    transcript = os.environ.get("SALMONN_TEST_TRANSCRIPT")
    if not audio_path or not transcript:
        pytest.skip("set SALMONN_TEST_AUDIO and SALMONN_TEST_TRANSCRIPT")
    model = SalmonnModel(**_real_model_options(), dtype="float16", device="cuda")
    audio = load_audio(audio_path, max_seconds=30)
    request = GenerationRequest(
        id="asr", prompt="Recognize the speech and give me the transcription.", audio=audio
    )
    [result] = model.generate([request], model.default_decoding())
    # the symptom of a wrong Vicuna or a LoRA that did not load is an empty answer (issues #78, #91)
    assert result.text.strip(), f"empty output: raw {result.raw_text!r}"
    assert result.finish_reason == "eos"
    hypothesis = "".join(c for c in result.text.lower() if c.isalnum() or c == " ")
    reference = "".join(c for c in transcript.lower() if c.isalnum() or c == " ")
    assert jiwer.wer(reference, hypothesis) < 0.15, result.text


def test_throughput_random_full_size_weights():
    """Batched beam search beats batch 1 on full-size weights (audiorepro.bench, as `make bench
    DEVICE=cuda` runs it, with fewer items)."""
    from audiorepro.bench import bench_gpu

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    size = os.environ.get("SALMONN_BENCH_SIZE", "13b")
    result = bench_gpu(size, [1, 8], items=16, new_tokens=64, seconds=10.0)
    print(json.dumps(result, indent=2))
    if os.environ.get("SALMONN_BENCH_OUT"):
        Path(os.environ["SALMONN_BENCH_OUT"]).write_text(json.dumps(result, indent=2) + "\n")
    single, batched = result["rows"]
    assert batched["items_per_s"] > single["items_per_s"], result
