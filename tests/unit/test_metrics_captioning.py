"""Captioning metrics: the aac-metrics README example through pycocoevalcap, LP-MusicCaps'
published ROUGE-L, and SPICE/SPIDEr without the CoreNLP 3.6.0 jars."""

import json
import shutil

import pytest

from audiorepro import metrics
from audiorepro.metrics.captioning import spice_jars_missing

needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="needs Java (coco-caption jars)")

# aac-metrics README / tests/test_doc_examples.py.
CANDIDATES = ["a man is speaking", "rain falls"]
REFERENCES = [
    ["a man speaks.", "someone speaks.", "a man is speaking while a bird is chirping in the background"],
    ["rain is falling hard on a surface"],
]


@pytest.fixture(scope="module")
def aac_example():
    return {
        "meteor": metrics.compute("meteor", CANDIDATES, REFERENCES, n_resamples=50),
        "cider_d": metrics.compute("cider_d", CANDIDATES, REFERENCES),
    }


@needs_java
def test_aac_metrics_cider_d(aac_example):
    # aac-metrics README: cider_d 0.9614, per-sentence [1.3641, 0.5587].
    result = aac_example["cider_d"]
    assert result.value == pytest.approx(96.14, abs=0.005)
    assert result.details["per_item"] == pytest.approx([136.41, 55.87], abs=0.005)


@needs_java
def test_aac_metrics_meteor(aac_example):
    # aac-metrics and pycocoevalcap agree on METEOR 0.2634 for this example (metrics.md §3.2).
    result = aac_example["meteor"]
    assert result.value == pytest.approx(26.34, abs=0.005)
    # The corpus METEOR pools statistics: it is not the mean of the two item scores.
    assert result.details["mean_item_score"] != pytest.approx(result.value, abs=0.5)
    assert result.ci[0] <= result.value <= result.ci[1]


def test_spice_and_spider_are_not_computable_without_corenlp():
    reason = spice_jars_missing()
    if reason is None:
        pytest.skip("the Stanford CoreNLP 3.6.0 jars are installed here, so SPICE is computable")
    for name in ("spice", "spider"):
        result = metrics.compute(name, CANDIDATES, REFERENCES)
        assert result.status == "not_computable"
        assert result.value is None and result.ci is None and result.n_scored == 0
        assert "3.6.0" in result.reason


@pytest.mark.skipif(
    spice_jars_missing() is not None,
    reason=f"SPICE not computable here: {spice_jars_missing()}",
)
def test_spice_and_spider_run_when_the_jars_are_present():
    spice = metrics.compute("spice", CANDIDATES, REFERENCES, n_resamples=20)
    spider = metrics.compute("spider", CANDIDATES, REFERENCES, n_resamples=20)
    assert spice.status == spider.status == "ok"
    assert 0.0 < spice.value < 100.0
    # SPIDEr = (CIDEr-D + SPICE) / 2 with the CIDEr-D above.
    assert spider.value == pytest.approx((96.135 + spice.value) / 2, abs=0.01)


def test_rouge_l_lp_musiccaps(fixtures_dir):
    # LP-MusicCaps caption_writing results.json rougeL = 0.25356447 from HF evaluate (bootstrap
    # "mid"); the plain mean differs by ~7e-5 (metrics.md §3.5).
    items = json.loads((fixtures_dir / "lpmc" / "caption_writing.inference.json").read_text())
    published = json.loads((fixtures_dir / "lpmc" / "caption_writing.results.json").read_text())
    result = metrics.compute(
        "rouge_l", [x["prediction"] for x in items], [[x["ground_truth"]] for x in items], n_resamples=200
    )
    assert result.value / 100 == pytest.approx(published["rougeL"], abs=2e-4)
    assert result.ci[0] < result.value < result.ci[1]


def test_rouge_l_hand_computed_and_multi_reference():
    # LCS("the cat sat", "the cat was here") = 2: P = 2/3, R = 2/4, F = 2PR/(P+R) = 4/7.
    single = metrics.compute("rouge_l", ["the cat sat"], [["the cat was here"]])
    assert single.value == pytest.approx(100 * 4 / 7)
    best = metrics.compute("rouge_l", ["the cat sat"], [["the cat was here", "the cat sat"]])
    assert best.value == pytest.approx(100.0)


@needs_java
@pytest.mark.slow
def test_meteor_on_real_musiccaps_captions(fixtures_dir):
    # metrics.md §3.3: METEOR 1.5 on LP-MusicCaps caption_writing (2,839 captions, 1 reference)
    # measured 0.1904 (nltk's differently-parameterised METEOR gives 0.3202 on the same data).
    items = json.loads((fixtures_dir / "lpmc" / "caption_writing.inference.json").read_text())
    result = metrics.compute(
        "meteor", [x["prediction"] for x in items], [[x["ground_truth"]] for x in items], n_resamples=0
    )
    assert round(result.value / 100, 4) == 0.1904


@needs_java
def test_line_breaks_inside_captions_do_not_shift_items():
    # coco-caption's tokenizer and METEOR jar read one caption per line; a caption with \r or \n
    # must still be scored against its own references.
    result = metrics.compute("cider_d", ["a man\nis speaking", "rain\r\nfalls"], REFERENCES)
    assert result.value == pytest.approx(96.14, abs=0.005)
