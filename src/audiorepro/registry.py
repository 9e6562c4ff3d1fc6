"""The one registry idiom for everything looked up by name: models, dataset preparers, judges.

Each kind keeps one `Registry`. An entry is registered either with a "module:attr" string (the
usual way inside this package: the module is imported only when the entry is first used, so
`audiorepro models` or the scoring stages never import torch or a model they do not need) or by
decorating the object itself (handy in a plug-in or a test, where the object is already
imported). Entries carry a one-line description and free metadata (a model's preset options).
Modelled on lm-evaluation-harness's `lm_eval/api/registry.py`, without its global mutable maps:
each registry is an object the owning module creates."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .errors import AudioreproError

T = TypeVar("T")


@dataclass
class Entry(Generic[T]):
    name: str
    target: str | T  # "module:attr" until first use, then the object
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, key: str) -> Any:
        """Metadata read as attributes (`entry.scale`), so an entry reads like a declaration."""
        if key != "metadata" and key in self.metadata:
            return self.metadata[key]
        raise AttributeError(f"registry entry {self.name!r} has no {key!r}")

    def load(self) -> T:
        if isinstance(self.target, str):
            module_name, _, attr = self.target.partition(":")
            if not module_name or not attr:
                raise AudioreproError(f"registry entry {self.name!r}: target {self.target!r} must look like module:attr")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as error:
                raise AudioreproError(f"{self.name}: cannot import {module_name} ({error})") from error
            try:
                self.target = getattr(module, attr)
            except AttributeError:
                raise AudioreproError(f"{self.name}: {module_name} has no {attr!r}") from None
        return self.target


class Registry(Generic[T]):
    """name -> lazily imported object. `kind` names the registry in errors ("unknown model ...")."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self,
        name: str,
        target: str | T | None = None,
        *,
        description: str = "",
        replace: bool = False,
        **metadata: Any,
    ) -> Callable[[T], T] | None:
        """`registry.register("x", "pkg.mod:Thing", description=...)`, or as a decorator:
        `@registry.register("x", description=...)` above the object. Names are unique: a second
        registration under the same name is an error unless `replace=True` says it is meant (a
        plug-in standing in for a built-in model)."""
        if name in self._entries and not replace:
            raise AudioreproError(f"{self.kind} {name!r} is already registered")
        if target is not None:
            self._entries[name] = Entry(name, target, description, dict(metadata))
            return None

        def decorate(obj: T) -> T:
            self._entries[name] = Entry(name, obj, description, dict(metadata))
            return obj

        return decorate

    def entry(self, name: str) -> Entry[T]:
        if name not in self._entries:
            raise AudioreproError(f"unknown {self.kind} {name!r}; registered: {', '.join(self._entries)}")
        return self._entries[name]

    def get(self, name: str) -> T:
        return self.entry(name).load()

    def names(self) -> list[str]:
        return list(self._entries)

    def entries(self) -> Iterator[Entry[T]]:
        return iter(list(self._entries.values()))

    def unregister(self, name: str) -> None:
        """For tests and plug-ins that register something temporary."""
        self._entries.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def copy(self) -> Registry[T]:
        other: Registry[T] = Registry(self.kind)
        other._entries = dict(self._entries)
        return other
