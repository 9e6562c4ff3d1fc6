"""Data made from other manifests (listed in `source.derived_from`, fetched first by
fetch.core.fetch) by a prepare step; only files the manifest lists with a `url` are downloaded."""

from __future__ import annotations

from pathlib import Path

from ...manifests import FileEntry, Manifest
from .url import fetch_each


def fetch_missing(manifest: Manifest, missing: list[FileEntry], root: Path, lock: dict) -> None:
    fetch_each(manifest, [e for e in missing if e.url], root, lock)
