"""Files of a git repository at a pinned commit: a blobless clone into a temporary folder, the
listed files copied out atomically, the clone removed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ...errors import AudioreproError, InputError
from ...jsonl import atomic_copy
from ...manifests import FileEntry, Manifest
from ..verify import all_files


def fetch_missing(manifest: Manifest, missing: list[FileEntry], root: Path, lock: dict) -> None:
    if not missing:
        return
    s = manifest.source
    if not s.repo or not s.revision:
        raise InputError(manifest.path_on_disk, "a git source needs source.repo and a pinned source.revision")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".git-", dir=root.parent))
    try:
        for cmd in (
            ["git", "clone", "--quiet", "--filter=blob:none", "--no-checkout", s.repo, str(tmp)],
            ["git", "-C", str(tmp), "checkout", "--quiet", s.revision],
        ):
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise AudioreproError(f"{manifest.name}: `{' '.join(cmd)}` failed: {proc.stderr.strip()}")
        for entry in all_files(manifest):
            src = tmp / entry.path
            if not src.is_file():
                raise AudioreproError(f"{manifest.name}: {entry.path} not in {s.repo}@{s.revision}")
            atomic_copy(src, root / entry.path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
