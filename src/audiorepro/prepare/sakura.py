"""SAKURA (Interspeech 2025): one item per clip and hop from the official `metadata.csv` files.

Layout under the manifest root (the GitHub repo's `data/` folder, or the bundled fixture):
`<data_dir>/<Track>/<metadata>` with columns file, attribute_label, single_instruction,
single_answer, multi_instruction, multi_answer, and the clips in `<data_dir>/<Track>/audio/`.

Each row carries one single-hop and one multi-hop question; the options are inside the
instruction text. Answers are stripped (300 Emotion `single_answer` values start with a space).
With `caption=True` the items are the benchmark's text-based control: no audio, and the meta
carries the attribute caption that replaces it (templates of the first author's SAKE code)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..audio import audio_info
from ..errors import InputError
from ..manifests import Manifest, load_manifest
from ..paths import data_root
from .common import read_table

TRACKS = ("gender", "language", "emotion", "animal")
HOPS = ("single", "multi")
COLUMNS = (
    "file",
    "attribute_label",
    "single_instruction",
    "single_answer",
    "multi_instruction",
    "multi_answer",
)

# Text-based control (SAKURA Figure 1; wording from ckyang1124/SAKE's text-based evaluation).
CAPTION_TEMPLATES = {
    "gender": "The gender of the speaker in the speech clip is {label}.",
    "language": "The language spoken in the speech clip is {label}.",
    "emotion": "The speaker is {label}.",
    "animal": "The animal making the sound is {label}.",
}
CAPTION_QUERY_TEMPLATE = "Audio/Speech information: \n{caption}\nBased on the information, answer the following question:\n{question}"

_OPTION_MARK = re.compile(r"\(([a-z])\) ")


def parse_options(instruction: str) -> dict[str, str]:
    """Options "(a) ... (b) ..." at the end of an instruction, as {letter: text}.

    Options start at the first "(a) " and follow in alphabetical order; a "(x) " that breaks the
    sequence belongs to the preceding option's text."""
    marks = [m for m in _OPTION_MARK.finditer(instruction)]
    start = next((i for i, m in enumerate(marks) if m.group(1) == "a"), None)
    if start is None:
        return {}
    chosen = []
    for m in marks[start:]:
        if m.group(1) == chr(ord("a") + len(chosen)):
            chosen.append(m)
    options = {}
    for i, m in enumerate(chosen):
        end = chosen[i + 1].start() if i + 1 < len(chosen) else len(instruction)
        options[m.group(1)] = instruction[m.end() : end].strip()
    return options


def answer_letter(answer: str) -> str | None:
    m = re.match(r"\s*\(([a-z])\)", answer)
    return m.group(1) if m else None


def read_metadata(path: Path) -> list[dict[str, str]]:
    rows = read_table(path, required=COLUMNS)
    for lineno, row in enumerate(rows, start=2):
        for hop in HOPS:
            question, answer = row[f"{hop}_instruction"], row[f"{hop}_answer"].strip()
            options = parse_options(question)
            letter = answer_letter(answer)
            if letter is None or options.get(letter) != answer[len(f"({letter})") :].strip():
                raise InputError(
                    path,
                    f"line {lineno} ({row['file']}): {hop}_answer {answer!r} matches no option of the instruction",
                )
    return rows


def _relative_to_data_root(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(data_root()))
    except ValueError:
        return str(path.resolve())


def prepare_sakura(
    manifest: Manifest,
    *,
    track: str | list[str] | None = None,
    hop: str | list[str] | None = None,
    caption: bool = False,
    data_dir: str = "data",
    metadata: str = "metadata.csv",
    root_from: str | None = None,
    check_audio: bool = True,
) -> Iterator[dict]:
    """Yield {"id", "audio", "references", "meta"} per (track, clip, hop).

    `track`/`hop` restrict the output (default: all); `data_dir` is the folder under the manifest
    root that holds the track folders ("data" for the GitHub layout); `metadata` names the CSV per
    track (the fixture lists its 6 bundled clips per track in `sample_rows.csv`); `root_from` names
    another manifest whose files are read (the caption control reuses the `sakura` download)."""
    tracks = _selection(track, TRACKS, "track")
    hops = _selection(hop, HOPS, "hop")
    root = load_manifest(root_from).root() if root_from else manifest.root()
    base = root / data_dir
    for tr in tracks:
        track_dir = base / tr.capitalize()
        rows = read_metadata(track_dir / metadata)
        for row in rows:
            audio_path = track_dir / "audio" / row["file"]
            if not caption and check_audio:
                _check_clip(audio_path)
            label = row["attribute_label"]
            for hp in hops:
                question = row[f"{hp}_instruction"]
                answer = row[f"{hp}_answer"].strip()
                yield {
                    "id": f"{tr}/{row['file']}/{hp}",
                    "audio": None if caption else _relative_to_data_root(audio_path),
                    "references": [answer],
                    "meta": {
                        "track": tr,
                        "hop": hp,
                        "question": question,
                        "answer": answer,
                        "answer_letter": answer_letter(answer),
                        "attribute_label": label,
                        "options": parse_options(question),
                        "file": row["file"],
                        "caption": CAPTION_TEMPLATES[tr].format(label=label),
                        "modality": "text" if caption else "audio",
                    },
                }


def _selection(value: str | list[str] | None, allowed: tuple[str, ...], what: str) -> list[str]:
    if value is None:
        return list(allowed)
    chosen = [value] if isinstance(value, str) else list(value)
    bad = [v for v in chosen if v not in allowed]
    if bad:
        raise InputError(None, f"unknown SAKURA {what}(s) {bad}; known: {list(allowed)}")
    return chosen


def _check_clip(path: Path) -> None:
    sr, channels, seconds = audio_info(path)  # raises InputError naming a missing/undecodable file
    if sr != 16_000 or channels != 1:
        raise InputError(path, f"expected 16 kHz mono (SAKURA's format), got {sr} Hz, {channels} channel(s)")
    if seconds <= 0:
        raise InputError(path, "clip has no samples")
