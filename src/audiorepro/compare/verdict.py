"""Verdicts: each measured cell against the paper row's value, and per row the agreement
statistics (Lin's CCC, Bland-Altman from `audiorepro.stats`). Per cell the verdict is

- `reproduced`: |ours - paper| <= the cell's tolerance, or the paper value lies inside our 95% CI
  (the reason says which rule held),
- `deviates`: neither,
- `failed`: the task failed in this run (the first line of its error is the reason),
- `not run`: no scores.json (or the results set says so),
- `not computable`: the metric's status is not_computable (its reason is kept),
- `no reference`: the paper row has no value for the cell, or only another system's value,
- `disputed`: the sources print different values; each source gets its own verdict.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from .. import stats
from ..expected import Cell, CompareWith, ExpectedTable, Row
from ..layout import rerun_command
from ..scale import points
from .derive import fill_derived
from .rows import assumed_options_warnings, run_matches
from .schema import (
    SCHEMA,
    VERDICTS,
    Agreement,
    CellComparison,
    CompareDocument,
    Measured,
    ModelResults,
    Results,
    RowComparison,
    Verdict,
)


def decide(ours: Measured, paper: float, tolerance: float, direction: str) -> dict[str, Any]:
    """Verdict of one measured value against one paper value."""
    delta = ours.value - paper
    within_tolerance = abs(delta) <= tolerance + 1e-9
    in_ci = ours.ci is not None and ours.ci[0] <= paper <= ours.ci[1]
    better = (delta < 0) if direction == "lower" else (delta > 0)
    if within_tolerance and in_ci:
        rule, reason = (
            "both",
            f"|delta| {abs(delta):.4g} <= tolerance {tolerance:g}, and the paper value lies inside our 95% CI",
        )
    elif within_tolerance:
        rule, reason = "tolerance", f"|delta| {abs(delta):.4g} <= tolerance {tolerance:g}"
    elif in_ci:
        rule, reason = "ci", f"the paper value lies inside our 95% CI [{ours.ci[0]:.4g}, {ours.ci[1]:.4g}]"
    else:
        rule = None
        side = "better" if better else "worse"
        ci_text = "" if ours.ci is None else f" and outside our 95% CI [{ours.ci[0]:.4g}, {ours.ci[1]:.4g}]"
        reason = f"|delta| {abs(delta):.4g} > tolerance {tolerance:g}{ci_text}; ours is {side}"
    return {
        "paper": paper,
        "delta": delta,
        "verdict": Verdict.REPRODUCED if rule else Verdict.DEVIATES,
        "rule": rule,
        "reason": reason,
        "ours_is": "equal" if delta == 0 else ("better" if better else "worse"),
    }


def _cell_tasks(table: ExpectedTable, cell: Cell) -> list[str]:
    if cell.task:
        return [cell.task]
    if cell.derived:
        return [t for c in cell.derived.mean_of for t in _cell_tasks(table, table.cell(c))]
    return []


def _compare_cell(
    table: ExpectedTable, cell: Cell, row: Row, ours: Measured, suite: str, model: str, cw: CompareWith
) -> CellComparison:
    entry = cell.values.get(row.id)
    tol = table.tolerance(cell)
    out: CellComparison = {
        "cell": cell.id,
        "label": cell.label,
        "group": cell.group,
        "task": cell.task,
        "metric": cell.metric,
        "unit": cell.unit,
        "scale": cell.scale,
        "direction": cell.direction,
        "derived": cell.derived is not None,
        "ours": ours.to_dict(),
        "paper": None,
        "paper_sources": [],
        "who": entry.who if entry else None,
        "paper_note": entry.note if entry else "",
        "delta": None,
        "tolerance": tol.value,
        "tolerance_why": tol.why,
        "disputed": bool(entry and entry.disputed),
        "per_source": [],
        "verdict": None,
        "rule": None,
        "reason": "",
        "ours_is": None,
        "rerun": rerun_command(suite, _cell_tasks(table, cell), model, cw.options)
        if _cell_tasks(table, cell)
        else None,
    }
    sourced = entry.sourced() if entry else []
    out["paper_sources"] = [{"value": s.value, "source": s.source, "note": s.note} for s in sourced]
    if len(sourced) == 1:
        out["paper"] = sourced[0].value
    if ours.status == "failed":  # a fault outranks everything else said about the cell
        out["verdict"] = Verdict.FAILED
        out["reason"] = ours.reason
    elif not sourced:
        out["verdict"] = Verdict.NO_REFERENCE
        out["reason"] = (
            entry.note if entry else ""
        ) or f"the paper row {row.label!r} has no value for this cell"
    elif not entry.comparable:
        out["verdict"] = Verdict.NO_REFERENCE
        out["reason"] = (
            f"the reference value is {entry.who or 'another system'}'s, not comparable with {model}: {entry.note}"
        )
    elif ours.status == "not_run":
        out["verdict"] = Verdict.NOT_RUN
        out["reason"] = ours.reason or f"no scores.json for task {cell.task} and model {model}"
    elif ours.status == "not_computable":
        out["verdict"] = Verdict.NOT_COMPUTABLE
        out["reason"] = ours.reason
    elif entry.disputed:
        per_source = []
        for s in sourced:
            d = decide(ours, s.value, tol.value, cell.direction)
            per_source.append({"source": s.source, **d})
        out["per_source"] = per_source
        out["verdict"] = Verdict.DISPUTED
        out["reason"] = "; ".join(
            f"{p['verdict']} against {'/'.join(p['source'])} ({p['paper']:g}): {p['reason']}"
            for p in per_source
        )
    else:
        d = decide(ours, sourced[0].value, tol.value, cell.direction)
        out.update({k: d[k] for k in ("delta", "verdict", "rule", "reason", "ours_is")})
    return out


def _agreement(cells: list[CellComparison], printed_ccc: float | None) -> Agreement:
    """Lin's CCC and Bland-Altman over the cells with a single comparable paper value. Fractions
    are put on the 0-100 scale first so a mixed table (WER %, accuracy 0-1) is on one scale."""
    used = [c for c in cells if c["verdict"] in (Verdict.REPRODUCED, Verdict.DEVIATES)]
    ours = [points(c["ours"]["value"], c["scale"]) for c in used]
    paper = [points(c["paper"], c["scale"]) for c in used]
    result: Agreement = {
        "n": len(used),
        "cells": [c["cell"] for c in used],
        "ccc": None,
        "bland_altman": None,
        "printed_ccc": printed_ccc,
        "note": "",
    }
    if len(used) < 2:
        result["note"] = "fewer than 2 cells with both values: no agreement statistics"
        return result
    ccc = stats.lins_ccc(ours, paper)
    result["ccc"] = None if math.isnan(ccc) else ccc
    result["bland_altman"] = stats.bland_altman(ours, paper)
    if printed_ccc is not None and result["ccc"] is not None and round(result["ccc"], 4) != printed_ccc:
        result["note"] = (
            f"the source printed {printed_ccc:.4f}; Lin's CCC over these {len(used)} values with population "
            f"variance is {result['ccc']:.5f}, which rounds to {result['ccc']:.4f} (the printed value looks "
            "rounded up or computed from slightly different inputs)"
        )
    return result


def _merge_deviations(devs: list[dict]) -> list[dict]:
    merged: dict[tuple, dict] = {}
    for d in devs:
        key = (d.get("name"), str(d.get("value")), str(d.get("reference")))
        entry = merged.setdefault(
            key,
            {"name": d.get("name"), "value": d.get("value"), "reference": d.get("reference"), "tasks": []},
        )
        if d.get("task") and d["task"] not in entry["tasks"]:
            entry["tasks"].append(d["task"])
    return list(merged.values())


def compare(
    suite: str,
    results: Results,
    expected_table: ExpectedTable,
    against: str | None = None,
    not_run: dict[str, str] | None = None,
    failed: dict[str, dict[str, str]] | None = None,
) -> CompareDocument:
    """Compare `results` with `expected_table`; returns the compare.json document.

    `against` compares every model with that paper row; `not_run` ({task: reason}) gives the
    reason for tasks the pipeline could not run (e.g. a dataset that is not available); `failed`
    ({run: {task: first line of the error}}) marks the cells of tasks that failed in this run,
    over any older scores.json, and lists a model that failed on every task."""
    table = expected_table
    not_run = not_run or {}
    for run, tasks in (failed or {}).items():
        mr = results.models.setdefault(run, ModelResults(model=run, label=run))
        for cell in table.cells:
            if cell.task in tasks:
                mr.cells[cell.id] = Measured(status="failed", reason=tasks[cell.task])
    pairs: list[tuple[str, Row, CompareWith]] = []
    if against is not None:
        row = table.row(against)
        pairs = [(m, row, CompareWith(model=m)) for m in sorted(results.models)]
    else:
        for row in table.rows:
            for cw in row.compare_with:
                runs = sorted(m for m in results.models if run_matches(m, cw))
                if not runs and results.kind == "runs":
                    runs = [cw.model]  # shown with every cell "not run"
                pairs += [(run, row, cw) for run in runs]
        if results.kind == "results_set":  # keep the set's own model order
            order = list(results.models)
            pairs.sort(key=lambda p: order.index(p[0]))
    for mr in results.models.values():
        fill_derived(table, mr)

    comparisons = []
    totals = dict.fromkeys(VERDICTS, 0)
    for model, row, cw in pairs:
        mr = results.models.get(model)
        cells = []
        for cell in table.cells:
            ours = mr.cells.get(cell.id, Measured()) if mr else Measured()
            if ours.status == "not_run" and not ours.reason and cell.task in not_run:
                ours = Measured(status="not_run", reason=not_run[cell.task])
            cells.append(_compare_cell(table, cell, row, ours, suite, model, cw))
        summary = dict.fromkeys(VERDICTS, 0)
        for c in cells:
            summary[c["verdict"]] += 1
            totals[c["verdict"]] += 1
        comparison: RowComparison = {
            "model": model,
            "model_label": mr.label if mr else model,
            "row": row.id,
            "row_label": row.label + (f" ({row.size})" if row.size else ""),
            "caveat": cw.caveat,
            "assumed_options": cw.options,
            "warnings": (mr.warnings if mr else []) + assumed_options_warnings(cw, mr),
            "notes": mr.notes if mr else "",
            "cells": cells,
            "summary": summary,
            "agreement": _agreement(cells, mr.printed_ccc if mr else None),
            "deviations": _merge_deviations(mr.deviations if mr else []),
            "provenance": mr.provenance if mr else {},
        }
        comparisons.append(comparison)
    compared = {m for m, _, _ in pairs}
    return {
        "schema": SCHEMA,
        "suite": suite,
        "table": table.table,
        "title": table.title,
        "paper": table.paper,
        "sources": table.sources,
        "tolerance_families": {k: v.model_dump() for k, v in table.tolerance_families.items()},
        "results": {"kind": results.kind, "source": results.source, "label": results.label},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "comparisons": comparisons,
        "summary": {"cells": sum(totals.values()), **totals},
        "unmatched_models": sorted(set(results.models) - compared),
        "notes": table.notes,
    }
