"""SLURP test as SALMONN's slot-filling task: one item per (utterance, slot type) asking "what is
the {slot}?", with the annotated value(s) as references and the spoken command as question_text
(repeating it is not following the instruction)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..errors import InputError
from ..manifests import Manifest
from .common import audio_ref, check_all_audio

# "wake me up at [time : five am] this week"
_SLOT = re.compile(r"\[\s*(?P<type>[^:\]]+?)\s*:\s*(?P<value>[^\]]+?)\s*\]")


def parse_slots(annotation: str) -> dict[str, list[str]]:
    slots: dict[str, list[str]] = {}
    for m in _SLOT.finditer(annotation):
        slots.setdefault(m["type"], []).append(m["value"])
    return slots


def prepare_slurp(
    manifest: Manifest,
    annotations: str = "test.jsonl",
    audio_dir: str = "slurp_real",
    recording: str = "first",
) -> Iterator[dict[str, Any]]:
    if recording not in ("first", "headset"):
        raise InputError(manifest.path_on_disk, f"recording must be first or headset, not {recording!r}")
    root = manifest.root()
    path = root / annotations
    if not path.is_file():
        raise InputError(path, "SLURP annotations not found; run `audiorepro fetch slurp-test`")
    items = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            slurp_id, sentence, annotation, recordings = (
                rec["slurp_id"],
                rec["sentence"],
                rec["sentence_annotation"],
                rec["recordings"],
            )
        except (json.JSONDecodeError, KeyError) as e:
            raise InputError(path, f"line {lineno}: not a SLURP record ({e})") from e
        if not recordings:
            continue
        files = [r["file"] for r in recordings]
        headset = [f for f in files if "headset" in f]
        chosen = headset[0] if recording == "headset" and headset else files[0]
        for slot_type, values in parse_slots(annotation).items():
            items.append(
                (f"{slurp_id}-{slot_type}", root / audio_dir / chosen, values, slot_type, sentence, rec)
            )
    if not items:
        raise InputError(path, "no annotated slots found")
    check_all_audio([a for _, a, *_ in items], desc="SLURP", max_seconds=30)
    for item_id, audio, values, slot_type, sentence, rec in items:
        yield {
            "id": item_id,
            "audio": audio_ref(audio),
            "references": values,
            "meta": {
                "slot": slot_type.replace("_", " "),
                "slot_type": slot_type,
                "question_text": sentence,
                "intent": rec.get("intent"),
                "recording": audio.name,
            },
        }
