"""VoxCeleb1 test as SALMONN's speaker-verification task: two utterances joined by a short
silence (SALMONN's training joins two-utterance inputs with 1,600 zero samples = 0.1 s), answer
"yes" when both are the same speaker. The paper's pairs are not released, so the pairing is an
option recorded in every item's meta."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import write_wav_atomic
from ..errors import InputError
from ..manifests import Manifest
from .common import audio_ref, check_all_audio, derived_dir, require_dir

SAMPLE_RATE = 16_000


def _pairs_per_utterance(utts: list[str], seed: int) -> list[tuple[str, str, bool]]:
    """One pair per utterance: a same-speaker partner or a different-speaker one, with
    probability 1/2 each, from a seeded generator (reproducible)."""
    rng = random.Random(seed)
    by_speaker: dict[str, list[str]] = {}
    for u in utts:
        by_speaker.setdefault(u.split("/")[0], []).append(u)
    pairs = []
    for u in utts:
        spk = u.split("/")[0]
        same_pool = [v for v in by_speaker[spk] if v != u]
        other_pool = [v for v in utts if v.split("/")[0] != spk]
        same = bool(same_pool) and (not other_pool or rng.random() < 0.5)
        pairs.append((u, rng.choice(same_pool if same else other_pool), same))
    return pairs


def _pairs_from_trials(path: Path) -> list[tuple[str, str, bool]]:
    pairs = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3 or parts[0] not in ("0", "1"):
            raise InputError(path, f"line {lineno}: expected '<0|1> <wav> <wav>'")
        pairs.append((parts[1], parts[2], parts[0] == "1"))
    return pairs


def _join(a: Path, b: Path, out: Path, silence_seconds: float) -> Path:
    import soundfile as sf

    if out.is_file():
        return out
    wa, sra = sf.read(str(a), dtype="int16")
    wb, srb = sf.read(str(b), dtype="int16")
    if sra != SAMPLE_RATE or srb != SAMPLE_RATE:
        raise InputError(
            a if sra != SAMPLE_RATE else b,
            f"sample rate {sra if sra != SAMPLE_RATE else srb}, expected 16000",
        )
    joined = np.concatenate([wa, np.zeros(int(round(silence_seconds * SAMPLE_RATE)), dtype=np.int16), wb])
    return write_wav_atomic(out, joined, SAMPLE_RATE)


def prepare_voxceleb1_sv(
    manifest: Manifest,
    pairing: str = "per_utterance",
    seed: int = 0,
    silence_seconds: float = 0.1,
    trials: str = "veri_test2.txt",
    wav_dir: str = "wav",
    max_items: int | None = None,
    out_dir: str | None = None,
) -> Iterator[dict[str, Any]]:
    root = manifest.root()
    wavs = require_dir(root / wav_dir, manifest, "VoxCeleb1 test wav folder")
    utts = sorted(p.relative_to(wavs).as_posix() for p in wavs.glob("*/*/*.wav"))
    if not utts:
        raise InputError(wavs, "no <speaker>/<video>/<n>.wav files")
    if pairing == "per_utterance":
        pairs = _pairs_per_utterance(utts, seed)
    elif pairing == "official_trials":
        pairs = _pairs_from_trials(root / trials)
    else:
        raise InputError(
            manifest.path_on_disk, f"pairing must be per_utterance or official_trials, not {pairing!r}"
        )
    pairs = pairs[:max_items]
    check_all_audio(
        {wavs / u for a, b, _ in pairs for u in (a, b)}, desc="VoxCeleb1", sample_rate=SAMPLE_RATE
    )
    out = Path(out_dir) if out_dir else derived_dir(manifest, f"{pairing}-seed{seed}")
    for i, (a, b, same) in enumerate(pairs):
        item_id = f"{i:05d}-" + "-".join(u.replace("/", "_").removesuffix(".wav") for u in (a, b))
        joined = _join(wavs / a, wavs / b, out / f"{item_id}.wav", silence_seconds)
        label = "yes" if same else "no"
        yield {
            "id": item_id,
            "audio": audio_ref(joined),
            "references": [label],
            "meta": {"label": label, "utterance_1": a, "utterance_2": b, "pairing": pairing, "seed": seed},
        }
