"""SALMONN re-implementation vs the original v1 code, on the tiny golden fixture.

Every expected value comes from tests/fixtures/salmonn_parity/ (tensors and ids recorded by
running bytedance/SALMONN @ 6a54390 with transformers 4.28 / peft 0.3.0 on tiny random weights,
see its README.md); nothing is copied from this implementation's output."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from salmonn_helpers import INPUTS, build_model

from audiorepro.audio import load_audio
from audiorepro.models.base import DecodingConfig

ENCODER_ATOL = 1e-4
LOGITS_ATOL = 1e-3


@pytest.fixture(scope="module")
def model(root):
    torch.manual_seed(0)
    return build_model(root)


@pytest.fixture(scope="module")
def lora_half_model(root, fixture_info):
    scaling = fixture_info["generation"]["greedy_lora_half"]["scaling"]
    return build_model(root, lora_scaling=scaling)


def input_info(fixture_info, name):
    return next(i for i in fixture_info["inputs"] if i["name"] == name)


def waveform(root, name):
    return load_audio(root / "inputs" / f"{name}.wav", max_seconds=30)


def tensors(root, name):
    return np.load(root / "tensors" / f"{name}.npz")


def generated(reference_ids):
    """The fixture's sequences start with the <s> that transformers 4.28 seeded."""
    assert reference_ids[0] == 1
    return [int(t) for t in reference_ids[1:]]


@pytest.fixture(scope="module")
def encoded(model, root, fixture_info):
    instruction = fixture_info["prompt"]["instruction"]
    out = {}
    for name in INPUTS:
        encoding, inputs_embeds, attention_mask = model.build_inputs([waveform(root, name)], [instruction])
        with torch.no_grad():
            logits = model.llm(inputs_embeds=inputs_embeds, attention_mask=attention_mask).logits
        out[name] = (encoding, inputs_embeds, logits)
    return out


def test_resampled_input_matches_v1(root):
    ref = tensors(root, "stereo_44k")["wav_16k_resampled"]
    ours = waveform(root, "stereo_44k")
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-9)


def test_prompt_token_ids(model, fixture_info, root):
    left, right = model.encode_prompt(fixture_info["prompt"]["instruction"])
    assert left == fixture_info["prompt"]["left_ids"]
    assert right == fixture_info["prompt"]["right_ids"]
    t = tensors(root, "speech_16k")
    assert left == t["prompt_left_ids"][0].tolist()
    assert right == t["prompt_right_ids"][0].tolist()


@pytest.mark.parametrize("name", INPUTS)
def test_audio_path_tensors(encoded, root, name):
    ref = tensors(root, name)
    encoding, inputs_embeds, _ = encoded[name]
    ours = {
        "whisper_input_features": encoding.whisper_features,
        "whisper_last_hidden_state": encoding.whisper_hidden,
        "beats_out": encoding.beats_hidden[0].unsqueeze(0),
        "qformer_out": encoding.qformer_out,
        "speech_embeds": encoding.speech_embeds,
        "inputs_embeds": inputs_embeds,
        "fused": encoding.fused,
    }
    compared = 0
    for key, value in ours.items():
        if key not in ref.files:
            continue
        assert tuple(value.shape) == ref[key].shape, key
        np.testing.assert_allclose(value.numpy(), ref[key], rtol=0, atol=ENCODER_ATOL, err_msg=key)
        compared += 1
    assert compared >= 6


@pytest.mark.parametrize("name", INPUTS)
def test_beats_fbank(model, root, name):
    ref = tensors(root, name)["beats_fbank"]
    wav = torch.from_numpy(waveform(root, name)).unsqueeze(0)
    ours = model.network.beats.preprocess(wav)
    assert ours.dtype == torch.float32
    assert tuple(ours.shape) == ref.shape
    np.testing.assert_allclose(ours.numpy(), ref, rtol=0, atol=ENCODER_ATOL)


@pytest.mark.parametrize("name", INPUTS)
def test_prompt_logits(encoded, root, name):
    ref = tensors(root, name)
    _, _, logits = encoded[name]
    np.testing.assert_allclose(logits[0, -1].numpy(), ref["last_logits"], rtol=0, atol=LOGITS_ATOL)
    if "prompt_logits" in ref.files:
        np.testing.assert_allclose(logits.numpy(), ref["prompt_logits"], rtol=0, atol=LOGITS_ATOL)


