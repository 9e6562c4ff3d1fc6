"""JSON Lines and atomic file writes: the only place the pipeline touches its record files.

Appends are flushed and fsynced so a killed run loses at most the batch in flight; a torn last
line (a crash mid-write) is detected on read and dropped, never parsed as data."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import InputError


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` to `path` via a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    """Yield one dict per line. A malformed line is an error, except a last line without its
    newline when `drop_torn_tail` is set (the signature of a write cut short by a crash)."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "file not found")
    with path.open("rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    for lineno, raw in enumerate(complete, start=1):
        if not raw.strip():
            continue
        try:
            yield json.loads(raw)
        except json.JSONDecodeError as e:
            raise InputError(path, f"line {lineno} is not valid JSON: {e}") from e
    if tail.strip():
        try:
            record = json.loads(tail)
        except json.JSONDecodeError as e:
            if drop_torn_tail:
                return
            raise InputError(path, f"line {len(lines)} is not valid JSON: {e}") from e
        if drop_torn_tail:
            return  # complete JSON but no newline: still unconfirmed by fsync of a full line
        yield record


def read_jsonl(path: str | Path, *, drop_torn_tail: bool = False) -> list[dict]:
    return list(iter_jsonl(path, drop_torn_tail=drop_torn_tail))


def repair_torn_tail(path: str | Path) -> int:
    """Cut a partial last line (no trailing newline) off `path`; return the bytes removed."""
    path = Path(path)
    if not path.exists():
        return 0
    with path.open("rb+") as f:
        data = f.read()
        if not data or data.endswith(b"\n"):
            return 0
        keep = data.rfind(b"\n") + 1
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())
        return len(data) - keep


def append_jsonl(path: str | Path, records: Iterable[dict]) -> None:
    """Append records as complete lines, then flush and fsync."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if not payload:
        return
    with path.open("a", encoding="utf-8") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())


def write_jsonl(path: str | Path, records: Iterable[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
