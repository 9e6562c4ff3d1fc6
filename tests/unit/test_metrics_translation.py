"""BLEU against sacrebleu's own test vectors and LP-MusicCaps' published MusicCaps BLEU."""

import json

import pytest

from audiorepro import metrics

# sacrebleu test/test_bleu.py (README example): 3 hypotheses, 2 reference streams.
HYPOTHESES = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
STREAMS = [
    ["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
    ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."],
]
PER_ITEM_REFERENCES = [list(refs) for refs in zip(*STREAMS, strict=True)]


@pytest.mark.parametrize(
    "options, expected",
    [
        ({}, 48.530827),
        ({"tokenize": "none"}, 49.1919566),
        ({"tokenize": "13a"}, 48.530827),
        ({"tokenize": "intl"}, 43.91623493),
        ({"smooth": "none"}, 48.530827),
        ({"smooth_method": "none"}, 48.530827),  # sacrebleu's own option name, as task YAMLs write it
    ],
)
def test_sacrebleu_corpus_cases(options, expected):
    result = metrics.compute("bleu", HYPOTHESES, PER_ITEM_REFERENCES, **options)
    assert result.value == pytest.approx(expected, abs=1e-6)


def test_sacrebleu_readme_statistics_and_signature():
    # README: BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)
    result = metrics.compute("bleu", HYPOTHESES, PER_ITEM_REFERENCES)
    assert [round(p, 1) for p in result.details["precisions"]] == [82.4, 50.0, 45.5, 37.5]
    assert round(result.details["brevity_penalty"], 3) == 0.943
    assert (result.details["sys_len"], result.details["ref_len"]) == (17, 18)
    assert result.details["signature"].startswith("nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:")


def test_empty_hypotheses_are_scored_as_zero():
    # sacrebleu test_bleu.py: empty hypotheses are not removed, BLEU 0.0.
    result = metrics.compute("bleu", ["", "", ""], PER_ITEM_REFERENCES)
    assert result.value == 0.0 and result.n_scored == 3


def test_variable_number_of_references():
    # danieldeutsch/repro test_bleu_unequal_references_regression (sacrebleu behind it): 47.63997460581784.
    references = [
        ["The dog bit the man.", "The dog had bit the man."],
        ["No one was surprised."],
        ["The man bit him first.", "The man had bitten the dog.", "The man bit the dog before."],
    ]
    result = metrics.compute("bleu", HYPOTHESES, references)
    assert result.value == pytest.approx(47.63997460581784, abs=1e-9)
    assert "nrefs:var" in result.details["signature"]


def test_zh_tokenizer_splits_chinese_characters():
    # tokenize zh splits every CJK character: 3 of 5 characters match (上海 vs 北京), so unigram
    # BLEU is 3/5 with no brevity penalty. Without splitting the sentence would be one wrong token.
    result = metrics.compute("bleu", ["我住在上海"], [["我住在北京"]], tokenize="zh", max_ngram_order=1)
    assert result.value == pytest.approx(60.0)
    unsplit = metrics.compute("bleu", ["我住在上海"], [["我住在北京"]], tokenize="13a", max_ngram_order=1)
    assert unsplit.value == 0.0
    assert "tok:zh" in result.details["signature"]


def test_ja_mecab_signature_is_pinned():
    result = metrics.compute(
        "bleu", ["私は東京に住んでいます。"], [["私は東京に住んでいます。"]], tokenize="ja-mecab"
    )
    assert result.value == pytest.approx(100.0)
    assert "tok:ja-mecab-0.996-IPA" in result.details["signature"]


def test_bootstrap_ci_brackets_the_corpus_value():
    result = metrics.compute("bleu", HYPOTHESES * 20, PER_ITEM_REFERENCES * 20, n_resamples=200)
    assert result.ci[0] <= result.value <= result.ci[1]
    assert result.ci[1] - result.ci[0] > 0


@pytest.fixture(scope="module")
def lpmc(fixtures_dir):
    def load(variant):
        items = json.loads((fixtures_dir / "lpmc" / f"{variant}.inference.json").read_text())
        published = json.loads((fixtures_dir / "lpmc" / f"{variant}.results.json").read_text())
        return [x["prediction"] for x in items], [[x["ground_truth"]] for x in items], published

    return load


@pytest.mark.parametrize("variant", ["caption_writing", "caption_summary"])
def test_lp_musiccaps_published_bleu(lpmc, variant):
    # LP-MusicCaps (seungheondoh/lp-music-caps) results.json: google-nmt BLEU with tokenizer_13a and
    # no smoothing on 2,839 MusicCaps test captions.
    predictions, references, published = lpmc(variant)
    assert len(predictions) == 2839
    bleu4 = metrics.compute("bleu", predictions, references, tokenize="13a", smooth="none", n_resamples=0)
    bleu1 = metrics.compute(
        "bleu", predictions, references, tokenize="13a", smooth="none", max_ngram_order=1, n_resamples=0
    )
    assert bleu4.value / 100 == pytest.approx(published["bleu4"], abs=1e-12)
    assert bleu1.value / 100 == pytest.approx(published["bleu1"], abs=1e-12)
