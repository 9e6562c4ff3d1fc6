"""The record formats that flow between stages (see docs/ARCHITECTURE.md).

example     -> runs/<suite>/<task>/examples.jsonl
prediction  -> runs/<suite>/<task>/<model>/predictions.jsonl
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError


@dataclass
class Example:
    id: str
    task: str
    audio: str | None  # path relative to the data root (or absolute); None for text-only controls
    prompt: str  # the instruction text, before any model-specific template
    references: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
    audio_offset: float | None = None  # seconds
    audio_duration: float | None = None  # seconds

    @classmethod
    def from_dict(cls, d: dict, *, source: str | Path = "<examples>") -> Example:
        missing = [k for k in ("id", "task", "prompt", "references") if k not in d]
        if missing:
            raise InputError(source, f"example {d.get('id', '?')!r} lacks field(s) {missing}")
        if not isinstance(d["references"], list):
            raise InputError(source, f"example {d['id']!r}: 'references' must be a list")
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise InputError(source, f"example {d['id']!r}: unknown field(s) {sorted(unknown)}")
        return cls(**d)

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: v for k, v in d.items() if v is not None or k == "audio"}


@dataclass
class Prediction:
    id: str
    output: str  # post-processed text that is scored
    raw_output: str  # what the model returned
    n_tokens: int
    finish_reason: str  # "eos" | "length" | "error"
    seconds: float
    # what loading the audio noticed: "cut" (longer than the model's window), "silent" (all zero);
    # written only when not empty, so records of clean audio keep their old shape
    audio_notes: list[str] = field(default_factory=list)

    OPTIONAL_FIELDS = ("audio_notes",)

    @classmethod
    def from_dict(cls, d: dict, *, source: str | Path = "<predictions>") -> Prediction:
        missing = [k for k in cls.__dataclass_fields__ if k not in d and k not in cls.OPTIONAL_FIELDS]
        if missing:
            raise InputError(source, f"prediction {d.get('id', '?')!r} lacks field(s) {missing}")
        if not isinstance(d["output"], str):
            raise InputError(source, f"prediction {d['id']!r}: 'output' must be a string")
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def to_dict(self) -> dict:
        d = asdict(self)
        if not d["audio_notes"]:
            del d["audio_notes"]
        return d

    @property
    def output_sha256(self) -> str:
        """Identifies the answer a judge verdict was given for (see score: stale verdicts)."""
        import hashlib

        return hashlib.sha256(self.output.encode("utf-8")).hexdigest()
