"""Test doubles for the fault tests (registered through AUDIOREPRO_MODEL_PLUGINS): a model that
answers from the signal, one that cannot load and one that breaks on one task's items."""

from __future__ import annotations

import numpy as np

from audiorepro.models.base import AudioLanguageModel, DecodingConfig, GenerationResult


class SignalStats(AudioLanguageModel):
    """Answers with the number of samples and the RMS of the audio: a pure function of the input."""

    def default_decoding(self) -> DecodingConfig:
        return DecodingConfig(num_beams=1, do_sample=False, max_new_tokens=16)

    def generate(self, batch, decoding):
        out = []
        for req in batch:
            rms = float(np.sqrt(np.mean(np.square(req.audio)))) if req.audio is not None else 0.0
            text = f"{len(req.audio)} samples rms {rms:.6f}"
            out.append(GenerationResult(text=text, raw_text=text, token_ids=[1, 2, 3], finish_reason="eos"))
        return out

    def describe(self) -> dict:
        return {"name": self.name, "deviations": [{"name": "model", "value": "test double", "reference": "n/a"}]}


class CannotLoad(SignalStats):
    """Fails in its constructor, as a model whose remote code does not import would."""

    def __init__(self):
        raise ImportError("cannot import name 'DisjunctiveConstraint' from 'transformers'\nsecond line")


class BreaksOnQuestions(SignalStats):
    """Loads, answers the ASR items, and raises on the spoken questions (ids start with q)."""

    def generate(self, batch, decoding):
        if any(r.id.startswith("q") for r in batch):
            raise RuntimeError("CUDA out of memory (simulated)")
        return super().generate(batch, decoding)
