"""`--model-arg decoding=greedy` (make DECODING=greedy) for SALMONN: the preset gives the original
code's greedy ids on the tiny golden fixture (tests/fixtures/salmonn_parity, recorded from
bytedance/SALMONN @ 6a54390) with no other decoding setting, and is recorded as a deviation;
an unknown preset is a one-line error naming the model and the accepted values."""

from __future__ import annotations

import json

import pytest
from salmonn_helpers import build_model

from audiorepro.audio import load_audio
from audiorepro.errors import AudioreproError
from audiorepro.models.base import DecodingConfig


def test_greedy_preset_gives_the_reference_greedy_ids(fixtures_dir):
    root = fixtures_dir / "salmonn_parity"
    info = json.loads((root / "fixture.json").read_text())
    speech = next(i for i in info["inputs"] if i["name"] == "speech_16k")
    expected = [int(t) for t in speech["generation"]["greedy"]["ids"][1:]]  # drop the seeded <s>

    model = build_model(root, decoding="greedy")
    wave = load_audio(root / "inputs" / "speech_16k.wav", max_seconds=30)
    [result] = model.generate_ids([wave], [info["prompt"]["instruction"]], DecodingConfig(max_new_tokens=24))
    assert result.token_ids == expected
    assert model.default_decoding().num_beams == 1
    (decoding,) = [d for d in model.describe()["deviations"] if d["name"] == "decoding"]
    assert decoding["value"].startswith("greedy")


def test_unknown_preset_names_the_model_and_the_accepted_values(fixtures_dir):
    with pytest.raises(AudioreproError, match=r"^salmonn: unknown decoding preset 'sampling'; accepted: reference, greedy$"):
        build_model(fixtures_dir / "salmonn_parity", decoding="sampling")


def test_resume_identity_ignores_where_the_files_lie_but_not_what_they_hold(fixtures_dir, tmp_path):
    """Moving the cache (or the fixture) must not make a rerun refuse its own predictions; another
    LoRA scaling or decoding preset must."""
    import shutil

    root = fixtures_dir / "salmonn_parity"
    moved = tmp_path / "moved"
    shutil.copytree(root / "model", moved / "model")
    identity = build_model(root).identity()
    assert build_model(moved).identity() == identity
    assert str(root) not in json.dumps(identity)
    assert build_model(root, decoding="greedy").identity() != identity
    assert build_model(root, lora_scaling=2.0).identity() != identity
