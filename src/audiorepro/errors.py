"""Errors a user sees. Each names the file (or item) and the problem, so a run stops with a message
that says what to fix rather than a traceback from deep inside a library."""

from __future__ import annotations

from pathlib import Path


class AudioreproError(Exception):
    """Base class: the CLI prints these without a traceback and exits with status 2."""


class InputError(AudioreproError):
    """Bad user input: a missing or undecodable file, an invalid YAML or JSONL record."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path is not None else problem)


class ChecksumMismatch(AudioreproError):
    """A file's sha256 (or size) differs from its manifest: the run stops."""

    def __init__(self, path: str | Path, expected: str, actual: str, what: str = "sha256"):
        self.path, self.expected, self.actual = Path(path), expected, actual
        super().__init__(
            f"{path}: {what} mismatch (expected {expected}, got {actual}). "
            "The file is corrupt, truncated or tampered with; delete it and fetch again."
        )


class NotComputable(AudioreproError):
    """A value cannot be computed here (for example SPICE without the CoreNLP 3.6.0 jars)."""
