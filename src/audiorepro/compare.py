"""Compare stage: measured results against a paper table, cell by cell and row by row.

Input is either our runs (every runs/<suite>/<task>/<model>/scores.json) or a results set file
(expected/prior_reproduction/<table>.yaml); both become the same `Results`. Per cell the verdict is

- `reproduced`: |ours - paper| <= the cell's tolerance, or the paper value lies inside our 95% CI
  (the reason says which rule held),
- `deviates`: neither,
- `not run`: no scores.json (or the results set says so),
- `not computable`: the metric's status is not_computable (its reason is kept),
- `no reference`: the paper row has no value for the cell, or only another system's value,
- `disputed`: the sources print different values; each source gets its own verdict.

Per row (one of our models against one paper row): Lin's CCC and Bland-Altman bias/limits over
the cells that got a verdict, derived averages included. Statistics come from `audiorepro.stats`.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from . import stats
from .errors import InputError
from .expected import (
    SUITE_TABLES,
    Cell,
    CompareWith,
    ExpectedTable,
    PaperValue,
    Row,
    ToleranceFamily,
    load_expected,
    load_results_set,
    table_for_suite,
)
from .jsonl import atomic_write_json, read_json
from .paths import expected_dir, reports_dir, runs_dir

VERDICTS = ("reproduced", "deviates", "disputed", "failed", "not run", "not computable", "no reference")

# Units a metric may declare in MetricResult.unit, by what 1.0 means: a whole (fractions) or
# one hundredth (percent, BLEU/METEOR-style x100 scores).
# The metrics declare units such as "%WER" (0-100) and "accuracy" (a fraction).
_UNITS_PER_HUNDRED = {"percent", "x100", "points", "bleu", "bleu4", "sacrebleu", "accuracy %"}
_UNITS_PER_ONE = {"fraction", "ratio", "proportion", "rate", "accuracy", "following rate", "following_rate"}


@dataclass
class Measured:
    """One cell as measured, in the paper's printed units of that cell."""

    value: float | None = None
    ci: tuple[float, float] | None = None
    n: int | None = None
    status: str = "not_run"  # ok | not_computable | not_run | failed
    reason: str = ""
    notes: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        pm = None if self.ci is None or self.value is None else (self.ci[1] - self.ci[0]) / 2
        return {
            "value": self.value,
            "ci": list(self.ci) if self.ci else None,
            "pm": pm,
            "n": self.n,
            "status": self.status,
            "reason": self.reason,
            "notes": self.notes,
            "source": self.source,
        }


@dataclass
class ModelResults:
    model: str
    label: str
    cells: dict[str, Measured] = field(default_factory=dict)
    deviations: list[dict[str, Any]] = field(default_factory=list)
    provenance: dict[str, dict] = field(default_factory=dict)  # task -> scores.json provenance
    printed_ccc: float | None = None
    notes: str = ""


@dataclass
class Results:
    kind: str  # "runs" | "results_set"
    source: str
    label: str
    models: dict[str, ModelResults] = field(default_factory=dict)


# --------------------------------------------------------------------------- reading results


def _scale_factor(unit: str | None, cell: Cell) -> tuple[float, str]:
    """Factor that turns a metric value in `unit` into the cell's printed scale, and a note when
    the unit had to be assumed."""
    if cell.scale in ("count", "plain"):
        return 1.0, ""
    target = 100.0 if cell.scale in ("percent", "x100") else 1.0
    u = (unit or "").strip().lower()
    if u in _UNITS_PER_HUNDRED or u.startswith("%"):
        source = 100.0
    elif u in _UNITS_PER_ONE:
        source = 1.0
    else:
        return 1.0, f"metric unit {unit!r} not recognised; value taken as printed in {cell.scale}"
    return target / source, ""


def _wald_ci(value: float, n: int, cell: Cell) -> tuple[float, float]:
    per = 100.0 if cell.scale in ("percent", "x100") else 1.0
    k = round(value / per * n)
    low, high = stats.wald_interval(k, n)
    return low * per, high * per


