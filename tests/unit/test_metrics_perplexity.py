"""Table 4's output_perplexity metric on hand-made log-probabilities, and how the compare stage
shows its sd."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from audiorepro import metrics
from audiorepro.errors import InputError


def test_mean_and_sd_of_per_item_perplexities():
    # item 1: two tokens at p = 1/2 -> perplexity 2; item 2: one token at p = 1/4 -> 4;
    # item 3: no generated id -> no perplexity, counted apart
    logprobs = [[math.log(0.5), math.log(0.5)], [math.log(0.25)], []]
    result = metrics.compute("output_perplexity", ["a b", "c", ""], [[], [], []], token_logprobs=logprobs)
    assert result.value == pytest.approx(3.0)
    assert result.details["sd"] == pytest.approx(math.sqrt(2.0))  # sample sd of (2, 4)
    assert result.n == 3 and result.n_scored == 2 and result.details["empty_outputs"] == 1
    assert result.details["per_item"][:2] == [pytest.approx(2.0), pytest.approx(4.0)]
    assert result.higher_is_better is False


def test_geometric_not_arithmetic_mean_within_an_item():
    # p = 0.9 then 0.1: exp(-(ln .9 + ln .1)/2) = 1/sqrt(0.09) = 3.333..., not 1/mean(p) = 2
    result = metrics.compute("output_perplexity", ["x"], [[]], token_logprobs=[[math.log(0.9), math.log(0.1)]])
    assert result.value == pytest.approx(1 / 0.3)


@pytest.mark.parametrize("bad", [[[0.5]], [[float("nan")]], [["x"]]])
def test_positive_or_non_numeric_logprobs_are_refused(bad):
    with pytest.raises(InputError, match="token_logprobs"):
        metrics.compute("output_perplexity", ["x"], [[]], token_logprobs=bad)


def test_compare_shows_the_sd_next_to_the_mean():
    from audiorepro.compare.load import measured_from_metric
    from audiorepro.expected import load_expected
    from metric_outputs import metric_output

    cell = load_expected("table4").cell("ppl-asr-librispeech-clean")
    metric = metric_output("output_perplexity", 1.12, ci=[1.1, 1.14], n=2620, sd=0.05)
    measured = measured_from_metric(metric, cell, Path("scores.json"))
    assert measured.value == pytest.approx(1.12) and measured.notes == "sd 0.05"


def test_table4_holds_the_papers_activation_tuning_row():
    from audiorepro.expected import load_expected

    table = load_expected("table4")
    row = {c.id: (c.values["activation-tuning"].value, c.values["activation-tuning"].note) for c in table.cells}
    assert row == {
        "ppl-asr-librispeech-clean": (1.1, "sd 0.048"),
        "ppl-aac-audiocaps": (6.3, "sd 0.80"),
        "ppl-pr-librispeech-clean": (1.1, "sd 0.015"),
        "ppl-story-audiocaps": (1.8, "sd 0.026"),
        "ppl-sac-inhouse": (1.4, "sd 0.0046"),
    }
