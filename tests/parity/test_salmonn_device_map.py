"""`--model-arg device_map=auto` spreads Vicuna's layers over devices without changing a single
output. On CPU the two "devices" are RAM with a small max_memory budget and disk (accelerate
offloads the layers that do not fit and streams them in through its hooks): the split model must
give the tiny golden fixture's ids (recorded from the original SALMONN code) and exactly the
unsplit model's ids, logits and beams."""

from __future__ import annotations

import pytest
import torch
from salmonn_helpers import INPUTS, build_model

from audiorepro.audio import load_audio
from audiorepro.errors import AudioreproError
from audiorepro.models.base import DecodingConfig


@pytest.fixture(scope="module")
def unsplit(root):
    return build_model(root)


@pytest.fixture(scope="module")
def split(root, tmp_path_factory):
    # 700 kB of RAM for the ~840 kB float32 LLM: the first blocks stay in RAM, the rest goes to disk
    return build_model(
        root,
        device_map="auto",
        max_memory="cpu=700KB",
        offload_folder=str(tmp_path_factory.mktemp("offload")),
    )


def waveforms(root):
    return [load_audio(root / "inputs" / f"{name}.wav", max_seconds=30) for name in INPUTS]


def test_the_llm_is_really_split(split):
    placement = split.describe()["placement"]
    devices = set(placement["hf_device_map"].values())
    assert devices == {"cpu", "disk"}, placement["hf_device_map"]
    assert placement["device_map"] == "auto" and placement["load_in_8bit"] is False
    assert not [d for d in split.describe()["deviations"] if d["name"] == "load_in_8bit"]


@pytest.mark.parametrize("num_beams", [1, 4])
def test_split_outputs_equal_the_unsplit_model_and_the_fixture(split, unsplit, root, fixture_info, num_beams):
    instruction = fixture_info["prompt"]["instruction"]
    decoding = DecodingConfig(num_beams=num_beams, do_sample=False, max_new_tokens=24, min_new_tokens=0)
    wavs = waveforms(root)
    ours = split.generate_ids(wavs, [instruction] * len(wavs), decoding)
    theirs = unsplit.generate_ids(wavs, [instruction] * len(wavs), decoding)
    assert [h.token_ids for h in ours] == [h.token_ids for h in theirs]
    key = "greedy" if num_beams == 1 else "beam4"
    for name, hyp in zip(INPUTS, ours, strict=True):
        info = next(i for i in fixture_info["inputs"] if i["name"] == name)
        assert hyp.token_ids == [int(t) for t in info["generation"][key]["ids"][1:]], name


def test_split_logits_are_bitwise_equal(split, unsplit, root, fixture_info):
    instruction = fixture_info["prompt"]["instruction"]
    wav = waveforms(root)[:1]
    with torch.no_grad():
        _, embeds, mask = unsplit.build_inputs(wav, [instruction])
        expected = unsplit.llm(inputs_embeds=embeds, attention_mask=mask).logits
        _, embeds, mask = split.build_inputs(wav, [instruction])
        got = split.llm(inputs_embeds=embeds, attention_mask=mask).logits
    assert torch.equal(got, expected)
    # what the outputs depend on is the same; only the placement in describe() differs
    assert split.identity() == unsplit.identity()
    assert split.describe()["placement"] != unsplit.describe()["placement"]


def test_bad_placement_options_are_refused_by_name(root):
    with pytest.raises(AudioreproError, match="device_map must be one of auto"):
        build_model(root, device_map="everywhere")
    with pytest.raises(AudioreproError, match="max_memory needs device_map=auto"):
        build_model(root, max_memory="cpu=1GB")
    with pytest.raises(AudioreproError, match="load_in_8bit must be true or false"):
        build_model(root, load_in_8bit="maybe")


def test_a_gpu_budget_must_leave_room_for_accelerates_largest_layer_buffer(unsplit):
    """Why tests/gpu/test_placement_gpu.py gives the GPU 700 kB: accelerate keeps a buffer the size
    of the largest layer (here the 256 kB embedding or lm_head) free on the first GPU, so a 500 kB
    budget holds no layer and the map collapses to the CPU alone (seen on an H200, 2026-11-26:
    no hf_device_map, every weight on the CPU). Computed from the module sizes; no GPU needed."""
    from accelerate import infer_auto_device_map

    def devices(budget):
        placed = infer_auto_device_map(unsplit.llm, max_memory={0: budget, "cpu": "1GB"}, no_split_module_classes=["LlamaDecoderLayer"])
        return set(placed.values())

    assert devices("500KB") == {"cpu"}
    assert devices("700KB") == {0, "cpu"}
