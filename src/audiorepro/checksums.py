"""sha256 of files, and the one hashing and verification routine every stage uses (fetch,
pinned checkpoints, bundled demo data). Some sources publish only md5, so the same pass can
compute both; files above 64 MiB show a progress bar because hashing a checkpoint takes a while."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import REFETCH_ADVICE, ChecksumMismatch, InputError

_CHUNK = 1 << 20
_PROGRESS_MIN_BYTES = 64 << 20  # show a progress bar when hashing files above this size


def hash_file(path: str | Path, *, md5: bool = False) -> tuple[str, str | None]:
    """(sha256, md5 or None) in one pass, with a progress bar for big files."""
    from tqdm import tqdm  # only needed here; keeps `import audiorepro.checksums` light

    path = Path(path)
    sha, m5 = hashlib.sha256(), hashlib.md5() if md5 else None
    size = path.stat().st_size
    with (
        path.open("rb") as f,
        tqdm(
            total=size,
            unit="B",
            unit_scale=True,
            desc=f"sha256 {path.name}",
            disable=size < _PROGRESS_MIN_BYTES,
        ) as bar,
    ):
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
            if m5 is not None:
                m5.update(chunk)
            bar.update(len(chunk))
    return sha.hexdigest(), (m5.hexdigest() if m5 is not None else None)


def sha256_file(path: str | Path) -> str:
    return hash_file(path)[0]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_file(
    path: str | Path,
    sha256: str | None,
    size: int | None = None,
    *,
    md5: str | None = None,
    name: str | Path | None = None,
    advice: str = REFETCH_ADVICE,
) -> str:
    """Check size (cheap, catches truncation), then sha256 and md5. Returns the actual sha256.
    Raises InputError when the file is missing and ChecksumMismatch (ending with `advice`: how
    to get the right file back) when it differs. Errors name `name` when given (the final file
    name while checking a download's `.part` file)."""
    path = Path(path)
    shown = name if name is not None else path
    if not path.is_file():
        raise InputError(shown, "file not found")
    if size is not None:
        actual_size = path.stat().st_size
        if actual_size != size:
            raise ChecksumMismatch(shown, f"{size} bytes", f"{actual_size} bytes", what="size", advice=advice)
    actual, actual_md5 = hash_file(path, md5=md5 is not None)
    if sha256 is not None and actual != sha256.lower():
        raise ChecksumMismatch(shown, sha256.lower(), actual, advice=advice)
    if md5 is not None and actual_md5 != md5.lower():
        raise ChecksumMismatch(shown, md5.lower(), actual_md5, what="md5", advice=advice)
    return actual
