"""Suite defaults: which expected table (and row) a suite is compared with, the "no paper" table
for suites without published numbers, and the compare.json file a suite run writes."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..expected import SUITE_TABLES, Cell, ExpectedTable, PaperValue, Row, ToleranceFamily, load_expected
from ..jsonl import atomic_write_json
from ..paths import reports_dir
from ..tasks import list_tasks
from .load import load_results
from .verdict import compare

NO_PAPER_ROW = "no-paper"


def table_without_paper(suite: str) -> ExpectedTable:
    """For a suite with no published numbers (sakura-text): one cell per task and no paper
    values, so the report still shows every result with its CI (verdict `no reference`)."""
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
