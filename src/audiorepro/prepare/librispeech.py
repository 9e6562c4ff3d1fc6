"""LibriSpeech test-clean / test-other -> items with the transcript as reference (ASR) and the same
transcript in meta (the PR metric turns it into phones)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import InputError
from ..manifests import Manifest
from .common import audio_ref, check_all_audio, require_dir

SAMPLE_RATE = 16_000


def read_transcripts(subset_dir) -> dict[str, str]:
    """{utterance id: transcript} from every <speaker>/<chapter>/<speaker>-<chapter>.trans.txt."""
    transcripts: dict[str, str] = {}
    for trans in sorted(subset_dir.glob("*/*/*.trans.txt")):
        for lineno, line in enumerate(trans.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            utt, _, text = line.strip().partition(" ")
            if not text:
                raise InputError(trans, f"line {lineno}: expected '<utterance id> <TRANSCRIPT>'")
            transcripts[utt] = text
    return transcripts


def prepare_librispeech(
    manifest: Manifest, subset: str = "test-clean", folder: str = "LibriSpeech"
) -> Iterator[dict[str, Any]]:
    subset_dir = require_dir(manifest.root() / folder / subset, manifest, f"LibriSpeech {subset}")
    transcripts = read_transcripts(subset_dir)
    if not transcripts:
        raise InputError(subset_dir, "no *.trans.txt files found")
    items = []
    for utt, text in sorted(transcripts.items()):
        speaker, chapter, _ = utt.split("-")
        audio = subset_dir / speaker / chapter / f"{utt}.flac"
        items.append((utt, text, audio, speaker, chapter))
    check_all_audio([a for *_, a, _, _ in items], desc=subset, sample_rate=SAMPLE_RATE, max_seconds=40)
    for utt, text, audio, speaker, chapter in items:
        yield {
            "id": utt,
            "audio": audio_ref(audio),
            "references": [text],
            "meta": {"subset": subset, "speaker": speaker, "chapter": chapter, "transcript": text},
        }
