"""The deterministic option matcher (a named deviation) and judge agreement statistics. Expected
verdicts follow the judge prompt's own worked examples; agreement numbers are hand-computed."""

import math

import pytest

from audiorepro.judge.agreement import judge_agreement
from audiorepro.judge.matcher import OptionMatcherJudge, match_verdict
from audiorepro.judge.sakura import parse_verdict, render_prompt

FRANCE = "What is the capital of France? (a) Paris (b) London (c) Berlin (d) Madrid"
EMOTION = "What is the underlying emotion of the speaker? (a) Happy (b) Sad (c) Angry (d) Neutral"


@pytest.mark.parametrize(
    "question, truth, response, verdict",
    [
        # the worked examples inside the benchmark's judge prompt
        (FRANCE, "(a) Paris", "The capital of France is Tokyo.", "incorrect"),
        (FRANCE, "(a) Paris", "The capital of France is Paris and London.", "incorrect"),
        (FRANCE, "(a) Paris", "The capital of France is London.", "incorrect"),
        (FRANCE, "(a) Paris", "The capital of France is Paris.", "correct"),
        (EMOTION, "(a) Happy", "The speaker is happy.", "correct"),
        (EMOTION, "(a) Happy", "The speaker expresses happiness.", "correct"),
        (EMOTION, "(a) Happy", "Happiness,", "correct"),
        # letters
        (FRANCE, "(a) Paris", "(a)", "correct"),
        (FRANCE, "(a) Paris", "b", "incorrect"),
        (FRANCE, "(a) Paris", "The answer is (b) London.", "incorrect"),
        # "male" must not be found inside "female"
        ("Gender? (a) Female (b) Male", "(b) Male", "The speaker is female.", "incorrect"),
        ("Gender? (a) Female (b) Male", "(b) Male", "The speaker is male.", "correct"),
        # multi-word option text
        (
            "Scenario? (a) Throwing an object in frustration. (b) Reading a heartfelt goodbye letter.",
            "(a) Throwing an object in frustration.",
            "Throwing an object in frustration",
            "correct",
        ),
    ],
)
def test_match_verdict(question, truth, response, verdict):
    assert match_verdict(question, truth, response)[0] == verdict


def test_matcher_goes_through_the_judge_prompt_and_parser():
    judge = OptionMatcherJudge()
    reply = judge.complete(render_prompt(EMOTION, "(a) Happy", "The speaker expresses happiness."))
    assert parse_verdict(reply) == "correct"
    reply = judge.complete(render_prompt(EMOTION, "(a) Happy", "Sad or angry."))
    assert parse_verdict(reply) == "incorrect"
    assert judge.describe()["deviations"][0]["name"] == "judge"


def test_agreement_percent_and_kappa_by_hand():
    a = [
        {"id": str(i), "verdict": v, "judge_id": "A"}
        for i, v in enumerate(["correct"] * 6 + ["incorrect"] * 4)
    ]
    b_labels = ["correct"] * 5 + ["incorrect"] + ["incorrect"] * 3 + ["correct"]
    b = [{"id": str(i), "verdict": v, "judge_id": "B"} for i, v in enumerate(b_labels)]
    result = judge_agreement(a, b)
    # 8 of 10 agree; p_e = 0.6*0.6 + 0.4*0.4 = 0.52; kappa = (0.8 - 0.52) / 0.48 = 0.58333
    assert result["n"] == 10 and result["n_agree"] == 8
    assert result["percent_agreement"] == pytest.approx(80.0)
    assert result["cohens_kappa"] == pytest.approx(0.28 / 0.48)
    assert result["disagreements"] == ["5", "9"]


def test_agreement_only_on_common_items():
    a = [{"id": "x", "verdict": "correct", "judge_id": "A"}]
    b = [{"id": "y", "verdict": "correct", "judge_id": "B"}]
    result = judge_agreement(a, b)
    assert result["n"] == 0 and result["cohens_kappa"] is None
    same = judge_agreement(a, a)
    assert same["percent_agreement"] == 100.0 and math.isnan(same["cohens_kappa"])  # one category: 0/0
