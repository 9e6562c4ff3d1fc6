"""`audiorepro fetch`: fetch NAME..., --all, or print --status of every manifest."""

from __future__ import annotations

import argparse
import sys

from ..errors import AudioreproError
from ..manifests import list_manifests
from .core import fetch
from .sources.manual import ManualStepNeeded
from .status import file_table, status_table


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
    p.set_defaults(func=fetch_command)
    return p


def fetch_command(args) -> int:
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
