"""`make bench`: how fast SALMONN inference runs here, and how far from the floor it is.

CPU (the default without a GPU): the tiny parity model (tests/fixtures/salmonn_parity) on mixed
-length items, batch 1 against batched, greedy and beam 4, timed per stage (CPU features,
encoders + prompt, decoding); the ids of every item must be the same in both; plus the wall time
of a 2-rank against a 1-rank `audiorepro run --nproc` of the demo suite with that model.

GPU (`--device cuda --size 13b|7b`): the released network sizes with random weights (fp32
encoders under fp16 autocast, fp16 LLaMA, as the reference runs), beam 4 and a fixed number of
new tokens so every batch size does the same work: items/s and tokens/s at batch 1, 8, 16, 32,
peak memory, the share of items whose ids differ from batch 1, and the projected hours for Table 3
against the memory-bandwidth floor (every decoding step reads all LLM weights once).

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
from pathlib import Path

import numpy as np

from .audio import load_audio
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
    size: str, batch_sizes: list[int], items: int, new_tokens: int, seconds: float, *, device: str = "cuda", network=None
) -> dict:
    """The GPU bench. `network` (with `device`) replaces the full-size random network: the tests
    run this code on the CPU with the tiny parity network."""
    import torch
    from transformers import WhisperFeatureExtractor

    from .models.salmonn.generation import SearchSettings, beam_search

    on_gpu = device.startswith("cuda")
    if on_gpu and not torch.cuda.is_available():
        raise SystemExit("bench: --device cuda needs a CUDA GPU (plain `make bench` runs the CPU bench)")
    if network is None:
        network, _ = random_full_size_network(size, device)
    llm = network.llama_model.get_base_model()
    weight_bytes = sum(p.numel() * p.element_size() for p in llm.parameters())
    bandwidth = _bandwidth() if on_gpu else None
    rng = np.random.default_rng(0)
    waveforms = [rng.standard_normal(int(seconds * 16000)) * 0.1 for _ in range(items)]
    extractor = WhisperFeatureExtractor(feature_size=80)
    prompt_ids = [([362, 947, 299, 301, 949], list(range(300, 317)))] * items  # the ASR prompt's lengths
    # min = max: every batch size does the same number of steps
    settings = SearchSettings(max_new_tokens=new_tokens, min_new_tokens=new_tokens, num_beams=4)

    def sync():
        if on_gpu:
            torch.cuda.synchronize()

    def run(batch_size: int, n: int) -> dict:
        stages = {"features": 0.0, "encode": 0.0, "decode": 0.0}
        ids = []
        sync()
        start = time.perf_counter()
        for i in range(0, n, batch_size):
            group = waveforms[i : min(i + batch_size, n)]
            t0 = time.perf_counter()
            features = extractor([w.astype(np.float32) for w in group], sampling_rate=16000, return_tensors="pt")
            t1 = time.perf_counter()
            with torch.no_grad():
                encoding = network.encode_speech(
                    features.input_features.to(device), [torch.from_numpy(w).to(device) for w in group]
                )
                embeds, mask = network.build_inputs_embeds(encoding.speech_embeds, prompt_ids[: len(group)], 1, llm.dtype)
                sync()
                t2 = time.perf_counter()
                hyps = beam_search(llm, embeds, mask, settings)
                sync()
            t3 = time.perf_counter()
            stages["features"] += t1 - t0
            stages["encode"] += t2 - t1
            stages["decode"] += t3 - t2
            ids.extend(h[0].token_ids for h in hyps)
        total = time.perf_counter() - start
        return {"total": total, "stages": stages, "ids": ids}

    run(max(batch_sizes), max(batch_sizes))  # warm-up: kernels, allocator
    rows, reference_ids = [], None
    for b in batch_sizes:
        if on_gpu:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        m = run(b, items)
        if reference_ids is None:
            reference_ids = m["ids"]
        differ = sum(a != c for a, c in zip(reference_ids, m["ids"], strict=True))
        items_per_s = items / m["total"]
        rows.append(
            {
                "batch_size": b,
                "items_per_s": round(items_per_s, 3),
                "tokens_per_s": round(items * new_tokens / m["total"], 1),
                "stage_seconds": {k: round(v, 3) for k, v in m["stages"].items()},
                "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if on_gpu else None,
                "ids_differ_from_batch1": f"{differ}/{items}",
                "table3_hours": round(TABLE3_GENERATIONS / items_per_s / 3600, 2),
                "floor_hours": round(floor_hours(TABLE3_GENERATIONS, b, new_tokens, weight_bytes, bandwidth), 2)
                if bandwidth
                else None,
            }
        )
    return {
        "device": torch.cuda.get_device_name() if on_gpu else device,
        "size": size,
        "model": f"SALMONN-{size} random full-size weights, fp16 LLM, fp32 encoders under fp16 autocast, beam 4",
        "items": items,
        "audio_seconds": seconds,
        "new_tokens": new_tokens,
        "llm_weight_gib": round(weight_bytes / 2**30, 2),
        "bandwidth_bytes_per_s": bandwidth,
        "table3_generations": TABLE3_GENERATIONS,
        "rows": rows,
        "note": "ids that differ between batch sizes: fp16 GEMMs pick other kernels (other summation order) for "
        "other shapes, so logits differ in the last bits and near-tied beams can swap",
    }


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
    lines = [
        f"GPU bench: {r['model']}; {r['device']}; {r['items']} items of {r['audio_seconds']} s, {r['new_tokens']} new tokens; "
        f"Table 3 = {r['table3_generations']} generations at that length.",
        "",
        "| batch | items/s | tokens/s | features / encode / decode s | peak GiB | ids differ vs batch 1 | Table 3 h | floor h |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        s = row["stage_seconds"]
        lines.append(
            f"| {row['batch_size']} | {row['items_per_s']} | {row['tokens_per_s']} | {s['features']} / {s['encode']} / {s['decode']} | "
            f"{row['peak_memory_gib']} | {row['ids_differ_from_batch1']} | {row['table3_hours']} | {row['floor_hours']} |"
        )
    return "\n".join(lines) + "\n\n" + r["note"] + ".\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m audiorepro.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="auto: cuda when a GPU is present")
    p.add_argument("--size", default="13b", choices=["13b", "7b"], help="GPU: which released size (random weights)")
    p.add_argument("--items", type=int, help="items per measurement (CPU 16, GPU 32)")
    p.add_argument("--batch-size", type=int, default=8, help="CPU: the batched size")
    p.add_argument("--batch-sizes", default="1,8,16,32", help="GPU: batch sizes, the first is the reference")
    p.add_argument("--max-new-tokens", type=int, default=24, help="CPU: the decoding limit")
    p.add_argument("--new-tokens", type=int, default=64, help="GPU: fixed new tokens per item")
    p.add_argument("--no-torchrun", action="store_true", help="CPU: skip the --nproc 2 vs 1 measurement")
    p.add_argument("--threads", type=int, default=1, help="CPU: torch threads for the batch measurements")
    p.add_argument("--repeats", type=int, default=2, help="CPU: runs per setting, the fastest is kept")
    p.add_argument("--out", type=Path, default=None, help="folder for bench_<device>.json/.md (default reports/bench)")
    args = p.parse_args(argv)
    device = resolve_device(args.device)
    out = args.out or reports_dir() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    if device == "cpu":
        result = bench_cpu(
            args.items or 16, args.batch_size, args.max_new_tokens, not args.no_torchrun, args.threads, args.repeats
        )
        table, stem = cpu_markdown(result), "bench_cpu"
    else:
        sizes = [int(x) for x in args.batch_sizes.split(",")]
        result = bench_gpu(args.size, sizes, args.items or max(32, max(sizes)), args.new_tokens, 10.0)
        table, stem = gpu_markdown(result), f"bench_gpu_{args.size}"

    atomic_write_json(out / f"{stem}.json", result)
    atomic_write_text(out / f"{stem}.md", table)
    print(table)
    print(f"written: {out / stem}.json, {out / stem}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
