"""The SALMONN parity fixture on a CUDA GPU in float32 (opt in with --run-gpu).

The one real equality check a GPU can make without the released checkpoints: the tiny golden
fixture (tests/fixtures/salmonn_parity: tensors and ids recorded by running the original v1 code
on the CPU in float32) run through this implementation on CUDA, in float32, with TF32 off (cuDNN
turns it on for convolutions by default, which would make this a different precision). The
encoder tensors and logits must sit within the fixture's suggested tolerances of the CPU goldens,
and every greedy and beam-4 id must be equal."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from salmonn_helpers import INPUTS, build_model

from audiorepro.audio import load_audio
from audiorepro.models.base import DecodingConfig
from audiorepro.models.salmonn.generation import SearchSettings, beam_search

pytestmark = pytest.mark.gpu


# fixture.json "suggested_tolerances" (features and encoders 1e-4, logits 1e-3, ids exact)
ENCODER_ATOL = 1e-4
LOGITS_ATOL = 1e-3



@pytest.fixture(scope="module")
def model(root):
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield build_model(root, device="cuda", dtype="float32")
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _waveform(root, name):
    return load_audio(root / "inputs" / f"{name}.wav", max_seconds=30)


def _generation(fixture_info, name):
    info = next(i for i in fixture_info["inputs"] if i["name"] == name)["generation"]
    return info


def _generated(reference_ids):
    assert reference_ids[0] == 1  # the <s> that transformers 4.28 seeded
    return [int(t) for t in reference_ids[1:]]


@pytest.mark.parametrize("name", INPUTS)
def test_encoders_and_prompt_logits_on_cuda_match_the_cpu_goldens(model, root, fixture_info, name):
    ref = np.load(root / "tensors" / f"{name}.npz")
    encoding, inputs_embeds, attention_mask = model.build_inputs([_waveform(root, name)], [fixture_info["prompt"]["instruction"]])
    assert inputs_embeds.device.type == "cuda"
    ours = {
        "whisper_last_hidden_state": encoding.whisper_hidden,
        "beats_out": encoding.beats_hidden[0].unsqueeze(0),
        "qformer_out": encoding.qformer_out,
        "speech_embeds": encoding.speech_embeds,
        "inputs_embeds": inputs_embeds,
    }
    for key, value in ours.items():
        np.testing.assert_allclose(value.float().cpu().numpy(), ref[key], rtol=0, atol=ENCODER_ATOL, err_msg=key)
    with torch.no_grad():
        logits = model.llm(inputs_embeds=inputs_embeds, attention_mask=attention_mask).logits
    np.testing.assert_allclose(logits[0, -1].cpu().numpy(), ref["last_logits"], rtol=0, atol=LOGITS_ATOL)


@pytest.mark.parametrize("name", INPUTS)
def test_greedy_and_beam4_ids_on_cuda_equal_the_goldens(model, root, fixture_info, name):
    generation = _generation(fixture_info, name)
    instruction = fixture_info["prompt"]["instruction"]
    greedy = DecodingConfig(num_beams=1, do_sample=False, max_new_tokens=24, min_new_tokens=0)
    [result] = model.generate_ids([_waveform(root, name)], [instruction], greedy)
    assert result.token_ids == _generated(generation["greedy"]["ids"])

    _, inputs_embeds, attention_mask = model.build_inputs([_waveform(root, name)], [instruction])
    settings = SearchSettings(max_new_tokens=24, num_beams=4, num_return_sequences=4)
    [hypotheses] = beam_search(model.llm, inputs_embeds, attention_mask, settings)
    expected = [[t for t in _generated(ids) if t != 1000] for ids in generation["beam4"]["all4_ids"]]  # 1000 = [PAD]
    assert [h.token_ids for h in hypotheses] == expected
    np.testing.assert_allclose([h.score for h in hypotheses], generation["beam4"]["all4_sequences_scores"], rtol=0, atol=1e-4)


def test_batch_of_three_on_cuda_equals_the_goldens(model, root, fixture_info):
    """The three clips in one left-padded batch (what the predict runner sends) give the same ids."""
    greedy = DecodingConfig(num_beams=1, do_sample=False, max_new_tokens=24, min_new_tokens=0)
    waves = [_waveform(root, n) for n in INPUTS]
    results = model.generate_ids(waves, [fixture_info["prompt"]["instruction"]] * 3, greedy)
    assert [r.token_ids for r in results] == [_generated(_generation(fixture_info, n)["greedy"]["ids"]) for n in INPUTS]
