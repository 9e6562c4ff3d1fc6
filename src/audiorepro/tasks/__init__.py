"""Task registry: every YAML under this folder is a task (lm-evaluation-harness style: data plus a
small hook). `load_task(name)` and `list_tasks()` are the entry points."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import InputError
from ..yaml_schema import load_yaml_model
from .schema import TaskSpec

TASKS_DIR = Path(__file__).parent


def load_task_file(path: str | Path) -> TaskSpec:
    return load_yaml_model(path, TaskSpec)


@lru_cache(maxsize=1)
def _index() -> dict[str, Path]:
    index: dict[str, Path] = {}
    for path in sorted(TASKS_DIR.rglob("*.yaml")):
        spec = load_task_file(path)
        if spec.name in index:
            raise InputError(path, f"task name {spec.name!r} also defined in {index[spec.name]}")
        if spec.name != path.stem:
            raise InputError(path, f"field 'name': {spec.name!r} must equal the file name {path.stem!r}")
        index[spec.name] = path
    return index


def list_tasks(suite: str | None = None) -> list[TaskSpec]:
    specs = [load_task_file(p) for p in _index().values()]
    return [s for s in specs if suite is None or s.suite == suite]


def load_task(name: str) -> TaskSpec:
    index = _index()
    if name not in index:
        raise InputError(None, f"unknown task {name!r}; see `audiorepro tasks`")
    return load_task_file(index[name])
