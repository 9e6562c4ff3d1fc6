"""SALMONN's speech-audio co-reasoning (SAC) on a reader's own copy of the data.

The authors' in-house SAC set was never released, so the cell is "not run" unless a reader
places a set in this layout (docs/salmonn_judge.md) under the manifest's folder:

    sac.csv       columns: id, audio, question, background_caption
    audio/...     the clips (a spoken question over background sound), paths relative to sac.csv

The paper's two judge prompts need the spoken question's text and a caption of the background
audio (the prompt's <audio>); nothing else is scored, so no answer column is read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import InputError
from ..manifests import Manifest
from .common import audio_ref, check_all_audio, read_table

COLUMNS = ("id", "audio", "question", "background_caption")


def prepare_sac(manifest: Manifest, table: str = "sac.csv") -> Iterator[dict[str, Any]]:
    path = manifest.root() / table
    rows = read_table(path, required=COLUMNS)
    if not rows:
        raise InputError(path, "no rows")
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        for column in COLUMNS:
            if not (row.get(column) or "").strip():
                raise InputError(path, f"line {line}: empty {column!r}")
        if row["id"] in seen:
            raise InputError(path, f"line {line}: duplicate id {row['id']!r}")
        seen.add(row["id"])
    audio = {row["id"]: path.parent / row["audio"].strip() for row in rows}
    for item_id, file in audio.items():
        if not file.is_file():
            raise InputError(file, f"audio of SAC item {item_id!r} not found (paths are relative to {path.name})")
    check_all_audio(audio.values(), desc=manifest.name)
    for row in rows:
        yield {
            "id": row["id"].strip(),
            "audio": audio_ref(audio[row["id"]]),
            # no reference answer: both SAC numbers come from the judge
            "references": [],
            "meta": {"question_text": row["question"].strip(), "background_caption": row["background_caption"].strip()},
        }
