"""Fault table, audio rows: bad samples never reach a model or a score (docs/faults.md)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import yaml
from fault_support import asr_examples, files_under, no_predictions, run_cli, tone, write_wav

PREDICT = ("predict", "--suite", "demo", "--tasks", "demo-asr", "--no-progress")


def _bad_float_wav(path, value):
    samples = tone(1.0)
    samples[100] = value
    return write_wav(path, samples, subtype="FLOAT")


def _register(checkout, manifest_name, changed):
    """Update the manifest's sha256 and size of a file the user replaced on purpose (so the
    bundled-data checksum lets it through, and the check under test is the one that speaks)."""
    manifest_path = checkout / "data_manifests" / "datasets" / f"{manifest_name}.yaml"
    manifest = yaml.safe_load(manifest_path.read_text())
    for entry in manifest["files"]:
        if entry["path"] == changed.name:
            entry.update(sha256=hashlib.sha256(changed.read_bytes()).hexdigest(), size=changed.stat().st_size)
    manifest_path.write_text(yaml.safe_dump(manifest, sort_keys=False))


def test_nan_audio_stops_prepare_naming_the_file(checkout, capsys):
    """A user swaps in their own float WAV (and updates the manifest's checksum): NaN samples
    stop `prepare` before examples.jsonl exists."""
    victim = checkout / "data" / "demo" / "librivox" / "sense_and_sensibility_01_austen_64kb-0890.wav"
    _bad_float_wav(victim, np.nan)
    _register(checkout, "demo-librivox", victim)

    result = run_cli(capsys, "prepare", "--suite", "demo", "--tasks", "demo-asr")

    assert result.rc == 2
    assert result.error_line == f"{victim}: audio has NaN or infinite samples (first at frame 100); the file is corrupt"
    assert files_under(checkout.parent / "runs") == []


@pytest.mark.parametrize("value", [np.nan, np.inf], ids=["nan", "inf"])
def test_nan_or_inf_audio_stops_predict_naming_the_file(workspace, capsys, value):
    """At load time, always: examples.jsonl written by hand (or by an older preparer) pointing at a
    float WAV with a non-finite sample. The model never sees it; nothing is predicted or scored."""
    runs = workspace / "runs"
    bad = _bad_float_wav(workspace / "audio" / "bad.wav", value)
    asr_examples(runs, {"bad": bad})

    result = run_cli(capsys, *PREDICT, "--models", "toy")

    assert result.rc == 2
    assert result.error_line == f"{bad}: audio has NaN or infinite samples (first at frame 100); the file is corrupt"
    assert no_predictions(runs / "demo" / "demo-asr" / "toy")
    score = run_cli(capsys, "score", "--suite", "demo", "--tasks", "demo-asr", "--models", "toy")
    assert score.rc == 2 and "no predictions" in score.error_line
    assert not list(runs.rglob("scores.json"))


def test_zero_length_audio_stops_predict(workspace, capsys):
    runs = workspace / "runs"
    empty = write_wav(workspace / "audio" / "empty.wav", np.zeros(0))
    asr_examples(runs, {"empty": empty})

    result = run_cli(capsys, *PREDICT, "--models", "toy")

    assert result.rc == 2
    assert result.error_line == f"{empty}: audio file has no samples"
    assert not list(runs.rglob("scores.json"))
    assert no_predictions(runs / "demo" / "demo-asr" / "toy")


def test_all_zero_audio_is_predicted_with_a_warning_and_counted(workspace, capsys):
    """Silence is valid input, but suspicious: one warning per task with the count, a note on the
    prediction, and the count in the score's provenance."""
    runs = workspace / "runs"
    clips = {
        "silent": write_wav(workspace / "audio" / "silent.wav", np.zeros(8000)),
        "speech": write_wav(workspace / "audio" / "speech.wav", tone(0.5)),
    }
    asr_examples(runs, clips)

    result = run_cli(capsys, *PREDICT, "--models", "toy")

    assert result.rc == 0, result.err
    warnings = [line for line in result.err.splitlines() if "all zero" in line]
    assert warnings == [
        "[predict] warning: demo-asr: 1 of 2 clips are all zero (silence); check the data (counted in the score's provenance)"
    ]
    records = {
        r["id"]: r
        for r in map(json.loads, (runs / "demo" / "demo-asr" / "toy" / "predictions.jsonl").read_text().splitlines())
    }
    assert records["silent"]["audio_notes"] == ["silent"] and "audio_notes" not in records["speech"]
    assert run_cli(capsys, "score", "--suite", "demo", "--tasks", "demo-asr", "--models", "toy").rc == 0
    scores = json.loads((runs / "demo" / "demo-asr" / "toy" / "scores.json").read_text())
    assert scores["provenance"]["audio_notes"] == {"silent": 1}


def test_audio_longer_than_the_model_window_is_cut_said_once_and_recorded(workspace, capsys):
    """As SALMONN cuts at 30 s (like its reference), the toy model's 1 s window: the cut is said
    once per task with the count and recorded in provenance."""
    runs = workspace / "runs"
    clips = {
        "long1": write_wav(workspace / "audio" / "long1.wav", tone(2.0)),
        "long2": write_wav(workspace / "audio" / "long2.wav", tone(1.5)),
        "short": write_wav(workspace / "audio" / "short.wav", tone(0.5)),
    }
    asr_examples(runs, clips)

    result = run_cli(capsys, *PREDICT, "--models", "toy-window", "--batch-size", "1")

    assert result.rc == 0, result.err
    said = [line for line in result.err.splitlines() if "window" in line]
    assert said == [
        "[predict] demo-asr: 2 of 3 clips are longer than the model's 1 s window and were cut to it "
        "(as the reference implementation does)"
    ]
    outputs = {
        r["id"]: r["output"]
        for r in map(json.loads, (runs / "demo" / "demo-asr" / "toy-window" / "predictions.jsonl").read_text().splitlines())
    }
    assert outputs == {"long1": "16000 samples", "long2": "16000 samples", "short": "8000 samples"}
    assert run_cli(capsys, "score", "--suite", "demo", "--tasks", "demo-asr", "--models", "toy-window").rc == 0
    scores = json.loads((runs / "demo" / "demo-asr" / "toy-window" / "scores.json").read_text())
    assert scores["provenance"]["audio_notes"] == {"cut": 2}


def test_duplicate_example_ids_stop_predict(workspace, capsys):
    runs = workspace / "runs"
    clip = write_wav(workspace / "audio" / "a.wav", tone(0.5))
    path = asr_examples(runs, {"a": clip, "b": clip})
    path.write_text(path.read_text() + path.read_text().splitlines()[0] + "\n")  # 'a' again

    result = run_cli(capsys, *PREDICT, "--models", "toy")

    assert result.rc == 2
    assert result.error_line == f"{path}: duplicate example id 'a' (records 1 and 3)"
    assert not (runs / "demo" / "demo-asr" / "toy").exists()


def test_duplicate_item_ids_stop_prepare(checkout, capsys):
    items = checkout / "data" / "demo" / "spoken" / "items.yaml"
    data = yaml.safe_load(items.read_text())
    data["items"].append(dict(data["items"][0]))  # q01 again
    items.write_text(yaml.safe_dump(data, sort_keys=False))
    _register(checkout, "demo-spoken", items)

    result = run_cli(capsys, "prepare", "--suite", "demo", "--tasks", "demo-sqqa")

    assert result.rc == 2
    assert result.error_line == f"{items}: items[{len(data['items']) - 1}]: duplicate id 'q01'"
    assert files_under(checkout.parent / "runs") == []
