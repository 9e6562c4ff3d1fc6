"""Libri2Mix test (mix_clean, 16 kHz, max): generates the mixtures from the official metadata
(librimix_gen) on first use and yields one item per mixture with both speakers' transcripts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..manifests import Manifest, load_manifest
from .common import audio_ref, check_all_audio, derived_dir
from .librimix_gen import generate_all
from .librispeech import read_transcripts


def prepare_librimix(
    manifest: Manifest,
    metadata: str = "libri2mix_test-clean.csv",
    librispeech_dataset: str = "librispeech-test-clean",
    mode: str = "max",
    sample_rate: int = 16_000,
    librispeech_root: str | None = None,
    out_dir: str | None = None,
) -> Iterator[dict[str, Any]]:
    ls_root = (
        Path(librispeech_root)
        if librispeech_root
        else load_manifest(librispeech_dataset).root() / "LibriSpeech"
    )
    out = Path(out_dir) if out_dir else derived_dir(manifest, f"wav{sample_rate // 1000}k", mode)
    mixtures = generate_all(manifest.root() / metadata, ls_root, out, sample_rate=sample_rate, mode=mode)
    transcripts: dict[str, str] = {}
    for subset in {Path(p).parts[0] for row, _ in mixtures for p in row.source_paths}:
        transcripts.update(read_transcripts(ls_root / subset))
    check_all_audio([p for _, p in mixtures], desc=manifest.name, sample_rate=sample_rate, max_seconds=60)
    for row, path in mixtures:
        utts = [Path(p).name.split(".")[0] for p in row.source_paths]
        missing = [u for u in utts if u not in transcripts]
        if missing:
            raise InputError(ls_root, f"no transcript for {missing} (mixture {row.mixture_id})")
        yield {
            "id": row.mixture_id,
            "audio": audio_ref(path),
            "references": [transcripts[u] for u in utts],
            "meta": {"sources": utts, "gains": list(row.gains), "mode": mode, "sample_rate": sample_rate},
        }
