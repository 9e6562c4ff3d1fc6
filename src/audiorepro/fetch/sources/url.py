"""Plain URLs: resumable downloads (HTTP Range into a `.part` file) that reach their final name
only once verified. Also the loop every source uses to download its entries that carry a `url`
(an optional file that fails is reported and skipped)."""

from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ...checksums import verify_file
from ...errors import AudioreproError, ChecksumMismatch, InputError
from ...jsonl import sole_writer
from ...manifests import FileEntry, Manifest
from ..lock import expected_checksum

_CHUNK = 1 << 20


def download_url(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    size: int | None = None,
    md5: str | None = None,
    retries: int = 3,
    timeout: float = 60.0,
) -> str:
    """Download `url` to `dest` through `dest.part`, resuming with HTTP Range after a dropped
    connection (here or in an earlier run). The file reaches `dest` only once verified; a
    mismatch deletes the .part and raises ChecksumMismatch. Returns the sha256.

    With no sha256, size or md5 to check against (a trust-on-first-use file), the download only
    counts as complete when the server said how long the file is and that many bytes arrived;
    otherwise it fails and keeps the .part, rather than lock a cut file as the trusted one."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    # one download per file: a second fetch of it (another terminal or job) would append to the
    # same .part, fail the checksum and delete the first one's progress
    with sole_writer(part):
        return _download_into(url, dest, part, sha256=sha256, size=size, md5=md5, retries=retries, timeout=timeout)


def _download_into(
    url: str, dest: Path, part: Path, *, sha256: str | None, size: int | None, md5: str | None, retries: int, timeout: float
) -> str:
    from tqdm import tqdm  # lazy: about 50 ms (a sixth of the CLI start-up), needed only when downloading

    server_total: int | None = None  # the file's length as the server reported it
    for attempt in range(retries + 1):
        have = part.stat().st_size if part.exists() else 0
        if size is not None and have >= size:
            break
        request = urllib.request.Request(url, headers={"User-Agent": "audiorepro-fetch"})
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if have and response.status != 206:  # server ignored Range: start over
                    have = 0
                length = response.headers.get("Content-Length")
                server_total = _reported_total(response.headers, have)
                total = server_total if server_total is not None else size
                with (
                    part.open("ab" if have else "wb") as out,
                    tqdm(
                        total=total, initial=have, unit="B", unit_scale=True, desc=dest.name, disable=None
                    ) as bar,
                ):
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        bar.update(len(chunk))
                if length is not None and part.stat().st_size < total:
                    raise ConnectionError(f"connection closed after {part.stat().st_size} of {total} bytes")
            break
        except urllib.error.HTTPError as e:
            if e.code == 416 and have:  # range beyond the end: the .part is already complete
                server_total = _reported_total(e.headers, have)
                break
            raise AudioreproError(f"{url}: HTTP {e.code} {e.reason} (while fetching {dest.name})") from e
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
            if attempt == retries:
                raise AudioreproError(
                    f"{url}: download interrupted ({e}); {part} kept, run fetch again to resume"
                ) from e
            time.sleep(min(2**attempt, 10) * 0.1)
    if sha256 is None and size is None and md5 is None:
        got = part.stat().st_size
        if server_total is None or got != server_total:
            said = "did not say how long the file is (no Content-Length)" if server_total is None else (
                f"announced {server_total} bytes"
            )
            raise AudioreproError(
                f"{dest}: not trusted: the server {said}, {got} bytes arrived, and the manifest gives no sha256 "
                f"or size to check them against, so a cut download cannot be told from a complete one. "
                f"{part.name} kept for resuming; add the file's size or sha256 to the manifest and fetch again"
            )
    try:
        actual = verify_file(part, sha256, size, md5=md5, name=dest)
    except ChecksumMismatch:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, dest)
    return actual


def _reported_total(headers, have: int) -> int | None:
    """The whole file's length from a response's headers: Content-Range's total (206, 416), else
    what is already here plus Content-Length; None when the server does not say."""
    content_range = headers.get("Content-Range") if headers is not None else None
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1].strip()
        if total.isdigit():
            return int(total)
    length = headers.get("Content-Length") if headers is not None else None
    if length is not None and length.strip().isdigit():
        return have + int(length)
    return None


def download_entry(manifest: Manifest, entry: FileEntry, root: Path, lock: dict) -> None:
    expected, _ = expected_checksum(manifest, entry, lock)
    download_url(entry.url, root / entry.path, sha256=expected, size=entry.size, md5=entry.md5)


def fetch_each(
    manifest: Manifest,
    entries: list[FileEntry],
    root: Path,
    lock: dict,
    fetch_one: Callable[[Manifest, FileEntry, Path, dict], None] = download_entry,
) -> None:
    """Fetch entries one by one; an optional file that cannot be fetched is reported and skipped."""
    for entry in entries:
        try:
            fetch_one(manifest, entry, root, lock)
        except AudioreproError as e:
            if not entry.optional:
                raise
            print(f"{manifest.name}: optional file {entry.path} not fetched ({e})", file=sys.stderr)


def _download_listed_url(manifest: Manifest, entry: FileEntry, root: Path, lock: dict) -> None:
    if not entry.url:
        raise InputError(manifest.path_on_disk, f"file {entry.path!r} has no url to download from")
    download_entry(manifest, entry, root, lock)


def fetch_missing(manifest: Manifest, missing: list[FileEntry], root: Path, lock: dict) -> None:
    fetch_each(manifest, missing, root, lock, _download_listed_url)
