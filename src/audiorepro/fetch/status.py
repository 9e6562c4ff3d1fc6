"""`fetch --status`: one row per manifest (or per file of named manifests, with what uses them),
and how to get a mismatching file back.

Which tasks read a dataset is not stored in its manifest: a task names its dataset (`dataset:`),
so the users are derived from the task files here, and a new task never edits a manifest."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BUNDLED_ADVICE, REFETCH_ADVICE, InputError
from ..manifests import Manifest, list_manifests, load_manifest
from ..prepare import dataset_for
from ..tasks import list_tasks
from .lock import lock_key, lock_path
from .verify import STATES, FileStatus, files_root, verify


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
            f"{lock_key(manifest, status.path)!r} from {lock_path().name} and fetch again."
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
    used = [
        f"{m.name} is used by {dataset_users(m.name)}"
        for m in map(load_manifest, names)
        if m.kind == "dataset"
    ]
    return "\n".join(_columns(rows) + ([""] + used if used else [])), mismatches


@dataclass(frozen=True)
class DatasetUsers:
    tasks: tuple[str, ...]  # tasks that read the manifest
    subset: str | None  # set when they read it as their dataset's `--subset` copy
    derived: tuple[str, ...]  # manifests derived from it

    def __str__(self) -> str:
        parts = []
        if self.tasks:
            parts.append(f"tasks {', '.join(self.tasks)}" + (f" (with --subset {self.subset})" if self.subset else ""))
        if self.derived:
            parts.append(f"derived datasets {', '.join(self.derived)}")
        return "; ".join(parts) or "nothing (no task names it)"


def dataset_users(name: str) -> DatasetUsers:
    """What reads the dataset manifest `name`, derived from the task files and the other manifests:
    tasks naming it as their dataset; when none does, the tasks that read it as their dataset's
    `--subset` copy (`<dataset>-<subset>`, the longest such dataset: sakura-text-fixture is the
    fixture of sakura-text, not a subset of sakura); and the manifests derived from it."""
    tasks = list_tasks()
    readers, subset = [t for t in tasks if t.dataset == name], None
    parents = {t.dataset for t in tasks if name.startswith(f"{t.dataset}-")}
    if not readers and parents:
        parent = max(parents, key=len)
        subset = name[len(parent) + 1 :]
        readers = [t for t in tasks if t.dataset == parent and dataset_for(t, subset) == name]
    derived = [m.name for m in list_manifests("dataset") if name in m.source.derived_from]
    return DatasetUsers(tuple(sorted(t.name for t in readers)), subset, tuple(sorted(derived)))


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]

