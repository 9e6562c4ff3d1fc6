"""Published numbers (expected/<table>.yaml) and results sets (expected/prior_reproduction/*.yaml).

An expected table lists cells (one paper number each: task, metric, unit, scale, direction,
tolerance) and rows (the paper's rows, each with the value and source per cell, and the models of
ours compared with it). A results set is someone's measured numbers in the same cell ids, so the
compare stage can read it instead of our runs. Unknown fields are errors naming the file and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .errors import InputError
from .paths import expected_dir
from .provenance import Deviation
from .scale import Scale
from .yaml_schema import load_yaml_mapping, validate

# Which expected table the compare stage uses for each suite (table5 is recorded, not compared).
SUITE_TABLES: dict[str, str] = {"table3": "table3", "table4": "table4", "sakura": "sakura", "demo": "demo"}



class _Strict(BaseModel):
    # no .nan or .inf: an infinite tolerance passes every cell, a NaN value fails it
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, str) else v


class SourcedValue(_Strict):
    """One source's printed value for a disputed cell."""

    value: float
    source: list[str]
    note: str = ""

    _normalise_source = field_validator("source", mode="before")(_as_list)


class PaperValue(_Strict):
    """A row's entry for one cell: a value with its sources, a null with the reason, or a
    disputed entry holding every source's value."""

    value: float | None = None
    source: list[str] = Field(default_factory=list)
    who: str | None = Field(default=None, description="the system behind a reference value")
    note: str = ""
    comparable: bool = Field(
        default=True, description="false: another system's number (shown, never given a verdict)"
    )
    disputed: bool = False
    values: list[SourcedValue] = Field(default_factory=list, description="per-source values (disputed only)")

    _normalise_source = field_validator("source", mode="before")(_as_list)

    @model_validator(mode="after")
    def _consistent(self) -> PaperValue:
        if self.disputed:
            if self.value is not None or len(self.values) < 2:
                raise ValueError("a disputed entry has no 'value' and at least two 'values' (one per source)")
        elif self.values:
            raise ValueError("'values' (per source) is only for entries marked 'disputed: true'")
        elif self.value is None and not self.note:
            raise ValueError("a null value needs a 'note' saying why (e.g. 'not legible')")
        elif self.value is not None and not self.source:
            raise ValueError("a value needs its 'source'")
        return self

    def sourced(self) -> list[SourcedValue]:
        """Every (value, source) pair of this entry; empty when the paper has no value."""
        if self.disputed:
            return list(self.values)
        if self.value is None:
            return []
        return [SourcedValue(value=self.value, source=self.source, note=self.note)]


class ToleranceFamily(_Strict):
    value: float = Field(ge=0)
    why: str


class Derived(_Strict):
    """A cell computed from other cells (SAKURA averages): the plain mean of `mean_of`."""

    mean_of: list[str] = Field(min_length=2)
    pooled_n: int | None = Field(default=None, description="n of the pooled Wald interval")


class CompareWith(_Strict):
    model: str
    options: dict[str, Any] = Field(default_factory=dict, description="model options the row assumes")
    caveat: str | None = None


class Row(_Strict):
    id: str
    label: str
    size: str | None = None
    compare_with: list[CompareWith] = Field(default_factory=list)


class Cell(_Strict):
    id: str
    task: str | None = Field(description="task whose scores.json fills the cell (null for derived cells)")
    metric: str
    label: str
    group: str | None = None
    unit: str
    scale: Scale
    direction: Literal["lower", "higher"]
    tolerance: str = Field(description="key into tolerance_families")
    n: int | None = Field(default=None, description="items per cell in the paper, where fixed")
    ci_method: Literal["wald"] | None = Field(
        default=None, description="interval to compute when a result has a proportion but no CI"
    )
    derived: Derived | None = None
    values: dict[str, PaperValue] = Field(default_factory=dict, description="row id -> paper value")


