"""Report stage: reports/<suite>/index.html (self-contained) and report.md from compare.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..compare.schema import SCHEMA
from ..errors import InputError
from ..jsonl import read_json
from ..paths import reports_dir
from .markdown import write_markdown


def render_report(
    compare_json: dict | list[dict], out_dir: Path, title: str = "audiorepro reproduction report"
) -> Path:
    """Write index.html and report.md for one compare.json document (or several, one section
    each) into `out_dir`; returns the path of index.html."""
    # html imports matplotlib, which would about double the CLI start-up that every other command pays
    from .html import write_html

    docs = compare_json if isinstance(compare_json, list) else [compare_json]
    out_dir = Path(out_dir)
    write_markdown(docs, out_dir, title)
    return write_html(docs, out_dir, title)


def render_suite_report(
    suite: str, compare_path: Path | None = None, out_dir: Path | None = None, title: str | None = None
) -> Path:
    """Render reports/<suite>/compare.json into index.html and report.md next to it."""
    default_path = reports_dir() / suite / "compare.json"
    compare_path = Path(compare_path) if compare_path else default_path
    if not compare_path.exists():
        raise InputError(compare_path, f"not found; run `audiorepro compare --suite {suite}` first")
    doc = read_json(compare_path)
    found = doc.get("schema") if isinstance(doc, dict) else None
    if found != SCHEMA:
        # Compare recomputes every verdict from the kept scores.json files, so rebuilding is cheap.
        if compare_path.resolve() == default_path.resolve():
            rebuild = f"`make compare SUITE={suite}`"
        else:
            rebuild = f"`audiorepro compare --suite {suite} --out {compare_path}` (and the --results it was built from)"
        raise InputError(
            compare_path,
            f"compare.json of schema {found or 'unknown (no schema key)'}, this report reads {SCHEMA}; "
            f"rebuild it with {rebuild}",
        )
    title = title or f"audiorepro: {doc.get('title', suite)}"
    return render_report(doc, Path(out_dir) if out_dir else compare_path.parent, title=title)


def add_report_arguments(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "report", help="render reports/<suite>/index.html and report.md from compare.json"
    )
    p.add_argument("--suite", required=True)
    p.add_argument(
        "--compare", default=None, help="compare.json to render (default: reports/<suite>/compare.json)"
    )
    p.add_argument("--out", default=None, help="output folder (default: the compare.json's folder)")
    p.add_argument("--title", default=None)
    p.set_defaults(func=report_command)
    return p


def report_command(args: argparse.Namespace) -> int:
    print(render_suite_report(args.suite, args.compare, args.out, args.title))
    return 0
