"""Verdict cache: every judge reply stored in SQLite under (endpoint, judge id, prompt sha256,
sampling): where the reply came from (the API base URL, or "local"/"builtin"), which model gave
it, the sha256 of the full rendered prompt, and the sampling settings. A reply from a local
OpenAI-compatible server that calls itself "gpt-4o-2024-11-20" is therefore never reused for the
real endpoint.

A rescore, a resumed run or a second model scored with the same judge never asks the judge
twice. The cache exports to and imports from a verdicts JSONL (one record per reply), so a
reviewer can rescore a shipped run with no API access at all."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from ..checksums import sha256_bytes
from ..errors import InputError, WriteError
from ..jsonl import iter_jsonl, write_jsonl


def messages_sha256(messages: list[dict]) -> str:
    """sha256 of the rendered chat messages (canonical JSON, so key order does not matter)."""
    canonical = json.dumps(messages, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return sha256_bytes(canonical.encode("utf-8"))


def sampling_key(sampling: dict) -> str:
    return json.dumps(sampling, sort_keys=True, separators=(",", ":"))


# Table `replies` (the endpoint is part of the key). The older table `verdicts`, keyed without
# the endpoint, may exist in old cache files; it is never read: its replies' origin is unknown.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS replies (
    endpoint TEXT NOT NULL,
    judge_id TEXT NOT NULL,
    prompt_sha256 TEXT NOT NULL,
    sampling TEXT NOT NULL,
    raw_reply TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (endpoint, judge_id, prompt_sha256, sampling)
)
"""

EXPORT_FIELDS = ("judge_id", "prompt_sha256", "sampling", "raw_reply")
# Verdict files written before the endpoint was recorded: their replies' origin is unknown, so
# they are stored under this endpoint, which no judge has (and judge_meta names it a deviation).
UNKNOWN_ENDPOINT = "unknown"


def normalise_endpoint(url: str) -> str:
    """The same endpoint spelled with or without a trailing slash is one cache key."""
    return url.strip().rstrip("/")


def record_endpoint(record: dict) -> str:
    """The endpoint a verdict record's reply came from ("unknown" for older files)."""
    endpoint = record.get("endpoint")
    return normalise_endpoint(endpoint) if isinstance(endpoint, str) and endpoint.strip() else UNKNOWN_ENDPOINT


class VerdictCache:
    """Thread-safe SQLite store of raw judge replies (the verdict is re-derived on read, so a
    parser fix never needs a new API call)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._db.execute(_SCHEMA)
        self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> VerdictCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, judge_id: str, prompt_sha256: str, sampling: dict, *, endpoint: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT raw_reply FROM replies WHERE endpoint=? AND judge_id=? AND prompt_sha256=? AND sampling=?",
                (normalise_endpoint(endpoint), judge_id, prompt_sha256, sampling_key(sampling)),
            ).fetchone()
        return None if row is None else row[0]

    def put(self, judge_id: str, prompt_sha256: str, sampling: dict, raw_reply: str, *, endpoint: str) -> None:
        with self._lock:
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO replies (endpoint, judge_id, prompt_sha256, sampling, raw_reply) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (normalise_endpoint(endpoint), judge_id, prompt_sha256, sampling_key(sampling), raw_reply),
                )
                self._db.commit()
            except sqlite3.OperationalError as e:  # "database or disk is full", a read-only folder
                self._db.rollback()
                raise WriteError(self.path, e) from e

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM replies").fetchone()[0]

    def export_jsonl(self, path: str | Path) -> int:
        """Write every cached reply as one JSON line (atomic); returns the count."""
        with self._lock:
            rows = self._db.execute(
                "SELECT endpoint, judge_id, prompt_sha256, sampling, raw_reply FROM replies "
                "ORDER BY endpoint, judge_id, prompt_sha256, sampling"
            ).fetchall()
        records = [
            {"endpoint": e, "judge_id": j, "prompt_sha256": h, "sampling": json.loads(s), "raw_reply": r}
            for e, j, h, s, r in rows
        ]
        write_jsonl(path, records)
        return len(records)

    def import_jsonl(self, path: str | Path) -> int:
        """Load replies from a cache export or a verdicts.jsonl (both carry endpoint, judge_id,
        prompt_sha256, sampling and raw_reply; a record without `endpoint` is stored under
        "unknown"); returns the number of records read."""
        count = 0
        for record in iter_jsonl(path):
            self.put_record(record, source=path)
            count += 1
        return count

    def put_record(self, record: dict, *, source: str | Path = "<verdicts>") -> None:
        missing = [k for k in EXPORT_FIELDS if k not in record]
        if missing:
            raise InputError(source, f"verdict record {record.get('id', '?')!r} lacks field(s) {missing}")
        if not isinstance(record["sampling"], dict) or not isinstance(record["raw_reply"], str):
            raise InputError(
                source, f"verdict record {record.get('id', '?')!r}: bad 'sampling' or 'raw_reply'"
            )
        self.put(
            record["judge_id"],
            record["prompt_sha256"],
            record["sampling"],
            record["raw_reply"],
            endpoint=record_endpoint(record),
        )

    def put_many(self, records: Iterable[dict]) -> None:
        for record in records:
            self.put_record(record)
