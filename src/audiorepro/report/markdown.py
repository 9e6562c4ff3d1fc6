"""report.md: the verdict tables of the HTML report in Markdown (for PRs, issues and terminals)."""

from __future__ import annotations

from pathlib import Path

from ..jsonl import atomic_write_text
from ..layout import rerun_command
from .format import fmt_ci, fmt_value, headline


def _escape(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _paper(c: dict) -> str:
    if not c["paper_sources"]:
        return "–"
    return " / ".join(
        f"{fmt_value(s['value'], c['scale'])} ({', '.join(s['source'])}{'; ' + s['note'] if s.get('note') else ''})"
        for s in c["paper_sources"]
    )


def _reason(c: dict) -> str:
    notes = c["ours"].get("notes")
    return f"{c['reason']} (note: {notes})" if notes else c["reason"]


def render_markdown(docs: list[dict], title: str) -> str:
    lines = [f"# {title}", ""]
    for doc in docs:
        lines += [
            f"## {doc['title']}",
            "",
            f"{doc['paper']}",
            "",
            *([f"> {_escape(doc['notes'])}", ""] if doc.get("notes") else []),
            f"Results: {doc['results']['label']} "
            f"(`{doc['results']['source']}`). **{headline(doc['summary'])}.**",
            "",
        ]
        for comp in doc["comparisons"]:
            lines += [f"### {comp['model']} vs {comp['row_label']}", ""]
            if comp["caveat"]:
                lines += [f"> Caveat: {_escape(comp['caveat'])}", ""]
            lines += [line for w in comp["warnings"] for line in (f"> Check: {_escape(w)}", "")]
            ag = comp["agreement"]
            if ag["ccc"] is not None:
                ba = ag["bland_altman"]
                lines += [
                    f"Lin's CCC **{ag['ccc']:.4f}** (unrounded {ag['ccc']:.5f}, n = {ag['n']}); Bland-Altman bias "
                    f"{ba['bias']:+.2f}, limits [{ba['lower']:.2f}, {ba['upper']:.2f}].",
                    "",
                ]
                if ag["note"]:
                    lines += [f"> Note: {_escape(ag['note'])}", ""]
            lines += [
                "| cell | ours | 95% CI | paper | Δ | tol | verdict | reason |",
                "|---|---:|---|---|---:|---:|---|---|",
            ]
            for c in comp["cells"]:
                delta = "–" if c["delta"] is None else f"{c['delta']:+.3g}"
                lines.append(
                    f"| {_escape(c['label'])} | {fmt_value(c['ours']['value'], c['scale'])} | {fmt_ci(c['ours'], c['scale'])} "
                    f"| {_escape(_paper(c))} | {delta} | ±{c['tolerance']:g} | **{c['verdict']}** | {_escape(_reason(c))} |"
                )
            lines.append("")
            if comp["deviations"]:
                lines += ["Deviations from the reference protocol:", ""]
                lines += [
                    f"- **{_escape(d['name'])}**: {_escape(d['value'])} (reference: {_escape(d['reference'])})"
                    + (f" [{', '.join(d['tasks'])}]" if d.get("tasks") else "")
                    for d in comp["deviations"]
                ]
                lines.append("")
            tasks = list(dict.fromkeys(c["task"] for c in comp["cells"] if c["task"]))
            if tasks:
                command = rerun_command(doc["suite"], tasks, comp["model"], comp["assumed_options"])
                lines += ["Rerun every cell of this row:", "", "```", command, "```", ""]
    return "\n".join(lines)


def write_markdown(docs: list[dict], out_dir: Path, title: str) -> Path:
    path = Path(out_dir) / "report.md"
    atomic_write_text(path, render_markdown(docs, title))
    return path
