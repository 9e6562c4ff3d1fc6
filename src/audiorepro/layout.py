"""Where each stage reads and writes (docs/ARCHITECTURE.md): one function per file kind, so no
stage builds a path by hand."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml

from .checksums import sha256_file
from .paths import reports_dir, runs_dir

EXAMPLES = "examples.jsonl"
PREDICTIONS = "predictions.jsonl"
PREDICT_META = "predict_meta.json"
VERDICTS = "verdicts.jsonl"
JUDGE_META = "judge_meta.json"  # written by the judge stage: judge describe() and verdict counts
ITEM_STATS = "item_stats.jsonl"  # per-item model statistics a task asks the predict stage to record
SCORES = "scores.json"


def task_dir(suite: str, task: str) -> Path:
    return runs_dir() / suite / task


def examples_path(suite: str, task: str) -> Path:
    return task_dir(suite, task) / EXAMPLES


def run_dir(suite: str, task: str, run_name: str) -> Path:
    return task_dir(suite, task) / run_name


def predictions_path(suite: str, task: str, run_name: str) -> Path:
    return run_dir(suite, task, run_name) / PREDICTIONS


def shard_predictions_path(suite: str, task: str, run_name: str, rank: int, world: int) -> Path:
    return run_dir(suite, task, run_name) / f"predictions.shard{rank}of{world}.jsonl"


def item_stats_path(predictions_file: Path) -> Path:
    """The per-item statistics written beside a predictions file (one per shard, like it)."""
    return predictions_file.with_name(predictions_file.name.replace("predictions", "item_stats", 1))


def verdicts_path(suite: str, task: str, run_name: str) -> Path:
    return run_dir(suite, task, run_name) / VERDICTS


def predictions_sha256(run_folder: Path) -> dict[str, str]:
    """The sha256 of every predictions file of a run (the main file and any shard files), as
    scores.json records what it was made from."""
    return {p.name: sha256_file(p) for p in sorted(run_folder.glob("predictions*.jsonl"))}


def inputs_changed_since(run_folder: Path, provenance: dict, judged: bool) -> list[str]:
    """Which inputs of a scores.json (examples, predictions, and verdicts when the task is judged)
    differ now from the sha256s its provenance recorded; [] when it still stands for its run
    folder. One rule for `score` (rescore?) and `compare` (may the old number be shown?)."""
    examples = run_folder.parent / EXAMPLES
    changed = []
    if provenance.get("examples_sha256") != (sha256_file(examples) if examples.exists() else None):
        changed.append("examples")
    if provenance.get("predictions_sha256") != predictions_sha256(run_folder):
        changed.append("predictions")
    verdicts = run_folder / VERDICTS
    if judged and (provenance.get("judge") or {}).get("verdicts_sha256") != (
        sha256_file(verdicts) if verdicts.exists() else None
    ):
        changed.append("verdicts")
    return changed


def scores_path(suite: str, task: str, run_name: str) -> Path:
    return run_dir(suite, task, run_name) / SCORES


def report_dir(suite: str) -> Path:
    return reports_dir() / suite


# Options that change where a model runs but not its outputs (models/placement.py): a run split
# over two cards resumes the same folder as one on a single card. load_in_8bit changes outputs.
PLACEMENT_ONLY = frozenset({"device", "batch_size", "device_map", "max_memory", "offload_folder"})


def run_name(model: str, model_args: dict | None = None) -> str:
    """Folder name of one model configuration: the model name plus its non-default options
    (`salmonn-13b-v1+lora_scaling=2.0`), so runs with different options never mix. Component paths
    are summarised by a short hash (`+paths-1a2b3c4d`): the full paths are in predict_meta.json."""
    if not model_args:
        return model
    paths = {k: str(v) for k, v in model_args.items() if k.endswith("_path") or k.endswith("_dir")}
    parts = [f"{k}={v}" for k, v in sorted(model_args.items()) if k not in PLACEMENT_ONLY and k not in paths]
    if paths:
        digest = hashlib.sha256(repr(sorted(paths.items())).encode()).hexdigest()[:8]
        parts.append(f"paths-{digest}")
    name = "+".join([model, *parts]) if parts else model
    return re.sub(r"[^A-Za-z0-9._=+-]", "_", name)


def parse_run_name(run: str) -> tuple[str, dict[str, Any]]:
    """The inverse of `run_name` for the options it keeps: `salmonn-13b-v1+lora_scaling=2.0` ->
    ('salmonn-13b-v1', {'lora_scaling': 2.0}). A `paths-<digest>` part is skipped: the digest
    cannot be turned back into paths."""
    base, *parts = run.split("+")
    options: dict[str, Any] = {}
    for part in parts:
        if "=" not in part:
            continue
        key, _, value = part.partition("=")
        try:
            options[key] = yaml.safe_load(value)
        except yaml.YAMLError:
            options[key] = value
    return base, options


def rerun_command(suite: str, tasks: list[str], run: str, options: dict[str, Any] | None = None) -> str:
    """The command that recomputes `tasks` of one run folder from scratch."""
    base, run_options = parse_run_name(run)
    run_options = {**run_options, **(options or {})}
    args = "".join(f" --model-arg {k}={v}" for k, v in sorted(run_options.items()))
    if "+paths-" in run:
        args += " --model-arg <component>_path=... (the paths are in predict_meta.json)"
    return f"audiorepro run --suite {suite} --tasks {','.join(tasks)} --models {base}{args}"
