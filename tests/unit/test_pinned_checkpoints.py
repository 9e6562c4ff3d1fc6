"""Checkpoints load only after their files match the manifest (published sha256) or the
trust-on-first-use lock (audiorepro.models.pinned): a toy manifest in a temporary checkout, with
hashes computed here with hashlib from the bytes written, plus the real Qwen manifests."""

from __future__ import annotations

import hashlib
import json

import pytest

from audiorepro import manifests
from audiorepro.errors import ChecksumMismatch, InputError
from audiorepro.models.pinned import resolve_checkpoint

WEIGHTS = b"published weights\n"
CONFIG = b'{"model_type": "toy"}\n'
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A checkout with one manifest: weights.bin (published sha256) and config.json (locked)."""
    root = tmp_path / "checkout"
    (root / "data_manifests" / "checkpoints").mkdir(parents=True)
    (root / "data_manifests" / "checkpoints" / "toy.yaml").write_text(
        f"""name: toy
kind: checkpoint
description: a toy checkpoint
licence: MIT
access: public
source: {{type: huggingface, repo: someone/toy, repo_type: model, revision: "0123456"}}
trust: published
files:
  - {{path: weights.bin, sha256: {sha(WEIGHTS)}}}
  - {{path: config.json}}
  - {{path: extra.txt, optional: true}}
"""
    )
    lock = {
        "version": 1,
        "files": {"toy/config.json": {"sha256": sha(CONFIG), "size": len(CONFIG), "source": f"hf:someone/toy@{COMMIT}"}},
    }
    (root / "data_manifests" / "checksums.lock.json").write_text(json.dumps(lock))
    monkeypatch.setenv("AUDIOREPRO_ROOT", str(root))
    monkeypatch.setenv("AUDIOREPRO_CACHE", str(root / "cache"))
    manifests._index.cache_clear()
    yield root
    manifests._index.cache_clear()


def place(folder, weights=WEIGHTS, config=CONFIG):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "weights.bin").write_bytes(weights)
    (folder / "config.json").write_bytes(config)
    return folder


def test_the_fetched_checkpoint_is_verified_and_recorded(checkout):
    place(checkout / "cache" / "checkpoints" / "toy")
    pinned = resolve_checkpoint("toy")
    assert pinned.pinned and pinned.deviations() == []
    assert pinned.files == {
        "weights.bin": {"sha256": sha(WEIGHTS), "trust": "published"},
        "config.json": {"sha256": sha(CONFIG), "trust": "tofu"},
    }
    assert pinned.revision == "0123456" and pinned.resolved_revision == COMMIT


def test_a_missing_checkpoint_names_the_fetch_command(checkout):
    with pytest.raises(InputError, match="audiorepro fetch toy"):
        resolve_checkpoint("toy")
    (checkout / "cache" / "checkpoints" / "toy").mkdir(parents=True)
    (checkout / "cache" / "checkpoints" / "toy" / "weights.bin").write_bytes(WEIGHTS)
    with pytest.raises(InputError, match="incomplete: 1 file.*config.json"):
        resolve_checkpoint("toy")


def test_a_local_copy_with_a_changed_published_file_is_refused(checkout, tmp_path):
    local = place(tmp_path / "copy", weights=b"other weights\n")
    with pytest.raises(ChecksumMismatch, match="refusing to load"):
        resolve_checkpoint("toy", local)


def test_a_local_copy_that_differs_from_the_lock_is_refused(checkout, tmp_path):
    local = place(tmp_path / "copy", config=b'{"model_type": "changed"}\n')
    with pytest.raises(ChecksumMismatch, match=sha(CONFIG)):
        resolve_checkpoint("toy", local)


def test_a_matching_local_copy_is_pinned(checkout, tmp_path):
    pinned = resolve_checkpoint("toy", place(tmp_path / "copy"))
    assert pinned.pinned and pinned.files["weights.bin"]["trust"] == "published"


def test_another_model_in_a_local_directory_is_a_named_deviation(checkout, tmp_path):
    other = tmp_path / "finetuned"
    other.mkdir()
    (other / "model.safetensors").write_bytes(b"different model\n")
    (other / ".cache").mkdir()
    (other / ".cache" / "ignored").write_bytes(b"x")
    pinned = resolve_checkpoint("toy", other)
    assert not pinned.pinned
    assert pinned.files == {"model.safetensors": {"sha256": sha(b"different model\n"), "trust": "unpinned"}}
    [deviation] = pinned.deviations()
    assert deviation.model_dump() == {
        "name": "checkpoint",
        "value": f"local directory {other} (not the files of manifest toy)",
        "reference": "toy @ 0123456",
    }


@pytest.mark.parametrize(
    ("manifest", "shard"),
    [
        ("qwen2-audio-7b-instruct", "model-00001-of-00005.safetensors"),
        ("qwen-audio-chat", "model-00001-of-00009.safetensors"),
    ],
)
def test_the_qwen_adapters_refuse_a_directory_whose_shard_differs(tmp_path, manifest, shard):
    """The real manifests: a directory holding a published shard name with other bytes."""
    (tmp_path / shard).write_bytes(b"not the published shard")
    with pytest.raises(ChecksumMismatch, match=f"manifest {manifest}; refusing to load"):
        resolve_checkpoint(manifest, tmp_path)
