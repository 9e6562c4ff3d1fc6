"""Half-precision options: the LLaMA runs in the chosen dtype while LoRA, the encoders, the
Q-Former and the projection stay float32 (the reference's fp16 setup), and the result stays close
to the float32 reference logits of the fixture. No bit-parity is claimed for half precision."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from salmonn_helpers import build_model

from audiorepro.audio import load_audio

# fp16 keeps ~3 decimal digits: over two layers, logits of magnitude ~15 move by a few 1e-2;
# bf16 keeps ~2 digits, so about ten times more
TOLERANCE = {"float16": 0.15, "bfloat16": 1.5}
DTYPE = {"float16": torch.float16, "bfloat16": torch.bfloat16}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_layout_and_logits(fixtures_dir, dtype):
    root = fixtures_dir / "salmonn_parity"
    model = build_model(root, dtype=dtype)
    llm = model.llm
    assert llm.dtype == DTYPE[dtype]
    q_proj = llm.model.layers[0].self_attn.q_proj
    assert q_proj.base_layer.weight.dtype == DTYPE[dtype]
    assert q_proj.lora_A["default"].weight.dtype == torch.float32
    network = model.network
    for module in (network.speech_encoder, network.beats, network.speech_Qformer, network.speech_llama_proj):
        assert {p.dtype for p in module.parameters()} == {torch.float32}
    deviations = {d["name"] for d in model.describe()["deviations"]}
    assert ("dtype" in deviations) == (dtype != "float16")  # fp16 is the reference's precision
    assert "half_precision_prompt" in deviations

    info = json.loads((root / "fixture.json").read_text())
    reference = np.load(root / "tensors" / "speech_16k.npz")["last_logits"]
    wav = load_audio(root / "inputs" / "speech_16k.wav", max_seconds=30)
    _, inputs_embeds, attention_mask = model.build_inputs([wav], [info["prompt"]["instruction"]])
    assert inputs_embeds.dtype == DTYPE[dtype]
    with torch.no_grad():
        logits = llm(inputs_embeds=inputs_embeds, attention_mask=attention_mask).logits[0, -1].float()
    np.testing.assert_allclose(logits.numpy(), reference, rtol=0, atol=TOLERANCE[dtype])
