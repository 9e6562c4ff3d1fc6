"""Shared by the SALMONN parity tests (and the GPU tests that reuse the fixture): the model built
from the tiny golden fixture, its three input clips, its fixture.json, and the `root` and
`fixture_info` fixtures (imported by tests/parity/conftest.py and tests/gpu/conftest.py)."""

from __future__ import annotations

import json

import pytest

INPUTS = ["speech_16k", "synth_16k", "stereo_44k"]


def read_fixture_info(root) -> dict:
    """fixture.json: the prompt and the ids recorded by running the original SALMONN code."""
    return json.loads((root / "fixture.json").read_text())


@pytest.fixture(scope="module")
def root(fixtures_dir):
    return fixtures_dir / "salmonn_parity"


@pytest.fixture(scope="module")
def fixture_info(root):
    return read_fixture_info(root)


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
