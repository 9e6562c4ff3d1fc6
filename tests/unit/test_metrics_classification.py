"""Label accuracy (IEMOCAP 4-class, speaker verification), the KE top-3 rule, slot filling and
SAKURA judge verdicts, on hand-built cases."""

import pytest

from audiorepro import metrics
from audiorepro.errors import InputError
from audiorepro.metrics.classification import keyword_match_counts, split_keywords


def test_iemocap4_merges_excited_and_skips_other_labels():
    predictions = [
        "The speaker sounds happy.",  # gold exc -> happy: correct
        "I think the emotion is sadness.",  # gold sad: correct
        "Angry, definitely.",  # gold neu: wrong
        "The speaker is frustrated.",  # gold fru: skipped (not in the 4 classes)
        "Hard to say.",  # gold ang: unparsed -> wrong
    ]
    references = [["exc"], ["sad"], ["neu"], ["fru"], ["ang"]]
    result = metrics.compute("accuracy", predictions, references, labels="iemocap4")
    assert (result.value, result.n, result.n_scored) == (0.5, 5, 4)
    assert result.details["skipped_labels"] == 1 and result.details["unparsed"] == 1
    assert result.details["confusion"]["neutral->angry"] == 1


def test_iemocap4_takes_the_first_emotion_mentioned_and_respects_word_boundaries():
    result = metrics.compute(
        "accuracy", ["The tone is unhappy rather than angry.", "Happy, not sad."], [["sad"], ["hap"]],
        labels="iemocap4",
    )  # fmt: skip
    assert result.value == 1.0


def test_yes_no_uses_the_first_yes_or_no_word():
    predictions = ["Yes, they are the same speaker.", "No.", "I believe not, no.", "Maybe"]
    references = [["yes"], ["yes"], ["no"], ["no"]]
    result = metrics.compute("accuracy", predictions, references, labels="yes_no")
    assert result.value == 0.5 and result.details["unparsed"] == 1
    with pytest.raises(InputError, match="not yes/no"):
        metrics.compute("accuracy", ["yes"], [["maybe"]], labels="yes_no")


def test_accuracy_interval_is_wilson_by_default_and_wald_on_request():
    predictions = ["yes"] * 81 + ["no"] * 182
    references = [["yes"]] * 263
    wilson = metrics.compute("accuracy", predictions, references, labels="yes_no")
    wald = metrics.compute("accuracy", predictions, references, labels="yes_no", interval="wald")
    # Newcombe (1998) Table I, 81/263: Wilson 0.2553-0.3662, Wald 0.2522-0.3638.
    assert wilson.ci == pytest.approx([0.2553, 0.3662], abs=1e-4)
    assert wald.ci == pytest.approx([0.2522, 0.3638], abs=1e-4)


def test_plain_accuracy_compares_normalised_text():
    result = metrics.compute("accuracy", ["Paris.", "london"], [["paris"], ["Berlin", "Rome"]])
    assert result.value == 0.5


def test_ke_post_processing():
    assert split_keywords("Speech recognition, deep-learning, and neural networks.") == [
        "speech recognition", "deep learning", "neural networks",
    ]  # fmt: skip


def test_ke_top3_rule_hand_computed():
    gold = ["speech recognition", "neural networks", "deep learning", "acoustic model"]
    # total = min(4, 3) = 3. Predicted: "neural networks" (2 words: 1 gold contains it),
    # "learning" (1 word, not a gold keyword: 0), "acoustic model" (1), "speech" (0): 2 of 3.
    assert keyword_match_counts("neural networks, learning, acoustic model, speech", gold) == (2, 3)
    # A multi-word keyword contained in several gold keywords counts each, capped at 3.
    gold2 = ["hidden markov model", "hidden markov model training", "markov model"]
    assert keyword_match_counts("markov model", gold2) == (3, 3)
    # One gold keyword: total 1; a hit gives 1/1.
    assert keyword_match_counts("Clustering.", ["clustering"]) == (1, 1)


def test_keyword_accuracy_pools_over_items():
    result = metrics.compute(
        "keyword_accuracy",
        ["neural networks, learning, acoustic model, speech", "clustering"],
        [["speech recognition", "neural networks", "deep learning", "acoustic model"], ["clustering"]],
    )
    assert result.value == pytest.approx(3 / 4)
    assert (result.details["correct"], result.details["total"]) == (3, 4)


def test_ke_case_sensitive_option():
    assert keyword_match_counts("Clustering", ["clustering"], lowercase=False) == (0, 1)


def test_slot_accuracy_whole_word_containment_with_breakdown():
    predictions = ["Set an alarm for seven am.", "The place is New York City.", "It is in newark"]
    references = [["7 am"], ["new york"], ["york"]]
    result = metrics.compute("slot_accuracy", predictions, references, slot_types=["time", "place", "place"])
    # "seven am" normalises to "7 am"; "new york" is a whole-word span; "york" is not inside "newark".
    assert result.value == pytest.approx(2 / 3)
    assert result.details["by_slot_type"] == {"place": {"correct": 1, "n": 2}, "time": {"correct": 1, "n": 1}}
    exact = metrics.compute("slot_accuracy", ["New York"], [["new york"]], match="exact")
    assert exact.value == 1.0


def test_slot_types_must_align():
    with pytest.raises(InputError, match="slot_types must hold 2 values"):
        metrics.compute("slot_accuracy", ["a", "b"], [["a"], ["b"]], slot_types=["x"])


def test_qa_accuracy_containment_and_question_repeats():
    questions = ["What is the capital of France?", "Who wrote Hamlet?", "Is Paris the capital of France?"]
    answers = [
        "The capital of France is Paris.",  # contains "paris": correct
        "It was written by Christopher Marlowe.",  # does not contain "shakespeare": wrong
        "Is Paris the capital of France?",  # contains "paris" but only repeats the question: wrong
    ]
    references = [["Paris"], ["William Shakespeare", "Shakespeare"], ["yes", "Paris"]]
    without_questions = metrics.compute("qa_accuracy", answers, references)
    assert without_questions.value == pytest.approx(2 / 3)
    with_questions = metrics.compute("qa_accuracy", answers, references, questions=questions)
    assert with_questions.value == pytest.approx(1 / 3)
    assert with_questions.details["answers_repeating_the_question"] == 1


def test_judge_accuracy_reproduces_sakura_interval():
    # SAKURA prints 53.8 +- 4.4 for 269 correct of 500 (Wald, z = 1.96); invalid stays in n.
    verdicts = ["correct"] * 269 + ["incorrect"] * 200 + ["invalid"] * 31
    result = metrics.compute("judge_accuracy", verdicts, [[]] * 500)
    assert result.value == pytest.approx(0.538)
    assert round(100 * (result.ci[1] - result.value), 1) == 4.4
    assert round(100 * (result.value - result.ci[0]), 1) == 4.4
    assert (result.details["correct"], result.details["incorrect"], result.details["invalid"]) == (
        269,
        200,
        31,
    )


def test_judge_accuracy_rejects_unknown_verdicts():
    with pytest.raises(InputError, match="verdict 1 is 'Correct'"):
        metrics.compute("judge_accuracy", ["correct", "Correct"], [[], []])