class ExpectedTable(_Strict):
    table: str
    suite: str
    title: str
    paper: str
    sources: dict[str, str]
    tolerance_families: dict[str, ToleranceFamily]
    rows: list[Row]
    cells: list[Cell]
    notes: str = ""

    @model_validator(mode="after")
    def _references_resolve(self) -> ExpectedTable:
        problems = []
        row_ids = [r.id for r in self.rows]
        cell_ids = [c.id for c in self.cells]
        for kind, ids in (("row", row_ids), ("cell", cell_ids)):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                problems.append(f"duplicate {kind} ids {dupes}")
        for cell in self.cells:
            if cell.tolerance not in self.tolerance_families:
                problems.append(f"cell {cell.id}: unknown tolerance family {cell.tolerance!r}")
            for row_id, entry in cell.values.items():
                if row_id not in row_ids:
                    problems.append(f"cell {cell.id}: unknown row {row_id!r}")
                for sv in entry.sourced():
                    unknown = [s for s in sv.source if s not in self.sources]
                    if unknown:
                        problems.append(f"cell {cell.id}, row {row_id}: unknown source(s) {unknown}")
            if cell.derived:
                missing = [c for c in cell.derived.mean_of if c not in cell_ids]
                if missing:
                    problems.append(f"cell {cell.id}: derived from unknown cells {missing}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def row(self, row_id: str) -> Row:
        for row in self.rows:
            if row.id == row_id:
                return row
        raise InputError(
            None, f"table {self.table}: unknown row {row_id!r} (rows: {[r.id for r in self.rows]})"
        )

    def cell(self, cell_id: str) -> Cell:
        for cell in self.cells:
            if cell.id == cell_id:
                return cell
        raise KeyError(cell_id)

    def tolerance(self, cell: Cell) -> ToleranceFamily:
        return self.tolerance_families[cell.tolerance]


class ResultValue(_Strict):
    """One measured cell in a results set, in the paper's printed units."""

    value: float | None = None
    ci: tuple[float, float] | None = None
    pm: float | None = Field(default=None, ge=0, description="printed +- half-width")
    n: int | None = None
    status: Literal["ok", "not_computable", "not_run"] = "ok"
    reason: str = ""
    notes: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> ResultValue:
        if self.status == "ok" and self.value is None:
            raise ValueError("a cell with status 'ok' needs a 'value'")
        if self.status != "ok" and not self.reason:
            raise ValueError(f"a cell with status {self.status!r} needs a 'reason'")
        if self.ci is not None and self.pm is not None:
            raise ValueError("give either 'ci' or 'pm', not both")
        return self


class ResultModel(_Strict):
    label: str
    printed_ccc: float | None = Field(default=None, description="CCC the source printed for this row")
    notes: str = ""
    cells: dict[str, ResultValue]


class ResultsSet(_Strict):
    results_set: str
    table: str
    suite: str
    source: str
    description: str = ""
    models: dict[str, ResultModel]
    deviations: list[Deviation] = Field(default_factory=list)


def load_expected_file(path: str | Path) -> ExpectedTable:
    path = Path(path)
    table = validate(ExpectedTable, load_yaml_mapping(path), path)
    if table.table != path.stem:
        raise InputError(path, f"field 'table': {table.table!r} must equal the file name {path.stem!r}")
    return table


def load_expected(table: str) -> ExpectedTable:
    """expected/<table>.yaml, e.g. load_expected('sakura')."""
    return load_expected_file(expected_dir() / f"{table}.yaml")


def load_results_set(path: str | Path) -> ResultsSet:
    """A results set such as expected/prior_reproduction/sakura.yaml."""
    path = Path(path)
    return validate(ResultsSet, load_yaml_mapping(path), path)


def table_for_suite(suite: str) -> str:
    if suite not in SUITE_TABLES:
        raise InputError(
            None, f"suite {suite!r} has no expected table to compare with (known: {sorted(SUITE_TABLES)})"
        )
    return SUITE_TABLES[suite]
