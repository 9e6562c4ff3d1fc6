"""`make bench`: how fast SALMONN inference runs here, and how far from the floor it is.

CPU (the default without a GPU): the tiny parity model (tests/fixtures/salmonn_parity) on mixed
-length items, batch 1 against batched, greedy and beam 4, timed per stage (CPU features,
encoders + prompt, decoding); the ids of every item must be the same in both; plus the wall time
of a 2-rank against a 1-rank `audiorepro run --nproc` of the demo suite with that model.

GPU (`--device cuda --size 13b|7b|qwen2-audio`): the released network sizes with random weights
(SALMONN: fp32 encoders under fp16 autocast, fp16 LLaMA, beam 4, as the reference runs;
Qwen2-Audio: bf16, transformers `generate`, greedy, as the official chat evaluation) and a fixed
number of new tokens so every batch size does the same work: items/s and tokens/s at batch 1, 8,
16, 32, peak memory, the share of items whose ids differ from batch 1 (and where they part), how
far one item's first-step logits move inside a batch, and the projected hours for Table 3 (or
SAKURA) against the memory-bandwidth floor (every decoding step reads all LLM weights once).
Figures measured on an H200: docs/performance.md.

Writes <out>/bench_<device>.json and a short Markdown table beside it."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from .audio import load_audio
from .errors import AudioreproError
from .jsonl import atomic_write_json, atomic_write_text
from .models.base import DecodingConfig, GenerationRequest
from .models.placement import resolve_device
from .paths import repo_root, reports_dir

PARITY = Path("tests/fixtures/salmonn_parity")
INSTRUCTIONS = [
    "Recognize the speech and give me the transcription.",
    "Please describe the audio.",
    "Listen to the speech and translate it into Chinese.",
]
# Table 3 with SALMONN-13B is about 120k generations (issue 12: the sum of the evaluation sets
# named in data_manifests/datasets/, LibriSpeech 2,620 + 2,939, GigaSpeech, CoVoST2 x3, ...).
TABLE3_GENERATIONS = 120_000
# peak HBM bandwidth (bytes/s) by device name fragment, for the floor
BANDWIDTH = {"H200": 4.8e12, "H100": 3.35e12, "A100": 2.0e12, "L40S": 0.864e12, "A10": 0.6e12}


# --- the tiny model on the CPU ------------------------------------------------------------------


def tiny_salmonn(**options):
    """SalmonnModel on the tiny parity fixture (float32, CPU); also a model plug-in factory
    (AUDIOREPRO_MODEL_PLUGINS=salmonn-tiny=audiorepro.bench:tiny_salmonn)."""
    # the SALMONN imports in this module stay in the functions: they import torch and
    # transformers (about 4.7 s), which `make bench`'s argument parsing and --help do not need
    from .models.salmonn import SalmonnModel

    root = repo_root() / PARITY / "model"
    options = {"dtype": "float32", "device": "cpu", **options}
    return SalmonnModel(
        whisper_path=root / "whisper", beats_path=root / "beats.pt", llm_path=root / "llama",
        ckpt_path=root / "salmonn.pth", **options,
    )


def tiny_requests(n: int):
    """`n` requests cut from the fixture's three inputs: 0.6 to 12 s, three instructions."""

    inputs = repo_root() / PARITY / "inputs"
    wavs = [load_audio(inputs / f"{name}.wav", max_seconds=30) for name in ("speech_16k", "synth_16k", "stereo_44k")]
    requests = []
    for i in range(n):
        wav = wavs[i % 3]
        start = (i * 7919) % max(1, len(wav) // 2)
        length = max(10_000, len(wav) - start - (i * 3301) % (len(wav) // 2))
        requests.append(GenerationRequest(id=f"item{i:02d}", prompt=INSTRUCTIONS[i % 3], audio=wav[start : start + length]))
    # the predict runner batches length-sorted items
    return sorted(requests, key=lambda r: (len(r.audio), r.id))


def timed_generation(model, requests, batch_size: int, decoding) -> dict:
    """Items/s and per-stage seconds of `model` over `requests` in batches of `batch_size`."""
    import torch

    from .models.salmonn.generation import beam_search, greedy_search

    stages = {"features": 0.0, "encode": 0.0, "decode": 0.0}
    ids, new_tokens = {}, 0
    settings = model.search_settings(decoding)
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(requests), batch_size):
            batch = requests[i : i + batch_size]
            t0 = time.perf_counter()
            prepared = model._cpu_inputs(batch)
            t1 = time.perf_counter()
            _, embeds, mask = model.build_inputs(
                [p["waveform"] for p in prepared], [r.prompt for r in batch], torch.stack([p["whisper"] for p in prepared])
            )
            t2 = time.perf_counter()
            if settings.num_beams == 1:
                hyps = greedy_search(model.llm, embeds, mask, settings)
            else:
                hyps = [best[0] for best in beam_search(model.llm, embeds, mask, settings)]
            t3 = time.perf_counter()
            stages["features"] += t1 - t0
            stages["encode"] += t2 - t1
            stages["decode"] += t3 - t2
            for r, h in zip(batch, hyps, strict=True):
                ids[r.id] = h.token_ids
                new_tokens += len(h.token_ids)
    total = time.perf_counter() - start
    return {
        "batch_size": batch_size,
        "items_per_s": round(len(requests) / total, 3),
        "seconds": round(total, 3),
        "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
        "new_tokens": new_tokens,
        "ids": ids,
    }


def _torchrun_ratio(decoding_args: list[str], repeats: int = 1) -> dict:
    """Wall time of `audiorepro run --suite demo` with the tiny model at --nproc 1 and 2."""
    times = {}
    for nproc in (1, 2):
        best = math.inf
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as tmp:
                env = dict(os.environ)
                env.update(
                    AUDIOREPRO_RUNS=f"{tmp}/runs", AUDIOREPRO_REPORTS=f"{tmp}/reports",
                    AUDIOREPRO_MODEL_PLUGINS="salmonn-tiny=audiorepro.bench:tiny_salmonn",
                )
                cmd = [sys.executable, "-m", "audiorepro.cli", "run", "--suite", "demo", "--models", "salmonn-tiny",
                       "--no-progress", "--no-report", "--nproc", str(nproc), *decoding_args]
                t0 = time.perf_counter()
                subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
                best = min(best, time.perf_counter() - t0)
        times[nproc] = best
    return {
        "command": "audiorepro run --suite demo --models salmonn-tiny --no-report " + " ".join(decoding_args),
        "seconds_nproc1": round(times[1], 2),
        "seconds_nproc2": round(times[2], 2),
        "speedup_2_over_1": round(times[1] / times[2], 2),
    }


def bench_cpu(items: int, batch_size: int, max_new_tokens: int, torchrun: bool, threads: int, repeats: int) -> dict:
    import torch


    # one thread by default: on a few shared cores, torch's spinning worker threads make wall
    # times swing by several x with the neighbours' load
    torch.set_num_threads(threads)
    model = tiny_salmonn()
    requests = tiny_requests(items)
    rows = []
    for beams in (1, 4):
        decoding = DecodingConfig(num_beams=beams, do_sample=False, max_new_tokens=max_new_tokens)
        timed_generation(model, requests[:batch_size], batch_size, decoding)  # warm-up
        # alternate, keep the fastest of each: the least disturbed by other processes
        runs = [timed_generation(model, requests, b, decoding) for _ in range(repeats) for b in (1, batch_size)]
        single = min(runs[0::2], key=lambda m: m["seconds"])
        batched = min(runs[1::2], key=lambda m: m["seconds"])
        same = sum(single["ids"][k] == batched["ids"][k] for k in single["ids"])
        rows.append(
            {
                "num_beams": beams,
                "batch1": {k: v for k, v in single.items() if k != "ids"},
                "batched": {k: v for k, v in batched.items() if k != "ids"},
                "speedup": round(single["seconds"] / batched["seconds"], 2),
                "decode_speedup": round(single["stage_seconds"]["decode"] / batched["stage_seconds"]["decode"], 2),
                "identical_ids": f"{same}/{len(requests)}",
            }
        )
    result = {
        "device": "cpu",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, {threads} thread(s)",
        "model": "tiny parity fixture (tests/fixtures/salmonn_parity), float32",
        "items": items,
        "max_new_tokens": max_new_tokens,
        "repeats": repeats,
        "rows": rows,
    }
    if torchrun:
        result["torchrun"] = _torchrun_ratio(["--decoding", "num_beams=4", "--decoding", f"max_new_tokens={max_new_tokens}"])
    return result


def cpu_markdown(r: dict) -> str:
    lines = [
        f"CPU bench: {r['model']}, {r['items']} items, up to {r['max_new_tokens']} new tokens, fastest of "
        f"{r['repeats']} runs; {r['machine']}.",
        "",
        "| beams | batch | items/s | features s | encode s | decode s | speedup (all) | speedup (decode) | identical ids |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        for key in ("batch1", "batched"):
            m = row[key]
            s = m["stage_seconds"]
            extra = (f"{row['speedup']}x | {row['decode_speedup']}x | {row['identical_ids']}" if key == "batched" else " | | ")
            lines.append(f"| {row['num_beams']} | {m['batch_size']} | {m['items_per_s']} | {s['features']} | {s['encode']} | {s['decode']} | {extra} |")
    if "torchrun" in r:
        t = r["torchrun"]
        lines += ["", f"`{t['command']}`: {t['seconds_nproc1']} s with --nproc 1, {t['seconds_nproc2']} s with --nproc 2 "
                  f"({t['speedup_2_over_1']}x; process start-up included)."]
    return "\n".join(lines) + "\n"


# --- full-size random weights on a GPU ----------------------------------------------------------


def random_full_size_network(size: str, device: str = "cuda"):
    """SALMONN with random weights and the released sizes (from tests/fixtures/checkpoint_keys):
    fp32 encoders under fp16 autocast, fp16 LLaMA, fp32 LoRA (as the reference runs)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    from .models.salmonn.beats import BEATs, BEATsConfig
    from .models.salmonn.loading import assemble, checkpoint_layout

    name = {"13b": "salmonn_13b_v1", "7b": "salmonn_7b"}[size]
    info = json.loads((repo_root() / "tests" / "fixtures" / "checkpoint_keys" / f"{name}.json").read_text())
    state = {e["key"]: torch.empty(e["shape"], device="meta") for e in info["keys"]}
    with torch.device(device):
        encoder = WhisperEncoder(WhisperConfig(**info["whisper_config"]))
        beats = BEATs(BEATsConfig.from_dict(info["beats_config"]))
        llm = LlamaForCausalLM._from_config(LlamaConfig(**info["llama_config"]), dtype=torch.float16)
        network = assemble(
            encoder, beats, llm, checkpoint_layout(state), whisper_d_model=1280, lora_scaling=4.0, qformer_num_heads=12
        )
    network.encoder_autocast_dtype = torch.float16
    return network.eval(), info


def bench_gpu(
    size: str,
    batch_sizes: list[int],
    items: int,
    new_tokens: int,
    seconds: float,
    *,
    reference_items: int | None = None,
    device: str = "cuda",
    network=None,
) -> dict:
    """The SALMONN GPU bench: beam 4, exactly `new_tokens` per item (</s> is blocked until then,
    so every batch size does the same work). Batch 1, the reference loop's shape, runs over the
    first `reference_items` items (all by default); every other batch size over all `items`, and
    its ids are compared with batch 1's on those first items. `network` (with `device`) replaces
    the full-size random network: the tests run this code on the CPU with the tiny parity network."""
    import torch
    from transformers import WhisperFeatureExtractor

    from .models.salmonn.generation import SearchSettings, beam_search

    _check_device(device)
    if network is None:
        network, _ = random_full_size_network(size, device)
    llm = network.llama_model.get_base_model()
    waveforms = _noise_items(items, seconds)
    extractor = WhisperFeatureExtractor(feature_size=80)
    prompt_ids = [([362, 947, 299, 301, 949], list(range(300, 317)))] * items  # the ASR prompt's lengths
    settings = SearchSettings(max_new_tokens=new_tokens, min_new_tokens=new_tokens, num_beams=4)

    def prompt_embeds(group):
        features = extractor([w.astype(np.float32) for w in group], sampling_rate=16000, return_tensors="pt")
        encoding = network.encode_speech(
            features.input_features.to(device), [torch.from_numpy(w).to(device) for w in group]
        )
        return network.build_inputs_embeds(encoding.speech_embeds, prompt_ids[: len(group)], 1, llm.dtype)

    def generate(group, tokens: int = new_tokens) -> tuple[list[list[int]], list[float], dict]:
        t0 = time.perf_counter()
        with torch.no_grad():
            embeds, mask = prompt_embeds(group)
            _sync(device)
            t1 = time.perf_counter()
            hyps = beam_search(llm, embeds, mask, replace(settings, max_new_tokens=tokens, min_new_tokens=tokens))
            _sync(device)
        t2 = time.perf_counter()
        return [h[0].token_ids for h in hyps], [h[0].score for h in hyps], {"encode": t1 - t0, "decode": t2 - t1}

    def first_logits(group):
        embeds, mask = prompt_embeds(group)
        return llm(inputs_embeds=embeds, attention_mask=mask, logits_to_keep=1).logits[:, -1].float()

    result = _measure(
        generate, first_logits, waveforms, batch_sizes, new_tokens, reference_items, device, seconds=seconds,
        step_bytes=_bytes(llm.parameters()), projection=("table3_hours", "SALMONN Table 3", TABLE3_GENERATIONS),
    )  # fmt: skip
    return {
        "size": size,
        "model": f"SALMONN-{size} random full-size weights, fp16 LLM, fp32 encoders under fp16 autocast, beam 4",
        **result,
        "note": "ids that differ between batch sizes: fp16 GEMMs pick other kernels (other summation order) for "
        "other shapes, so logits differ in the last bits (see logit_drift) and near-tied beams can swap",
    }


# Qwen2-Audio-7B-Instruct's network (config.json facts in the SAKURA reference notes: audio encoder
# 32 layers, d_model 1280, 128 mel bins, 1500 positions; audio token 151646, eos 151645, vocab
# 156032; the text model is Qwen-7B's shape: hidden 4096, 32 layers of 32 heads, no GQA, FFN 11008).
# tests/unit/test_bench.py checks it has the 8.40e9 parameters the five published bf16 shards
# (16.79 GB) hold.
QWEN2_AUDIO_7B_CONFIG = {
    "audio_config": {
        "num_mel_bins": 128, "encoder_layers": 32, "encoder_attention_heads": 20, "encoder_ffn_dim": 5120,
        "d_model": 1280, "max_source_positions": 1500,
    },
    "text_config": {
        "model_type": "qwen2", "vocab_size": 156032, "hidden_size": 4096, "intermediate_size": 11008,
        "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 32,
        "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "bos_token_id": 151643, "eos_token_id": 151645, "pad_token_id": 151643,
    },
    "audio_token_index": 151646,
}
# SAKURA: 4 tracks x 500 clips x single- and multi-hop questions
SAKURA_GENERATIONS = 4_000


def random_full_size_qwen2_audio(device: str = "cuda", dtype: str = "bfloat16"):
    """Qwen2AudioForConditionalGeneration with random weights and the released sizes, in bf16 as
    the official chat evaluation loads it."""
    import torch
    from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration

    config = Qwen2AudioConfig(**QWEN2_AUDIO_7B_CONFIG)
    with torch.device(device):
        model = Qwen2AudioForConditionalGeneration._from_config(config, dtype=getattr(torch, dtype))
    return model.eval()


def bench_qwen2_audio(
    batch_sizes: list[int],
    items: int,
    new_tokens: int,
    seconds: float,
    *,
    reference_items: int | None = None,
    device: str = "cuda",
    model=None,
) -> dict:
    """Qwen2-Audio through transformers' `generate` (the HF path the adapter uses), greedy as the
    official chat evaluation, exactly `new_tokens` per item. The tokenizer is not needed for
    timing: the prompt is the chat template's length in fixed ids with the audio placeholder
    expanded to the encoder's output length, as the processor expands it. `model` replaces the
    full-size random one (the tests run this on the CPU with a tiny model)."""
    import torch
    from transformers import WhisperFeatureExtractor
    from transformers.models.qwen2_audio.modeling_qwen2_audio import Qwen2AudioEncoder

    _check_device(device)
    if model is None:
        model = random_full_size_qwen2_audio(device)
    config = model.config
    # found by type: transformers moved it from model.audio_tower to model.model.audio_tower in 5.x
    encoder = next(m for m in model.modules() if isinstance(m, Qwen2AudioEncoder))
    audio_token = config.audio_token_id
    waveforms = _noise_items(items, seconds)
    extractor = WhisperFeatureExtractor(feature_size=config.audio_config.num_mel_bins)
    frames = torch.tensor([int(seconds * 100)])
    n_audio = int(encoder._get_feat_extract_output_lengths(frames)[1])
    # "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nAudio 1:
    # <|audio_bos|>" is about 20 ids, "<|audio_eos|>\n{question}<|im_end|>\n<|im_start|>assistant\n" about 24
    filler = [t for t in range(3, 60) if t != audio_token][:44]
    prompt = filler[:20] + [audio_token] * n_audio + filler[20:]
    eos = config.text_config.eos_token_id
    pad = config.text_config.pad_token_id

    def inputs(group):
        features = extractor(
            [w.astype(np.float32) for w in group], sampling_rate=16000, return_attention_mask=True,
            padding="max_length", return_tensors="pt",
        )
        ids = torch.tensor([prompt] * len(group), device=device)
        return {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "input_features": features.input_features.to(device, model.dtype),
            "feature_attention_mask": features.attention_mask.to(device),
        }

    def generate(group, tokens: int = new_tokens) -> tuple[list[list[int]], list[float], dict]:
        t0 = time.perf_counter()
        batch = inputs(group)
        t1 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                **batch, do_sample=False, num_beams=1, max_new_tokens=tokens, min_new_tokens=tokens,
                eos_token_id=eos, pad_token_id=pad, temperature=None, top_p=None, top_k=None,
            )
            _sync(device)
        t2 = time.perf_counter()
        ids = out[:, batch["input_ids"].shape[1] :].tolist()
        return ids, [0.0] * len(ids), {"features": t1 - t0, "generate": t2 - t1}

    def first_logits(group):
        return model(**inputs(group), logits_to_keep=1).logits[:, -1].float()

    # the bytes every decoding step reads: all but the audio encoder (which runs once per item)
    step_bytes = _bytes(model.parameters()) - _bytes(encoder.parameters())
    result = _measure(
        generate, first_logits, waveforms, batch_sizes, new_tokens, reference_items, device, seconds=seconds,
        step_bytes=step_bytes, projection=("sakura_hours", "SAKURA (4 tracks x 500 x single/multi-hop)", SAKURA_GENERATIONS),
    )  # fmt: skip
    return {
        "size": "qwen2-audio-7b-instruct",
        "model": f"Qwen2-Audio-7B-Instruct random full-size weights, {str(model.dtype).removeprefix('torch.')}, "
        "transformers generate, greedy",
        "audio_tokens": n_audio,
        "prompt_tokens": len(prompt),
        **result,
        "note": "ids that differ between batch sizes: bf16 GEMMs pick other kernels (other summation order) for "
        "other shapes, so logits differ in the last bits (see logit_drift) and near-tied argmaxes can flip",
    }


def _noise_items(items: int, seconds: float) -> list[np.ndarray]:
    """`items` clips of seeded noise at 16 kHz: the benches time the networks, not the content."""
    rng = np.random.default_rng(0)
    return [rng.standard_normal(int(seconds * 16000)) * 0.1 for _ in range(items)]


def _bytes(parameters) -> int:
    return sum(p.numel() * p.element_size() for p in parameters)


def _measure(
    generate, first_logits, waveforms, batch_sizes, new_tokens, reference_items, device, *, seconds: float,
    step_bytes: int, projection: tuple[str, str, int],
) -> dict:
    """Runs `generate` over `waveforms` at each batch size (the first is the reference, over the
    first `reference_items`), with peak memory, ids against the reference, non-finite scores, and
    how much the first-step logits of one item move when it shares a batch (logit_drift). Each
    row gets the whole job's hours (`projection`: row key, what, generations) and, on a GPU, the
    bandwidth floor for `step_bytes` read per decoding step. Returns the fields both benches share."""
    import torch

    items = len(waveforms)
    reference_items = min(reference_items or items, items)
    on_gpu = device.startswith("cuda")
    # warm-up at every batch size, a few tokens each: kernels, allocator, cuBLAS handles
    for b in batch_sizes:
        generate(waveforms[: min(b, items)], tokens=4)
    rows, reference_ids = [], None
    for b in batch_sizes:
        n = reference_items if reference_ids is None else items
        if on_gpu:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        ids, scores, stages = [], [], {}
        try:
            _sync(device)
            start = time.perf_counter()
            for i in range(0, n, b):
                group_ids, group_scores, group_stages = generate(waveforms[i : min(i + b, n)])
                ids += group_ids
                scores += group_scores
                for k, v in group_stages.items():
                    stages[k] = stages.get(k, 0.0) + v
            total = time.perf_counter() - start
        except torch.cuda.OutOfMemoryError as error:
            rows.append({"batch_size": b, "out_of_memory": str(error).splitlines()[0]})
            continue
        if reference_ids is None:
            reference_ids = ids
        compared = len(reference_ids)
        differ = [i for i in range(compared) if ids[i] != reference_ids[i]]
        rows.append(
            {
                "batch_size": b,
                "items": n,
                "items_per_s": round(n / total, 3),
                "tokens_per_s": round(n * new_tokens / total, 1),
                "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
                "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if on_gpu else None,
                "ids_differ_from_batch1": f"{len(differ)}/{compared}",
                # where the first differing item leaves batch 1's ids (token index)
                "first_divergence": [_divergence(ids[i], reference_ids[i]) for i in differ[:5]],
                "nonfinite_scores": sum(not math.isfinite(s) for s in scores),
            }
        )
    drift = {}
    with torch.no_grad():
        alone = first_logits(waveforms[:1])[0]
        for b in batch_sizes[1:]:
            if b <= items:
                try:
                    shared = first_logits(waveforms[:b])[0]
                except torch.cuda.OutOfMemoryError:
                    continue
                drift[str(b)] = {
                    "max_abs_diff": float((shared - alone).abs().max()),
                    "same_argmax": bool(shared.argmax() == alone.argmax()),
                    "finite": bool(torch.isfinite(shared).all()),
                }
    key, what, generations = projection
    bandwidth = _add_projection(rows, key, generations, new_tokens, step_bytes, device)
    return {
        "device": _device_name(device),
        "items": items,
        "reference_items": reference_items,
        "audio_seconds": seconds,
        "new_tokens": new_tokens,
        "llm_weight_gib": round(step_bytes / 2**30, 2),
        "bandwidth_bytes_per_s": bandwidth,
        "projection": {"what": what, "generations": generations},
        "rows": rows,
        "logit_drift": drift,
    }


def _add_projection(rows: list[dict], key: str, generations: int, new_tokens: int, step_bytes: int, device: str):
    """Each measured row gets the whole job's hours at its rate (`key`) and the bandwidth floor for
    the same job (`floor_hours`, GPU only); returns the bandwidth used."""
    bandwidth = _bandwidth() if device.startswith("cuda") else None
    for row in rows:
        if "items_per_s" in row:
            row[key] = round(generations / row["items_per_s"] / 3600, 4)
            row["floor_hours"] = (
                round(floor_hours(generations, row["batch_size"], new_tokens, step_bytes, bandwidth), 3) if bandwidth else None
            )
    return bandwidth


def _divergence(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _check_device(device: str) -> str:
    """resolve_device's check (a typo, or CUDA where torch sees no GPU) as the bench's one line."""
    try:
        return resolve_device(device)
    except AudioreproError as e:
        raise SystemExit(f"bench: {e} (plain `make bench` runs the CPU bench)") from None


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _device_name(device: str) -> str:
    import torch

    return torch.cuda.get_device_name() if device.startswith("cuda") else device


def floor_hours(generations: int, batch_size: int, new_tokens: int, weight_bytes: float, bandwidth: float) -> float:
    """Memory-bandwidth floor of decoding: each step reads every LLM weight once, and
    ceil(generations / batch) batches take new_tokens steps each (KV reads and encoders ignored)."""
    return math.ceil(generations / batch_size) * new_tokens * weight_bytes / bandwidth / 3600


def _bandwidth() -> float:
    import torch

    name = torch.cuda.get_device_name()
    for key, value in BANDWIDTH.items():
        if key in name:
            return value
    return float(os.environ.get("BENCH_BANDWIDTH", 2.0e12))


def gpu_markdown(r: dict) -> str:
    what = r["projection"]["what"]
    hours = "table3_hours" if "table3_hours" in next((row for row in r["rows"] if "items_per_s" in row), {}) else "sakura_hours"
    lines = [
        f"GPU bench: {r['model']}; {r['device']}; {r['items']} items of {r['audio_seconds']} s "
        f"(batch 1 over the first {r['reference_items']}), {r['new_tokens']} new tokens each; "
        f"{what} = {r['projection']['generations']} generations at that length.",
        "",
        "| batch | items/s | tokens/s | stage s | peak GiB | ids differ vs batch 1 | projected h | floor h |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        if "out_of_memory" in row:
            lines.append(f"| {row['batch_size']} | out of memory | | | | | | |")
            continue
        stages = " / ".join(f"{k} {v}" for k, v in row["stage_seconds"].items())
        lines.append(
            f"| {row['batch_size']} | {row['items_per_s']} | {row['tokens_per_s']} | {stages} | "
            f"{row['peak_memory_gib']} | {row['ids_differ_from_batch1']} | {row[hours]} | {row['floor_hours']} |"
        )
    drift = "; ".join(
        f"batch {b}: max |diff| {d['max_abs_diff']:.3g}, same argmax {d['same_argmax']}" for b, d in r["logit_drift"].items()
    )
    return "\n".join(lines) + f"\n\nFirst-step logits of item 0 alone vs in a batch: {drift or 'n/a'}.\n\n" + r["note"] + ".\n"


def _versions() -> dict:
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "transformers": transformers.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m audiorepro.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="auto: cuda when a GPU is present")
    p.add_argument("--size", default="13b", choices=["13b", "7b", "qwen2-audio"],
                   help="GPU: which released network (random weights): SALMONN 13b or 7b, or Qwen2-Audio-7B-Instruct")
    p.add_argument("--items", type=int, help="items per measurement (CPU 16, GPU 32)")
    p.add_argument("--batch-size", type=int, default=8, help="CPU: the batched size")
    p.add_argument("--batch-sizes", default="1,8,16,32", help="GPU: batch sizes, the first is the reference")
    p.add_argument("--max-new-tokens", type=int, default=24, help="CPU: the decoding limit")
    p.add_argument("--new-tokens", type=int, default=200, help="GPU: fixed new tokens per item (SALMONN's released max_new_tokens)")
    p.add_argument("--reference-items", type=int, help="GPU: batch 1 runs over only these first items (default: all)")
    p.add_argument("--seconds", type=float, default=10.0, help="GPU: audio length of every item")
    p.add_argument("--no-torchrun", action="store_true", help="CPU: skip the --nproc 2 vs 1 measurement")
    p.add_argument("--threads", type=int, default=1, help="CPU: torch threads for the batch measurements")
    p.add_argument("--repeats", type=int, default=2, help="CPU: runs per setting, the fastest is kept")
    p.add_argument("--out", type=Path, default=None, help="folder for bench_<device>.json/.md (default reports/bench)")
    args = p.parse_args(argv)
    device = _check_device(args.device)
    out = args.out or reports_dir() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    if device == "cpu":
        result = bench_cpu(
            args.items or 16, args.batch_size, args.max_new_tokens, not args.no_torchrun, args.threads, args.repeats
        )
        table, stem = cpu_markdown(result), "bench_cpu"
    else:
        sizes = [int(x) for x in args.batch_sizes.split(",")]
        items = args.items or max(32, max(sizes))
        if args.size == "qwen2-audio":
            result = bench_qwen2_audio(sizes, items, args.new_tokens, args.seconds, reference_items=args.reference_items)
        else:
            result = bench_gpu(args.size, sizes, items, args.new_tokens, args.seconds, reference_items=args.reference_items)
        result["command"] = "python -m audiorepro.bench " + " ".join(argv if argv is not None else sys.argv[1:])
        result["versions"] = _versions()
        table, stem = gpu_markdown(result), f"bench_gpu_{args.size}"

    atomic_write_json(out / f"{stem}.json", result)
    atomic_write_text(out / f"{stem}.md", table)
    print(table)
    print(f"written: {out / stem}.json, {out / stem}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
