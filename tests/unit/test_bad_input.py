"""Bad input gets a clear error naming the file and the problem, and loses nothing."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from audiorepro.audio import load_audio
from audiorepro.checksums import sha256_file, verify_file
from audiorepro.errors import ChecksumMismatch, InputError
from audiorepro.tasks import load_task_file

GOOD_TASK = """\
name: my-task
suite: demo
dataset: demo-librivox
prompt: "Recognize the speech and give me the transcription."
metric: {name: wer}
"""


def test_missing_audio_file_names_the_file(tmp_path):
    missing = tmp_path / "nope.wav"
    with pytest.raises(InputError) as err:
        load_audio(missing)
    assert str(missing) in str(err.value)
    assert "not found" in str(err.value)


def test_undecodable_wav_names_the_file(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    with pytest.raises(InputError) as err:
        load_audio(bad)
    assert str(bad) in str(err.value)
    assert "cannot decode audio" in str(err.value)


def test_stereo_44k_is_reduced_to_channel0_at_16k(tmp_path):
    sr = 44_100
    t = np.arange(sr) / sr  # 1 s
    left, right = 0.5 * np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 1000 * t)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), sr, subtype="FLOAT")
    wav = load_audio(path)
    assert wav.shape == (16_000,)  # ceil(44100 * 16000 / 44100)
    # the 440 Hz left channel survives, the 1 kHz right channel does not
    spectrum = np.abs(np.fft.rfft(wav))
    assert np.argmax(spectrum) == 440


def test_task_yaml_unknown_field_names_file_and_field(tmp_path):
    path = tmp_path / "my-task.yaml"
    path.write_text(GOOD_TASK + "promt_typo: oops\n")
    with pytest.raises(InputError) as err:
        load_task_file(path)
    assert str(path) in str(err.value)
    assert "promt_typo" in str(err.value) and "unknown field" in str(err.value)


def test_task_yaml_unknown_decoding_setting_is_rejected(tmp_path):
    path = tmp_path / "my-task.yaml"
    path.write_text(GOOD_TASK + "decoding: {beams: 4}\n")
    with pytest.raises(InputError) as err:
        load_task_file(path)
    assert "beams" in str(err.value)


def test_valid_task_yaml_loads(tmp_path):
    path = tmp_path / "my-task.yaml"
    path.write_text(GOOD_TASK)
    assert load_task_file(path).metric.name == "wer"


def test_tampered_file_stops_with_expected_and_actual_hash(tmp_path):
    path = tmp_path / "clip.wav"
    path.write_bytes(b"original bytes")
    good = sha256_file(path)
    assert verify_file(path, good, size=14) == good
    path.write_bytes(b"tampered bytes")
    with pytest.raises(ChecksumMismatch) as err:
        verify_file(path, good, size=14)
    message = str(err.value)
    assert str(path) in message and good in message and sha256_file(path) in message


def test_truncated_file_fails_on_size_before_hashing(tmp_path):
    path = tmp_path / "clip.wav"
    path.write_bytes(b"0123456789")
    with pytest.raises(ChecksumMismatch) as err:
        verify_file(path, "0" * 64, size=20)
    assert "expected 20 bytes, got 10 bytes" in str(err.value)
