"""Batched generation gives, for every item, exactly the ids it gets alone (float32, CPU).

The original code's batch path is not equivalent (right-padded prompts, BEATs padding, a stop
criterion that looks at row 0 only); the predict runner batches items sorted by length, so ours
must be. The items mix lengths (0.6 s to 12.3 s) and instructions (prompt lengths differ, so rows
are left-padded), and include rows that stop at </s> early next to rows that run to the limit."""

from __future__ import annotations

import json

import pytest
from salmonn_helpers import build_model

from audiorepro.audio import load_audio
from audiorepro.models.base import DecodingConfig, GenerationRequest

INSTRUCTIONS = [
    "Recognize the speech and give me the transcription.",
    "Please describe the audio.",
    "Listen to the speech and translate it into Chinese.",
]
MAX_NEW_TOKENS = 12


@pytest.fixture(scope="module")
def model(fixtures_dir):
    return build_model(fixtures_dir / "salmonn_parity")


@pytest.fixture(scope="module")
def requests(fixtures_dir):
    root = fixtures_dir / "salmonn_parity"
    wavs = {
        name: load_audio(root / "inputs" / f"{name}.wav", max_seconds=30)
        for name in ("speech_16k", "synth_16k", "stereo_44k")
    }
    audio = [
        wavs["speech_16k"],
        wavs["synth_16k"],
        wavs["stereo_44k"],
        wavs["speech_16k"][:20000],
        wavs["synth_16k"][:100000],
        wavs["stereo_44k"][:9000],
        wavs["speech_16k"][5000:],
        wavs["synth_16k"][50000:120000],
    ]
    return [
        GenerationRequest(id=f"item{i}", prompt=INSTRUCTIONS[i % 3], audio=a) for i, a in enumerate(audio)
    ]


@pytest.fixture(scope="module", params=[1, 4], ids=["greedy", "beam4"])
def decoding(request):
    return DecodingConfig(num_beams=request.param, do_sample=False, max_new_tokens=MAX_NEW_TOKENS)


@pytest.fixture(scope="module")
def one_by_one(model, requests, decoding):
    return [model.generate([r], decoding)[0] for r in requests]


@pytest.mark.parametrize("batch_size", [3, 8])
def test_batch_equals_one_by_one(model, requests, decoding, one_by_one, batch_size):
    batched = []
    for start in range(0, len(requests), batch_size):
        batched.extend(model.generate(requests[start : start + batch_size], decoding))
    for alone, in_batch in zip(one_by_one, batched, strict=True):
        assert in_batch.token_ids == alone.token_ids
        assert in_batch.finish_reason == alone.finish_reason
        assert in_batch.text == alone.text


def test_batch_is_not_trivial(one_by_one):
    """The equivalence above is only meaningful if the rows differ and some stop early."""
    assert len({tuple(r.token_ids) for r in one_by_one}) >= 4
    assert len({len(r.token_ids) for r in one_by_one}) >= 2


def test_fixture_items_through_batch_of_three(model, requests, fixtures_dir):
    """Batch size 1 is the one-by-one run itself (checked against the fixture in
    test_salmonn_parity). Here the first three items are the fixture inputs, with the fixture's
    ASR instruction in row 0: inside a batch, row 0 still yields the reference greedy ids
    (truncated to MAX_NEW_TOKENS)."""
    info = json.loads((fixtures_dir / "salmonn_parity" / "fixture.json").read_text())
    expected = next(i for i in info["inputs"] if i["name"] == "speech_16k")["generation"]["greedy"]["ids"][1:]
    results = model.generate(requests[:3], DecodingConfig(num_beams=1, max_new_tokens=MAX_NEW_TOKENS))
    assert results[0].token_ids == expected[:MAX_NEW_TOKENS]


def test_features_prepared_in_a_background_thread(model, requests, decoding, one_by_one):
    """The predict runner calls prepare_batch (resampling, Whisper features) in a worker thread
    for the next batch; generate must then give the one-by-one ids."""
    import dataclasses

    from audiorepro.prefetch import prefetched

    def prepare(batch):
        model.prepare_batch(batch, decoding)
        return batch

    copies = [dataclasses.replace(r) for r in requests]
    batches = [copies[:3], copies[3:]]
    results = []
    for batch in prefetched(batches, prepare, depth=2):
        assert all(r.features is not None for r in batch)
        results.extend(model.generate(batch, decoding))
    assert [r.token_ids for r in results] == [r.token_ids for r in one_by_one]
