"""MusicCaps evaluation split (is_audioset_eval): one caption per 10-second clip. Clips missing
from YouTube are skipped when skip_missing is set; the count is kept in meta."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import InputError
from ..manifests import Manifest
from .common import audio_ref, check_all_audio, read_table, warn


def prepare_musiccaps(
    manifest: Manifest,
    captions: str = "musiccaps-public.csv",
    audio_dir: str = "audio",
    split: str = "eval",
    skip_missing: bool = True,
) -> Iterator[dict[str, Any]]:
    root = manifest.root()
    rows = read_table(root / captions, required=("ytid", "start_s", "end_s", "caption", "is_audioset_eval"))
    if split not in ("eval", "train", "all"):
        raise InputError(
            manifest.path_on_disk, f"prepare_options.split must be eval, train or all, not {split!r}"
        )
    if split != "all":
        rows = [r for r in rows if (r["is_audioset_eval"].strip().lower() == "true") == (split == "eval")]
    found, missing = [], []
    for r in rows:
        path = root / audio_dir / f"{r['ytid']}.wav"
        (found if path.is_file() else missing).append((r, path))
    if missing:
        if not skip_missing or not found:
            raise InputError(
                root / audio_dir,
                f"{len(missing)} of {len(rows)} clips missing, e.g. {missing[0][0]['ytid']}.wav",
            )
        warn(f"{manifest.name}: {len(missing)} of {len(rows)} clips missing; skipped")
    check_all_audio([p for _, p in found], desc=manifest.name, max_seconds=30)
    available = f"{len(found)}/{len(rows)} clips"
    for r, path in found:
        yield {
            "id": r["ytid"],
            "audio": audio_ref(path),
            "references": [r["caption"].strip()],
            "meta": {"aspect_list": r.get("aspect_list", ""), "clips_available": available},
        }
