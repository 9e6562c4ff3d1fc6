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

    @classmethod
    def from_dict(cls, d: dict, *, source: str | Path = "<predictions>") -> Prediction:
        missing = [k for k in cls.__dataclass_fields__ if k not in d]
        if missing:
            raise InputError(source, f"prediction {d.get('id', '?')!r} lacks field(s) {missing}")
        if not isinstance(d["output"], str):
            raise InputError(source, f"prediction {d['id']!r}: 'output' must be a string")
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})

    def to_dict(self) -> dict:
        return asdict(self)
