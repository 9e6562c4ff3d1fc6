"""The prepare stage: a dataset's items + a task's filter and prompt -> examples.jsonl.

Preparers (one module per dataset family, listed in prepare/registry.py) turn fetched files into
dataset items; this module applies a task to them. Rerunning it on unchanged input is a no-op."""

from __future__ import annotations

from pathlib import Path

from ..errors import AudioreproError, InputError
from ..jsonl import atomic_write_text
from ..layout import examples_path
from ..manifests import load_manifest
from ..records import Example
from ..tasks.schema import TaskSpec
from .registry import get_preparer


def _matches(meta: dict, where: dict) -> bool:
    return all(meta.get(k) == v for k, v in where.items())


def build_examples(task: TaskSpec, items, *, source: str) -> list[Example]:
    examples, seen = [], set()
    for item in items:
        meta = dict(item.get("meta", {}))
        if not _matches(meta, task.where):
            continue
        if item["id"] in seen:
            raise InputError(source, f"duplicate item id {item['id']!r}")
        seen.add(item["id"])
        try:
            prompt = task.prompt.format(**meta)
        except KeyError as e:
            raise InputError(
                source, f"task {task.name}: prompt placeholder {e} missing in item {item['id']!r}"
            ) from e
        examples.append(
            Example(
                id=item["id"],
                task=task.name,
                audio=item.get("audio"),
                prompt=prompt,
                references=list(item["references"]),
                meta=meta,
                audio_offset=item.get("audio_offset"),
                audio_duration=item.get("audio_duration"),
            )
        )
    if not examples:
        raise AudioreproError(
            f"task {task.name}: dataset {task.dataset!r} gave no items matching {task.where}"
        )
    return examples


def dataset_for(task: TaskSpec, subset: str | None) -> str:
    """The manifest a task reads; `subset` picks a declared smaller copy (`<dataset>-<subset>`)."""
    return f"{task.dataset}-{subset}" if subset else task.dataset


def prepare_task(task: TaskSpec, *, subset: str | None = None, limit: int | None = None) -> Path:
    manifest = load_manifest(dataset_for(task, subset))
    if manifest.preparer is None:
        raise AudioreproError(f"manifest {manifest.name} has no preparer")
    items = get_preparer(manifest.preparer)(manifest, **manifest.prepare_options)
    examples = build_examples(task, items, source=str(manifest.path_on_disk))
    if limit is not None:
        examples = examples[:limit]
    out = examples_path(task.suite, task.name)
    import json

    text = "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in examples)
    if out.exists() and out.read_text(encoding="utf-8") == text:
        return out  # unchanged: keep the file (and its mtime) as it is
    atomic_write_text(out, text)
    return out