def _measured_from_metric(metric: dict, cell: Cell, path: Path) -> Measured:
    status = metric.get("status", "ok")
    if status == "not_computable":
        return Measured(
            status="not_computable",
            reason=metric.get("reason") or "the metric reports not_computable",
            source=str(path),
        )
    if metric.get("value") is None:
        return Measured(status="not_computable", reason="the metric has no value", source=str(path))
    factor, note = _scale_factor(metric.get("unit"), cell)
    value = float(metric["value"]) * factor
    ci = metric.get("ci")
    ci = (float(ci[0]) * factor, float(ci[1]) * factor) if ci else None
    n = metric.get("n_scored") or metric.get("n")
    sd = (metric.get("details") or {}).get("sd")
    if sd is not None:  # a mean over items (Table 4 perplexity): the paper prints its sd too
        note = "; ".join(x for x in (note, f"sd {float(sd) * factor:.4g}") if x)
    if ci is None and cell.ci_method == "wald" and n:
        ci = _wald_ci(value, int(n), cell)
    return Measured(value=value, ci=ci, n=n, status="ok", notes=note, source=str(path))


def _judge_deviation(provenance: dict) -> dict | None:
    """A judge other than the benchmark's (SAKURA: gpt-4o-2024-11-20) is a protocol deviation,
    whether or not the score stage listed it."""
    from .judge.sakura import JUDGE_MODEL, JUDGE_SAMPLING

    judge = provenance.get("judge") or {}
    if (judge.get("judge") or {}).get("protocol_family") == "salmonn":
        return None  # SALMONN-paper judges record their own deviations (snapshot, temperature)
    ids = judge.get("judge_ids") or ([judge["judge_id"]] if judge.get("judge_id") else [])
    if not ids or all(str(j).startswith(JUDGE_MODEL) for j in ids):
        return None
    sampling = ", ".join(f"{k} {v}" for k, v in JUDGE_SAMPLING.items())
    return {"name": "judge", "value": ", ".join(map(str, ids)), "reference": f"{JUDGE_MODEL}, {sampling}"}


def _read_scores(path: Path) -> dict:
    scores = read_json(path)
    if not isinstance(scores, dict):
        raise InputError(path, "scores.json must hold an object")
    missing = [k for k in ("task", "model", "metrics") if k not in scores]
    if missing:
        raise InputError(path, f"missing field(s) {missing}")
    if not isinstance(scores["metrics"], dict):
        raise InputError(path, "field 'metrics' must be an object (metric name -> MetricResult)")
    return scores


def load_run_results(suite: str, table: ExpectedTable, root: Path | None = None) -> Results:
    """Every runs/<suite>/<task>/<model>/scores.json, mapped onto the table's cells."""
    root = Path(root) if root is not None else runs_dir()
    results = Results(kind="runs", source=str(root / suite), label="our runs")
    cells_by_task: dict[str, list[Cell]] = {}
    for cell in table.cells:
        if cell.task:
            cells_by_task.setdefault(cell.task, []).append(cell)
    for path in sorted((root / suite).glob("*/*/scores.json")):
        scores = _read_scores(path)
        model = str(scores["model"])
        task = str(scores["task"])
        mr = results.models.setdefault(model, ModelResults(model=model, label=model))
        provenance = scores.get("provenance") or {}
        mr.provenance[task] = provenance
        for dev in provenance.get("deviations") or []:
            mr.deviations.append({"task": task, **dev})
        judge_dev = _judge_deviation(provenance)
        if judge_dev and not any(d.get("name") == "judge" and d.get("task") == task for d in mr.deviations):
            mr.deviations.append({"task": task, **judge_dev})
        for cell in cells_by_task.get(task, []):
            metric = scores["metrics"].get(cell.metric)
            if metric is None and scores.get("main_metric") == cell.metric:
                metric = {"value": scores.get("value"), "ci": scores.get("ci"), "n": scores.get("n")}
            if metric is None:
                mr.cells[cell.id] = Measured(
                    status="not_computable",
                    reason=f"scores.json has no metric {cell.metric!r} (has {sorted(scores['metrics'])})",
                    source=str(path),
                )
            else:
                mr.cells[cell.id] = _measured_from_metric(metric, cell, path)
            items = (provenance.get("item_set") or {}).get("summary")
            if items:  # which items the number is over (split, pairing, 30 s cut ...), shown in the report
                measured = mr.cells[cell.id]
                measured.notes = "; ".join(x for x in (measured.notes, f"items: {items}") if x)
    return results


