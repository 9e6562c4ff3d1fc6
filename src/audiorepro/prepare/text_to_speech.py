"""Spoken-text tasks whose audio SALMONN made with a commercial TTS: KE (Inspec abstracts) and
SQQA (WikiQA questions). The engine is chosen once per run (the requested one, or the named
offline fallback when it is unavailable) so all items share one voice; engine, voice and version
are written to every item's meta because accuracy depends on the voice."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import tts
from ..errors import InputError
from ..jsonl import atomic_write_text
from ..manifests import Manifest
from .common import audio_ref, check_all_audio, derived_dir, read_table, warn


def pick_engine(
    engine: str, voice: str | None, fallback_engine: str | None, fallback_voice: str | None = None
):
    """(engine, voice, fallback_from) after a one-word probe of the requested engine."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            tts.synthesize("test", Path(tmp) / "probe.wav", engine=engine, voice=voice)
            return engine, voice or tts.DEFAULT_VOICES[engine], None
        except tts.TTSUnavailable as e:
            if not fallback_engine:
                raise
            warn(f"TTS engine {engine} unavailable ({e}); using the fallback {fallback_engine}")
            return fallback_engine, fallback_voice or tts.DEFAULT_VOICES[fallback_engine], engine


def speak_items(
    manifest: Manifest,
    texts: list[tuple[str, str]],
    engine: str,
    voice: str | None,
    fallback_engine: str | None,
    fallback_voice: str | None = None,
    out_dir: str | None = None,
) -> dict[str, dict]:
    """{item id: {"path", **tts meta}}; audio cached under <cache>/derived/<dataset>/<engine>-<voice>/."""
    used, used_voice, fallback_from = pick_engine(engine, voice, fallback_engine, fallback_voice)
    folder = Path(out_dir) if out_dir else derived_dir(manifest, f"{used}-{used_voice}".replace("/", "_"))
    spoken = {}
    for item_id, text in texts:
        wav, sidecar = folder / f"{item_id}.wav", folder / f"{item_id}.json"
        record = json.loads(sidecar.read_text()) if sidecar.is_file() and wav.is_file() else None
        if record is None or record.get("text") != text:
            result = tts.synthesize(text, wav, engine=used, voice=used_voice)
            result.fallback_from = fallback_from
            record = {"text": text, **result.meta()}
            atomic_write_text(sidecar, json.dumps(record, ensure_ascii=False))
        spoken[item_id] = {"path": wav, **{k: v for k, v in record.items() if k != "text"}}
    check_all_audio([s["path"] for s in spoken.values()], desc=manifest.name, sample_rate=16_000)
    return spoken


def _find(root: Path, pattern: str) -> Path:
    hits = sorted(root.glob(pattern))
    if not hits:
        raise InputError(root, f"no {pattern} found; run `audiorepro fetch` for this dataset")
    return hits[0]


def prepare_inspec(
    manifest: Manifest,
    engine: str = "edge-tts",
    voice: str | None = None,
    fallback_engine: str | None = "espeak-ng",
    fallback_voice: str | None = None,
    max_items: int | None = None,
    out_dir: str | None = None,
) -> Iterator[dict[str, Any]]:
    docs_dir = _find(manifest.root(), "**/docsutf8")
    keys_dir = docs_dir.parent / "keys"
    docs = []
    for doc in sorted(docs_dir.glob("*.txt"))[:max_items]:
        key_file = keys_dir / f"{doc.stem}.key"
        if not key_file.is_file():
            raise InputError(key_file, f"keywords of document {doc.name} not found")
        text = " ".join(doc.read_text(encoding="utf-8", errors="replace").split())
        keys = [
            k.strip()
            for k in key_file.read_text(encoding="utf-8", errors="replace").splitlines()
            if k.strip()
        ]
        docs.append((doc.stem, text, keys))
    if not docs:
        raise InputError(docs_dir, "no documents")
    spoken = speak_items(
        manifest, [(d, t) for d, t, _ in docs], engine, voice, fallback_engine, fallback_voice, out_dir
    )
    for doc_id, text, keys in docs:
        s = spoken[doc_id]
        yield {
            "id": f"inspec-{doc_id}",
            "audio": audio_ref(s["path"]),
            "references": keys,
            "meta": {"text": text, **{k: v for k, v in s.items() if k != "path"}},
        }


def prepare_wikiqa(
    manifest: Manifest,
    split: str = "test",
    only_answerable: bool = True,
    engine: str = "edge-tts",
    voice: str | None = None,
    fallback_engine: str | None = "espeak-ng",
    fallback_voice: str | None = None,
    max_items: int | None = None,
    out_dir: str | None = None,
) -> Iterator[dict[str, Any]]:
    table = _find(manifest.root(), f"**/WikiQA-{split}.tsv")
    import csv

    rows = read_table(
        table,
        required=("QuestionID", "Question", "Sentence", "Label"),
        delimiter="\t",
        quoting=csv.QUOTE_NONE,
    )
    questions: dict[str, dict] = {}
    for r in rows:
        q = questions.setdefault(r["QuestionID"], {"question": r["Question"].strip(), "answers": []})
        if r["Label"].strip() == "1":
            q["answers"].append(r["Sentence"].strip())
    selected = [(qid, q) for qid, q in questions.items() if q["answers"] or not only_answerable][:max_items]
    if not selected:
        raise InputError(table, "no questions selected")
    spoken = speak_items(
        manifest,
        [(qid, q["question"]) for qid, q in selected],
        engine,
        voice,
        fallback_engine,
        fallback_voice,
        out_dir,
    )
    for qid, q in selected:
        s = spoken[qid]
        yield {
            "id": qid,
            "audio": audio_ref(s["path"]),
            "references": q["answers"],
            "meta": {"question_text": q["question"], **{k: v for k, v in s.items() if k != "path"}},
        }
