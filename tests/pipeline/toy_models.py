"""Test doubles for the pipeline tests (registered through AUDIOREPRO_MODEL_PLUGINS). They are
deterministic functions of the input, so a resumed run must reproduce an uninterrupted one
exactly; the delay gives a test time to kill the process between batches."""

from __future__ import annotations

import os
import time

import numpy as np

from audiorepro.models.base import AudioLanguageModel, DecodingConfig, GenerationResult


class SlowSignalStats(AudioLanguageModel):
    """Answers with the number of samples and the RMS of the audio: a pure function of the input."""

    def __init__(self, delay: float | None = None):
        self.delay = float(os.environ.get("TOY_MODEL_DELAY", 0.0)) if delay is None else delay

    def default_decoding(self) -> DecodingConfig:
        return DecodingConfig(num_beams=1, do_sample=False, max_new_tokens=16)

    def generate(self, batch, decoding):
        out = []
        for req in batch:
            time.sleep(self.delay)
            rms = float(np.sqrt(np.mean(np.square(req.audio)))) if req.audio is not None else 0.0
            text = f"{len(req.audio)} samples rms {rms:.6f}"
            out.append(GenerationResult(text=text, raw_text=text, token_ids=[1, 2, 3], finish_reason="eos"))
        return out

    def describe(self) -> dict:
        return {"name": "toy-signal-stats", "device": "cpu", "deviations": [{"name": "model", "value": "toy test double", "reference": "n/a"}]}


class SlowPrepareStats(SlowSignalStats):
    """SlowSignalStats with a slow `prepare_batch` hook (the RMS is computed there) and a slow
    generate, each `delay` seconds per batch: a stand-in for feature extraction and decoding."""

    def __init__(self, delay: float | None = None, prepare_delay: float | None = None):
        super().__init__(delay)
        self.prepare_delay = self.delay if prepare_delay is None else prepare_delay
        if os.environ.get("TOY_MODEL_PID_DIR"):  # lets a test kill one rank of a torchrun run
            rank = os.environ.get("RANK", "0")
            with open(os.path.join(os.environ["TOY_MODEL_PID_DIR"], f"rank{rank}.pid"), "w") as f:
                f.write(str(os.getpid()))

    def prepare_batch(self, batch, decoding):
        time.sleep(self.prepare_delay)
        for req in batch:
            req.features = float(np.sqrt(np.mean(np.square(req.audio)))) if req.audio is not None else 0.0

    def generate(self, batch, decoding):
        time.sleep(self.delay)
        out = []
        for req in batch:
            if req.features is None:
                rms = float(np.sqrt(np.mean(np.square(req.audio)))) if req.audio is not None else 0.0
            else:
                rms = req.features
            text = f"{len(req.audio)} samples rms {rms:.6f}"
            out.append(GenerationResult(text=text, raw_text=text, token_ids=[1, 2, 3], finish_reason="eos"))
        return out
