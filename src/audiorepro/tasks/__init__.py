"""Task registry: every YAML under this folder is a task (lm-evaluation-harness style: data plus a
small hook). `load_task(name)` and `list_tasks()` are the entry points.

A task is one YAML file, so everything else derives from the task files: Make's per-task targets
(`audiorepro tasks --names`), the tests' task lists, the compare stage's "no paper" table. The
link to a paper cell lives once, in expected/<table>.yaml (`task:` of the cell, next to the paper
value). A family of near-identical tasks (the 16 SAKURA cells) shares a template: `include:
_file.yaml` names a file (relative to the task's folder) whose keys the task inherits (its own keys win);
files whose name starts with `_` are templates, not tasks. `AUDIOREPRO_TASKS` (folders separated
by the path separator) adds task folders, so a reader can add a task without touching the
package."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import InputError
from ..paths import extra_task_dirs
from ..yaml_schema import load_yaml_mapping, validate
from .schema import TaskSpec

TASKS_DIR = Path(__file__).parent
TEMPLATE_PREFIX = "_"


def task_dirs() -> list[Path]:
    """The package's task folder, then every folder of AUDIOREPRO_TASKS."""
    extra = extra_task_dirs()
    for folder in extra:
        if not folder.is_dir():
            raise InputError(folder, "AUDIOREPRO_TASKS names a folder that does not exist")
    return [TASKS_DIR, *extra]


def _with_includes(path: Path, seen: tuple[Path, ...] = ()) -> dict:
    """The file's mapping with its `include:` template merged under it (the file's keys win)."""
    data = load_yaml_mapping(path)
    include = data.pop("include", None)
    if include is None:
        return data
    if not isinstance(include, str):
        raise InputError(path, f"field 'include': expected a file name, got {include!r}")
    template = (path.parent / include).resolve()
    if template in seen:
        raise InputError(path, f"field 'include': {include!r} includes itself")
    if not template.is_file():
        raise InputError(path, f"field 'include': template {include!r} not found next to the task")
    return {**_with_includes(template, (*seen, path.resolve())), **data}


def load_task_file(path: str | Path) -> TaskSpec:
    path = Path(path)
    return validate(TaskSpec, _with_includes(path), path)


def _task_files(folder: Path) -> list[Path]:
    return [p for p in sorted(folder.rglob("*.yaml")) if not p.name.startswith(TEMPLATE_PREFIX)]


@lru_cache(maxsize=4)
def _index(dirs: tuple[Path, ...]) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for folder in dirs:
        for path in _task_files(folder):
            spec = load_task_file(path)
            if spec.name in index:
                raise InputError(path, f"task name {spec.name!r} also defined in {index[spec.name]}")
            if spec.name != path.stem:
                raise InputError(path, f"field 'name': {spec.name!r} must equal the file name {path.stem!r}")
            index[spec.name] = path
    return index


def _current_index() -> dict[str, Path]:
    return _index(tuple(task_dirs()))


def list_tasks(suite: str | None = None) -> list[TaskSpec]:
    specs = [load_task_file(p) for p in _current_index().values()]
    return [s for s in specs if suite is None or s.suite == suite]


def load_task(name: str) -> TaskSpec:
    index = _current_index()
    if name not in index:
        raise InputError(None, f"unknown task {name!r}; see `audiorepro tasks`")
    return load_task_file(index[name])
