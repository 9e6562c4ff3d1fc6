"""Derived cells (the SAKURA averages): values the paper computes from other cells, filled in
from the component cells once the results are loaded."""

from __future__ import annotations

from .. import stats
from ..expected import ExpectedTable
from ..scale import Scale
from .schema import Measured, ModelResults


def fill_derived(table: ExpectedTable, mr: ModelResults) -> None:
    """Derived cells: the mean of the component cells, with a Wald interval on the pooled items.
    A value given explicitly (a results set's printed average) is kept."""
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
            whole = Scale(cell.scale).whole
            k = round(sum(m.value / whole * n for m, n in zip(parts, ns, strict=True)))
            low, high = stats.wald_interval(k, sum(ns))
            ci = (low * whole, high * whole)
        mr.cells[cell.id] = Measured(
            value=value,
            ci=ci,
            n=sum(ns) if all(ns) else None,
            status="ok",
            notes=f"mean of {', '.join(cell.derived.mean_of)}; Wald CI on the pooled n",
            source="derived",
        )
