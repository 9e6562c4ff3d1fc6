"""Fault table, weight rows: a tensor missing from the Whisper or Vicuna folder stops SALMONN
before any output, instead of loading random weights (docs/faults.md). Uses a copy of the tiny
golden fixture (tests/fixtures/salmonn_parity/model), which has the real layouts: Whisper as one
`pytorch_model.bin`, Vicuna as two shards and an index."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from fault_support import REPO, run_cli

FIXTURE = REPO / "tests" / "fixtures" / "salmonn_parity"


def _model_copy(tmp_path):
    model = tmp_path / "model"
    shutil.copytree(FIXTURE / "model", model)
    return model


def _infer(capsys, model, audio):
    return run_cli(
        capsys, "infer", "salmonn",
        "--whisper-path", model / "whisper", "--beats-path", model / "beats.pt",
        "--llm-path", model / "llama", "--ckpt-path", model / "salmonn.pth",
        "--audio", audio, "--prompt", "Describe the audio.",
        "--num-beams", "1", "--max-new-tokens", "2", "--device", "cpu", "--dtype", "float32", "--json",
    )  # fmt: skip


def _drop_tensor(shard, key):
    state = torch.load(shard, map_location="cpu", weights_only=True)
    del state[key]
    torch.save(state, shard)


def test_tensor_missing_from_vicuna_shard_stops_salmonn(workspace, capsys):
    model = _model_copy(workspace)
    key = "model.layers.1.mlp.down_proj.weight"
    _drop_tensor(model / "llama" / "pytorch_model-00002-of-00002.bin", key)
    index_path = model / "llama" / "pytorch_model.bin.index.json"
    index = json.loads(index_path.read_text())
    del index["weight_map"][key]  # a consistent edit: the index no longer names it either
    index_path.write_text(json.dumps(index))

    result = _infer(capsys, model, FIXTURE / "inputs" / "speech_16k.wav")

    assert result.rc == 2
    assert result.error_line == (
        f"{model / 'llama'}: Vicuna/LLaMA checkpoint does not fill the model: 1 weight(s) missing from the "
        f"checkpoint ({key}); they would be randomly initialised. Fetch the component again (or fix its index)"
    )
    assert result.out == ""  # no text, no JSON: nothing a caller could take for an answer


def test_tensor_missing_from_whisper_stops_salmonn(workspace, capsys):
    model = _model_copy(workspace)
    _drop_tensor(model / "whisper" / "pytorch_model.bin", "model.encoder.layers.0.fc1.weight")

    result = _infer(capsys, model, FIXTURE / "inputs" / "speech_16k.wav")

    assert result.rc == 2
    assert result.error_line == (
        f"{model / 'whisper'}: Whisper checkpoint does not fill the model: 1 weight(s) missing from the "
        "checkpoint (encoder.layers.0.fc1.weight); they would be randomly initialised. Fetch the component "
        "again (or fix its index)"
    )
    assert result.out == ""


class _Payload:
    """Pickles to a call of os.system: what a booby-trapped checkpoint carries."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize(("file", "what"), [("salmonn.pth", "SALMONN"), ("beats.pt", "BEATs")])
def test_checkpoint_with_a_pickled_payload_is_refused_unexecuted(workspace, capsys, file, what):
    model = _model_copy(workspace)
    marker = workspace / "payload-ran"
    state = torch.load(model / file, map_location="cpu", weights_only=True)
    state["extra"] = _Payload(marker)
    torch.save(state, model / file)

    result = _infer(capsys, model, FIXTURE / "inputs" / "speech_16k.wav")

    assert result.rc == 2
    assert result.error_line == (
        f"{model / file}: refusing to load this {what} checkpoint: it holds more than tensors (Trying to load "
        "unsupported GLOBAL posix.system whose module posix is blocked); it may run code when unpickled. Fetch "
        "the file again from its published source"
    )
    assert not marker.exists() and result.out == ""
