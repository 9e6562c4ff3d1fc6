"""One scale vocabulary: each metric declares its Scale in the registry, each expected cell the
scale the paper prints, and compare converts between them through audiorepro.scale only. Expected
values are hand-computed; the metric outputs come from running the real metrics."""

from __future__ import annotations

import pytest

from audiorepro import metrics
from audiorepro.expected import SUITE_TABLES, load_expected
from audiorepro.scale import Scale, factor, points
from audiorepro.tasks import load_task
from metric_outputs import metric_output


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("fraction", "percent", 100.0),  # accuracy 0.538 printed as 53.8
        ("percent", "fraction", 0.01),
        ("x100", "x100", 1.0),  # CIDEr-D computed and printed times 100
        ("percent", "x100", 1.0),
        ("fraction", "count", 1.0),  # counts and plain numbers are never rescaled
        ("count", "percent", 1.0),
        ("plain", "plain", 1.0),
    ],
)
def test_factor_between_scales(source, target, expected):
    assert factor(source, target) == pytest.approx(expected)


def test_points_puts_proportions_on_one_axis():
    assert points(0.538, "fraction") == pytest.approx(53.8)
    assert points(2.3, "percent") == pytest.approx(2.3)
    assert points(23.6, Scale.X100) == pytest.approx(23.6)
    assert points(1.12, "plain") == pytest.approx(1.12)


def test_every_metric_declares_a_scale_and_direction():
    for name in metrics.available():
        entry = metrics.entry(name)
        assert isinstance(entry.scale, Scale), name
        assert isinstance(entry.higher_is_better, bool), name


def test_every_expected_cell_gets_a_metric_on_a_convertible_scale_and_direction():
    """A proportion cell filled by a count (or the reverse) would be taken as printed: the
    captioning cells were, by accident, while compare guessed scales from unit strings."""
    checked = 0
    for table_name in sorted(set(SUITE_TABLES.values())):
        table = load_expected(table_name)
        for cell in table.cells:
            if not cell.task:
                continue
            task = load_task(cell.task)
            specs = [task.metric, *task.extra_metrics]
            spec = next(s for s in specs if (s.report_as or s.name) == cell.metric)
            declared = metrics.entry(spec.name)
            assert declared.scale.is_proportion == Scale(cell.scale).is_proportion, (table_name, cell.id)
            assert declared.higher_is_better == (cell.direction == "higher"), (table_name, cell.id)
            checked += 1
    assert checked > 30  # every Table 3, Table 4, SAKURA and demo cell that names a task


def test_metric_outputs_are_the_real_ones():
    """The helper the compare and report tests use writes what the real metrics write."""
    real = {
        "wer": metrics.compute("wer", ["a cat sat"], [["a cat sat down"]]),
        "bleu": metrics.compute("bleu", ["the cat sat on the mat"], [["the cat sat on the mat"]]),
        "accuracy": metrics.compute("accuracy", ["yes", "no"], [["yes"], ["yes"]]),
        "judge_accuracy": metrics.compute("judge_accuracy", ["correct", "incorrect"], [[], []]),
        "following_rate": metrics.compute("following_rate", ["a b c d"], [[]], questions=["e f g h"]),
    }
    for name, result in real.items():
        made = metric_output(name, 1.0)
        assert (made["unit"], made["scale"], made["higher_is_better"]) == (
            result.unit,
            result.scale,
            result.higher_is_better,
        ), name
    assert real["wer"].value == pytest.approx(25.0)  # one deletion in four words, in percent
    assert real["judge_accuracy"].value == pytest.approx(0.5)  # a fraction
