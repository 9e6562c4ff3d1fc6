"""Verdict cache: every judge reply stored in SQLite under (judge id, prompt sha256, sampling).

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
from ..errors import InputError
from ..jsonl import iter_jsonl, write_jsonl


def messages_sha256(messages: list[dict]) -> str:
    """sha256 of the rendered chat messages (canonical JSON, so key order does not matter)."""
    canonical = json.dumps(messages, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return sha256_bytes(canonical.encode("utf-8"))


def sampling_key(sampling: dict) -> str:
    return json.dumps(sampling, sort_keys=True, separators=(",", ":"))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    judge_id TEXT NOT NULL,
    prompt_sha256 TEXT NOT NULL,
    sampling TEXT NOT NULL,
    raw_reply TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (judge_id, prompt_sha256, sampling)
)
"""

EXPORT_FIELDS = ("judge_id", "prompt_sha256", "sampling", "raw_reply")


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

    def get(self, judge_id: str, prompt_sha256: str, sampling: dict) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT raw_reply FROM verdicts WHERE judge_id=? AND prompt_sha256=? AND sampling=?",
                (judge_id, prompt_sha256, sampling_key(sampling)),
            ).fetchone()
        return None if row is None else row[0]

    def put(self, judge_id: str, prompt_sha256: str, sampling: dict, raw_reply: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO verdicts (judge_id, prompt_sha256, sampling, raw_reply) VALUES (?, ?, ?, ?)",
                (judge_id, prompt_sha256, sampling_key(sampling), raw_reply),
            )
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]

    def export_jsonl(self, path: str | Path) -> int:
        """Write every cached reply as one JSON line (atomic); returns the count."""
        with self._lock:
            rows = self._db.execute(
                "SELECT judge_id, prompt_sha256, sampling, raw_reply FROM verdicts "
                "ORDER BY judge_id, prompt_sha256, sampling"
            ).fetchall()
        records = [
            {"judge_id": j, "prompt_sha256": h, "sampling": json.loads(s), "raw_reply": r}
            for j, h, s, r in rows
        ]
        write_jsonl(path, records)
        return len(records)

    def import_jsonl(self, path: str | Path) -> int:
        """Load replies from a cache export or a verdicts.jsonl (both carry judge_id,
        prompt_sha256, sampling and raw_reply); returns the number of records read."""
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
        self.put(record["judge_id"], record["prompt_sha256"], record["sampling"], record["raw_reply"])

    def put_many(self, records: Iterable[dict]) -> None:
        for record in records:
            self.put_record(record)