@pytest.mark.parametrize("name", INPUTS)
def test_greedy_ids(model, root, fixture_info, name):
    expected = generated(input_info(fixture_info, name)["generation"]["greedy"]["ids"])
    [result] = model.generate_ids([waveform(root, name)], [fixture_info["prompt"]["instruction"]], greedy(24))
    assert result.token_ids == expected
    assert result.ended_with_eos == (expected[-1] == 2)


@pytest.mark.parametrize("name", INPUTS)
def test_beam4_ids_all_four_beams_and_their_scores(model, root, fixture_info, name):
    """Beam-4 ids, and the 4.28 ranking: </s>-ended hypotheses divided by (tokens incl. </s>), length-cut ones by
    (1 + max_new_tokens) because of the seeded <s>. The fixture records all four final beams."""
    from audiorepro.models.salmonn.generation import SearchSettings, beam_search

    beam = input_info(fixture_info, name)["generation"]["beam4"]
    _, inputs_embeds, attention_mask = model.build_inputs(
        [waveform(root, name)], [fixture_info["prompt"]["instruction"]]
    )
    settings = SearchSettings(max_new_tokens=24, num_beams=4, num_return_sequences=4)
    [hypotheses] = beam_search(model.llm, inputs_embeds, attention_mask, settings)
    assert hypotheses[0].token_ids == generated(beam["ids"])
    expected_ids = [[t for t in generated(ids) if t != 1000] for ids in beam["all4_ids"]]  # 1000 = [PAD]
    assert [h.token_ids for h in hypotheses] == expected_ids
    np.testing.assert_allclose(
        [h.score for h in hypotheses], beam["all4_sequences_scores"], rtol=0, atol=1e-4
    )


@pytest.mark.parametrize("name", INPUTS)
def test_lora_half_scaling(lora_half_model, root, fixture_info, name):
    info = input_info(fixture_info, name)["generation"]["greedy_lora_half"]
    ref = tensors(root, name)
    instruction = fixture_info["prompt"]["instruction"]
    _, inputs_embeds, attention_mask = lora_half_model.build_inputs([waveform(root, name)], [instruction])
    with torch.no_grad():
        logits = lora_half_model.llm(inputs_embeds=inputs_embeds, attention_mask=attention_mask).logits
    np.testing.assert_allclose(logits[0, -1].numpy(), ref["lora_half_last_logits"], rtol=0, atol=LOGITS_ATOL)
    [result] = lora_half_model.generate_ids([waveform(root, name)], [instruction], greedy(24))
    assert result.token_ids == generated(info["ids"])
    # stored as text, as the report prints it (the option itself stays a number in describe())
    assert {"name": "lora_scaling", "value": "2.0", "reference": "4.0"} in lora_half_model.describe()[
        "deviations"
    ]


def test_generate_interface_and_text_cleanup(model, root, fixture_info):
    """Through the runner's interface: ids without the seeded <s>, finish reason, cleaned text."""
    from audiorepro.models.base import GenerationRequest

    info = input_info(fixture_info, "stereo_44k")["generation"]["greedy"]
    request = GenerationRequest(
        id="stereo", prompt=fixture_info["prompt"]["instruction"], audio=waveform(root, "stereo_44k")
    )
    [result] = model.generate([request], greedy(24))
    assert result.token_ids == generated(info["ids"])
    assert result.finish_reason == "eos"
    assert result.text == info["text"]
    assert result.raw_text.endswith("</s>")
    assert "</s>" not in result.text


def test_infer_command_contract(root, fixture_info, capsys):
    from audiorepro.infer import main

    model_dir = root / "model"
    args = [
        "infer", "salmonn",
        "--whisper-path", str(model_dir / "whisper"),
        "--beats-path", str(model_dir / "beats.pt"),
        "--llm-path", str(model_dir / "llama"),
        "--ckpt-path", str(model_dir / "salmonn.pth"),
        "--audio", str(root / "inputs" / "speech_16k.wav"),
        "--prompt", fixture_info["prompt"]["instruction"],
        "--num-beams", "4", "--max-new-tokens", "24",
        "--device", "cpu", "--dtype", "float32", "--json",
    ]  # fmt: skip
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    expected = generated(input_info(fixture_info, "speech_16k")["generation"]["beam4"]["ids"])
    assert payload["token_ids"] == expected
    assert payload["token_ids"][-1] == 2
    assert payload["text"] == input_info(fixture_info, "speech_16k")["generation"]["beam4"]["text"]


def greedy(max_new_tokens):
    return DecodingConfig(num_beams=1, do_sample=False, max_new_tokens=max_new_tokens)


def beam4(max_new_tokens):
    return DecodingConfig(num_beams=4, do_sample=False, max_new_tokens=max_new_tokens, length_penalty=1.0)
