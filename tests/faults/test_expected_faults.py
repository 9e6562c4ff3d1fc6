"""Fault table, expected-table rows: a hand-edited expected/<table>.yaml can never make a verdict
out of a number that is not one (docs/faults.md)."""

from __future__ import annotations

import pytest
from fault_support import run_cli


@pytest.mark.parametrize(
    ("line", "edited", "field"),
    [
        # found on a fresh clone: an infinite tolerance turned every cell "reproduced"
        ("    value: 0.7\n", "    value: .inf\n", "tolerance_families.wer-demo.value"),
        # and a NaN paper value made the cell "deviates", compared with nothing
        ("        value: 4.23\n", "        value: .nan\n", "cells.0.values.sanity.value"),
    ],
)
def test_a_non_finite_number_in_an_expected_table_is_refused_naming_the_field(checkout, capsys, line, edited, field):
    table = checkout / "expected" / "demo.yaml"
    text = table.read_text()
    assert text.count(line) == 1
    table.write_text(text.replace(line, edited))

    result = run_cli(capsys, "compare", "--suite", "demo")

    assert result.rc == 2
    assert result.error_line == f"{table}: field '{field}': Input should be a finite number"
    assert not (checkout.parent / "reports" / "demo" / "compare.json").exists()
