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
    seconds = check_all_audio([s["path"] for s in spoken.values()], desc=manifest.name, sample_rate=16_000)
    for s in spoken.values():
        s["audio_seconds"] = round(seconds[s["path"]], 3)
    return spoken


def _find(root: Path, pattern: str) -> Path:
    hits = sorted(root.glob(pattern))
    if not hits:
        raise InputError(root, f"no {pattern} found; run `audiorepro fetch` for this dataset")
    return hits[0]


# Hulth (2003) split Inspec into 1,000 training, 500 validation and 500 test abstracts; its
# README says the uncontrolled keywords "are the keywords used in Hulth's experiments".
INSPEC_SPLITS = {"test": "Test.zip", "validation": "Validation.zip", "train": "Training.zip"}
INSPEC_KEYS = ("uncontrolled", "all")
# SALMONN reads at most the first 30 s of audio; longer spoken abstracts are cut there.
SALMONN_WINDOW_SECONDS = 30.0


def read_hulth_split(archive: Path, keys: str = "uncontrolled") -> list[tuple[str, str, list[str]]]:
    """(document id, title + abstract as one line, keywords) from one split archive of Hulth 2003
    (<id>.abstr, <id>.uncontr, <id>.contr; keywords separated by ';'), sorted by numeric id."""
    import zipfile

    if keys not in INSPEC_KEYS:
        raise InputError(archive, f"keys must be one of {INSPEC_KEYS}, got {keys!r}")
    try:
        zf = zipfile.ZipFile(archive)
    except (FileNotFoundError, zipfile.BadZipFile) as e:
        raise InputError(archive, f"cannot open the Inspec split archive ({e}); run `audiorepro fetch inspec-tts`") from e
    with zf:
        names = {Path(n).name: n for n in zf.namelist() if not n.endswith("/")}

        def read(name: str) -> str:
            return zf.read(names[name]).decode("utf-8", errors="replace")

        docs = []
        ids = sorted((n[: -len(".abstr")] for n in names if n.endswith(".abstr")), key=lambda d: (len(d), d))
        for doc_id in ids:
            parts = ["uncontr"] + (["contr"] if keys == "all" else [])
            missing = [f"{doc_id}.{p}" for p in parts if f"{doc_id}.{p}" not in names]
            if missing:
                raise InputError(archive, f"keywords of document {doc_id} not found ({missing})")
            keywords: list[str] = []
            for part in parts:
                for key in read(f"{doc_id}.{part}").split(";"):
                    key = " ".join(key.split())  # keywords wrap across tab-indented lines
                    if key and key not in keywords:
                        keywords.append(key)
            docs.append((doc_id, " ".join(read(f"{doc_id}.abstr").split()), keywords))
    return docs


def prepare_inspec(
    manifest: Manifest,
    split: str = "test",
    keys: str = "uncontrolled",
    engine: str = "edge-tts",
    voice: str | None = None,
    fallback_engine: str | None = "espeak-ng",
    fallback_voice: str | None = None,
    max_items: int | None = None,
    out_dir: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Hulth's 500 test abstracts by default (the prior reproduction's ~1,490-keyword denominator is
    about 500 abstracts x 3 keywords). Each item's meta records the spoken duration and whether it
    runs past SALMONN's 30 s window (the model hears only the first 30 s)."""
    if split not in INSPEC_SPLITS:
        raise InputError(manifest.path_on_disk, f"prepare_options.split must be one of {sorted(INSPEC_SPLITS)}, got {split!r}")
    archive = _find(manifest.root(), f"**/{INSPEC_SPLITS[split]}")
    docs = read_hulth_split(archive, keys)[:max_items]
    if not docs:
        raise InputError(archive, "no documents")
    spoken = speak_items(
        manifest, [(d, t) for d, t, _ in docs], engine, voice, fallback_engine, fallback_voice, out_dir
    )
    for doc_id, text, keywords in docs:
        s = spoken[doc_id]
        yield {
            "id": f"inspec-{doc_id}",
            "audio": audio_ref(s["path"]),
            "references": keywords,
            "meta": {
                "text": text,
                "split": split,
                "keys": keys,
                **{k: v for k, v in s.items() if k != "path"},
                "longer_than_30s": s["audio_seconds"] > SALMONN_WINDOW_SECONDS,
            },
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
