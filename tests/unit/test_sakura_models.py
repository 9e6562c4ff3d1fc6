"""The Qwen models on the SAKURA path: prompts byte for byte against the documented templates
(snapshot built from the model cards' formats, see fixtures/sakura/snapshots/make_snapshots.py),
a tiny random Qwen2AudioForConditionalGeneration running on the fixture clips on CPU, the vLLM
prompt equal to the transformers one, and Qwen-Audio-Chat's chat-API wiring with stand-ins for
its remote code."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audiorepro.audio import load_audio
from audiorepro.models.base import GenerationRequest
from audiorepro.models.qwen2_audio import Qwen2AudioModel
from audiorepro.models.qwen2_audio_vllm import build_prompt as vllm_prompt
from audiorepro.models.qwen2_audio_vllm import sampling_params_kwargs
from sakura_support import build_tiny_qwen2_audio


@pytest.fixture(scope="module")
def snapshot_rows(fixtures_dir):
    path = fixtures_dir / "sakura" / "snapshots" / "model_prompts.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def qwen2(tmp_path_factory):
    return Qwen2AudioModel(
        str(build_tiny_qwen2_audio(tmp_path_factory.mktemp("tiny-qwen2-audio")))
    )


def _requests(fixtures_dir):
    root = fixtures_dir / "sakura"
    cat = root / "Animal" / "audio" / "cat57.wav"
    woman = root / "Gender" / "audio" / "en_test_0_common_voice_en_17562717.wav"
    return [
        GenerationRequest("a", "Which animal? (a) dog (b) cat", load_audio(cat), audio_path=str(cat)),
        GenerationRequest("b", "Gender? (a) Male (b) Female", load_audio(woman), audio_path=str(woman)),
        GenerationRequest("c", "Audio/Speech information: \nThe speaker is sad.\nQ? (a) x (b) y", None),
    ]


def test_qwen2_audio_prompts_equal_the_snapshot(qwen2, snapshot_rows):
    assert len(snapshot_rows) == 48
    for row in snapshot_rows:
        request = GenerationRequest(row["id"], row["question"], np.zeros(16000), audio_path=row["audio_path"])
        assert qwen2.render_prompt(request) == row["qwen2-audio"], row["id"]
        assert vllm_prompt(request) == row["qwen2-audio"], row["id"]


def test_text_only_prompt_has_no_audio_and_matches_vllm(qwen2):
    request = GenerationRequest("t", "Audio/Speech information: \nThe speaker is sad.\nQ?", None)
    expected = (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
        "Audio/Speech information: \nThe speaker is sad.\nQ?<|im_end|>\n<|im_start|>assistant\n"
    )
    assert qwen2.render_prompt(request) == expected == vllm_prompt(request)


def test_audio_token_count_follows_the_processor_formula(qwen2, fixtures_dir):
    # cat57.wav: 150,208 samples -> 939 mel frames in the attention mask;
    # N = ((939 - 1)//2 + 1 - 2)//2 + 1 = 235 audio tokens (sakura.md 5.2)
    request = _requests(fixtures_dir)[0]
    assert len(request.audio) == 150_208
    inputs = qwen2.processor(
        text=[qwen2.render_prompt(request)],
        audio=[request.audio.astype(np.float32)],
        sampling_rate=16000,
        return_tensors="pt",
    )
    audio_id = qwen2.processor.tokenizer.convert_tokens_to_ids("<|AUDIO|>")
    assert int((inputs["input_ids"] == audio_id).sum()) == 235
    assert inputs["input_features"].shape == (1, 80, 3000)


def test_greedy_batch_equals_one_by_one(qwen2, fixtures_dir):
    requests = _requests(fixtures_dir)
    greedy = qwen2.default_decoding().merged({"do_sample": False, "max_new_tokens": 4, "min_new_tokens": 4})
    batched = qwen2.generate(requests, greedy)
    single = [qwen2.generate([r], greedy)[0] for r in requests]
    assert [r.token_ids for r in batched] == [r.token_ids for r in single]
    assert all(len(r.token_ids) == 4 and r.finish_reason == "length" for r in batched)


def test_device_map_split_gives_identical_outputs(qwen2, fixtures_dir, tmp_path):
    """device_map=auto with 150 kB of RAM: the audio tower stays in RAM, the language model and
    lm_head go to disk (accelerate streams them in); the ids and logits equal the unsplit model's."""
    split = Qwen2AudioModel(
        qwen2.model_path, device_map="auto", max_memory="cpu=150KB", offload_folder=str(tmp_path / "offload")
    )
    placement = split.describe()["placement"]
    assert set(placement["hf_device_map"].values()) == {"cpu", "disk"}
    assert placement["hf_device_map"]["model.language_model"] == "disk"
    requests = _requests(fixtures_dir)
    greedy = qwen2.default_decoding().merged({"do_sample": False, "max_new_tokens": 6, "min_new_tokens": 1})
    assert [r.token_ids for r in split.generate(requests, greedy)] == [
        r.token_ids for r in qwen2.generate(requests, greedy)
    ]
    assert split.identity() == qwen2.identity()  # where the layers went is not part of the outputs


