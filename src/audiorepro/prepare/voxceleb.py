"""VoxCeleb1 test as SALMONN's speaker-verification task: two utterances joined by a short
silence (SALMONN's training joins two-utterance inputs with 1,600 zero samples = 0.1 s), answer
"yes" when both are the same speaker.

The paper's pairs are not released. The default source of pairs is the official VoxCeleb1 test
trial list (veri_test2.txt, the cleaned list: 37,611 trials), in its order; `max_pairs` takes a
deterministic, label-balanced subset of it (seeded, list order kept). SALMONN hears only the first
30 s of a clip, so each pair is cut to fit the window with both speakers in it: an utterance that
would push the join past 30 s is shortened (the longer one first), never dropped. Every item's
meta records its trial-list line, both utterances, the seconds kept of each and whether it was cut."""

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


def fit_window(seconds_1: float, seconds_2: float, silence: float, window: float) -> tuple[float, float]:
    """Seconds to keep of each utterance so that both plus the silence fit in `window`: unchanged
    when they fit; otherwise the longer one is shortened, and both get half when each alone is
    longer than half the room (so both speakers are always heard)."""
    room = window - silence
    if room <= 0:
        raise ValueError(f"window {window} s leaves no room after {silence} s of silence")
    if seconds_1 + seconds_2 <= room:
        return seconds_1, seconds_2
    half = room / 2
    if seconds_1 <= half:
        return seconds_1, room - seconds_1
    if seconds_2 <= half:
        return room - seconds_2, seconds_2
    return half, half


def balanced_subset(pairs: list[tuple[str, str, bool]], max_pairs: int, seed: int) -> list[int]:
    """Indices of a seeded, label-balanced subset of `pairs` (half same-speaker, half different,
    as far as each label has items), in the list's own order."""
    rng = random.Random(seed)
    same = [i for i, p in enumerate(pairs) if p[2]]
    different = [i for i, p in enumerate(pairs) if not p[2]]
    n_same = min(len(same), max(max_pairs - len(different), max_pairs // 2))
    n_different = min(len(different), max_pairs - n_same)
    return sorted(rng.sample(same, n_same) + rng.sample(different, n_different))


def _join(a: Path, b: Path, out: Path, silence_seconds: float, keep: tuple[float, float]) -> Path:
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
    wa, wb = wa[: int(keep[0] * SAMPLE_RATE)], wb[: int(keep[1] * SAMPLE_RATE)]
    joined = np.concatenate([wa, np.zeros(int(round(silence_seconds * SAMPLE_RATE)), dtype=np.int16), wb])
    return write_wav_atomic(out, joined, SAMPLE_RATE)


def prepare_voxceleb1_sv(
    manifest: Manifest,
    pairing: str = "official_trials",
    seed: int = 0,
    silence_seconds: float = 0.1,
    trials: str = "veri_test2.txt",
    wav_dir: str = "wav",
    max_pairs: int | None = None,
    window_seconds: float = 30.0,
    max_items: int | None = None,
    out_dir: str | None = None,
) -> Iterator[dict[str, Any]]:
    root = manifest.root()
    wavs = require_dir(root / wav_dir, manifest, "VoxCeleb1 test wav folder")
    if pairing == "per_utterance":
        utts = sorted(p.relative_to(wavs).as_posix() for p in wavs.glob("*/*/*.wav"))
        if not utts:
            raise InputError(wavs, "no <speaker>/<video>/<n>.wav files")
        pairs = _pairs_per_utterance(utts, seed)
    elif pairing == "official_trials":
        pairs = _pairs_from_trials(root / trials)
    else:
        raise InputError(
            manifest.path_on_disk, f"pairing must be official_trials or per_utterance, not {pairing!r}"
        )
    indices = list(range(len(pairs)))
    if max_pairs is not None and max_pairs < len(pairs):
        indices = balanced_subset(pairs, max_pairs, seed)
    indices = indices[:max_items]
    durations = check_all_audio(
        {wavs / u for i in indices for u in pairs[i][:2]}, desc="VoxCeleb1", sample_rate=SAMPLE_RATE
    )
    out = Path(out_dir) if out_dir else derived_dir(manifest, f"{pairing}-seed{seed}-window{window_seconds:g}")
    for i in indices:
        a, b, same = pairs[i]
        full = (durations[wavs / a], durations[wavs / b])
        keep = fit_window(*full, silence_seconds, window_seconds)
        item_id = f"{i:05d}-" + "-".join(u.replace("/", "_").removesuffix(".wav") for u in (a, b))
        joined = _join(wavs / a, wavs / b, out / f"{item_id}.wav", silence_seconds, keep)
        label = "yes" if same else "no"
        yield {
            "id": item_id,
            "audio": audio_ref(joined),
            "references": [label],
            "meta": {
                "label": label,
                "utterance_1": a,
                "utterance_2": b,
                "pairing": pairing,
                "trial_line": i + 1 if pairing == "official_trials" else None,
                "seed": seed,
                "seconds_kept": [round(keep[0], 3), round(keep[1], 3)],
                "cut_to_window": keep != full,
            },
        }
