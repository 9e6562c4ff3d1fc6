"""Table 4 output perplexity, end to end on the tiny SALMONN parity fixture: predict (recording the
teacher-forced log-probabilities), score, and one item's perplexity checked against exp(mean NLL)
computed here step by step from the model's logits for the ids it generated. The generated ids
themselves are checked against the ids the original v1 code produced (fixture.json)."""

from __future__ import annotations

import json
import math

import pytest
import torch
from salmonn_helpers import build_model

from audiorepro.jsonl import read_json, read_jsonl, write_jsonl
from audiorepro.layout import examples_path
from audiorepro.predict import predict_task
from audiorepro.score import score_task
from audiorepro.tasks import load_task

TASK = "ppl-asr-librispeech-clean"
INPUTS = ["speech_16k", "synth_16k"]
MAX_NEW_TOKENS = 24  # the fixture's greedy setting


@pytest.fixture(scope="module")
def parity(fixtures_dir):
    """(fixture folder, its fixture.json, the tiny SALMONN built from it)."""
    root = fixtures_dir / "salmonn_parity"
    torch.manual_seed(0)
    return root, json.loads((root / "fixture.json").read_text()), build_model(root)


def _hand_perplexity(model, waveform, instruction, ids):
    """exp(mean NLL), one full forward per generated token over prompt + the ids before it."""
    _, prompt_embeds, prompt_mask = model.build_inputs([waveform], [instruction])
    embed = model.llm.get_input_embeddings()
    nll = []
    with torch.no_grad():
        for t, token in enumerate(ids):
            before = torch.tensor([ids[:t]], dtype=torch.long)
            embeds = torch.cat([prompt_embeds, embed(before).to(prompt_embeds.dtype)], dim=1)
            mask = torch.cat([prompt_mask, torch.ones_like(before)], dim=1)
            logits = model.llm(inputs_embeds=embeds, attention_mask=mask).logits[0, -1].double()
            nll.append(-torch.log_softmax(logits, dim=-1)[token].item())
    return math.exp(sum(nll) / len(nll))


def test_table4_path_end_to_end_matches_a_hand_computed_perplexity(parity, tmp_path, monkeypatch):
    root, fixture_info, model = parity
    monkeypatch.setenv("AUDIOREPRO_RUNS", str(tmp_path / "runs"))
    task = load_task(TASK)
    instruction = fixture_info["prompt"]["instruction"]
    write_jsonl(
        examples_path(task.suite, task.name),
        [
            {"id": name, "task": TASK, "audio": str(root / "inputs" / f"{name}.wav"), "prompt": instruction, "references": [""], "meta": {}}
            for name in INPUTS
        ],
    )
    predict_task(
        task,
        examples_path(task.suite, task.name),
        model,
        "m",
        decoding_overrides={"num_beams": 1, "max_new_tokens": MAX_NEW_TOKENS},
        progress=False,
    )
    scores = read_json(score_task(task, "m"))
    result = scores["metrics"]["output_perplexity"]
    assert result["status"] == "ok" and result["n_scored"] == len(INPUTS)
    assert "teacher-forced" in result["details"]["definition"]

    stats = {r["id"]: r for r in read_jsonl(tmp_path / "runs" / "table4" / TASK / "m" / "item_stats.jsonl")}
    name = "speech_16k"
    v1_ids = next(i for i in fixture_info["inputs"] if i["name"] == name)["generation"]["greedy"]["ids"][1:]
    assert stats[name]["token_ids"] == v1_ids  # the ids scored are the ones v1 generates

    from audiorepro.audio import load_audio

    waveform = load_audio(root / "inputs" / f"{name}.wav", max_seconds=30)
    expected = _hand_perplexity(model, waveform, instruction, v1_ids)
    measured = result["details"]["per_item"][[e for e in INPUTS].index(name)]
    assert measured == pytest.approx(expected, abs=1e-5)
    per_item = result["details"]["per_item"]
    assert result["value"] == pytest.approx(sum(per_item) / len(per_item), abs=1e-5)
    mean = sum(per_item) / 2
    sd = math.sqrt(sum((p - mean) ** 2 for p in per_item))  # n - 1 = 1
    assert result["details"]["sd"] == pytest.approx(sd, abs=1e-5)
