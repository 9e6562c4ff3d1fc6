"""Shared by the SALMONN parity tests (and the GPU tests that reuse the fixture): the model built
from the tiny golden fixture, its three input clips and its fixture.json."""

from __future__ import annotations

import json

INPUTS = ["speech_16k", "synth_16k", "stereo_44k"]


def read_fixture_info(root) -> dict:
    """fixture.json: the prompt and the ids recorded by running the original SALMONN code."""
    return json.loads((root / "fixture.json").read_text())


def build_model(root, **options):
    """SalmonnModel on tests/fixtures/salmonn_parity/model; float32 on CPU (the fixture's setting) by default."""
    from audiorepro.models.salmonn import SalmonnModel

    model_dir = root / "model"
    options = {"dtype": "float32", "device": "cpu", **options}
    return SalmonnModel(
        whisper_path=model_dir / "whisper",
        beats_path=model_dir / "beats.pt",
        llm_path=model_dir / "llama",
        ckpt_path=model_dir / "salmonn.pth",
        **options,
    )
