"""The one interface every model implements.

A model takes a batch of (16 kHz waveform, instruction) and returns texts, plus `describe()` for
provenance and `identity()` for resume: describe() may hold timings, paths and state set while the
model runs, which must never make a rerun refuse its own predictions; identity() holds only what
determines the outputs. Prompt templates are the model's business: the task gives the bare instruction, the
model wraps it the way its reference code does (SALMONN's `USER: <Speech>...`, Qwen's chatml)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from typing import Any, get_type_hints

import numpy as np
from pydantic import ConfigDict, Field, ValidationError, create_model

from ..errors import AudioreproError
from ..provenance import Deviation


@dataclass
class DecodingConfig:
    """Generation settings. `None` means: the model's own reference default."""

    num_beams: int | None = None
    do_sample: bool | None = None
    max_new_tokens: int | None = None
    min_new_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    repetition_penalty: float | None = None
    length_penalty: float | None = None
    seed: int | None = None

    def merged(self, overrides: dict[str, Any] | DecodingConfig | None) -> DecodingConfig:
        """A copy with every non-None value of `overrides` applied. Unknown settings and values
        of the wrong type (`max_new_tokens: "sixty"`) raise ValueError naming the setting, so a
        bad task YAML or --decoding fails before a model is loaded, not inside generate()."""
        if overrides is None:
            return DecodingConfig(**asdict(self))
        if isinstance(overrides, DecodingConfig):
            overrides = asdict(overrides)
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown decoding setting(s) {sorted(unknown)}; known: {sorted(known)}")
        _check_types(overrides)
        values = asdict(self)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return DecodingConfig(**values)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _check_types(settings: dict[str, Any]) -> None:
    """Strict types (an int is a float, but "64" is not an int and True is not a count)."""
    try:
        _settings_model().model_validate(settings)
    except ValidationError as e:
        problems = [f"{'.'.join(map(str, err['loc']))}: {err['msg']} (got {err['input']!r})" for err in e.errors()]
        raise ValueError("; ".join(problems)) from None


# Ranges generate() accepts: outside them it raises deep in a batch, or (max_new_tokens=0) gives
# every item an empty answer that would be scored as a real number.
_RANGES: dict[str, dict[str, float]] = {
    "num_beams": {"ge": 1},
    "max_new_tokens": {"ge": 1},
    "min_new_tokens": {"ge": 0},
    "temperature": {"ge": 0},
    "top_p": {"gt": 0, "le": 1},
    "top_k": {"ge": 0},
    "repetition_penalty": {"gt": 0},
}


@lru_cache(maxsize=1)
def _settings_model():
    hints = get_type_hints(DecodingConfig)
    return create_model(
        "DecodingSettings",
        __config__=ConfigDict(extra="forbid", strict=True),
        **{name: (hint, Field(None, **_RANGES.get(name, {}))) for name, hint in hints.items()},
    )


@dataclass
class GenerationRequest:
    id: str
    prompt: str  # the instruction only; the model applies its own template
    audio: np.ndarray | None  # mono float waveform at `sample_rate`; None for text-only input
    sample_rate: int = 16_000
    audio_path: str | None = None  # for models whose reference code reads the file itself
    meta: dict[str, Any] = field(default_factory=dict)
    features: Any = None  # what the model's prepare_batch computed for this request, if it ran


@dataclass
class GenerationResult:
    text: str  # cleaned output (special tokens stripped)
    raw_text: str  # decoded output before cleanup
    token_ids: list[int]  # generated ids (no prompt, no seeded BOS)
    finish_reason: str  # "eos" | "length"



def check_decoding_preset(model: str, preset: str, accepted) -> None:
    """`--model-arg decoding=NAME` (Make's DECODING=): one message for every model, naming the
    model and the presets it has, so a suite over several models says which one refused."""
    if preset not in accepted:
        raise AudioreproError(f"{model}: unknown decoding preset {preset!r}; accepted: {', '.join(accepted)}")

class AudioLanguageModel(ABC):
    """Implementations live one per file (or folder) under audiorepro/models/ and are listed in
    audiorepro/models/registry.py."""

    #: registry name, e.g. "cascade", "salmonn-13b-v1"
    name: str = "model"
    #: bump when a change to the wrapper changes its outputs for the same weights and settings, so
    #: predictions made by the older code are not resumed as if they were the same run
    output_version: int = 1
    #: the longest audio the reference reads, in seconds: the predict runner loads at most this
    #: much of each clip and records how many were cut; None reads every clip whole
    max_audio_seconds: float | None = None

    @abstractmethod
    def default_decoding(self) -> DecodingConfig:
        """The reference implementation's decoding settings (fully specified, no None)."""

    @abstractmethod
    def generate(self, batch: list[GenerationRequest], decoding: DecodingConfig) -> list[GenerationResult]:
        """One result per request, in order. Must give the same result for an item whether it
        is run alone or in a batch (greedy/beam search)."""

    def prepare_batch(self, batch: list[GenerationRequest], decoding: DecodingConfig) -> None:
        """CPU work that does not need the accelerator (resampling, feature extraction), run in a
        background thread for the next batch while the current one generates (audiorepro.prefetch);
        it stores its results in each request's `features`. `generate` must give the same result
        whether or not this ran first. The default does nothing."""
        return None

    def deviations(self) -> list[Deviation]:
        """The named departures from the reference protocol that this model's options and weights
        make; none by default."""
        return []

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Provenance: name, component paths and sha256s, dtype, device, and under "deviations"
        `deviations()` as dicts (`Deviation.model_dump()`, the shape scores.json stores)."""

    def identity(self) -> dict[str, Any]:
        """What determines the outputs (weights' identity, prompt template, options), for the
        resume fingerprint in predict_meta.json. Never timings, absolute paths or state set
        lazily while the model runs. The default is describe(), right for a model whose
        describe() is a pure function of its options and files; override it otherwise."""
        return self.describe()
