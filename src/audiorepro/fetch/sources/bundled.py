"""Files shipped in this repository (data/demo, fixtures): nothing to download, only verified;
a missing one must be restored from git."""

from __future__ import annotations

from pathlib import Path

from ...errors import InputError
from ...manifests import FileEntry, Manifest


def fetch_missing(manifest: Manifest, missing: list[FileEntry], root: Path, lock: dict) -> None:
    required = [e for e in missing if not e.optional]
    if required:
        raise InputError(root / required[0].path, f"bundled file of manifest {manifest.name!r} is missing")
