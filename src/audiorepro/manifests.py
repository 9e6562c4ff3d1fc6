"""Schema of data_manifests/{checkpoints,datasets}/*.yaml: where each file comes from, its size and
checksum, its licence and access, and how to prepare it. Unknown fields are errors naming the file
and field, as for task YAMLs."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import InputError
from .paths import cache_dir, manifests_dir, repo_root
from .yaml_schema import load_yaml_model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileEntry(_Strict):
    path: str = Field(description="path relative to the manifest's local root")
    sha256: str | None = Field(default=None, description="published or locked sha256 (lowercase hex)")
    md5: str | None = Field(default=None, description="published md5, where that is all the source gives")
    size: int | None = Field(default=None, description="bytes")
    url: str | None = Field(default=None, description="direct download URL")
    hf_path: str | None = Field(default=None, description="path inside the Hugging Face repo")
    extract: bool = Field(default=False, description="an archive to unpack after verification")
    optional: bool = False


class Source(_Strict):
    type: Literal["huggingface", "url", "manual", "bundled", "pypi", "derived", "git"]
    repo: str | None = None  # huggingface "owner/name" or git URL
    repo_type: Literal["model", "dataset", "space"] | None = None
    revision: str | None = Field(default=None, description="pinned commit for huggingface/git sources")
    package: str | None = Field(default=None, description="pypi: 'name==version'")
    wheel_sha256: str | None = None
    derived_from: list[str] = Field(default_factory=list, description="derived: names of source manifests")
    instructions: str | None = Field(default=None, description="manual/gated: how to obtain and place it")
    registration_url: str | None = None
    gated: bool = False


class Manifest(_Strict):
    name: str
    kind: Literal["dataset", "checkpoint"]
    description: str
    licence: str
    access: Literal["public", "gated", "manual", "derived", "bundled"]
    source: Source
    local_root: str | None = Field(
        default=None,
        description="where the files live, relative to the repo (bundled data) or absolute; "
        "default: <cache>/<kind>s/<name>",
    )
    files: list[FileEntry] = Field(default_factory=list)
    checksum_list: str | None = Field(
        default=None, description="a sha256sum-format file (relative to this manifest) with more files"
    )
    trust: Literal["published", "tofu", "bundled"] = Field(
        default="published",
        description="published: sha256 from the source; tofu: written to the lock on first verified download",
    )
    preparer: str | None = Field(default=None, description="name in audiorepro.prepare.registry")
    prepare_options: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""

    path_on_disk: Path | None = Field(default=None, exclude=True, description="set by the loader")

    @model_validator(mode="after")
    def _check(self) -> Manifest:
        for f in self.files:
            if f.sha256 is not None and (len(f.sha256) != 64 or not all(c in "0123456789abcdef" for c in f.sha256)):
                raise ValueError(f"file {f.path!r}: sha256 must be 64 lowercase hex digits")
        return self

    def root(self) -> Path:
        if self.local_root is None:
            return cache_dir() / f"{self.kind}s" / self.name
        p = Path(self.local_root)
        return p if p.is_absolute() else repo_root() / p


def load_manifest_file(path: str | Path) -> Manifest:
    path = Path(path)
    m = load_yaml_model(path, Manifest, name_field="name")
    m.path_on_disk = path
    return m


@lru_cache(maxsize=1)
def _index() -> dict[str, Path]:
    index: dict[str, Path] = {}
    for sub in ("checkpoints", "datasets"):
        for path in sorted((manifests_dir() / sub).glob("*.yaml")):
            if path.stem in index:
                raise InputError(path, f"manifest name {path.stem!r} also used by {index[path.stem]}")
            index[path.stem] = path
    return index


def list_manifests(kind: str | None = None) -> list[Manifest]:
    ms = [load_manifest_file(p) for p in _index().values()]
    return [m for m in ms if kind is None or m.kind == kind]


def has_manifest(name: str) -> bool:
    return name in _index()


def load_manifest(name: str) -> Manifest:
    index = _index()
    if name not in index:
        raise InputError(None, f"unknown manifest {name!r}; see `audiorepro fetch --status`")
    return load_manifest_file(index[name])
