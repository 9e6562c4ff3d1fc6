"""The HTML report: one self-contained file (inline CSS, inline base64 PNG charts) built from one
or more compare.json documents."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from ..compare.schema import VERDICTS
from ..jsonl import atomic_write_text
from .format import fmt_ci, fmt_value, headline
from .plots import cells_chart, scatter_chart, unit_count

STYLE = (Path(__file__).parent / "style.css").read_text(encoding="utf-8")


def css_class(verdict: str) -> str:
    return verdict.replace(" ", "-")


def _chips(summary: dict) -> str:
    return "".join(
        f'<span class="chip {css_class(v)}">{summary[v]} {escape(v)}</span>'
        for v in VERDICTS
        if summary.get(v)
    )


def _paper_cell(c: dict) -> str:
    if not c["paper_sources"]:
        return '<span class="src">–</span>'
    out = []
    for s in c["paper_sources"]:
        who = f" · {escape(c['who'])}" if c.get("who") else ""
        out.append(
            f"{fmt_value(s['value'], c['scale'])} <span class='src'>{escape(', '.join(s['source']))}{who}</span>"
        )
    return "<br>".join(out)


def _verdict_cell(c: dict) -> str:
    html = f'<span class="v">{escape(c["verdict"])}</span>'
    if c["rule"]:
        html += f" <span class='src'>({escape(c['rule'])})</span>"
    if c["per_source"]:
        items = "".join(
            f"<div>{escape('/'.join(p['source']))}: <span class='v' style='background:"
            f"{'#1a7f37' if p['verdict'] == 'reproduced' else '#cf222e'}'>{escape(p['verdict'])}</span>"
            f" Δ {p['delta']:+.2f}</div>"
            for p in c["per_source"]
        )
        html += f"<div class='per-source'>{items}</div>"
    return html


def _cells_table(comp: dict) -> str:
    head = (
        "<tr><th>Cell</th><th>Ours</th><th>95% CI</th><th>Paper</th><th>Δ (ours − paper)</th>"
        "<th>Tolerance</th><th>Verdict</th><th>Reason</th></tr>"
    )
    rows, group = [], None
    for c in comp["cells"]:
        if c["group"] and c["group"] != group:
            group = c["group"]
            rows.append(f"<tr class='group'><td colspan='8'>{escape(group)}</td></tr>")
        delta = "–" if c["delta"] is None else f"{c['delta']:+.{3 if c['scale'] == 'fraction' else 2}f}"
        notes = f"<div class='src'>note: {escape(c['ours']['notes'])}</div>" if c["ours"].get("notes") else ""
        rerun = (
            f"<details class='rerun'><summary>rerun</summary><code>{escape(c['rerun'])}</code></details>"
            if c["rerun"]
            else ""
        )
        direction = "↓" if c["direction"] == "lower" else "↑"
        rows.append(
            f"<tr class='v-{css_class(c['verdict'])}'>"
            f"<td><b>{escape(c['label'])}</b><div class='src'>{escape(c['unit'])} {direction} · "
            f"{escape(c['cell'])}</div>{rerun}</td>"
            f"<td class='num'><b>{fmt_value(c['ours']['value'], c['scale'])}</b></td>"
            f"<td class='num'>{fmt_ci(c['ours'], c['scale'])}</td>"
            f"<td class='num'>{_paper_cell(c)}</td>"
            f"<td class='num'>{delta}</td>"
            f"<td class='num' title='{escape(c['tolerance_why'])}'>±{c['tolerance']:g}</td>"
            f"<td>{_verdict_cell(c)}</td>"
            f"<td class='reason'>{escape(c['reason'])}{notes}</td></tr>"
        )
    return f"<table>{head}{''.join(rows)}</table>"


def _agreement(ag: dict) -> str:
    if ag["ccc"] is None:
        return f"<div class='callout info'>Agreement: {escape(ag['note'])}</div>"
    ba = ag["bland_altman"]
    printed = (
        f"<div><b>{ag['printed_ccc']:.4f}</b><span>CCC printed by the source</span></div>"
        if ag.get("printed_ccc") is not None
        else ""
    )
    note = f"<div class='callout info'>{escape(ag['note'])}</div>" if ag["note"] else ""
    return (
        "<div class='agree'>"
        f"<div><b>{ag['ccc']:.4f}</b><span>Lin's CCC (unrounded {ag['ccc']:.5f}), n = {ag['n']}</span></div>"
        f"{printed}"
        f"<div><b>{ba['bias']:+.2f}</b><span>Bland-Altman bias (ours − paper)</span></div>"
        f"<div><b>[{ba['lower']:.2f}, {ba['upper']:.2f}]</b><span>95% limits of agreement (bias ± 1.96 sd)</span></div>"
        f"</div>{note}"
    )


def _deviations(comp: dict) -> str:
    devs = comp["deviations"]
    if not devs:
        return "<p class='src'>No deviation recorded in the provenance of these results.</p>"
    rows = "".join(
        f"<tr><td><b>{escape(str(d['name']))}</b></td><td>{escape(str(d['value']))}</td>"
        f"<td>{escape(str(d['reference']))}</td><td class='src'>{escape(', '.join(d.get('tasks') or []))}</td></tr>"
        for d in devs
    )
    return (
        "<table><tr><th>What</th><th>This run</th><th>Reference protocol</th><th>Tasks</th></tr>"
        f"{rows}</table>"
    )


_PROVENANCE_KEYS = ("code_commit", "code_dirty", "created_at", "device", "seed", "data_subset")


def _provenance(comp: dict) -> str:
    prov = comp["provenance"]
    if not prov:
        return ""
    blocks = []
    for task, p in sorted(prov.items()):
        kv = "".join(
            f"<tr><td>{k}</td><td><code>{escape(str(p.get(k)))}</code></td></tr>"
            for k in _PROVENANCE_KEYS
            if k in p
        )
        rest = {k: v for k, v in p.items() if k not in _PROVENANCE_KEYS and k != "deviations"}
        blocks.append(
            f"<h4>{escape(task)}</h4><table class='kv'>{kv}</table>"
            f"<pre>{escape(json.dumps(rest, indent=2, sort_keys=True, ensure_ascii=False))}</pre>"
        )
    return (
        "<details><summary>Provenance (commit, package versions, model checkpoints, decoding, device, seed)"
        f"</summary>{''.join(blocks)}</details>"
    )


def _comparison(doc: dict, comp: dict, anchor: str) -> str:
    title = f"{comp['model']} vs paper row “{comp['row_label']}”"
    parts = [f"<h3 id='{anchor}'>{escape(title)}</h3>"]
    if comp["model_label"] != comp["model"]:
        parts.append(f"<p class='sub'>{escape(comp['model_label'])}</p>")
    parts.append(
        f"<div class='headline'>{escape(headline({'cells': len(comp['cells']), **comp['summary']}))}</div>"
    )
    parts.append(f"<div class='summary'>{_chips(comp['summary'])}</div>")
    if comp["caveat"]:
        parts.append(f"<div class='callout'><b>Caveat:</b> {escape(' '.join(comp['caveat'].split()))}</div>")
    for w in comp["warnings"]:
        parts.append(f"<div class='callout'><b>Check:</b> {escape(w)}</div>")
    if comp.get("notes"):
        parts.append(f"<div class='callout info'>{escape(comp['notes'])}</div>")
    parts.append(_agreement(comp["agreement"]))
    charts = [
        cells_chart(comp["cells"], f"{comp['model']}: ours (95% CI) vs paper, by unit"),
        scatter_chart(comp["cells"], comp["agreement"], f"{comp['model']} vs {comp['row_label']}"),
    ]
    # a chart with many unit panels gets the full width, the scatter goes below it
    wide = " wide" if unit_count(comp["cells"]) > 2 else ""
    imgs = "".join(
        f"<img class='{kind}{wide if kind == 'cells' else ''}' alt='{kind} chart' src='{src}'>"
        for kind, src in zip(("cells", "scatter"), charts, strict=True)
        if src
    )
    if imgs:
        parts.append(f"<div class='plots'>{imgs}</div>")
    parts.append(_cells_table(comp))
    parts.append("<h4>Deviations from the reference protocol</h4>")
    parts.append(_deviations(comp))
    parts.append(_provenance(comp))
    return "\n".join(parts)


def _table_section(doc: dict, index: int) -> tuple[str, list[tuple[str, str]]]:
    toc = []
    results = doc["results"]
    parts = [
        f"<h2 id='t{index}'>{escape(doc['title'])}</h2>",
        f"<p class='sub'>{escape(doc['paper'])}<br>Results: {escape(results['label'])} "
        f"(<code>{escape(results['source'])}</code>) · compared {escape(doc['created_at'])}</p>",
        f"<div class='headline'>{escape(headline(doc['summary']))}</div>",
    ]
    if not doc["comparisons"]:
        parts.append(
            "<div class='callout'>No model of these results is compared with a row of this table.</div>"
        )
    for j, comp in enumerate(doc["comparisons"]):
        anchor = f"t{index}c{j}"
        toc.append((anchor, f"{doc['table']}: {comp['model']} vs {comp['row_label']}"))
        parts.append(_comparison(doc, comp, anchor))
    if doc["unmatched_models"]:
        parts.append(
            "<div class='callout'>Models in the results with no paper row: "
            f"{escape(', '.join(doc['unmatched_models']))} (use <code>--against ROW</code>).</div>"
        )
    tol_rows = "".join(
        f"<tr><td><code>{escape(k)}</code></td><td class='num'>±{v['value']:g}</td><td>{escape(v['why'])}</td></tr>"
        for k, v in doc["tolerance_families"].items()
    )
    src_rows = "".join(
        f"<tr><td><code>{escape(k)}</code></td><td>{escape(v)}</td></tr>" for k, v in doc["sources"].items()
    )
    parts.append(
        "<details><summary>Tolerances and sources</summary>"
        f"<table><tr><th>Family</th><th>Tolerance</th><th>Why</th></tr>{tol_rows}</table>"
        f"<table><tr><th>Source</th><th>What</th></tr>{src_rows}</table>"
        f"{'<p>' + escape(doc['notes']) + '</p>' if doc.get('notes') else ''}</details>"
    )
    return "\n".join(parts), toc


_RULES = (
    "<b>reproduced</b>: |ours − paper| ≤ the cell's tolerance (rule <i>tolerance</i>), or the paper value lies "
    "inside our 95% CI (rule <i>ci</i>); <b>deviates</b>: neither; <b>disputed</b>: the sources print different "
    "values, each gets its own verdict; <b>failed</b>: this run's model or task raised an error, or its data is broken (first line given); <b>not run</b>: no result; <b>not computable</b>: the metric could not be "
    "computed here (reason given); <b>no reference</b>: the paper row has no comparable value. Agreement per row: "
    "Lin's concordance correlation coefficient (population variance) and Bland-Altman bias with 95% limits of "
    "agreement, over the cells with a verdict, fractions put on the 0-100 scale."
)


def render_html(docs: list[dict], title: str) -> str:
    sections, toc = [], []
    total = dict.fromkeys(["cells", *VERDICTS], 0)
    for i, doc in enumerate(docs):
        html, entries = _table_section(doc, i)
        sections.append(html)
        toc += entries
        for k in total:
            total[k] += doc["summary"].get(k, 0)
    toc_html = "".join(f"<li><a href='#{a}'>{escape(t)}</a></li>" for a, t in toc)
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{STYLE}</style></head>
<body><main>
<h1>{escape(title)}</h1>
<p class="sub">audiorepro reproduction report · generated {generated}</p>
<div class="headline"><b>{escape(headline(total))}</b></div>
<div class="summary">{_chips(total)}</div>
<p class="src">{_RULES}</p>
<ul class="toc">{toc_html}</ul>
{"".join(sections)}
<footer>Self-contained report: no external assets. Rerun any cell with the command shown under its name.</footer>
</main></body></html>
"""


def write_html(docs: list[dict], out_dir: Path, title: str) -> Path:
    path = Path(out_dir) / "index.html"
    atomic_write_text(path, render_html(docs, title))
    return path
