"""Big-model placement on a CUDA GPU (opt in with --run-gpu), on the tiny SALMONN parity fixture
(tests/fixtures/salmonn_parity: ids recorded from the original code, float32):

- device_map=auto with a GPU memory budget too small for Vicuna: layers spill to CPU RAM
  (accelerate streams them to the GPU), and the ids stay the fixture's and the unsplit model's;
- load_in_8bit=true (bitsandbytes, requirements/gpu.lock.txt; the reference's low_resource): the
  LLM's projections become int8 layers, its weights take less memory than in float16, and the run
  names the deviation. 8-bit changes the numbers, so no parity with the fixture is claimed."""

from __future__ import annotations

import pytest
import torch
from salmonn_helpers import INPUTS, build_model

from audiorepro.audio import load_audio
from audiorepro.models.base import DecodingConfig

pytestmark = pytest.mark.gpu




def _inputs(root, fixture_info):
    wavs = [load_audio(root / "inputs" / f"{n}.wav", max_seconds=30) for n in INPUTS]
    return wavs, [fixture_info["prompt"]["instruction"]] * len(wavs)


def test_device_map_spills_to_cpu_with_identical_ids(root, fixture_info):
    wavs, prompts = _inputs(root, fixture_info)
    greedy = DecodingConfig(num_beams=1, do_sample=False, max_new_tokens=24, min_new_tokens=0)
    unsplit = build_model(root, device="cuda")
    expected = [h.token_ids for h in unsplit.generate_ids(wavs, prompts, greedy)]
    del unsplit
    split = build_model(root, device="cuda", device_map="auto", max_memory="0=700KB,cpu=1GB")
    devices = set(split.describe()["placement"]["hf_device_map"].values())
    assert devices == {"0", "cpu"}, devices
    assert [h.token_ids for h in split.generate_ids(wavs, prompts, greedy)] == expected
    for name, ids in zip(INPUTS, expected, strict=True):
        info = next(i for i in fixture_info["inputs"] if i["name"] == name)
        assert ids == [int(t) for t in info["generation"]["greedy"]["ids"][1:]], name


def test_load_in_8bit_is_int8_smaller_and_a_named_deviation(root, fixture_info):
    import bitsandbytes as bnb

    half = build_model(root, device="cuda", dtype="float16")
    eight = build_model(root, device="cuda", dtype="float16", load_in_8bit=True)
    q_proj = eight.llm.model.layers[0].self_attn.q_proj
    assert isinstance(getattr(q_proj, "base_layer", q_proj), bnb.nn.Linear8bitLt)
    assert eight.llm.get_memory_footprint() < half.llm.get_memory_footprint()
    names = [d["name"] for d in eight.describe()["deviations"]]
    assert "load_in_8bit" in names and "load_in_8bit" not in [d["name"] for d in half.describe()["deviations"]]
    wavs, prompts = _inputs(root, fixture_info)
    greedy = DecodingConfig(num_beams=1, do_sample=False, max_new_tokens=8, min_new_tokens=1)
    hyps = eight.generate_ids(wavs, prompts, greedy)
    assert all(0 < len(h.token_ids) <= 8 and max(h.token_ids) < 1000 for h in hyps)
    assert torch.cuda.max_memory_allocated() > 0
