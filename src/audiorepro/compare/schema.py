"""The compare.json contract: the verdict vocabulary, the in-memory results the loaders fill, and
the typed shape of the document the report reads.

The report depends on this module only (never on how results are loaded or verdicts decided), so
the two stages meet in one place. The document is plain JSON: the TypedDicts below say which keys
each level carries; `SCHEMA` names the version and changes when a key changes meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict

SCHEMA = "audiorepro.compare/1"


class Verdict(StrEnum):
    """One cell's verdict (docs/ARCHITECTURE.md). A StrEnum, so it is its string in JSON."""

    REPRODUCED = "reproduced"
    DEVIATES = "deviates"
    DISPUTED = "disputed"
    FAILED = "failed"
    NOT_RUN = "not run"
    NOT_COMPUTABLE = "not computable"
    NO_REFERENCE = "no reference"


# The order summaries and reports list verdicts in.
VERDICTS: tuple[Verdict, ...] = tuple(Verdict)


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

    def to_dict(self) -> MeasuredDict:
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
    """One run's (or one results-set model's) cells, deviations and per-task provenance."""

    model: str
    label: str
    cells: dict[str, Measured] = field(default_factory=dict)
    deviations: list[dict[str, Any]] = field(default_factory=list)
    provenance: dict[str, dict] = field(default_factory=dict)  # task -> scores.json provenance
    warnings: list[str] = field(default_factory=list)  # e.g. results of another task version
    printed_ccc: float | None = None
    notes: str = ""


@dataclass
class Results:
    kind: str  # "runs" | "results_set"
    source: str
    label: str
    models: dict[str, ModelResults] = field(default_factory=dict)


# --------------------------------------------------------------------------- compare.json


class MeasuredDict(TypedDict):
    value: float | None
    ci: list[float] | None
    pm: float | None  # half the CI width
    n: int | None
    status: str
    reason: str
    notes: str
    source: str


class PaperSource(TypedDict):
    value: float
    source: list[str]
    note: str


class CellComparison(TypedDict):
    cell: str
    label: str
    group: str | None
    task: str | None
    metric: str
    unit: str  # display label only
    scale: str  # audiorepro.scale.Scale: how the paper prints the cell
    direction: str  # "higher" | "lower" is better
    derived: bool
    ours: MeasuredDict
    paper: float | None  # set when exactly one source gives a value
    paper_sources: list[PaperSource]
    who: str | None
    paper_note: str
    delta: float | None
    tolerance: float
    tolerance_why: str
    disputed: bool
    per_source: list[dict[str, Any]]  # disputed cells: one decision per source
    verdict: Verdict
    rule: str | None  # "tolerance" | "ci" | "both" when reproduced
    reason: str
    ours_is: str | None  # "better" | "worse" | "equal"
    rerun: str | None


class Agreement(TypedDict):
    n: int
    cells: list[str]
    ccc: float | None
    bland_altman: dict[str, float] | None
    printed_ccc: float | None
    note: str


class RowComparison(TypedDict):
    model: str
    model_label: str
    row: str
    row_label: str
    caveat: str | None
    assumed_options: dict[str, Any]
    warnings: list[str]
    notes: str
    cells: list[CellComparison]
    summary: dict[str, int]  # verdict -> count
    agreement: Agreement
    deviations: list[dict[str, Any]]  # merged: name, value, reference, tasks
    provenance: dict[str, dict]


class CompareDocument(TypedDict):
    schema: str  # SCHEMA
    suite: str
    table: str
    title: str
    paper: str
    sources: dict[str, Any]
    tolerance_families: dict[str, dict]
    results: dict[str, str]  # kind, source, label
    created_at: str
    comparisons: list[RowComparison]
    summary: dict[str, int]  # "cells" and verdict -> count
    unmatched_models: list[str]
    notes: str
