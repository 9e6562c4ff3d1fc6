"""Gated or manually placed data: the files a manifest lists with a `url` (e.g. a caption table)
are downloaded; for the rest, say where to get them and where to put them, then verify what the
user placed."""

from __future__ import annotations

from pathlib import Path

from ...errors import AudioreproError
from ...manifests import FileEntry, Manifest
from .url import fetch_each


class ManualStepNeeded(AudioreproError):
    """Gated or manually placed data is not (completely) where the manifest expects it."""


def manual_instructions(manifest: Manifest) -> str:
    s = manifest.source
    lines = [f"{manifest.name}: {manifest.description.strip()}"]
    if s.registration_url:
        lines.append(f"  Register / request access at: {s.registration_url}")
    if s.instructions:
        lines.append("  " + s.instructions.strip().replace("\n", "\n  "))
    lines.append(f"  Place the files under: {manifest.root()}")
    lines.append(
        "  (or set AUDIOREPRO_CACHE to the folder that holds <kind>s/<name>/), then run fetch again to verify."
    )
    return "\n".join(lines)


def fetch_missing(manifest: Manifest, missing: list[FileEntry], root: Path, lock: dict) -> None:
    fetch_each(manifest, [e for e in missing if e.url], root, lock)
    required = [e for e in missing if not e.optional and not (root / e.path).is_file()]
    if required:
        raise ManualStepNeeded(
            manual_instructions(manifest)
            + f"\n  Missing {len(required)} file(s), e.g. {', '.join(e.path for e in required[:3])}"
        )
