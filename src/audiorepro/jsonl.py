"""JSON Lines and atomic file writes: the only place the pipeline touches its record files.

Appends are flushed and fsynced so a killed run loses at most the batch in flight; a torn last
line (a crash mid-write) is detected on read and dropped, never parsed as data. A last line that
is a complete JSON object but lacks its newline (a file edited by hand, or a write cut just before
the newline) is a valid record: a prefix of a JSON object is never itself a JSON object, so it
cannot be a torn write. A failed write (disk full, quota, read-only folder) raises WriteError
naming the file, and leaves the file as it was before. One process appends to a file at a time
(`sole_writer`): a second one stops with a message naming the first."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .errors import BusyError, InputError, WriteError


@contextmanager
def atomic_file(path: str | Path, mode: str = "wb", **open_kwargs: Any) -> Iterator[IO]:
    """Yield a file opened in a temporary name beside `path`; on success it is fsynced and renamed
    to `path`, so a reader never sees a half-written file. On failure the temporary file is removed
    and `path` is left as it was (an OSError becomes WriteError naming `path`)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise WriteError(path, e) from e
    try:
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise WriteError(path, e) from e
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same folder and an atomic rename."""
    with atomic_file(path, "w", encoding="utf-8") as f:
        f.write(text)


def atomic_copy(src: str | Path, dest: str | Path) -> None:
    """Copy a file so that `dest` appears only complete."""
    with Path(src).open("rb") as source, atomic_file(dest) as out:
        shutil.copyfileobj(source, out, 1 << 20)


@contextmanager
def atomic_directory(output_dir: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside `output_dir`; on success rename it to `output_dir`, so a
    reader never sees a half-written folder (converted weights, extracted archives). If another
    process finished the same folder first, its copy is kept and ours discarded."""
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}.", dir=output_dir.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; caches are shared
    try:
        yield tmp
        os.replace(tmp, output_dir)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not output_dir.is_dir() or not any(output_dir.iterdir()):
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def read_json(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(path, f"invalid JSON: {e}") from e


def iter_jsonl(path: str | Path, *, drop_torn_tail: bool = False) -> Iterator[dict]:
    """Yield one dict per line. A malformed line is an error, except a malformed last line
    without its newline when `drop_torn_tail` is set (the signature of a write cut short by a
    crash). A complete JSON object on the last line is yielded with or without its newline."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    with path.open("rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    for lineno, raw in enumerate(complete, start=1):
        if raw.strip():
            yield _record(path, lineno, raw)
    if tail.strip():
        if drop_torn_tail:
            record = _complete_record(tail)
            if record is not None:
                yield record
            return
        yield _record(path, len(lines), tail)


_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def _record(path: Path, lineno: int, raw: bytes) -> dict:
    """One line as a record: a JSON object, or an error naming the file and the line (a hand
    edit can leave an array or a string there, which every reader would fail on with a traceback)."""
    try:
        record = json.loads(raw)
    except ValueError as e:  # JSONDecodeError, or UnicodeDecodeError for bytes that are not UTF-8
        raise InputError(path, f"line {lineno} is not valid JSON: {e}") from e
    if not isinstance(record, dict):
        kind = _JSON_KINDS.get(type(record), type(record).__name__)
        raise InputError(path, f"line {lineno} is a JSON {kind}, not an object (one record a line)")
    return record


def _complete_record(raw: bytes) -> dict | None:
    """The record on a line without its newline, or None when the line is a torn write (which
    may also end inside a multi-byte UTF-8 character: a UnicodeDecodeError, also a ValueError)."""
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def read_jsonl(path: str | Path, *, drop_torn_tail: bool = False) -> list[dict]:
    return list(iter_jsonl(path, drop_torn_tail=drop_torn_tail))


def check_unique_ids(
    path: str | Path, ids: Iterable[str | tuple[str, str]], what: str, advice: str = ""
) -> None:
    """Raise InputError naming `path`, the id and both record numbers when an id repeats: a
    repeated example, prediction or verdict would be counted twice, or one of two answers kept.
    An id may be (id, qualifier), unique as a pair (a verdict per item and judge protocol)."""
    seen: dict[str | tuple[str, str], int] = {}
    for number, key in enumerate(ids, start=1):
        if key in seen:
            label = repr(key) if isinstance(key, str) else f"{key[0]!r} ({key[1]})"
            raise InputError(path, f"duplicate {what} id {label} (records {seen[key]} and {number}){advice}")
        seen[key] = number


def repair_torn_tail(path: str | Path) -> int:
    """Before appending: cut a torn last line off `path` and return the bytes removed; a complete
    record that only lacks its newline gets the newline instead (and 0 is returned), so readers
    and the resumed writer agree on which records exist."""
    path = Path(path)
    if not path.exists():
        return 0
    try:
        with path.open("rb+") as f:
            data = f.read()
            if not data or data.endswith(b"\n"):
                return 0
            keep = data.rfind(b"\n") + 1
            if _complete_record(data[keep:]) is not None:
                f.write(b"\n")
                removed = 0
            else:
                f.truncate(keep)
                removed = len(data) - keep
            f.flush()
            os.fsync(f.fileno())
            return removed
    except OSError as e:
        raise WriteError(path, e) from e


def append_jsonl(path: str | Path, records: Iterable[dict]) -> None:
    """Append records as complete lines, then flush and fsync."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WriteError(path, e) from e
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if not payload:
        return
    data = payload.encode("utf-8")
    try:
        with path.open("ab") as f:
            before = f.tell()
            try:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            except OSError:
                # no half-written batch left behind: cut back to the last complete record
                f.truncate(before)
                raise
    except OSError as e:
        raise WriteError(path, e) from e


@contextmanager
def sole_writer(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on `.<name>.lock` beside `path` while this process appends to `path`. A second
    process (another terminal or job on the same run) gets BusyError naming the holder, instead of
    both appending the same items. The kernel drops the lock when its holder exits, however it
    exits (SIGKILL too), so a killed run leaves no stale lock; the text in the file only names the
    holder in the message. flock, not a pid file: it needs no clean-up and no liveness guess."""
    path = Path(path)
    lock_path = path.with_name(f".{path.name}.lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise WriteError(lock_path, e) from e
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 1024, 0).decode("utf-8", "replace").strip() or "another process"
            raise BusyError(path, holder) from None
        command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:200] if sys.argv else "python"
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} (`{command}`, since {since})".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_jsonl(path: str | Path, records: Iterable[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