def results_from_set(path: str | Path, table: ExpectedTable) -> Results:
    """A results set file (e.g. the prior reproduction) as `Results`."""
    path = Path(path)
    rs = load_results_set(path)
    if rs.table != table.table:
        raise InputError(path, f"field 'table': results for {rs.table!r}, but comparing with {table.table!r}")
    known = {c.id for c in table.cells}
    results = Results(kind="results_set", source=str(path), label=rs.results_set)
    for model, entry in rs.models.items():
        unknown = sorted(set(entry.cells) - known)
        if unknown:
            raise InputError(
                path, f"models.{model}.cells: unknown cell id(s) {unknown} for table {table.table}"
            )
        mr = ModelResults(model=model, label=entry.label, printed_ccc=entry.printed_ccc, notes=entry.notes)
        mr.deviations = [d.model_dump() for d in rs.deviations]
        for cell_id, rv in entry.cells.items():
            cell = table.cell(cell_id)
            ci = rv.ci
            if rv.pm is not None and rv.value is not None:
                ci = (rv.value - rv.pm, rv.value + rv.pm)
            n = rv.n or cell.n
            if ci is None and rv.value is not None and cell.ci_method == "wald" and n:
                ci = _wald_ci(rv.value, n, cell)
            mr.cells[cell_id] = Measured(
                value=rv.value,
                ci=ci,
                n=n,
                status=rv.status,
                reason=rv.reason,
                notes=rv.notes,
                source=f"{path} ({rs.source})",
            )
        results.models[model] = mr
    return results


def _fill_derived(table: ExpectedTable, mr: ModelResults) -> None:
    """Derived cells (SAKURA averages): the mean of the component cells, with a Wald interval on
    the pooled items. A value given explicitly (a results set's printed average) is kept."""
    for cell in table.cells:
        if cell.derived is None or mr.cells.get(cell.id, Measured()).status == "ok":
            continue
        parts = [mr.cells.get(c, Measured(reason="no scores.json")) for c in cell.derived.mean_of]
        not_ok = [(cid, m) for cid, m in zip(cell.derived.mean_of, parts, strict=True) if m.status != "ok"]
        if not_ok:
            statuses = {m.status for _, m in not_ok}
            status = next((s for s in ("failed", "not_computable") if s in statuses), "not_run")
            mr.cells[cell.id] = Measured(
                status=status,
                reason="needs " + ", ".join(f"{cid} ({m.status.replace('_', ' ')})" for cid, m in not_ok),
            )
            continue
        value = sum(m.value for m in parts) / len(parts)
        ci = None
        ns = [m.n or table.cell(cid).n for cid, m in zip(cell.derived.mean_of, parts, strict=True)]
        if cell.ci_method == "wald" and all(ns):
            per = 100.0 if cell.scale in ("percent", "x100") else 1.0
            k = round(sum(m.value / per * n for m, n in zip(parts, ns, strict=True)))
            low, high = stats.wald_interval(k, sum(ns))
            ci = (low * per, high * per)
        mr.cells[cell.id] = Measured(
            value=value,
            ci=ci,
            n=sum(ns) if all(ns) else None,
            status="ok",
            notes=f"mean of {', '.join(cell.derived.mean_of)}; Wald CI on the pooled n",
            source="derived",
        )


# --------------------------------------------------------------------------- verdicts


def rerun_command(suite: str, tasks: list[str], model: str, options: dict[str, Any] | None = None) -> str:
    """The command that recomputes one cell of one model from scratch."""
    base, run_options = parse_run_name(model)
    run_options = {**run_options, **(options or {})}
    args = "".join(f" --model-arg {k}={v}" for k, v in sorted(run_options.items()))
    if "+paths-" in model:
        args += " --model-arg <component>_path=... (the paths are in predict_meta.json)"
    return f"audiorepro run --suite {suite} --tasks {','.join(tasks)} --models {base}{args}"


