"""JSONL records, torn-tail handling, sharding and decoding merges."""

from __future__ import annotations

import json

import pytest

from audiorepro.errors import AudioreproError, InputError
from audiorepro.jsonl import append_jsonl, read_jsonl, repair_torn_tail
from audiorepro.layout import run_name
from audiorepro.models.base import DecodingConfig
from audiorepro.predict import Shard
from audiorepro.records import Example, Prediction


def test_torn_tail_is_dropped_and_repaired(tmp_path):
    path = tmp_path / "p.jsonl"
    append_jsonl(path, [{"id": "a"}, {"id": "b"}])
    with path.open("a") as f:
        f.write('{"id": "c", "out')
    assert [r["id"] for r in read_jsonl(path, drop_torn_tail=True)] == ["a", "b"]
    with pytest.raises(InputError, match="line 3 is not valid JSON"):
        read_jsonl(path)
    assert repair_torn_tail(path) == len('{"id": "c", "out')
    assert path.read_text() == '{"id": "a"}\n{"id": "b"}\n'


def test_tail_cut_inside_a_multibyte_character_is_torn_and_a_complete_tail_is_kept(tmp_path):
    path = tmp_path / "p.jsonl"
    record = '{"id": "b", "output": "größer"}'.encode()
    cut = record[: record.index("ö".encode()) + 1]  # first byte of a two-byte character
    path.write_bytes(b'{"id": "a"}\n' + cut)
    assert [r["id"] for r in read_jsonl(path, drop_torn_tail=True)] == ["a"]
    assert repair_torn_tail(path) == len(cut)
    path.write_bytes(b'{"id": "a"}\n' + record)  # complete, only the newline missing
    assert [r["id"] for r in read_jsonl(path, drop_torn_tail=True)] == ["a", "b"]
    assert repair_torn_tail(path) == 0 and path.read_bytes().endswith(record + b"\n")


def test_corrupt_middle_line_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a"}\nnot json\n{"id": "c"}\n')
    with pytest.raises(InputError) as err:
        read_jsonl(path, drop_torn_tail=True)
    assert "line 2" in str(err.value) and str(path) in str(err.value)


def test_shard_takes_disjoint_covering_slices():
    items = list(range(10))
    shards = [Shard(r, 3) for r in range(3)]
    parts = [s.take(items) for s in shards]
    assert sorted(sum(parts, [])) == items
    assert parts[0] == [0, 3, 6, 9]


def test_shard_parse_cli_and_torchrun_env(monkeypatch):
    assert Shard.parse("1/4") == Shard(1, 4)
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("WORLD_SIZE", "3")
    assert Shard.parse(None) == Shard(2, 3)
    with pytest.raises(AudioreproError):
        Shard.parse("4/4")
    with pytest.raises(AudioreproError):
        Shard.parse("half")


def test_decoding_merge_applies_only_given_values_and_rejects_unknown():
    base = DecodingConfig(num_beams=4, do_sample=False, max_new_tokens=200)
    merged = base.merged({"max_new_tokens": 50, "num_beams": None})
    assert (merged.num_beams, merged.max_new_tokens) == (4, 50)
    with pytest.raises(ValueError, match="beam"):
        base.merged({"beam": 2})


def test_example_and_prediction_validation():
    with pytest.raises(InputError, match="lacks field"):
        Example.from_dict({"id": "x", "task": "t", "prompt": "p"})
    with pytest.raises(InputError, match="unknown field"):
        Example.from_dict({"id": "x", "task": "t", "prompt": "p", "references": [], "colour": 1})
    with pytest.raises(InputError, match="must be a string"):
        Prediction.from_dict({"id": "x", "output": 3, "raw_output": "", "n_tokens": 0, "finish_reason": "eos", "seconds": 0})
    ex = Example.from_dict({"id": "x", "task": "t", "audio": "a.wav", "prompt": "p", "references": ["r"]})
    assert json.loads(json.dumps(ex.to_dict()))["references"] == ["r"]


def test_run_name_separates_model_options():
    assert run_name("salmonn-13b-v1") == "salmonn-13b-v1"
    assert run_name("salmonn-13b-v1", {"lora_scaling": 2.0, "device": "cuda"}) == "salmonn-13b-v1+lora_scaling=2.0"
    # where the layers go does not change the outputs; 8-bit weights do
    split = {"device_map": "auto", "max_memory": "0=20GiB,cpu=60GiB", "offload_folder": "/tmp/o"}
    assert run_name("salmonn-13b-v1", split) == "salmonn-13b-v1"
    assert run_name("salmonn-13b-v1", {"load_in_8bit": True}) == "salmonn-13b-v1+load_in_8bit=True"


def test_model_plugins_from_environment(monkeypatch):
    from audiorepro.models.registry import build_model, list_models

    monkeypatch.setenv("AUDIOREPRO_MODEL_PLUGINS", "bad-entry")
    with pytest.raises(AudioreproError, match="name=module:Factory"):
        list_models()
    monkeypatch.setenv("AUDIOREPRO_MODEL_PLUGINS", "")
    with pytest.raises(AudioreproError, match="unknown model 'nope'"):
        build_model("nope")


def test_run_name_summarises_component_paths_by_hash():
    a = run_name("salmonn", {"ckpt_path": "/ckpts/a.pth", "dtype": "float32"})
    b = run_name("salmonn", {"ckpt_path": "/ckpts/b.pth", "dtype": "float32"})
    assert a.startswith("salmonn+dtype=float32+paths-") and len(a.rsplit("-", 1)[1]) == 8
    assert a != b  # different checkpoints never share a run folder
    assert "/" not in a
