"""`fetch --status`: one row per manifest (or per file of named manifests), and how to get a
mismatching file back."""

from __future__ import annotations

from ..errors import BUNDLED_ADVICE, REFETCH_ADVICE, InputError
from ..manifests import Manifest, list_manifests, load_manifest
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
    return "\n".join(_columns(rows)), mismatches


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]