def parse_run_name(run: str) -> tuple[str, dict[str, Any]]:
    """`salmonn-13b-v1+lora_scaling=2.0` -> ('salmonn-13b-v1', {'lora_scaling': 2.0}) (see
    audiorepro.layout.run_name)."""
    base, *parts = run.split("+")
    options: dict[str, Any] = {}
    for part in parts:
        if "=" not in part:  # e.g. "paths-1a2b3c4d": a digest of component paths, not an option
            continue
        key, _, value = part.partition("=")
        try:
            options[key] = yaml.safe_load(value)
        except yaml.YAMLError:
            options[key] = value
    return base, options


# Model options compared with the paper row anyway: the model records them as a deviation in its
# provenance, which the report shows next to the row (DECODING=greedy).
DEVIATION_OPTIONS = {"decoding"}


def run_matches(run: str, cw: CompareWith) -> bool:
    """A run folder belongs to a paper row's model when it is that model with no options, or
    only with options the row assumes (salmonn-13b-v1+lora_scaling=4.0 for lora_scaling 4.0) or
    options recorded as deviations (DEVIATION_OPTIONS)."""
    base, options = parse_run_name(run)
    return base == cw.model and all(
        k in DEVIATION_OPTIONS or cw.options.get(k, object()) == v for k, v in options.items()
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
        "verdict": "reproduced" if rule else "deviates",
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
) -> dict:
    entry = cell.values.get(row.id)
    tol = table.tolerance(cell)
    out: dict[str, Any] = {
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
        out["verdict"] = "failed"
        out["reason"] = ours.reason
    elif not sourced:
        out["verdict"] = "no reference"
        out["reason"] = (
            entry.note if entry else ""
        ) or f"the paper row {row.label!r} has no value for this cell"
    elif not entry.comparable:
        out["verdict"] = "no reference"
        out["reason"] = (
            f"the reference value is {entry.who or 'another system'}'s, not comparable with {model}: {entry.note}"
        )
    elif ours.status == "not_run":
        out["verdict"] = "not run"
        out["reason"] = ours.reason or f"no scores.json for task {cell.task} and model {model}"
    elif ours.status == "not_computable":
        out["verdict"] = "not computable"
        out["reason"] = ours.reason
    elif entry.disputed:
        per_source = []
        for s in sourced:
            d = decide(ours, s.value, tol.value, cell.direction)
            per_source.append({"source": s.source, **d})
        out["per_source"] = per_source
        out["verdict"] = "disputed"
        out["reason"] = "; ".join(
            f"{p['verdict']} against {'/'.join(p['source'])} ({p['paper']:g}): {p['reason']}"
            for p in per_source
        )
    else:
        d = decide(ours, sourced[0].value, tol.value, cell.direction)
        out.update({k: d[k] for k in ("delta", "verdict", "rule", "reason", "ours_is")})
    return out


def _agreement(cells: list[dict], printed_ccc: float | None) -> dict[str, Any]:
    """Lin's CCC and Bland-Altman over the cells with a single comparable paper value. Fractions
    are put on the 0-100 scale first so a mixed table (WER %, accuracy 0-1) is on one scale."""
    used = [c for c in cells if c["verdict"] in ("reproduced", "deviates")]
    ours = [c["ours"]["value"] * (100.0 if c["scale"] == "fraction" else 1.0) for c in used]
    paper = [c["paper"] * (100.0 if c["scale"] == "fraction" else 1.0) for c in used]
    result: dict[str, Any] = {
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


def _model_options_warnings(cw: CompareWith, mr: ModelResults | None) -> list[str]:
    if not cw.options or mr is None or not mr.provenance:
        return []
    warnings = []
    for task, prov in sorted(mr.provenance.items()):
        described = prov.get("model") or {}
        options = {**described, **(described.get("options") or {})} if isinstance(described, dict) else {}
        for key, want in cw.options.items():
            if key not in options:
                warnings.append(
                    f"{task}: provenance does not record {key}; the paper row assumes {key}={want}"
                )
            elif options[key] != want:
                warnings.append(f"{task}: run used {key}={options[key]}, the paper row assumes {key}={want}")
    return warnings


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
) -> dict:
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
        _fill_derived(table, mr)

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
        comparisons.append(
            {
                "model": model,
                "model_label": mr.label if mr else model,
                "row": row.id,
                "row_label": row.label + (f" ({row.size})" if row.size else ""),
                "caveat": cw.caveat,
                "assumed_options": cw.options,
                "warnings": _model_options_warnings(cw, mr),
                "notes": mr.notes if mr else "",
                "cells": cells,
                "summary": summary,
                "agreement": _agreement(cells, mr.printed_ccc if mr else None),
                "deviations": _merge_deviations(mr.deviations if mr else []),
                "provenance": mr.provenance if mr else {},
            }
        )
    compared = {m for m, _, _ in pairs}
    return {
        "schema": "audiorepro.compare/1",
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


# --------------------------------------------------------------------------- suites


def table_without_paper(suite: str) -> ExpectedTable:
    """For a suite with no published numbers (sakura-text): one cell per task and no paper
    values, so the report still shows every result with its CI (verdict `no reference`)."""
    from .tasks import list_tasks

    tasks = list_tasks(suite)
    if not tasks:
        raise InputError(None, f"suite {suite!r} has no tasks and no expected table; see `audiorepro tasks`")
    note = f"no published value for suite {suite!r}"
    cells = [
        Cell(
            id=t.name,
            task=t.name,
            metric=t.metric.report_as or t.metric.name,
            label=t.name,
            unit="as reported by the metric",
            scale="count",  # no conversion: the metric's own scale
            direction="higher",
            tolerance="none",
            values={NO_PAPER_ROW: PaperValue(value=None, note=note)},
        )
        for t in tasks
    ]
    return ExpectedTable(
        table=suite,
        suite=suite,
        title=f"{suite}: results (no published values)",
        paper="none",
        sources={},
        tolerance_families={"none": ToleranceFamily(value=0.0, why="no published value to compare with")},
        rows=[Row(id=NO_PAPER_ROW, label="no published values")],
        cells=cells,
    )


NO_PAPER_ROW = "no-paper"


def expected_for_suite(suite: str, table: str | None = None) -> tuple[ExpectedTable, str | None]:
    """The expected table of a suite and the row every model is compared with by default (None:
    the rows' own compare_with lists)."""
    if table:
        return load_expected(table), None
    if suite in SUITE_TABLES:
        return load_expected(SUITE_TABLES[suite]), None
    return table_without_paper(suite), NO_PAPER_ROW


def compare_suite(
    suite: str,
    not_run: dict[str, str] | None = None,
    failed: dict[str, dict[str, str]] | None = None,
    results: str | Path | None = None,
    against: str | None = None,
    table: str | None = None,
    out: Path | None = None,
) -> Path:
    """Compare a suite's results with its paper table and write reports/<suite>/compare.json."""
    expected, default_row = expected_for_suite(suite, table)
    doc = compare(
        suite,
        load_results(suite, expected, results),
        expected,
        against=against or default_row,
        not_run=not_run,
        failed=failed,
    )
    out = Path(out) if out else reports_dir() / suite / "compare.json"
    atomic_write_json(out, doc)
    return out


# --------------------------------------------------------------------------- CLI


def load_results(suite: str, table: ExpectedTable, results: str | Path | None) -> Results:
    """`runs` (default) or a runs-like folder reads scores.json files; a .yaml file is a results set."""
    if results is None or str(results) == "runs":
        return load_run_results(suite, table)
    path = Path(results)
    if path.is_dir():
        return load_run_results(suite, table, path)
    if path.suffix in (".yaml", ".yml"):
        return results_from_set(path, table)
    raise InputError(path, "--results must be 'runs', a runs folder or a results-set .yaml file")


def format_summary(doc: dict) -> str:
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
    p.set_defaults(func=run_compare)
    return p


def run_compare(args: argparse.Namespace) -> int:
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
    from .report import render_report

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
    p.set_defaults(func=run_compare_prior)
    return p


def run_compare_prior(args: argparse.Namespace) -> int:
    return compare_prior(Path(args.out) if args.out else None)
