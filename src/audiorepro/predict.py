"""The predict runner: examples.jsonl -> predictions.jsonl, batched, length-sorted, resumable.

Resume: ids already in predictions.jsonl are skipped; each batch is appended as whole lines and
fsynced; a torn last line left by a crash is cut off before resuming. A run refuses to append to
predictions made with another model identity, decoding or prompts (predict_meta.json records a
fingerprint of them); `predictions_complete` tells from the files alone whether a task is done, so
a rerun of a finished suite loads no model.
Sharding: `--shard i/N`, or RANK/WORLD_SIZE from torchrun; each shard writes its own file and the
score stage merges them. An id predicted in any file of the folder counts as done, so a run
resumed with another number of shards predicts only what is missing, never an id twice."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .audio import audio_info, load_clip
from .checksums import sha256_file
from .errors import AudioreproError, InputError
from .jsonl import (
    append_jsonl,
    atomic_write_json,
    check_unique_ids,
    iter_jsonl,
    read_json,
    repair_torn_tail,
    sole_writer,
)
from .layout import PREDICT_META, item_stats_path, predictions_path, run_dir, shard_predictions_path
from .models.base import AudioLanguageModel, DecodingConfig, GenerationRequest
from .paths import data_root
from .perplexity import record_item_stats
from .prefetch import prefetched
from .records import Example, Prediction
from .tasks.schema import TaskSpec

POSTPROCESSORS = {
    "strip": str.strip,
    "collapse_whitespace": lambda s: " ".join(s.split()),
    "first_line": lambda s: s.strip().split("\n", 1)[0],
}


@dataclass(frozen=True)
class Shard:
    rank: int = 0
    world: int = 1

    @classmethod
    def parse(cls, text: str | None) -> Shard:
        """'i/N' from the CLI, else torchrun's RANK/WORLD_SIZE, else the whole set."""
        if text:
            try:
                rank, world = (int(x) for x in text.split("/"))
            except ValueError as e:
                raise AudioreproError(f"--shard must look like i/N (for example 0/4), got {text!r}") from e
        else:
            rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
        if not 0 <= rank < world:
            raise AudioreproError(f"shard rank {rank} is outside 0..{world - 1}")
        return cls(rank, world)

    def take(self, examples: list[Example]) -> list[Example]:
        return examples[self.rank :: self.world] if self.world > 1 else examples


def load_examples(path: Path) -> list[Example]:
    examples = [Example.from_dict(d, source=path) for d in iter_jsonl(path)]
    check_unique_ids(path, (e.id for e in examples), "example")
    return examples


def read_predictions(path: Path) -> list[Prediction]:
    """Complete prediction lines of one file (a torn tail is ignored, not parsed). An id seen
    twice is an error: resuming over it would keep one answer at random, scoring it would count
    the item twice."""
    if not path.exists():
        return []
    predictions = [Prediction.from_dict(d, source=path) for d in iter_jsonl(path, drop_torn_tail=True)]
    check_unique_ids(
        path,
        (p.id for p in predictions),
        "prediction",
        "; the file was edited or written by two processes at once. Delete one, or rerun predict with --restart",
    )
    return predictions


def merged_predictions(suite: str, task: str, run: str) -> dict[str, Prediction]:
    """All predictions of a run: the main file plus any shard files, checked for duplicates."""
    folder = run_dir(suite, task, run)
    files = sorted(folder.glob("predictions*.jsonl"))
    merged: dict[str, Prediction] = {}
    for f in files:
        for p in read_predictions(f):
            if p.id in merged:
                raise InputError(f, f"prediction id {p.id!r} appears twice across {', '.join(x.name for x in files)}")
            merged[p.id] = p
    return merged


def discard_predictions(suite: str, task: str, run: str) -> None:
    """Remove every predictions file of a run (the main file and all shard files) and the per-item
    statistics written beside them."""
    folder = run_dir(suite, task, run)
    for f in [*folder.glob("predictions*.jsonl"), *folder.glob("item_stats*.jsonl")]:
        f.unlink()


