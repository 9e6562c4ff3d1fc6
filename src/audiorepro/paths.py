"""Where things live. Every location can be moved with an environment variable, so a reviewer can
keep 100 GB of checkpoints on another disk without editing code."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Path:
    """The checkout this package runs from (src layout), or the current directory when installed."""
    env = os.environ.get("AUDIOREPRO_ROOT")
    if env:
        return Path(env).resolve()
    candidate = PACKAGE_DIR.parent.parent
    if (candidate / "pyproject.toml").exists() and (candidate / "data_manifests").exists():
        return candidate
    return Path.cwd()


def cache_dir() -> Path:
    """Fetched and converted files (checkpoints, datasets, converted demo weights)."""
    return Path(os.environ.get("AUDIOREPRO_CACHE", repo_root() / "cache")).resolve()


def runs_dir() -> Path:
    """Stage outputs: examples, predictions, scores."""
    return Path(os.environ.get("AUDIOREPRO_RUNS", repo_root() / "runs")).resolve()


def reports_dir() -> Path:
    return Path(os.environ.get("AUDIOREPRO_REPORTS", repo_root() / "reports")).resolve()


def manifests_dir() -> Path:
    return repo_root() / "data_manifests"


def extra_task_dirs() -> list[Path]:
    """Task folders besides the package's own (AUDIOREPRO_TASKS, separated like PATH): a reader's
    new task is a YAML file there, with no edit to the package."""
    return [Path(p).resolve() for p in os.environ.get("AUDIOREPRO_TASKS", "").split(os.pathsep) if p]


def expected_dir() -> Path:
    return repo_root() / "expected"


def data_root() -> Path:
    """Root that relative audio paths in examples.jsonl are resolved against."""
    return Path(os.environ.get("AUDIOREPRO_DATA", repo_root())).resolve()
