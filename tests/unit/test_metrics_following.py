"""Following rate (WER between the spoken question and the answer) and the story metric."""

import pytest

from audiorepro import metrics
from audiorepro.errors import InputError
from audiorepro.metrics.following import story_words


def test_following_rate_threshold_thirty_percent():
    question = "what is the capital city of france"  # 7 words
    answers = [
        "What is the capital city of France?",  # WER 0: transcribed, not following
        "what is the capital of france",  # 1 deletion: WER 1/7 = 14%: not following
        "what is capital of paris",  # 1 sub + 2 del -> 3/7 = 43%: following (>= 30%)
        "The capital of France is Paris.",  # following
        "",  # empty answer: WER 100%, counted as following (it did not transcribe)
    ]
    result = metrics.compute("following_rate", answers, [[]] * 5, questions=[question] * 5)
    assert result.value == pytest.approx(3 / 5)
    assert result.details["transcribed"] == 2
    assert result.details["per_item"][:3] == pytest.approx([0.0, 0.1429, 0.4286], abs=1e-4)
    assert result.ci[0] < 0.6 < result.ci[1]


def test_following_rate_boundary_is_inclusive():
    # 10-word question, 3 substitutions: WER exactly 0.30 counts as following.
    question = "one two three four five six seven eight nine ten"
    answer = "one two three four five six seven x y z"
    result = metrics.compute("following_rate", [answer], [[]], questions=[question], normalizer="none")
    assert result.value == 1.0


def test_following_rate_needs_questions():
    with pytest.raises(InputError, match="questions"):
        metrics.compute("following_rate", ["a"], [[]])
    with pytest.raises(InputError, match="questions must hold 1 values"):
        metrics.compute("following_rate", ["a"], [[]], questions=["q", "r"])
    with pytest.raises(InputError, match=r"questions\[0\] is empty"):
        metrics.compute("following_rate", ["a"], [[]], questions=[" "])


def test_story_words_tokenisation():
    assert story_words("Once upon a time, the dog's BALL rolled—away!") == [
        "once", "upon", "a", "time", "the", "dog's", "ball", "rolled", "away",
    ]  # fmt: skip


def test_story_distinct_words_and_following():
    long_story = "Word, word; word! " * 20  # 60 words, 1 distinct: following (>= 50 words)
    short_story = "The cat sat. The cat ran."  # 6 words, 4 distinct: not following
    result = metrics.compute("story", [long_story, short_story], [[], []])
    assert result.value == pytest.approx((1 + 4) / 2)
    assert result.details["following"] == 1 and result.details["following_rate"] == 0.5
    assert result.details["per_item"] == [1, 4]


def test_story_following_rate_counts_stories_of_at_least_50_words():
    stories = ["word " * 50, "word " * 49, "a b c " * 30]
    result = metrics.compute("story_following_rate", stories, [[]] * 3)
    assert result.value == pytest.approx(2 / 3) and result.unit == "rate"
    assert result.ci[0] < 2 / 3 < result.ci[1]
