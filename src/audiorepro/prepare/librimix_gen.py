"""Libri2Mix "mix_clean" generation from the official LibriMix metadata, deterministically.

Follows the steps of LibriMix's scripts/create_librimix_from_metadata.py for mix_clean: read each
LibriSpeech source as float32, multiply it by the loudness gain stored in the metadata CSV,
resample from 16 kHz to the target rate with scipy's polyphase resampler, pad the shorter source
with zeros at the end ("max" mode) or cut to the shorter ("min"), sum, and write 16-bit PCM WAV.
The gains were drawn once by the LibriMix authors, so the same metadata gives the same bytes.
(No library ships this generator outside the LibriMix repository scripts, hence this module.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import write_wav_atomic
from ..errors import InputError
from .common import read_table

LIBRISPEECH_RATE = 16_000
_REQUIRED = ("mixture_ID", "source_1_path", "source_1_gain", "source_2_path", "source_2_gain")


@dataclass(frozen=True)
class MixtureRow:
    mixture_id: str
    source_paths: tuple[str, ...]  # relative to the LibriSpeech root (e.g. test-clean/61/70968/...flac)
    gains: tuple[float, ...]


def read_metadata(csv_path: str | Path) -> list[MixtureRow]:
    csv_path = Path(csv_path)
    rows = []
    for lineno, row in enumerate(read_table(csv_path, required=_REQUIRED), start=2):
        try:
            gains = (float(row["source_1_gain"]), float(row["source_2_gain"]))
        except ValueError as e:
            raise InputError(csv_path, f"line {lineno}: gain is not a number ({e})") from e
        rows.append(MixtureRow(row["mixture_ID"], (row["source_1_path"], row["source_2_path"]), gains))
    return rows


def mix_sources(
    sources: list[np.ndarray], gains: tuple[float, ...], *, sample_rate: int, mode: str
) -> np.ndarray:
    from scipy.signal import resample_poly

    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', not {mode!r}")
    scaled = [s * g for s, g in zip(sources, gains, strict=True)]
    resampled = [resample_poly(s, sample_rate, LIBRISPEECH_RATE) for s in scaled]
    if mode == "min":
        n = min(len(s) for s in resampled)
        fitted = [s[:n] for s in resampled]
    else:
        n = max(len(s) for s in resampled)
        fitted = [np.pad(s, (0, n - len(s)), mode="constant") for s in resampled]
    mixture = np.zeros_like(fitted[0])
    for s in fitted:
        mixture += s
    return mixture


def generate_mixture(
    row: MixtureRow,
    librispeech_root: str | Path,
    out_path: str | Path,
    *,
    sample_rate: int = 16_000,
    mode: str = "max",
) -> Path:
    """Write one mixture (atomically) and return its path."""
    import soundfile as sf

    librispeech_root, out_path = Path(librispeech_root), Path(out_path)
    sources = []
    for rel in row.source_paths:
        path = librispeech_root / rel
        if not path.is_file():
            raise InputError(path, f"LibriSpeech source of mixture {row.mixture_id} not found")
        try:
            data, sr = sf.read(str(path), dtype="float32")
        except Exception as e:
            raise InputError(path, f"cannot decode audio ({e})") from e
        if sr != LIBRISPEECH_RATE:
            raise InputError(path, f"sample rate {sr}, expected {LIBRISPEECH_RATE} (LibriSpeech)")
        sources.append(data)
    mixture = mix_sources(sources, row.gains, sample_rate=sample_rate, mode=mode)
    return write_wav_atomic(out_path, mixture, sample_rate)


def generate_all(
    metadata_csv: str | Path,
    librispeech_root: str | Path,
    out_dir: str | Path,
    *,
    sample_rate: int = 16_000,
    mode: str = "max",
    limit: int | None = None,
    progress: bool = True,
) -> list[tuple[MixtureRow, Path]]:
    """Generate every mixture of the metadata that is not there yet (mix_clean/<id>.wav)."""
    from tqdm import tqdm

    rows = read_metadata(metadata_csv)[:limit]
    out_dir = Path(out_dir) / "mix_clean"
    done = []
    for row in tqdm(rows, desc="Libri2Mix mix_clean", disable=not progress or None):
        path = out_dir / f"{row.mixture_id}.wav"
        if not path.is_file():
            generate_mixture(row, librispeech_root, path, sample_rate=sample_rate, mode=mode)
        done.append((row, path))
    return done
