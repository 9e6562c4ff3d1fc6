"""sha256 of files, and the one verification routine every stage uses."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import REFETCH_ADVICE, ChecksumMismatch, InputError

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_file(path: str | Path, sha256: str | None, size: int | None = None, *, advice: str = REFETCH_ADVICE) -> str:
    """Check size (cheap, catches truncation) then sha256. Returns the actual sha256.
    Raises InputError when the file is missing and ChecksumMismatch (ending with `advice`: how
    to get the right file back) when it differs."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    if size is not None:
        actual_size = path.stat().st_size
        if actual_size != size:
            raise ChecksumMismatch(path, f"{size} bytes", f"{actual_size} bytes", what="size", advice=advice)
    actual = sha256_file(path)
    if sha256 is not None and actual != sha256.lower():
        raise ChecksumMismatch(path, sha256.lower(), actual, advice=advice)
    return actual
