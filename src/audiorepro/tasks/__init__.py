"""Task registry: every YAML under this folder is a task (lm-evaluation-harness style: data plus a
small hook). `load_task(name)` and `list_tasks()` are the entry points."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import InputError
from .schema import TaskSpec

TASKS_DIR = Path(__file__).parent


def load_task_file(path: str | Path) -> TaskSpec:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise InputError(path, f"invalid YAML: {e}") from e
    if not isinstance(data, dict):
        raise InputError(path, "a task file must hold a mapping")
    try:
        return TaskSpec.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            field = ".".join(str(p) for p in err["loc"]) or "<root>"
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"field '{field}': {msg}")
        raise InputError(path, "; ".join(problems)) from e


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
