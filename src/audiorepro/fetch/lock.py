"""What fetch remembers between runs: the trust-on-first-use lock and the cache of verified files.

Files whose manifest gives no sha256 are trusted on first use: the first verified download writes
its sha256 to data_manifests/checksums.lock.json (commit it to pin what you downloaded), and later
runs check against that lock and report the trust as "tofu" rather than "published".
Hashing a checkpoint takes long, so a file verified once is not hashed again while its size and
mtime stay unchanged (cache/verified.json); `fetch --status --verify` ignores that cache."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from ..errors import InputError
from ..jsonl import atomic_write_json, read_json
from ..manifests import FileEntry, Manifest
from ..paths import cache_dir, manifests_dir


def lock_path() -> Path:
    return manifests_dir() / "checksums.lock.json"


def read_lock() -> dict:
    path = lock_path()
    if not path.is_file():
        return {"version": 1, "files": {}}
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise InputError(path, "expected {'version': 1, 'files': {...}}")
    return data


def lock_key(manifest: Manifest, rel_path: str) -> str:
    return f"{manifest.name}/{rel_path}"


def write_lock_entry(manifest: Manifest, entry: FileEntry, sha256: str, size: int, *, source: str) -> None:
    """Lock one file's sha256; `source` says where it came from (e.g. "hf:owner/name@<commit>")."""
    lock = read_lock()
    lock["files"][lock_key(manifest, entry.path)] = {
        "sha256": sha256,
        "size": size,
        "md5": entry.md5,
        "locked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
    }
    lock["files"] = dict(sorted(lock["files"].items()))
    atomic_write_json(lock_path(), lock)


def expected_checksum(manifest: Manifest, entry: FileEntry, lock: dict) -> tuple[str | None, str]:
    """(expected sha256, trust) for one file: the manifest's published value, else the lock's."""
    if entry.sha256:
        return entry.sha256, "bundled" if manifest.trust == "bundled" else "published"
    locked = lock["files"].get(lock_key(manifest, entry.path))
    if locked:
        return locked["sha256"], "tofu"
    return None, "tofu-pending"


def _verified_cache_path() -> Path:
    return cache_dir() / "verified.json"


def _stat_key(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def cached_sha256(path: Path) -> str | None:
    """sha256 of a file verified earlier whose size and mtime have not changed since."""
    cache_file = _verified_cache_path()
    if not cache_file.is_file():
        return None
    record = read_json(cache_file).get(str(path.resolve()))
    if record and {k: record[k] for k in ("size", "mtime_ns")} == _stat_key(path):
        return record["sha256"]
    return None


def remember_verified(paths_and_hashes: Iterable[tuple[Path, str]]) -> None:
    items = list(paths_and_hashes)
    if not items:
        return
    cache_file = _verified_cache_path()
    data = read_json(cache_file) if cache_file.is_file() else {}
    for path, sha in items:
        data[str(path.resolve())] = {**_stat_key(path), "sha256": sha}
    atomic_write_json(cache_file, data)
