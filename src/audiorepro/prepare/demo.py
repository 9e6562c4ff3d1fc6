"""Preparers for the bundled demo data (data/demo/): five LibriVox clips with transcripts, and
synthetic spoken questions and sentences.

Both verify every manifest file (size and sha256) before reading it: the files are small and live
in the repository, so a changed byte means someone edited the demo data, and the run should stop
rather than report numbers on different data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from ..audio import audio_info
from ..checksums import verify_file
from ..errors import BUNDLED_ADVICE, InputError
from ..manifests import Manifest
from ..paths import data_root

SAMPLE_RATE = 16_000
MAX_SECONDS = 30.0  # one Whisper window: every demo clip must fit in it

# Sphinx transcription line: "<s> words </s> (utterance_id)"
_SPHINX_LINE = re.compile(r"^<s>\s+(?P<text>.*?)\s+</s>\s+\((?P<id>[^)\s]+)\)$")

SPOKEN_KINDS = ("question", "sentence")


def prepare_librivox(manifest: Manifest, verify: bool = True) -> Iterator[dict[str, Any]]:
    """One item per LibriVox WAV: references = [the package's transcript], meta = {utterance_id}."""
    root = _verified_root(manifest, verify)
    transcripts = _read_sphinx_transcription(root / "transcription")
    wavs = sorted(f.path for f in manifest.files if f.path.endswith(".wav"))
    wav_ids = {Path(w).stem for w in wavs}
    missing = sorted(wav_ids - set(transcripts))
    if missing:
        raise InputError(root / "transcription", f"no transcript for {', '.join(missing)}")
    extra = sorted(set(transcripts) - wav_ids)
    if extra:
        raise InputError(
            root / "transcription", f"transcripts without a WAV in the manifest: {', '.join(extra)}"
        )
    for wav in wavs:
        path = root / wav
        seconds = _check_audio(path)
        utterance_id = Path(wav).stem
        yield {
            "id": utterance_id,
            "audio": _relative_to_data_root(path),
            "references": [transcripts[utterance_id]],
            "meta": {"utterance_id": utterance_id, "seconds": round(seconds, 3)},
        }


def prepare_spoken(manifest: Manifest, verify: bool = True) -> Iterator[dict[str, Any]]:
    """One item per entry of items.yaml. Questions get meta {kind: question, question_text};
    sentences get meta {kind: sentence, sentence_text}; references are the accepted answers or
    the German reference translation(s)."""
    root = _verified_root(manifest, verify)
    items_path = root / "items.yaml"
    try:
        data = yaml.safe_load(items_path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise InputError(items_path, "file not found") from e
    except yaml.YAMLError as e:
        raise InputError(items_path, f"invalid YAML: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise InputError(items_path, "expected a mapping with an 'items' list")
    seen: set[str] = set()
    for index, item in enumerate(data["items"]):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            raise InputError(items_path, f"{where}: expected a mapping")
        for key in ("id", "kind", "text", "references"):
            if key not in item:
                raise InputError(items_path, f"{where}: missing field '{key}'")
        item_id, kind, text, references = str(item["id"]), item["kind"], item["text"], item["references"]
        if item_id in seen:
            raise InputError(items_path, f"{where}: duplicate id {item_id!r}")
        seen.add(item_id)
        if kind not in SPOKEN_KINDS:
            raise InputError(items_path, f"{where}: kind {kind!r} is not one of {SPOKEN_KINDS}")
        if (
            not isinstance(references, list)
            or not references
            or not all(isinstance(r, str) for r in references)
        ):
            raise InputError(items_path, f"{where}: references must be a non-empty list of strings")
        path = root / f"{item_id}.wav"
        seconds = _check_audio(path)
        yield {
            "id": item_id,
            "audio": _relative_to_data_root(path),
            "references": references,
            "meta": {"kind": kind, f"{kind}_text": text, "seconds": round(seconds, 3)},
        }


def _verified_root(manifest: Manifest, verify: bool) -> Path:
    root = manifest.root()
    if not root.is_dir():
        raise InputError(root, f"bundled data folder of manifest {manifest.name!r} not found")
    if verify:
        for entry in manifest.files:
            verify_file(root / entry.path, entry.sha256, entry.size, advice=BUNDLED_ADVICE)
    return root


def _read_sphinx_transcription(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as e:
        raise InputError(path, "file not found") from e
    transcripts: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _SPHINX_LINE.match(line.strip())
        if match is None:
            raise InputError(path, f"line {number}: expected '<s> words </s> (utterance_id)'")
        transcripts[match["id"]] = match["text"]
    return transcripts


def _check_audio(path: Path) -> float:
    sample_rate, channels, seconds = audio_info(path)
    if sample_rate != SAMPLE_RATE:
        raise InputError(path, f"sample rate {sample_rate} Hz, expected {SAMPLE_RATE} Hz")
    if channels != 1:
        raise InputError(path, f"{channels} channels, expected mono")
    if not 0.1 <= seconds <= MAX_SECONDS:
        raise InputError(path, f"duration {seconds:.2f} s outside 0.1-{MAX_SECONDS:.0f} s")
    return seconds


def _relative_to_data_root(path: Path) -> str:
    try:
        return path.resolve().relative_to(data_root()).as_posix()
    except ValueError:
        return str(path.resolve())
