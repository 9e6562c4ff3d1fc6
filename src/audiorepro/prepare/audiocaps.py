"""AudioCaps test: one item per clip with its five captions (AAC references; Story uses the audio).
Clips that are no longer on YouTube are skipped when skip_missing is set, and the count is kept in
every item's meta so the score records the data subset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..manifests import Manifest
from .common import audio_ref, check_all_audio, read_table, warn


def find_clip(audio_dir: Path, youtube_id: str, start: str) -> Path | None:
    for name in (f"{youtube_id}_{start}.wav", f"{youtube_id}_{int(float(start))}.wav", f"{youtube_id}.wav"):
        if (audio_dir / name).is_file():
            return audio_dir / name
    return None


def prepare_audiocaps(
    manifest: Manifest, captions: str = "test.csv", audio_dir: str = "audio", skip_missing: bool = True
) -> Iterator[dict[str, Any]]:
    root = manifest.root()
    rows = read_table(root / captions, required=("youtube_id", "start_time", "caption"))
    clips: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        clips.setdefault((r["youtube_id"], r["start_time"]), []).append(r["caption"].strip())
    found, missing = {}, []
    for key in clips:
        path = find_clip(root / audio_dir, *key)
        (missing.append(key) if path is None else found.__setitem__(key, path))
    if missing:
        if not skip_missing or not found:
            raise InputError(
                root / audio_dir,
                f"{len(missing)} of {len(clips)} clips missing, e.g. {missing[0][0]}_{missing[0][1]}.wav",
            )
        warn(f"{manifest.name}: {len(missing)} of {len(clips)} clips missing; skipped")
    check_all_audio(found.values(), desc=manifest.name, max_seconds=30)
    available = f"{len(found)}/{len(clips)} clips"
    for (ytid, start), path in found.items():
        yield {
            "id": f"{ytid}_{start}",
            "audio": audio_ref(path),
            "references": clips[(ytid, start)],
            "meta": {"youtube_id": ytid, "start_time": start, "clips_available": available},
        }
