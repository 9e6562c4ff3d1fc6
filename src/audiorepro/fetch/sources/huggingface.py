"""Hugging Face Hub files at a pinned revision (token from HF_TOKEN). A short or branch revision
is resolved to the full commit, which the lock then records as the one actually downloaded."""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import AudioreproError
from ...manifests import FileEntry, Manifest
from .url import download_entry, fetch_each

_RESOLVED_REVISIONS: dict[tuple[str | None, str | None], str] = {}


def _full_revision(repo: str, revision: str | None, repo_type: str) -> str | None:
    """The full commit id of a pinned revision. The Hub wants a branch, a tag or a full 40-hex
    commit; model pages show 7-hex prefixes, so a short commit is expanded from the history, and a
    branch is resolved so the lock records the commit actually downloaded."""
    if revision is None or len(revision) == 40:
        return revision
    if (repo, revision) in _RESOLVED_REVISIONS:
        return _RESOLVED_REVISIONS[(repo, revision)]
    from huggingface_hub import HfApi  # lazy: slow to import, needed only when downloading

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


def _download(manifest: Manifest, entry: FileEntry, root: Path, lock: dict) -> None:
    from huggingface_hub import hf_hub_download  # lazy, as in _full_revision

    s, dest = manifest.source, root / entry.path
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


def resolved_revision(repo: str | None, revision: str | None) -> str | None:
    """The full commit a revision was resolved to in this process, else the revision as pinned."""
    return _RESOLVED_REVISIONS.get((repo, revision), revision)


def _fetch_one(manifest: Manifest, entry: FileEntry, root: Path, lock: dict) -> None:
    # a file with its own url (e.g. a mirror) is downloaded directly
    (download_entry if entry.url else _download)(manifest, entry, root, lock)


def fetch_missing(manifest: Manifest, missing: list[FileEntry], root: Path, lock: dict) -> None:
    fetch_each(manifest, missing, root, lock, _fetch_one)