def test_sampling_is_seeded(qwen2, fixtures_dir):
    requests = _requests(fixtures_dir)[:2]
    sampled = qwen2.default_decoding().merged({"max_new_tokens": 8})
    assert sampled.do_sample and sampled.top_k == 20 and sampled.top_p == 0.5 and sampled.temperature == 0.7
    first = [r.token_ids for r in qwen2.generate(requests, sampled)]
    again = [r.token_ids for r in qwen2.generate(requests, sampled)]
    other = [r.token_ids for r in qwen2.generate(requests, sampled.merged({"seed": 1}))]
    assert first == again
    assert first != other


def test_describe_records_the_decoding_choice(qwen2):
    described = qwen2.describe()
    assert described["decoding_preset"] == "official"
    assert described["decoding"]["do_sample"] is True and described["decoding"]["seed"] == 0
    # the tiny test model is not the manifest's checkpoint: named as a deviation
    assert [d["name"] for d in described["deviations"]] == ["checkpoint", "max_new_tokens"]
    assert described["checkpoint"]["pinned"] is False and "config.json" in described["checkpoint"]["files"]
    json.dumps(described)  # provenance must be JSON


def test_vllm_sampling_params():
    from audiorepro.models.qwen2_audio import OFFICIAL_GREEDY, OFFICIAL_SAMPLING

    assert sampling_params_kwargs(OFFICIAL_GREEDY) == {"temperature": 0.0, "max_tokens": 256, "min_tokens": 1}
    sampled = sampling_params_kwargs(OFFICIAL_SAMPLING)
    assert (sampled["temperature"], sampled["top_p"], sampled["top_k"], sampled["repetition_penalty"]) == (
        0.7,
        0.5,
        20,
        1.1,
    )


def test_official_preset_follows_the_checkpoint_generation_config(qwen2):
    saved = dict(qwen2.checkpoint_generation_config)
    try:
        qwen2.checkpoint_generation_config.update({"do_sample": True, "top_k": 40, "temperature": 0.9})
        decoding = qwen2.default_decoding()
        assert (decoding.top_k, decoding.temperature, decoding.top_p) == (40, 0.9, 0.5)
        deviation = next(
            d for d in qwen2.describe()["deviations"] if d["name"].startswith("documented_sampling")
        )
        # one line of text per differing setting, the documented value first (the report prints it)
        assert deviation["value"] == "top_k: documented 20, checkpoint 40; temperature: documented 0.7, checkpoint 0.9"
    finally:
        qwen2.checkpoint_generation_config.clear()
        qwen2.checkpoint_generation_config.update(saved)


def test_qwen2_audio_deviations_are_stored_as_text(qwen2):
    """describe() stores `Deviation` dicts: name, value and reference, all text (max_new_tokens
    was stored as the number 256 before)."""
    stored = qwen2.describe()["deviations"]
    assert {
        "name": "max_new_tokens",
        "value": "256",
        "reference": "README generate(max_length=256), which counts the prompt's audio tokens",
    } in stored
    assert "checkpoint" in [d["name"] for d in stored]  # the tiny model is not the manifest's files
    for deviation in stored:
        assert set(deviation) == {"name", "value", "reference"}
        assert all(isinstance(v, str) for v in deviation.values()), deviation


def test_salmonn_prompt_template_equals_the_snapshot(snapshot_rows):
    from audiorepro.models.salmonn.configuration import PROMPT_TEMPLATE

    for row in snapshot_rows:
        assert PROMPT_TEMPLATE.format(instruction=row["question"]) == row["salmonn"], row["id"]
