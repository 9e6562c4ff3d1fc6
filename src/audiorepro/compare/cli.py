"""The `compare` and `compare-prior` commands: argument parsing and what they print. The work is
in the other modules of this package; the report is rendered by `audiorepro.report`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..expected import load_expected, table_for_suite
from ..jsonl import atomic_write_json, read_json
from ..paths import expected_dir, reports_dir
from ..report import render_report
from .load import results_from_set
from .schema import VERDICTS, CompareDocument
from .suite import compare_suite
from .verdict import compare


def format_summary(doc: CompareDocument) -> str:
    s = doc["summary"]
    if not doc["comparisons"]:
        return f"{doc['table']}: no results to compare (looked in {doc['results']['source']})"
    parts = [f"{s[v]} {v}" for v in VERDICTS if s.get(v)]
    return f"{doc['table']}: {s['cells']} cells: " + ", ".join(parts)


def add_compare_arguments(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("compare", help="compare results with the paper's table (writes compare.json)")
    p.add_argument("--suite", required=True, help="table3, sakura or demo")
    p.add_argument("--results", default="runs", help="'runs' (default), a runs folder, or a results-set YAML")
    p.add_argument("--against", default=None, help="compare every model with this paper row id")
    p.add_argument("--table", default=None, help="expected table (default: the suite's, e.g. table3)")
    p.add_argument("--out", default=None, help="default: reports/<suite>/compare.json")
    p.set_defaults(func=compare_command)
    return p


def compare_command(args: argparse.Namespace) -> int:
    out = compare_suite(
        args.suite, results=args.results, against=args.against, table=args.table, out=args.out
    )
    doc = read_json(out)
    print(format_summary(doc))
    for comp in doc["comparisons"]:
        ccc = comp["agreement"]["ccc"]
        ccc_text = "n/a" if ccc is None else f"{ccc:.4f}"
        print(f"  {comp['model']} vs {comp['row_label']}: CCC {ccc_text} over {comp['agreement']['n']} cells")
    print(out)
    return 0


# --------------------------------------------------------------------------- prior reproduction


def prior_dir() -> Path:
    return expected_dir() / "prior_reproduction"


def _fmt(v: float | None, digits: int = 2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def compare_prior(out_dir: Path | None = None) -> int:
    """Compare the 2025 student reproduction with the papers; print the SAKURA CCCs and the Table 3
    verdicts, and write reports/prior/ (compare JSON files and index.html)."""
    out_dir = Path(out_dir) if out_dir else reports_dir() / "prior"
    docs = []
    for suite in ("sakura", "table3"):
        table = load_expected(table_for_suite(suite))
        results = results_from_set(prior_dir() / f"{table.table}.yaml", table)
        doc = compare(suite, results, table)
        atomic_write_json(out_dir / f"{suite}.compare.json", doc)
        docs.append(doc)

    sakura, table3 = docs
    print("SAKURA: prior 2025 reproduction vs the paper leaderboard")
    print("Lin's CCC over all 10 values (8 tracks + 2 averages), population variance")
    for comp in sakura["comparisons"]:
        ag = comp["agreement"]
        print(
            f"  {comp['model']:<16} vs {comp['row_label']:<28} CCC {ag['ccc']:.4f}  "
            f"(unrounded {ag['ccc']:.5f}, n={ag['n']}, printed {_fmt(ag['printed_ccc'], 4)})"
        )
        if comp["caveat"]:
            print(f"      caveat: {' '.join(comp['caveat'].split())}")
        if ag["note"]:
            print(f"      note: {ag['note']}")

    print()
    print("SALMONN Table 3: prior 2025 reproduction (SALMONN-13B) vs the paper")
    for comp in table3["comparisons"]:
        print(f"  {comp['model']} vs {comp['row_label']}")
        print(f"  {'cell':<34} {'paper':>12} {'prior':>8} {'delta':>8} {'tol':>6}  verdict")
        for c in comp["cells"]:
            digits = 2 if c["scale"] in ("fraction", "count") else 1
            paper = " / ".join(_fmt(s["value"], digits) for s in c["paper_sources"]) or "-"
            ours = c["ours"]["value"]
            print(
                f"  {c['label']:<34} {paper:>12} {_fmt(ours):>8} {_fmt(c['delta']):>8} {c['tolerance']:>6g}  "
                f"{c['verdict']}"
                + (
                    "  ["
                    + ", ".join(f"{'/'.join(p['source'])}: {p['verdict']}" for p in c["per_source"])
                    + "]"
                    if c["per_source"]
                    else ""
                )
            )
        ag = comp["agreement"]
        if ag["ccc"] is not None:
            ba = ag["bland_altman"]
            print(
                f"  CCC {ag['ccc']:.4f} over {ag['n']} cells (fractions x100); Bland-Altman bias {ba['bias']:+.2f}, "
                f"limits [{ba['lower']:.2f}, {ba['upper']:.2f}]"
            )
        print("  " + format_summary(table3))

    index = render_report(docs, out_dir, title="Prior reproduction (2025) vs the papers")
    print()
    print(index)
    return 0


def add_compare_prior_arguments(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "compare-prior", help="compare the 2025 student reproduction with the papers (SAKURA CCCs, Table 3)"
    )
    p.add_argument("--out", default=None, help="report folder (default: reports/prior)")
    p.set_defaults(func=compare_prior_command)
    return p


def compare_prior_command(args: argparse.Namespace) -> int:
    return compare_prior(Path(args.out) if args.out else None)
