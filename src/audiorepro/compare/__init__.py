"""Compare stage: measured results against a paper table, cell by cell and row by row.

Input is either our runs (every runs/<suite>/<task>/<run>/scores.json) or a results set file
(expected/prior_reproduction/<table>.yaml); both become the same `Results` (load.py). Derived cells
are filled from their components (derive.py), each cell gets a verdict and each row its agreement
statistics (verdict.py), and a suite is compared with its default table (suite.py). The document
written, compare.json, has the typed shape in schema.py, the only module the report stage reads.
The `compare` and `compare-prior` commands are in cli.py.
"""

from __future__ import annotations

from .load import load_results, load_run_results, results_from_set
from .schema import SCHEMA, VERDICTS, CompareDocument, Measured, ModelResults, Results, Verdict
from .suite import NO_PAPER_ROW, compare_suite, expected_for_suite, table_without_paper
from .verdict import compare, decide, run_matches

__all__ = [
    "NO_PAPER_ROW",
    "SCHEMA",
    "VERDICTS",
    "CompareDocument",
    "Measured",
    "ModelResults",
    "Results",
    "Verdict",
    "compare",
    "compare_suite",
    "decide",
    "expected_for_suite",
    "load_results",
    "load_run_results",
    "results_from_set",
    "run_matches",
    "table_without_paper",
]
