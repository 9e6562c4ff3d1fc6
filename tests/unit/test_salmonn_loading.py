"""Strict loading against the full-size key lists of the original v1 modules
(tests/fixtures/checkpoint_keys/, built by instantiating bytedance/SALMONN @ 6a54390 with the
real configs). The 13B/7B networks are built on the meta device, so no weights are needed."""

from __future__ import annotations

import json
import re

import pytest
import torch
from transformers import LlamaConfig, WhisperConfig

from audiorepro.errors import InputError
from audiorepro.models.salmonn.beats import BEATs, BEATsConfig
from audiorepro.models.salmonn.loading import (
    build_skeleton,
    expected_checkpoint_shapes,
    load_checkpoint_state,
)

INV_FREQ = re.compile(r"\.rotary_emb\.inv_freq$")
DTYPES = {"float32": torch.float32, "int64": torch.int64, "float16": torch.float16}


def key_list(fixtures_dir, name):
    return json.loads((fixtures_dir / "checkpoint_keys" / f"{name}.json").read_text())


def random_state(info, seed=0):
    """A state dict with the listed keys and shapes and random values (what a checkpoint holds)."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for entry in info["keys"]:
        dtype = DTYPES[entry["dtype"]]
        if dtype.is_floating_point:
            state[entry["key"]] = torch.randn(entry["shape"], generator=generator, dtype=dtype) * 0.02
        else:
            state[entry["key"]] = torch.zeros(entry["shape"], dtype=dtype)
    return state


def skeleton(info, state, **llm_overrides):
    return build_skeleton(
        state,
        whisper_config=WhisperConfig(**info["whisper_config"]),
        beats_config=BEATsConfig.from_dict(info["beats_config"]),
        llm_config=LlamaConfig(**{**info["llama_config"], **llm_overrides}),
    )


@pytest.fixture(scope="module", params=["salmonn_13b_v1", "salmonn_7b"])
def case(request, fixtures_dir):
    info = key_list(fixtures_dir, request.param)
    state = random_state(info)
    return info, state, skeleton(info, state)


def test_expected_keys_are_the_original_modules_keys(case):
    info, _, model = case
    reference = {e["key"]: tuple(e["shape"]) for e in info["keys"] if not INV_FREQ.search(e["key"])}
    assert expected_checkpoint_shapes(model) == reference
    assert sum(1 for k in reference if ".lora_" in k) == info["num_lora_tensors"]


def test_full_size_state_dict_loads(case):
    info, state, model = case
    report = load_checkpoint_state(model, dict(state))
    assert report.loaded == info["num_tensors"] - info["llama_config"]["num_hidden_layers"]
    # the old transformers' rotary buffers are saved by the reference but recomputed now
    assert len(report.ignored) == info["llama_config"]["num_hidden_layers"]
    assert all(INV_FREQ.search(k) for k in report.ignored)
    proj = model.speech_llama_proj.weight
    assert proj.shape == (info["llama_config"]["hidden_size"], 768)
    assert torch.equal(proj, state["speech_llama_proj.weight"])


@pytest.mark.parametrize(
    "key_pattern",
    [
        "llama_model.base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight",
        "llama_model.base_model.model.model.layers.17.self_attn.v_proj.lora_B.default.weight",
        "llama_model.base_model.model.model.layers.{last}.self_attn.q_proj.lora_B.default.weight",
        "llama_model.base_model.model.model.layers.{last}.self_attn.v_proj.lora_A.default.weight",
    ],
)
def test_missing_lora_key_is_named(case, key_pattern):
    info, state, model = case
    key = key_pattern.format(last=info["llama_config"]["num_hidden_layers"] - 1)
    assert key in state
    broken = {k: v for k, v in state.items() if k != key}
    with pytest.raises(InputError, match=re.escape(key)):
        load_checkpoint_state(model, broken, "salmonn.pth")


def test_every_lora_key_is_required(fixtures_dir):
    info = key_list(fixtures_dir, "salmonn_13b_v1")
    state = {e["key"]: torch.empty(e["shape"], device="meta") for e in info["keys"]}
    model = skeleton(info, state)
    lora_keys = [k for k in state if ".lora_" in k]
    assert len(lora_keys) == 160
    for key in lora_keys:
        broken = {k: v for k, v in state.items() if k != key}
        with pytest.raises(InputError) as excinfo:
            load_checkpoint_state(model, broken, "salmonn_v1.pth")
        assert key in str(excinfo.value) and "1 missing key" in str(excinfo.value)


def test_wrong_shape_is_reported(case):
    info, state, model = case
    broken = dict(state)
    broken["speech_llama_proj.bias"] = torch.zeros(7)
    with pytest.raises(InputError, match=r"speech_llama_proj\.bias: expected \[\d+\], got \[7\]"):
        load_checkpoint_state(model, broken, "salmonn.pth")


def test_optimizer_state_and_unused_entries_are_ignored(fixtures_dir, tmp_path):
    from audiorepro.models.salmonn.loading import read_salmonn_checkpoint

    path = tmp_path / "ckpt.pth"
    torch.save({"model": {"ln_speech.weight": torch.ones(3)}, "optimizer": {"state": {}}, "epoch": 3}, path)
    state, extras = read_salmonn_checkpoint(path)
    assert list(state) == ["ln_speech.weight"]
    assert extras == ["epoch", "optimizer"]


def test_not_a_checkpoint_is_a_clear_error(tmp_path):
    from audiorepro.models.salmonn.loading import read_salmonn_checkpoint

    path = tmp_path / "x.pth"
    torch.save({"weights": {}}, path)
    with pytest.raises(InputError, match="expected a dict with a 'model' state dict"):
        read_salmonn_checkpoint(path)
    with pytest.raises(InputError, match="not found"):
        read_salmonn_checkpoint(tmp_path / "missing.pth")


def test_vicuna_of_the_wrong_size_is_refused(fixtures_dir):
    info13 = key_list(fixtures_dir, "salmonn_13b_v1")
    info7 = key_list(fixtures_dir, "salmonn_7b")
    state = {e["key"]: torch.empty(e["shape"], device="meta") for e in info13["keys"]}
    with pytest.raises(InputError, match=r"vicuna-13b-v1\.1"):
        skeleton(info13, state, **info7["llama_config"])


def test_vicuna_of_the_wrong_release_is_refused(fixtures_dir):
    """Vicuna-13B v1.5 has the 13B width but another release (4096 positions, eps 1e-5): the
    known cause of empty outputs with salmonn_v1.pth (bytedance/SALMONN#78)."""
    info = key_list(fixtures_dir, "salmonn_13b_v1")
    state = {e["key"]: torch.empty(e["shape"], device="meta") for e in info["keys"]}
    with pytest.raises(InputError, match=r"wrong Vicuna release.*vicuna-13b-v1\.1"):
        skeleton(info, state, max_position_embeddings=4096, rms_norm_eps=1e-5)
    info7 = key_list(fixtures_dir, "salmonn_7b")
    state7 = {e["key"]: torch.empty(e["shape"], device="meta") for e in info7["keys"]}
    with pytest.raises(InputError, match=r"vicuna-7b-v1\.5"):
        skeleton(info7, state7, max_position_embeddings=2048, rms_norm_eps=1e-6)  # a Vicuna-7B v1.1/v1.3


def test_beats_module_matches_the_official_key_list(fixtures_dir):
    info = key_list(fixtures_dir, "beats_iter3_plus_as2m")
    with torch.device("meta"):
        beats = BEATs(BEATsConfig.from_dict(info["config"]))
    ours = {k: tuple(v.shape) for k, v in beats.state_dict().items()}
    assert ours == {e["key"]: tuple(e["shape"]) for e in info["keys"]}
    unique = {id(p): p.numel() for p in beats.parameters()}
    assert sum(unique.values()) == info["numel_unique_params"]


def test_whisper_encoder_matches_the_reference_key_list(fixtures_dir):
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    info = key_list(fixtures_dir, "whisper_large_v2_encoder")
    with torch.device("meta"):
        encoder = WhisperEncoder(WhisperConfig(**info["config"]))
    ours = {k: tuple(v.shape) for k, v in encoder.state_dict().items()}
    assert ours == {e["key"]: tuple(e["shape"]) for e in info["keys"]}


def test_checkpoint_of_the_other_size_is_refused_by_the_preset(fixtures_dir):
    from audiorepro.models.salmonn.configuration import PRESETS
    from audiorepro.models.salmonn.loading import check_llm_for_checkpoint, checkpoint_layout

    info7 = key_list(fixtures_dir, "salmonn_7b")
    layout = checkpoint_layout({e["key"]: torch.empty(e["shape"], device="meta") for e in info7["keys"]})
    assert (layout.llm_hidden, layout.lora_layers, layout.lora_rank) == (4096, 32, 8)
    llm_13b = LlamaConfig(**key_list(fixtures_dir, "salmonn_13b_v1")["llama_config"])
    with pytest.raises(InputError, match=r"4096-wide LLM.*use the salmonn-13b-v1 checkpoint"):
        check_llm_for_checkpoint(llm_13b, layout, "vicuna", PRESETS["salmonn-13b-v1"], "salmonn_7b_v0.pth")


def test_preset_without_fetched_components_names_the_fetch_command(tmp_path, monkeypatch):
    from audiorepro.models.salmonn import SalmonnModel

    monkeypatch.setenv("AUDIOREPRO_CACHE", str(tmp_path))
    with pytest.raises(InputError, match=r"make fetch-whisper-large-v2"):
        SalmonnModel(preset="salmonn-13b-v1", device="cpu")


def test_unknown_entries_are_reported_apart_from_known_unused_ones(case):
    _, state, model = case
    extra = {
        "speech_Qformer.bert.embeddings.word_embeddings.weight": torch.zeros(2, 2),  # v1 text layer
        "some_new_head.weight": torch.zeros(2),
    }
    report = load_checkpoint_state(model, {**state, **extra})
    assert "speech_Qformer.bert.embeddings.word_embeddings.weight" in report.ignored
    assert report.unexpected == ["some_new_head.weight"]
