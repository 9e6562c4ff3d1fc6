"""Unpacking downloaded archives safely: nothing may land outside the manifest's root, and an
interrupted extraction leaves no partial tree."""

from __future__ import annotations

import os
import posixpath
import shutil
import tarfile
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from ..errors import InputError


def _safe_member_path(dest: Path, name: str, archive: Path) -> Path:
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
        raise InputError(
            archive, f"archive member {name!r} would be written outside {dest}; refusing to extract"
        )
    target = (dest / pure).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise InputError(
            archive, f"archive member {name!r} would be written outside {dest}; refusing to extract"
        )
    return target


def extract_archive(archive: Path, dest: Path) -> None:
    """Unpack a .tar(.gz/.bz2/.xz) or .zip into `dest`, refusing absolute paths, `..`, links that
    leave `dest` and device files. Unpacks into a temporary folder inside `dest` first and moves
    the result into place, so an interrupted extraction leaves no partial tree; a stamp file
    records that the archive was unpacked."""
    dest.mkdir(parents=True, exist_ok=True)
    stamp = dest / f".{archive.name}.extracted"
    if stamp.exists():
        return
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    _safe_member_path(tmp, info.filename, archive)
                zf.extractall(tmp)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                for member in tf.getmembers():
                    _safe_member_path(tmp, member.name, archive)
                    if member.issym() or member.islnk():
                        # a symlink's target is relative to its folder, a hard link's to the archive root
                        base = posixpath.dirname(member.name) if member.issym() else ""
                        _safe_member_path(
                            tmp, posixpath.normpath(posixpath.join(base, member.linkname)), archive
                        )
                    if member.isdev():
                        raise InputError(
                            archive, f"archive member {member.name!r} is a device file; refusing to extract"
                        )
                # The 'data' filter (PEP 706) is a second guard: no absolute paths, links or modes outside dest.
                tf.extractall(tmp, filter="data")
        else:
            raise InputError(archive, "not a tar or zip archive")
        for child in tmp.iterdir():
            target = dest / child.name
            if target.exists():
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                else:
                    target.unlink()
            os.replace(child, target)
        stamp.write_text(datetime.now(UTC).isoformat(timespec="seconds") + "\n", encoding="utf-8")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
