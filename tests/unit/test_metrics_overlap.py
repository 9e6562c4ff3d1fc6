"""cpWER for two-speaker answers: meeteval's minimum over speaker assignments, answer splitting."""

import itertools

import pytest

from audiorepro import metrics
from audiorepro.metrics.overlap import split_utterances


def test_swapped_speakers_take_the_best_assignment():
    # metrics.md §3.6: refs ["hello world", "good morning everyone"], hyps in the other order with
    # "every one" and "word": 3 errors / 5 words = 60% (meeteval = jiwer permutation minimum).
    result = metrics.compute(
        "cpwer", ["Good morning every one. Hello word."], [["hello world", "good morning everyone"]]
    )
    assert result.value == pytest.approx(60.0)
    assert result.details["utterances_per_answer"] == {"0": 0, "1": 0, "2": 1, "3+": 0}


def test_against_brute_force_permutations():
    # Independent check: min over assignments of pooled per-speaker edit distances, by hand.
    import jiwer

    refs = ["the cat sat on the mat", "a dog ran far away"]
    hyps = ["a dog ran away", "the cat sat on a mat"]
    best = min(
        sum(jiwer.process_words(r, h).substitutions + jiwer.process_words(r, h).deletions
            + jiwer.process_words(r, h).insertions for r, h in zip(refs, perm, strict=True))
        for perm in itertools.permutations(hyps)
    )  # fmt: skip
    result = metrics.compute("cpwer", ["\n".join(hyps)], [refs])
    assert result.value == pytest.approx(100 * best / 11)


def test_missing_second_utterance_counts_as_deletions_unless_filtered():
    answers = ["Hello world good morning everyone", "Hello world. Good morning everyone."]
    refs = [["hello world", "good morning everyone"]] * 2
    everything = metrics.compute("cpwer", answers, refs)
    # First answer, one utterance of 5 words: assigned to speaker 2 ("good morning everyone") it
    # has 2 insertions and speaker 1's 2 words are deleted (4 errors); assigned to speaker 1 it
    # would be 3 insertions + 3 deletions (6). Best 4; the second answer is exact: 4 / 10 words.
    assert everything.value == pytest.approx(100 * 4 / 10)
    assert everything.details["utterances_per_answer"]["1"] == 1
    matching = metrics.compute("cpwer", answers, refs, only_matching_count=True)
    assert matching.value == 0.0 and matching.n_scored == 1 and matching.n == 2


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("Speaker 1: hello world. Speaker 2: good morning.", ["hello world.", "good morning."]),
        ("S1: hi there S2: bye now", ["hi there", "bye now"]),
        ("first line\nsecond line", ["first line", "second line"]),
        ("Good morning, Mr. Smith! How are you?", ["Good morning, Mr. Smith!", "How are you?"]),
        ("so: this is it", ["so: this is it"]),
        ("", []),
    ],
)
def test_split_utterances(answer, expected):
    assert split_utterances(answer) == expected
