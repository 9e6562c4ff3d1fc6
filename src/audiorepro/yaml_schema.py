"""Reading the project's YAML files (tasks, manifests, expected tables) into pydantic models.
One place turns a validation failure into an error that names the file and each bad field."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import InputError

M = TypeVar("M", bound=BaseModel)


def load_yaml_mapping(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise InputError(path, f"invalid YAML: {e}") from e
    if not isinstance(data, dict):
        raise InputError(path, "the file must hold a mapping")
    return data


def validate(model: type[M], data: dict, path: str | Path) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            field = ".".join(str(p) for p in err["loc"]) or "<root>"
            msg = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"field '{field}': {msg}")
        raise InputError(path, "; ".join(problems)) from e


def load_yaml_model(path: str | Path, model: type[M], *, name_field: str | None = None) -> M:
    """Load and validate; with `name_field`, that field must equal the file name (stem)."""
    path = Path(path)
    obj = validate(model, load_yaml_mapping(path), path)
    if name_field is not None and getattr(obj, name_field) != path.stem:
        raise InputError(
            path, f"field '{name_field}': {getattr(obj, name_field)!r} must equal the file name {path.stem!r}"
        )
    return obj
