"""SALMONN on a CUDA GPU (opt in with --run-gpu).

1. Real checkpoints: set AUDIOREPRO_SALMONN_PRESET (salmonn-13b-v1 | salmonn-7b; components found
   in the fetched cache) or the four explicit paths SALMONN_WHISPER_PATH, SALMONN_BEATS_PATH,
   SALMONN_LLM_PATH, SALMONN_CKPT_PATH; plus SALMONN_TEST_AUDIO (an English speech file, e.g. a
   LibriSpeech test-clean flac) and SALMONN_TEST_TRANSCRIPT (its reference text).
2. Throughput with random full-size weights (no checkpoints needed): samples/s at batch 1 vs
   batched, beam 4, fp16 LLM. SALMONN_BENCH_SIZE=13b|7b (default 13b), SALMONN_BENCH_OUT=path for
   the JSON result (default: printed only). Takes a few minutes on one H100."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
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


def _random_full_size_network(size: str):
    """SALMONN with random weights and the released sizes (from checkpoint_keys/), on the GPU:
    fp32 encoders under fp16 autocast, fp16 LLaMA, fp32 LoRA (as the reference runs)."""
    from transformers import LlamaConfig, LlamaForCausalLM, WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    from audiorepro.models.salmonn.beats import BEATs, BEATsConfig
    from audiorepro.models.salmonn.loading import assemble, checkpoint_layout

    name = {"13b": "salmonn_13b_v1", "7b": "salmonn_7b"}[size]
    info = json.loads(
        (Path(__file__).parents[1] / "fixtures" / "checkpoint_keys" / f"{name}.json").read_text()
    )
    state = {e["key"]: torch.empty(e["shape"], device="meta") for e in info["keys"]}
    with torch.device("cuda"):
        encoder = WhisperEncoder(WhisperConfig(**info["whisper_config"]))
        beats = BEATs(BEATsConfig.from_dict(info["beats_config"]))
        llm = LlamaForCausalLM._from_config(LlamaConfig(**info["llama_config"]), dtype=torch.float16)
        network = assemble(
            encoder,
            beats,
            llm,
            checkpoint_layout(state),
            whisper_d_model=1280,
            lora_scaling=4.0,
            qformer_num_heads=12,
        )
    network.encoder_autocast_dtype = torch.float16
    return network.eval(), info


def _run(network, features, waveforms, prompt_ids, settings):
    from audiorepro.models.salmonn.generation import beam_search

    encoding = network.encode_speech(features, waveforms)
    llm = network.llama_model.get_base_model()
    embeds, mask = network.build_inputs_embeds(encoding.speech_embeds, prompt_ids, 1, llm.dtype)
    return beam_search(llm, embeds, mask, settings)


def test_throughput_random_full_size_weights():
    from transformers import WhisperFeatureExtractor

    from audiorepro.models.salmonn.generation import SearchSettings

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    size = os.environ.get("SALMONN_BENCH_SIZE", "13b")
    network, info = _random_full_size_network(size)
    params = {
        "whisper_encoder": sum(p.numel() for p in network.speech_encoder.parameters()),
        "beats": sum({id(p): p.numel() for p in network.beats.parameters()}.values()),
        "llm_incl_lora": sum(p.numel() for p in network.llama_model.parameters()),
        "trained_share": info["numel_params"],
    }
    rng = np.random.default_rng(0)
    num_items, batch_size, seconds = 16, 8, 10.0
    waveforms = [rng.standard_normal(int(seconds * 16000)) * 0.1 for _ in range(num_items)]
    extractor = WhisperFeatureExtractor(feature_size=80)
    prompt_ids = [
        ([362, 947, 299, 301, 949], list(range(300, 317)))
    ] * num_items  # 5 + 17 tokens as the ASR prompt
    # a fixed output length (min = max) so both runs do the same work
    settings = SearchSettings(max_new_tokens=64, min_new_tokens=64, num_beams=4)

    def timed(group_size):
        torch.cuda.synchronize()
        start = time.perf_counter()
        for i in range(0, num_items, group_size):
            group = waveforms[i : i + group_size]
            features = extractor(
                [w.astype(np.float32) for w in group], sampling_rate=16000, return_tensors="pt"
            )
            tensors = [torch.from_numpy(w).cuda() for w in group]
            _run(network, features.input_features.cuda(), tensors, prompt_ids[: len(group)], settings)
        torch.cuda.synchronize()
        return num_items / (time.perf_counter() - start)

    timed(batch_size)  # warm-up (CUDA kernels, allocator)
    torch.cuda.reset_peak_memory_stats()
    single = timed(1)
    batched = timed(batch_size)
    result = {
        "size": size,
        "device": torch.cuda.get_device_name(),
        "audio_seconds": seconds,
        "num_beams": 4,
        "new_tokens": 64,
        "samples_per_s_batch1": round(single, 3),
        f"samples_per_s_batch{batch_size}": round(batched, 3),
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
        "parameters": params,
    }
    print(json.dumps(result, indent=2))
    if os.environ.get("SALMONN_BENCH_OUT"):
        Path(os.environ["SALMONN_BENCH_OUT"]).write_text(json.dumps(result, indent=2) + "\n")
    assert batched > single, result
