"""Fixtures of the fault-table tests (docs/faults.md): every test runs the CLI in a fresh
workspace, so nothing a fault leaves behind can leak into another row."""

from __future__ import annotations

import shutil

import pytest
from fault_support import FAULTS_DIR, REPO


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """Fresh runs/, cache/ and reports/ folders; the toy models registered as plug-ins; no
    OpenAI settings from the caller's environment."""
    for name, folder in (("RUNS", "runs"), ("CACHE", "cache"), ("REPORTS", "reports")):
        monkeypatch.setenv(f"AUDIOREPRO_{name}", str(tmp_path / folder))
    monkeypatch.setenv("AUDIOREPRO_DATA", str(tmp_path))
    monkeypatch.syspath_prepend(str(FAULTS_DIR))
    monkeypatch.setenv(
        "AUDIOREPRO_MODEL_PLUGINS", "toy=fault_support:SignalLength,toy-window=fault_support:WindowedSignalLength"
    )
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture
def checkout(workspace, monkeypatch):
    """A copy of the checkout's data files (manifests, bundled data, expected tables) made the
    repository root, so a test can edit them as a user would."""
    from audiorepro import manifests

    root = workspace / "checkout"
    for sub in ("data_manifests", "data", "expected"):
        shutil.copytree(REPO / sub, root / sub)
    (root / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    monkeypatch.setenv("AUDIOREPRO_ROOT", str(root))
    monkeypatch.setenv("AUDIOREPRO_DATA", str(root))
    manifests._index.cache_clear()
    yield root
    manifests._index.cache_clear()
