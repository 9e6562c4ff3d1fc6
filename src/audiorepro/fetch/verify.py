"""The state of every file a manifest lists: missing, present, verified, mismatch or
manual-needed, with the trust behind its expected sha256 (published, bundled, tofu, md5)."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from ..checksums import hash_file
from ..errors import InputError
from ..manifests import FileEntry, Manifest
from ..paths import manifests_dir
from .lock import cached_sha256, expected_checksum, read_lock, remember_verified

STATES = ("missing", "present", "verified", "mismatch", "manual-needed")


@dataclass
class FileStatus:
    manifest: str
    path: str  # relative to the manifest root
    state: str  # one of STATES
    trust: str  # published | tofu | bundled | md5 | tofu-pending (no checksum anywhere yet)
    expected: str | None = None
    actual: str | None = None
    detail: str = ""


def _read_checksum_list(manifest: Manifest) -> list[FileEntry]:
    """Entries of a sha256sum-format list (`<hex>  <path>` or `<hex> *<path>`) next to the manifest."""
    if manifest.checksum_list is None:
        return []
    base = manifest.path_on_disk.parent if manifest.path_on_disk else manifests_dir()
    path = base / manifest.checksum_list
    if not path.is_file():
        raise InputError(path, f"checksum list of manifest {manifest.name!r} not found")
    entries = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise InputError(path, f"line {lineno}: expected '<sha256>  <path>'")
        entries.append(FileEntry(path=parts[1].strip().lstrip("*"), sha256=parts[0].lower()))
    return entries


def all_files(manifest: Manifest) -> list[FileEntry]:
    listed = {f.path for f in manifest.files}
    return list(manifest.files) + [f for f in _read_checksum_list(manifest) if f.path not in listed]


def _installed_distribution(manifest: Manifest):
    """The installed distribution of a pypi source when it has the pinned version, else None."""
    package = manifest.source.package or ""
    if manifest.source.type != "pypi" or "==" not in package:
        return None
    name, version = package.split("==", 1)
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    return dist if dist.version == version else None


def files_root(manifest: Manifest) -> Path:
    """Where a manifest's files are checked: its root, except for a pypi source without a
    local_root whose pinned version is installed: then its site-packages folder (no copy needed)."""
    if manifest.source.type == "pypi" and manifest.local_root is None:
        dist = _installed_distribution(manifest)
        if dist is not None:
            return Path(dist.locate_file(""))
    return manifest.root()


def verify(
    manifest: Manifest, *, deep: bool = True, rehash: bool = False, root: Path | None = None
) -> list[FileStatus]:
    """Status of every file of a manifest. deep=False skips hashing files not verified before
    (they are reported 'present'); sizes are always checked. rehash=True ignores hashes recorded
    for unchanged size and mtime (a same-size edit with a restored mtime is still caught). `root`
    checks a copy elsewhere (a model's `model_path=DIR`) against the same manifest and lock."""
    lock = read_lock()
    root = files_root(manifest) if root is None else Path(root)
    manual = manifest.source.type == "manual"
    statuses, newly_verified = [], []
    for entry in all_files(manifest):
        expected, trust = expected_checksum(manifest, entry, lock)
        path = root / entry.path
        st = FileStatus(manifest.name, entry.path, "missing", trust, expected=expected)
        if not path.is_file():
            if manual and not entry.optional:
                st.state = "manual-needed"
            st.detail = "optional" if entry.optional else ""
            statuses.append(st)
            continue
        size = path.stat().st_size
        if entry.size is not None and size != entry.size:
            st.state, st.actual = "mismatch", f"{size} bytes"
            st.detail = f"size {size} != {entry.size}"
            statuses.append(st)
            continue
        cached = None if rehash else cached_sha256(path)
        if cached is None and not deep:
            st.state = "present"
            statuses.append(st)
            continue
        if cached is not None:
            actual = cached
        else:
            actual, actual_md5 = hash_file(path, md5=entry.md5 is not None)
            if entry.md5 and actual_md5 != entry.md5.lower():
                st.state, st.actual = "mismatch", actual_md5
                st.expected, st.detail = entry.md5, "md5"
                statuses.append(st)
                continue
        st.actual = actual
        if expected is None:
            # No sha256 anywhere yet: a plain `verify` does not lock; fetch() does, after download.
            if entry.md5 is None:
                st.state, st.detail = "present", "no sha256 yet (trust on first use at fetch)"
            else:
                st.state, st.trust, st.detail = (
                    "verified",
                    "md5",
                    "published md5 only; sha256 locked at fetch",
                )
        elif actual == expected:
            st.state = "verified"
            newly_verified.append((path, actual))
        else:
            st.state = "mismatch"
        statuses.append(st)
    remember_verified((p, sha) for p, sha in newly_verified if cached_sha256(p) != sha)
    return statuses
