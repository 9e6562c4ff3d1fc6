"""Reading results into `Results`: our runs (every runs/<suite>/<task>/<run>/scores.json) or a
results set file (expected/prior_reproduction/<table>.yaml), mapped onto an expected table's cells
in the paper's printed units."""

from __future__ import annotations

from pathlib import Path

from .. import metrics, scale, stats
from ..errors import InputError
from ..expected import Cell, ExpectedTable, load_results_set
from ..jsonl import read_json
from ..judge.deviations import is_reference_judge, judge_deviations
from ..layout import inputs_changed_since
from ..paths import runs_dir
from ..scale import Scale
from ..tasks import load_task
from .schema import Measured, ModelResults, Results


def _metric_scale(metric: dict, path: Path) -> Scale | None:
    """The scale a scores.json metric entry is on: stamped by the metric registry; for an older
    scores.json without it, the registry entry of the metric's name."""
    if metric.get("scale"):
        try:
            return Scale(metric["scale"])
        except ValueError:
            known = ", ".join(Scale)
            raise InputError(
                path, f"metric {metric.get('name')!r}: unknown scale {metric['scale']!r} (known: {known})"
            ) from None
    try:
        return metrics.entry(str(metric.get("name"))).scale
    except InputError:
        return None


def wald_ci(value: float, n: int, cell: Cell) -> tuple[float, float]:
    """Wald 95% interval of a proportion printed on the cell's scale, from n items."""
    whole = Scale(cell.scale).whole
    low, high = stats.wald_interval(round(value / whole * n), n)
    return low * whole, high * whole


def measured_from_metric(metric: dict, cell: Cell, path: Path) -> Measured:
    """One scores.json metric entry (a MetricResult as a dict) as the cell's `Measured`."""
    status = metric.get("status", "ok")
    if status == "not_computable":
        return Measured(
            status="not_computable",
            reason=metric.get("reason") or "the metric reports not_computable",
            source=str(path),
        )
    if metric.get("value") is None:
        return Measured(status="not_computable", reason="the metric has no value", source=str(path))
    source_scale = _metric_scale(metric, path)
    if source_scale is None:
        factor, note = (
            1.0,
            f"metric {metric.get('name')!r} has no known scale; value taken as printed in {cell.scale}",
        )
    else:
        factor, note = scale.factor(source_scale, cell.scale), ""
    value = float(metric["value"]) * factor
    ci = metric.get("ci")
    ci = (float(ci[0]) * factor, float(ci[1]) * factor) if ci else None
    n = metric.get("n_scored") or metric.get("n")
    sd = (metric.get("details") or {}).get("sd")
    if sd is not None:  # a mean over items (Table 4 perplexity): the paper prints its sd too
        note = "; ".join(x for x in (note, f"sd {float(sd) * factor:.4g}") if x)
    if ci is None and cell.ci_method == "wald" and n:
        ci = wald_ci(value, int(n), cell)
    return Measured(value=value, ci=ci, n=n, status="ok", notes=note, source=str(path))


def _judge_deviations(provenance: dict) -> list[dict]:
    """A judge other than SAKURA's (gpt-4o-2024-11-20) is a protocol deviation even where the
    score stage had no judge_meta.json to copy it from (verdicts judged elsewhere)."""
    judge = provenance.get("judge") or {}
    if (judge.get("judge") or {}).get("protocol_family") == "salmonn":
        return []  # SALMONN-paper judges record their own deviations (snapshot, temperature)
    ids = [str(j) for j in judge.get("judge_ids") or ([judge["judge_id"]] if judge.get("judge_id") else [])]
    if not ids or is_reference_judge("sakura", ids):
        return []
    return judge_deviations("sakura", judge=", ".join(ids))


def output_warnings(metric: dict | None, provenance: dict, n: int | None) -> list[str]:
    """What in the outputs makes a number less than it looks, for the cell's note in the report:
    empty answers (scored as given: a model that answers nothing gets a real-looking WER), answers
    cut at max_new_tokens, and clips that were silent or cut to the model's window. scores.json
    records them all; without this line only a reader of its JSON would see them (found on the
    fresh-clone audit)."""
    of = f" of {n}" if n else ""
    warnings = []
    empty = ((metric or {}).get("details") or {}).get("empty_predictions")
    if empty:
        warnings.append(f"{empty}{of} answers empty (scored as given)")
    cut = (provenance.get("finish_reasons") or {}).get("length")
    if cut:
        warnings.append(f"{cut}{of} answers cut at max_new_tokens")
    for note, count in sorted((provenance.get("audio_notes") or {}).items()):
        warnings.append(f"{count}{of} clips {note}")
    return warnings


def _task_version_warning(task: str, scores: dict) -> str:
    """Results scored under another version of the task (its prompt, filter or metric changed
    since) are flagged: the numbers may not mean what the task means now."""
    recorded = scores.get("task_version")
    if recorded is None:
        return ""
    try:
        current = load_task(task).version
    except InputError:  # a task not defined in this checkout: nothing to check against
        return ""
    if recorded == current:
        return ""
    return f"{task}: scores.json is for task version {recorded}, the task is now version {current}; rerun the task"


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


def _scored_from_other_inputs(path: Path, suite: str, task: str, model: str, provenance: dict) -> str:
    """Why scores.json no longer stands for the run folder it sits in ('' when it does): its
    provenance holds the sha256 of the examples, predictions and verdicts it was made from, and a
    failed `score` or a hand edit since leaves an old scores.json beside other inputs."""
    if "predictions_sha256" not in provenance:  # an older scores.json: nothing to check against
        return ""
    # judged=True: an unjudged task records no verdicts and has none, so only a judged one can differ
    changed = inputs_changed_since(path.parent, provenance, judged=True)
    if not changed:
        return ""
    return (
        f"{path}: made from other {' and '.join(changed)} than the run folder holds now; "
        f"rerun `audiorepro score --suite {suite} --tasks {task} --models {model}`"
    )


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
        stale = _task_version_warning(task, scores)
        if stale:
            mr.warnings.append(stale)
        if not any(d.get("name") == "judge" and d.get("task") == task for d in mr.deviations):
            mr.deviations += [{"task": task, **d} for d in _judge_deviations(provenance)]
        outdated = _scored_from_other_inputs(path, suite, task, model, provenance)
        for cell in cells_by_task.get(task, []):
            if outdated:
                mr.cells[cell.id] = Measured(status="failed", reason=outdated, source=str(path))
                continue
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
                mr.cells[cell.id] = measured_from_metric(metric, cell, path)
            items = (provenance.get("item_set") or {}).get("summary")
            measured = mr.cells[cell.id]
            # which items the number is over (split, pairing, 30 s cut ...), shown in the report
            extra = ([f"items: {items}"] if items else []) + (["another task version"] if stale else [])
            extra += output_warnings(metric, provenance, scores.get("n"))
            measured.notes = "; ".join(x for x in (measured.notes, *extra) if x)
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
                ci = wald_ci(rv.value, n, cell)
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
