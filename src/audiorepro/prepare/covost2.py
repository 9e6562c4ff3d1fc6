"""CoVoST 2 En->X test: Common Voice 4 English clips with the CoVoST translation as reference.

The CoVoST release table holds path, translation and split; the English sentence comes from
Common Voice's validated.tsv, joined on `path` (as the official get_covost_splits.py does)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..manifests import Manifest, load_manifest
from .common import audio_ref, check_all_audio, read_table


def prepare_covost2(
    manifest: Manifest,
    table: str,
    split: str = "test",
    audio_dataset: str = "common-voice-en-4",
    common_voice_dir: str | None = None,
) -> Iterator[dict[str, Any]]:
    table_path = manifest.root() / table
    # tab-separated, text unquoted and may contain quote characters
    tsv = {"delimiter": "\t", "quoting": csv.QUOTE_NONE}
    rows = [
        r
        for r in read_table(table_path, required=("path", "translation", "split"), **tsv)
        if r["split"] == split
    ]
    if not rows:
        raise InputError(table_path, f"no rows with split == {split!r}")
    cv_root = Path(common_voice_dir) if common_voice_dir else load_manifest(audio_dataset).root()
    validated = {
        r["path"]: r for r in read_table(cv_root / "validated.tsv", required=("path", "sentence"), **tsv)
    }
    missing = [r["path"] for r in rows if r["path"] not in validated]
    if missing:
        raise InputError(
            cv_root / "validated.tsv", f"{len(missing)} CoVoST clips not in Common Voice, e.g. {missing[0]}"
        )
    audio = {r["path"]: cv_root / "clips" / r["path"] for r in rows}
    check_all_audio(audio.values(), desc=f"covost2 {manifest.name}", max_seconds=60)
    for r in rows:
        cv = validated[r["path"]]
        yield {
            "id": Path(r["path"]).stem,
            "audio": audio_ref(audio[r["path"]]),
            "references": [r["translation"]],
            "meta": {"transcript": cv["sentence"], "client_id": cv.get("client_id")},
        }
