"""GigaSpeech TEST: segments of long recordings, cut by begin/end time (audio_offset and
audio_duration in each example), with the official `text_tn` as reference."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..manifests import Manifest
from .common import audio_ref, check_audio


def _audio_file(root: Path, rel: str) -> Path:
    path = root / rel
    if path.is_file():
        return path
    wav = path.with_suffix(".wav")  # converted copies keep the stem
    return wav if wav.is_file() else path


def prepare_gigaspeech(
    manifest: Manifest, subset: str = "{TEST}", metadata: str = "GigaSpeech.json"
) -> Iterator[dict[str, Any]]:
    root = manifest.root()
    meta_path = root / metadata
    try:
        data = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise InputError(
            meta_path, "GigaSpeech metadata not found; see `audiorepro fetch gigaspeech-test`"
        ) from e
    except json.JSONDecodeError as e:
        raise InputError(meta_path, f"invalid JSON: {e}") from e
    items = []
    for audio in data.get("audios", []):
        segments = [
            s for s in audio.get("segments", []) if subset in s.get("subsets", audio.get("subsets", []))
        ]
        if not segments:
            continue
        path = _audio_file(root, audio["path"])
        # validate the long recording once, against its last segment
        check_audio(path, needs_seconds=max(float(s["end_time"]) for s in segments))
        for seg in segments:
            begin, end = float(seg["begin_time"]), float(seg["end_time"])
            if end <= begin:
                raise InputError(meta_path, f"segment {seg['sid']}: end_time {end} <= begin_time {begin}")
            items.append(
                {
                    "id": seg["sid"],
                    "audio": audio_ref(path),
                    "audio_offset": round(begin, 3),
                    "audio_duration": round(end - begin, 3),
                    "references": [seg["text_tn"]],
                    "meta": {
                        "aid": audio.get("aid"),
                        "source": audio.get("source"),
                        "transcript": seg["text_tn"],
                    },
                }
            )
    if not items:
        raise InputError(meta_path, f"no segments of subset {subset}")
    yield from items
