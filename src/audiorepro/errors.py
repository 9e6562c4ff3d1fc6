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


REFETCH_ADVICE = "The file is corrupt, truncated or tampered with; delete it and fetch again."
BUNDLED_ADVICE = (
    "The bundled file was modified (it ships with the repository, fetch cannot replace it); "
    "restore it with `git checkout -- <file>`."
)


class ChecksumMismatch(AudioreproError):
    """A file's sha256 (or size) differs from its manifest: the run stops. `advice` says how to
    get the right file back (a download can be repeated, a bundled file must be restored)."""

    def __init__(
        self, path: str | Path, expected: str, actual: str, what: str = "sha256", advice: str = REFETCH_ADVICE
    ):
        self.path, self.expected, self.actual = Path(path), expected, actual
        super().__init__(f"{path}: {what} mismatch (expected {expected}, got {actual}). {advice}")


class WriteError(AudioreproError):
    """An output file could not be written (disk full, quota, read-only folder): names the file,
    so the user knows which disk to free, instead of a traceback with the path in a stack frame."""

    def __init__(self, path: str | Path, error: Exception):
        import errno

        self.path, self.error = Path(path), error
        number = getattr(error, "errno", None)
        code = errno.errorcode.get(number, "") if isinstance(number, int) else ""
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        super().__init__(f"{path}: cannot write: {reason}{f' [{code}]' if code else ''}; the file is left as it was")


class BusyError(AudioreproError):
    """Another process is writing the same output file (a second terminal or job on the same run):
    names the file and the process, so the user waits or stops one rather than merging two."""

    def __init__(self, path: str | Path, holder: str):
        self.path, self.holder = Path(path), holder
        super().__init__(
            f"{path}: {holder} is writing this file now; wait for it to finish or stop it, then rerun "
            "(two writers would record the same items twice)"
        )


class NotComputable(AudioreproError):
    """A value cannot be computed here (for example SPICE without the CoreNLP 3.6.0 jars)."""