def _fingerprint(model_identity: dict, decoding: DecodingConfig, prompts_sha: str) -> str:
    """What the outputs depend on: the model's identity() (never its describe(), which may hold
    timings and lazily set state), the effective decoding and the prompts."""
    payload = json.dumps({"model": model_identity, "decoding": decoding.to_dict(), "prompts": prompts_sha}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _what_changed(old_meta: dict, decoding: DecodingConfig, prompts_sha: str) -> str:
    """Which part of the fingerprint moved, read off the old predict_meta.json: an edited
    examples.jsonl used to be reported as "another model ... decoding or prompts"."""
    changed = []
    if old_meta.get("prompts_sha256") != prompts_sha:
        changed.append("other prompts (examples.jsonl or the task's prompt changed)")
    old_decoding = old_meta.get("decoding") or {}
    moved = [f"{k} {old_decoding.get(k)!r} -> {v!r}" for k, v in decoding.to_dict().items() if old_decoding.get(k) != v]
    if moved:
        changed.append(f"another decoding ({', '.join(moved)})")
    return " and ".join(changed) or "another model (weights, options or wrapper version)"


def _limited(examples: list[Example], limit: int | None) -> list[Example]:
    return examples if limit is None else examples[:limit]


def _prompts(task: TaskSpec, model_name: str, examples: list[Example]) -> dict[str, str]:
    """The instruction per item: the task's prompt for this model if it has one, else the item's."""
    if model_name in task.model_prompts:
        return {e.id: task.prompt_for(model_name, e.meta) for e in examples}
    return {e.id: e.prompt for e in examples}


def _request_fingerprint(task: TaskSpec, model_name: str, examples_file: Path, prompts: dict, decoding_overrides: dict | None) -> str:
    """What was asked of the model, known without loading it: the examples, prompts, the task's
    decoding and the command-line overrides."""
    payload = {
        "task": task.name,
        "task_version": task.version,
        "model": model_name,
        "examples_sha256": sha256_file(examples_file),
        "prompts": prompts,
        "task_decoding": task.decoding,
        "decoding_overrides": _set_overrides(decoding_overrides),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _set_overrides(decoding_overrides: dict | None) -> dict:
    return {k: v for k, v in (decoding_overrides or {}).items() if v is not None}


def predictions_file(task: TaskSpec, run: str, shard: Shard) -> Path:
    """This shard's predictions file (the main file without sharding)."""
    if shard.world == 1:
        return predictions_path(task.suite, task.name, run)
    return shard_predictions_path(task.suite, task.name, run, shard.rank, shard.world)


def predictions_complete(
    task: TaskSpec,
    examples_file: Path,
    model_name: str,
    run: str,
    *,
    decoding_overrides: dict | None = None,
    shard: Shard = Shard(),
    limit: int | None = None,
) -> bool:
    """True when this exact request (same examples, prompts, decoding options) was fully predicted
    already, so a rerun need not load the model. Checked from files only; a model whose weights
    changed under the same name and options is only noticed when something is left to predict
    (or with --restart)."""
    out = predictions_file(task, run, shard)
    meta_path = out.parent / PREDICT_META
    if not (meta_path.exists() and examples_file.exists() and any(out.parent.glob("predictions*.jsonl"))):
        return False
    all_examples = load_examples(examples_file)
    examples = _limited(all_examples, limit)
    request = _request_fingerprint(task, model_name, examples_file, _prompts(task, model_name, all_examples), decoding_overrides)
    if read_json(meta_path).get("request_fingerprint") != request:
        return False
    try:  # an id predicted in any file of the folder counts (as in predict_task)
        done = set(merged_predictions(task.suite, task.name, run))
    except AudioreproError:
        return False  # duplicates: predict_task names them
    return all(e.id in done for e in shard.take(examples))


def _resolve_audio(example: Example) -> str | None:
    if example.audio is None:
        return None
    p = Path(example.audio)
    return str(p if p.is_absolute() else data_root() / p)


def predict_task(
    task: TaskSpec,
    examples_file: Path,
    model: AudioLanguageModel,
    run: str,
    *,
    decoding_overrides: dict | None = None,
    batch_size: int = 8,
    shard: Shard = Shard(),
    restart: bool = False,
    progress: bool = True,
    limit: int | None = None,
    prefetch: int = 2,
) -> Path:
    """Predict every example of `examples_file` not yet predicted; return the predictions path."""
    all_examples = load_examples(examples_file)
    examples = _limited(all_examples, limit)
    try:
        decoding = model.default_decoding().merged(task.decoding).merged(decoding_overrides)
    except ValueError as e:
        raise AudioreproError(f"task {task.name}: bad decoding setting: {e}") from e
    # over every example, not this shard's or --limit's: all shards of a run, and a --limit smoke
    # run and the full run after it, share one fingerprint
    prompts = _prompts(task, model.name, all_examples)
    prompts_sha = hashlib.sha256(json.dumps(prompts, sort_keys=True).encode()).hexdigest()
    examples = shard.take(examples)

    out = predictions_file(task, run, shard)
    # one process per predictions file: a second run on the same folder stops here, naming the first
    with sole_writer(out):
        meta_path = out.parent / PREDICT_META
        model_desc = model.describe()
        fingerprint = _fingerprint(model.identity(), decoding, prompts_sha)
        if restart:
            discard_predictions(task.suite, task.name, run)
        if meta_path.exists() and any(out.parent.glob("predictions*.jsonl")):
            old = read_json(meta_path)
            if old.get("fingerprint") != fingerprint:
                raise AudioreproError(
                    f"{out.parent}: existing predictions were made with {_what_changed(old, decoding, prompts_sha)} "
                    "(the fingerprint in predict_meta.json differs). Rerun with --restart to discard them, or pass "
                    "different --model-arg options so the run gets its own folder."
                )
        atomic_write_json(
            meta_path,
            {
                "task": task.name,
                "task_version": task.version,
                "model": model_desc,
                "decoding": decoding.to_dict(),
                "decoding_overrides": _set_overrides(decoding_overrides),
                "prompts_sha256": prompts_sha,
                "examples_sha256": sha256_file(examples_file),
                "fingerprint": fingerprint,
                "request_fingerprint": _request_fingerprint(task, model.name, examples_file, prompts, decoding_overrides),
                "batch_size": batch_size,
            },
        )

        removed = repair_torn_tail(out)
        if removed:
            print(f"[predict] {out}: dropped a torn last line ({removed} bytes) left by an interrupted run")
        done = set(merged_predictions(task.suite, task.name, run))
        todo = [e for e in examples if e.id not in done]
        if not todo:
            report_audio_notes(task, out, model.max_audio_seconds)
            return out

        # Load audio lazily per batch, but check every file up front: a missing file should stop the
        # run before hours of GPU time, not in the middle.
        for e in todo:
            path = _resolve_audio(e)
            if path is not None and not Path(path).is_file():
                raise InputError(path, f"audio file of example {e.id!r} not found")

        requests = [GenerationRequest(id=e.id, prompt=prompts[e.id], audio=None, audio_path=_resolve_audio(e), meta=e.meta) for e in todo]
        by_id = {e.id: e for e in todo}
        lengths = {r.id: _length_hint(by_id[r.id], r) for r in requests}
        requests.sort(key=lambda r: (lengths[r.id], r.id))
        post = [POSTPROCESSORS[name] for name in task.postprocess]

        def load(batch: list[GenerationRequest]) -> tuple[list[GenerationRequest], dict[str, list[str]]]:
            """The batch with its audio (and the model's prepare_batch features), and each clip's notes."""
            notes: dict[str, list[str]] = {}
            for r in batch:
                e = by_id[r.id]
                if r.audio_path is not None:
                    clip = load_clip(
                        r.audio_path,
                        offset=e.audio_offset,
                        duration=e.audio_duration,
                        max_seconds=model.max_audio_seconds,
                    )
                    r.audio, notes[r.id] = clip.samples, clip.notes
            model.prepare_batch(batch, decoding)
            return batch, notes

        batches = [requests[start : start + batch_size] for start in range(0, len(requests), batch_size)]
        bar = _progress(total=len(examples), initial=len(examples) - len(todo), desc=f"{task.name} [{run}]", enabled=progress)
        try:
            # the next batches are loaded and featurised in background threads while this one generates
            for batch, notes in prefetched(batches, load, depth=prefetch):
                if decoding.seed is not None:
                    _seed_everything(decoding.seed, batch[0].id)
                t0 = time.perf_counter()
                results = model.generate(batch, decoding)
                elapsed = time.perf_counter() - t0
                if len(results) != len(batch):
                    raise AudioreproError(f"model {model.name} returned {len(results)} results for {len(batch)} requests")
                records = []
                for r, res in zip(batch, results, strict=True):
                    text = res.text
                    for fn in post:
                        text = fn(text)
                    records.append(
                        Prediction(
                            id=r.id,
                            output=text,
                            raw_output=res.raw_text,
                            n_tokens=len(res.token_ids),
                            finish_reason=res.finish_reason,
                            seconds=round(elapsed / len(batch), 4),
                            audio_notes=notes.get(r.id, []),
                        ).to_dict()
                    )
                if task.record:
                    # before the predictions, so an item counted as done always has its statistics

                    record_item_stats(model, batch, results, task.record, item_stats_path(out))
                for r in batch:
                    r.audio = r.features = None  # free memory
                append_jsonl(out, records)
                bar.update(len(batch))
        finally:
            bar.close()
        report_audio_notes(task, out, model.max_audio_seconds)
        return out


def count_audio_notes(predictions) -> dict[str, int]:
    """How many predictions carry each audio note ("cut", "silent")."""
    counts: dict[str, int] = {}
    for p in predictions:
        for note in p.audio_notes:
            counts[note] = counts.get(note, 0) + 1
    return counts


def report_audio_notes(task: TaskSpec, out: Path, max_seconds: float | None) -> None:
    """Say once per task (counting every prediction, resumed runs included) how many clips were
    cut to the model's window and how many were all zero; the score stage records both."""
    predictions = read_predictions(out)
    counts = count_audio_notes(predictions)
    if counts.get("cut"):
        print(
            f"[predict] {task.name}: {counts['cut']} of {len(predictions)} clips are longer than the model's "
            f"{max_seconds:g} s window and were cut to it (as the reference implementation does)",
            file=sys.stderr,
        )
    if counts.get("silent"):
        print(
            f"[predict] warning: {task.name}: {counts['silent']} of {len(predictions)} clips are all zero "
            "(silence); check the data (counted in the score's provenance)",
            file=sys.stderr,
        )


def _length_hint(example: Example, request: GenerationRequest) -> float:
    if example.audio_duration is not None:
        return example.audio_duration
    if request.audio_path is None:
        return float(len(request.prompt))

    return audio_info(request.audio_path, check_samples=False)[2]  # samples are checked when loaded


def _seed_everything(seed: int, key: str) -> None:
    """Seed per batch from (seed, first id), so a resumed run samples as an uninterrupted one."""
    import random

    import numpy as np
    import torch

    derived = int(hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()[:8], 16)
    random.seed(derived)
    np.random.seed(derived)
    torch.manual_seed(derived)


def _progress(total: int, initial: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="item", disable=not enabled, dynamic_ncols=True)
