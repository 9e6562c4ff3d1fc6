"""IEMOCAP Session 5: utterances with one of four emotion labels (excited merged into happy by
default); other labels are dropped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..errors import InputError
from ..manifests import Manifest
from .common import audio_ref, check_all_audio, require_dir

DEFAULT_LABELS = {"neu": "neutral", "hap": "happy", "exc": "happy", "sad": "sad", "ang": "angry"}
# "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]"
_LINE = re.compile(r"^\[(?P<start>[\d.]+) - (?P<end>[\d.]+)\]\t(?P<utt>\S+)\t(?P<emo>\S+)\t\[")


def prepare_iemocap(
    manifest: Manifest,
    session: int = 5,
    label_map: dict[str, str] | None = None,
    folder: str = "IEMOCAP_full_release",
) -> Iterator[dict[str, Any]]:
    label_map = label_map or DEFAULT_LABELS
    session_dir = require_dir(
        manifest.root() / folder / f"Session{session}", manifest, f"IEMOCAP Session {session}"
    )
    eval_dir = require_dir(session_dir / "dialog" / "EmoEvaluation", manifest, "EmoEvaluation folder")
    items = []
    for txt in sorted(eval_dir.glob("*.txt")):
        for line in txt.read_text(encoding="utf-8", errors="replace").splitlines():
            m = _LINE.match(line)
            if m is None or m["emo"] not in label_map:
                continue
            utt = m["utt"]
            dialog = utt.rsplit("_", 1)[0]
            wav = session_dir / "sentences" / "wav" / dialog / f"{utt}.wav"
            items.append((utt, m["emo"], wav, dialog))
    if not items:
        raise InputError(eval_dir, f"no utterances with labels {sorted(label_map)}")
    check_all_audio([w for _, _, w, _ in items], desc="IEMOCAP", sample_rate=16_000, max_seconds=40)
    for utt, emo, wav, dialog in items:
        yield {
            "id": utt,
            "audio": audio_ref(wav),
            "references": [label_map[emo]],
            "meta": {
                "label": label_map[emo],
                "raw_label": emo,
                "dialog": dialog,
                "speaker_gender": utt.rsplit("_", 1)[1][0],
                "improvised": "impro" in dialog,
            },
        }
