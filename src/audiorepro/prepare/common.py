"""Helpers shared by the Table 3 preparers: up-front audio validation, audio paths as written to
examples.jsonl, the folder for generated (derived) audio, and small table readers whose errors
name the file."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from pathlib import Path

from ..audio import audio_info
from ..errors import InputError
from ..manifests import Manifest
from ..paths import cache_dir, data_root


def audio_ref(path: Path) -> str:
    """The path written to examples.jsonl: relative to the data root when inside it."""
    try:
        return path.resolve().relative_to(data_root()).as_posix()
    except ValueError:
        return str(path.resolve())


def derived_dir(manifest: Manifest, *parts: str) -> Path:
    """Where a preparer writes audio it generates (mixtures, TTS, concatenated pairs)."""
    return cache_dir().joinpath("derived", manifest.name, *parts)


def require_dir(path: Path, manifest: Manifest, what: str) -> Path:
    if not path.is_dir():
        raise InputError(
            path, f"{what} of dataset {manifest.name!r} not found; run `audiorepro fetch {manifest.name}`"
        )
    return path


def check_audio(
    path: Path,
    *,
    sample_rate: int | None = None,
    min_seconds: float = 0.05,
    max_seconds: float | None = None,
    needs_seconds: float | None = None,
) -> float:
    """Decodable, expected sample rate, plausible duration (and long enough for a segment that
    ends at `needs_seconds`). Returns the duration; errors name the file."""
    sr, _channels, seconds = audio_info(path)
    if sample_rate is not None and sr != sample_rate:
        raise InputError(path, f"sample rate {sr} Hz, expected {sample_rate} Hz")
    if seconds < min_seconds:
        raise InputError(path, f"duration {seconds:.3f} s is shorter than {min_seconds} s")
    if max_seconds is not None and seconds > max_seconds:
        raise InputError(path, f"duration {seconds:.1f} s is longer than {max_seconds} s")
    if needs_seconds is not None and seconds + 0.05 < needs_seconds:
        raise InputError(path, f"duration {seconds:.2f} s, but a segment ends at {needs_seconds:.2f} s")
    return seconds


def check_all_audio(paths: Iterable[Path], *, desc: str, **limits) -> dict[Path, float]:
    """Validate every distinct audio file before any example is written."""
    from tqdm import tqdm

    unique = list(dict.fromkeys(paths))
    return {
        p: check_audio(p, **limits)
        for p in tqdm(unique, desc=f"check audio {desc}", disable=len(unique) < 200)
    }


def read_table(
    path: Path, *, required: Iterable[str], delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL
) -> list[dict]:
    if not path.is_file():
        raise InputError(path, "file not found; run `audiorepro fetch` for its dataset")
    csv.field_size_limit(sys.maxsize)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter=delimiter, quoting=quoting)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(path, f"missing column(s) {missing} (found {reader.fieldnames})")
        return list(reader)


def warn(message: str) -> None:
    print(f"[prepare] {message}", file=sys.stderr, flush=True)
