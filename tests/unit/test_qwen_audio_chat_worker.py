"""The Qwen-Audio-Chat worker protocol (audiorepro.models.qwen_audio_chat <-> the worker subprocess
in its own environment), with a stand-in worker (tests/qwen_fake_worker.py: the real request loop
around a fake model) so it runs everywhere: requests and results, seeding per item, the worker's
versions in provenance, and a crash, a malformed line, an old protocol and a missing environment
each stopping the run with a one-line reason."""

from __future__ import annotations

import importlib.metadata
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from audiorepro.errors import AudioreproError, InputError
from audiorepro.models.base import GenerationRequest
from audiorepro.models.qwen_audio_chat import QwenAudioChatModel, WorkerError, chatml_context

FAKE_WORKER = Path(__file__).resolve().parents[1] / "qwen_fake_worker.py"


@pytest.fixture
def weights(tmp_path):
    """A local directory that is not the manifest's checkpoint (loaded as a named deviation)."""
    path = tmp_path / "tiny-qwen-audio-chat"
    path.mkdir()
    (path / "config.json").write_text('{"model_type": "qwen"}\n')
    return path


@pytest.fixture(scope="module")
def snapshot_rows(fixtures_dir):
    path = fixtures_dir / "sakura" / "snapshots" / "model_prompts.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def fake_model(weights, mode="ok", calls=None, **options):
    command = [sys.executable, str(FAKE_WORKER), mode] + ([str(calls)] if calls else [])
    return QwenAudioChatModel(str(weights), worker_command=command, **options)


def read_calls(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_requests_and_results_cross_the_protocol(weights, tmp_path, snapshot_rows):
    calls = tmp_path / "calls.jsonl"
    model = fake_model(weights, calls=calls)
    try:
        row = snapshot_rows[0]
        wav = tmp_path / "clip.wav"
        requests = [
            GenerationRequest("1", row["question"], np.zeros(10), audio_path=str(wav)),
            GenerationRequest("2", "Another question? (a) x (b) y", np.zeros(10), audio_path=str(wav)),
        ]
        results = model.generate(requests, model.default_decoding())
        sent = read_calls(calls)
        assert sent[0]["query"] == f"Audio 1:<audio>{wav}</audio>\n{row['question']}"
        assert chatml_context(row["qwen-audio-chat-query"]) == row["qwen-audio-chat"]
        assert model.render_prompt(requests[0]) == chatml_context(sent[0]["query"])
        assert all(c["history"] is None and c["system"] == "You are a helpful assistant." for c in sent)
        # the checkpoint's generation_config (model card), sent as model.chat keyword arguments
        assert sent[0]["kwargs"] == {
            "do_sample": True,
            "max_new_tokens": 512,
            "top_p": 0.5,
            "top_k": 0,
            "temperature": 1.0,
            "repetition_penalty": 1.0,
        }
        # the seed (1234, as the model card) is reset before every item: the same draw for both
        torch.manual_seed(1234)
        expected = f"{torch.rand(1).item():.8f}"
        assert [r.text for r in results] == [expected, expected]
        assert results[0].raw_text == f" {expected} "
        assert results[0].token_ids == list(f" {expected} ".encode())
        assert results[0].finish_reason == "eos"
    finally:
        model.close()


def test_greedy_preset_and_worker_versions_reach_provenance(weights, tmp_path):
    calls = tmp_path / "calls.jsonl"
    model = fake_model(weights, calls=calls, decoding="greedy")
    try:
        model.generate([GenerationRequest("1", "Q?", None)], model.default_decoding())
        assert read_calls(calls)[-1]["kwargs"] == {"do_sample": False, "max_new_tokens": 512}
        described = model.describe()
        assert described["environment"]["torch"] == importlib.metadata.version("torch")
        assert described["environment"]["transformers"] == importlib.metadata.version("transformers")
        names = [d["name"] for d in described["deviations"]]
        assert "decoding" in names
        # a directory that is not the manifest's files: its hashes are recorded and it is named
        assert "checkpoint" in names and described["checkpoint"]["pinned"] is False
        assert set(described["checkpoint"]["files"]) == {"config.json"}
    finally:
        model.close()


def test_samples_without_a_file_are_written_for_the_worker(weights, tmp_path):
    calls = tmp_path / "calls.jsonl"
    model = fake_model(weights, calls=calls)
    try:
        model.generate([GenerationRequest("1", "Q?", np.zeros(1600, dtype=np.float32))], model.default_decoding())
        query = read_calls(calls)[0]["query"]
        assert query.startswith("Audio 1:<audio>") and query.endswith(".wav</audio>\nQ?")
    finally:
        model.close()


def test_a_worker_crash_is_a_clear_error(weights):
    model = fake_model(weights, mode="crash")
    with pytest.raises(WorkerError, match=r"(?s)exited \(status 3\).*simulated crash"):
        model.generate([GenerationRequest("1", "Q?", None)], model.default_decoding())
    with pytest.raises(WorkerError, match="not running"):
        model.generate([GenerationRequest("2", "Q?", None)], model.default_decoding())


def test_a_malformed_line_is_a_clear_error(weights):
    model = fake_model(weights, mode="malformed")
    with pytest.raises(WorkerError, match="malformed line.*this is not json"):
        model.generate([GenerationRequest("1", "Q?", None)], model.default_decoding())


def test_an_old_protocol_and_a_failed_load_are_refused(weights):
    with pytest.raises(WorkerError, match="protocol 0, expected 1.*make setup-qwen-audio-chat"):
        fake_model(weights, mode="old-protocol")
    with pytest.raises(WorkerError, match="OSError: no weights in"):
        fake_model(weights, mode="load-error")


def test_weights_left_random_by_the_load_are_refused(weights):
    """The worker forwards transformers' load report; a weight missing from the checkpoint stops
    the run as it does for every model (audiorepro.models.weights)."""
    with pytest.raises(InputError, match=r"Qwen-Audio-Chat checkpoint does not fill the model.*c_attn"):
        fake_model(weights, mode="missing-weight")


def test_a_missing_environment_names_the_make_target(weights, monkeypatch, tmp_path):
    monkeypatch.setenv("AUDIOREPRO_QWEN_AUDIO_CHAT_PYTHON", str(tmp_path / "nowhere" / "python"))
    with pytest.raises(AudioreproError, match="make setup-qwen-audio-chat"):
        QwenAudioChatModel(str(weights))


def test_decoding_presets_are_checked_before_starting_a_worker(weights):
    with pytest.raises(AudioreproError, match=r"^qwen-audio-chat: unknown decoding preset 'beam'; accepted: official, greedy$"):
        QwenAudioChatModel(str(weights), decoding="beam")


def test_dropping_the_model_stops_its_worker(weights):
    """The pipeline drops each model before loading the next; the worker (and its GPU memory)
    must not outlive it."""
    import gc

    model = fake_model(weights)
    process = model.worker.process
    assert process.poll() is None
    del model
    gc.collect()
    assert process.wait(timeout=10) == 0
