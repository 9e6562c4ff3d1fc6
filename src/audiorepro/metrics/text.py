"""Text normalisation and word alignment shared by the word-level metrics (WER, cpWER, following rate,
slot matching): openai-whisper's `EnglishTextNormalizer` and jiwer's alignment counts."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Sequence
from functools import cache

import numpy as np

from ..errors import AudioreproError

NORMALIZERS = ("whisper_english", "whisper_basic", "gigaspeech_official", "none")

# GigaSpeech's official scoring (utils/gigaspeech_scoring.py, asr_text_post_processing) removes
# these before sclite: conversational fillers, <UNK>, punctuation tags and garbage tags.
GIGASPEECH_FILLERS = (
    "UH",
    "UHH",
    "UM",
    "EH",
    "MM",
    "HM",
    "AH",
    "HUH",
    "HA",
    "ER",
    "OOF",
    "HEE",
    "ACH",
    "EEE",
    "EW",
)
GIGASPEECH_TAGS = (
    "<UNK>",
    "<unk>",
    "<COMMA>",
    "<PERIOD>",
    "<QUESTIONMARK>",
    "<EXCLAMATIONPOINT>",
    "<SIL>",
    "<NOISE>",
    "<MUSIC>",
    "<OTHER>",
)
_GIGASPEECH_DROP = frozenset(GIGASPEECH_FILLERS + GIGASPEECH_TAGS)
_GIGASPEECH_FILLERS_LOWER = frozenset(f.lower() for f in GIGASPEECH_FILLERS)


def _whisper_normalizers_module():
    """Import `whisper.normalizers` without running `whisper/__init__.py`.

    The normalizers are pure Python, but the `whisper` package's __init__ imports torch and numba
    (about 5 s), which would make every scoring call and every worker pay for a model library it
    does not use. The files loaded are openai-whisper's own, unchanged.
    """
    if "whisper" in sys.modules:  # already imported by someone else: use it as is
        import whisper.normalizers

        return whisper.normalizers
    name = "_audiorepro_whisper_normalizers"
    if name in sys.modules:
        return sys.modules[name]
    whisper_spec = importlib.util.find_spec("whisper")
    if whisper_spec is None or not whisper_spec.submodule_search_locations:
        raise AudioreproError(
            "openai-whisper is not installed; its EnglishTextNormalizer is needed for WER. "
            "Install it with `pip install --no-deps openai-whisper==20250625` (see requirements/lock.txt)."
        )
    package_dir = next(iter(whisper_spec.submodule_search_locations))
    spec = importlib.util.spec_from_file_location(
        name,
        f"{package_dir}/normalizers/__init__.py",
        submodule_search_locations=[f"{package_dir}/normalizers"],
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def whisper_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("openai-whisper")
    except PackageNotFoundError:
        return "not installed"


# Sentence punctuation a free-text answer carries and GigaSpeech's text_tn never has (its
# punctuation is spelled as tags); removed before the official post-processing so "WORLD." scores
# as "WORLD". Apostrophes stay ("DON'T" is one word in text_tn); hyphens are the script's own step.
_FREE_TEXT_PUNCTUATION = re.compile(r"[.,?!;:\"()\[\]{}]|(?<!\w)'|'(?!\w)")


def gigaspeech_official(text: str) -> str:
    """GigaSpeech's official scoring text (utils/gigaspeech_scoring.py) for a free-text answer:
    sentence punctuation dropped, then the script's `asr_text_post_processing` (uppercase, '-' to
    space, fillers, <UNK>, punctuation and garbage tags removed). No number or spelling
    normalisation: the script has none (no GLM)."""
    return gigaspeech_post_process(_FREE_TEXT_PUNCTUATION.sub(" ", text))


@cache
def get_normalizer(name: str = "whisper_english") -> Callable[[str], str]:
    """`whisper_english` (EnglishTextNormalizer, the Whisper paper's WER protocol), `whisper_basic`
    (BasicTextNormalizer: lowercase, drop symbols and bracketed text), `gigaspeech_official`
    (GigaSpeech's own scoring post-processing) or `none` (split on spaces)."""
    if name == "none":
        return lambda text: " ".join(text.split())
    if name == "gigaspeech_official":
        return gigaspeech_official
    module = _whisper_normalizers_module()
    if name == "whisper_english":
        return module.EnglishTextNormalizer()
    if name == "whisper_basic":
        return module.BasicTextNormalizer()
    raise ValueError(f"unknown normalizer {name!r}; choose one of {NORMALIZERS}")


def gigaspeech_post_process(text: str) -> str:
    """GigaSpeech's official `asr_text_post_processing`: uppercase, '-' to space, drop the
    non-scoring words (fillers, <UNK>, punctuation and garbage tags)."""
    words = text.upper().replace("-", " ").split()
    return " ".join(w for w in words if w not in _GIGASPEECH_DROP)


def make_normalizer(name: str = "whisper_english", gigaspeech_strict: bool = False) -> Callable[[str], str]:
    """The text pipeline for word metrics. With `gigaspeech_strict`, GigaSpeech's official
    post-processing runs first (it works on the raw tag format), then the normaliser, then its
    filler list once more on the normalised words (fillers written with punctuation, "Uh,", only
    become bare words after normalisation; Whisper's own list drops only hmm/mm/mhm/mmm/uh/um)."""
    base = get_normalizer(name)
    if not gigaspeech_strict:
        return base

    def strict(text: str) -> str:
        words = base(gigaspeech_post_process(text)).split()
        return " ".join(w for w in words if w not in _GIGASPEECH_FILLERS_LOWER)

    return strict


def normalize_all(texts: Sequence[str], normalizer: Callable[[str], str]) -> list[str]:
    """Normalise many strings, memoising repeats (references and short answers often repeat)."""
    memo: dict[str, str] = {}
    out = []
    for text in texts:
        normalized = memo.get(text)
        if normalized is None:
            normalized = memo[text] = " ".join(normalizer(text).split())
        out.append(normalized)
    return out


def word_error_counts(references: Sequence[str], hypotheses: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-item substitutions, deletions, insertions, hits and reference word counts (jiwer).

    Inputs are already normalised, space-separated words. An empty reference counts its hypothesis
    words as insertions against zero reference words; an empty hypothesis counts deletions.
    """
    import jiwer

    n = len(references)
    counts = {k: np.zeros(n, dtype=np.int64) for k in ("sub", "del", "ins", "hit", "ref_words")}
    # jiwer aligns the non-empty pairs in one call; empty sides are counted here directly.
    todo = [i for i in range(n) if references[i] and hypotheses[i]]
    for i in range(n):
        ref_len = len(references[i].split())
        counts["ref_words"][i] = ref_len
        if not references[i]:
            counts["ins"][i] = len(hypotheses[i].split()) if hypotheses[i] else 0
        elif not hypotheses[i]:
            counts["del"][i] = ref_len
    if todo:
        output = jiwer.process_words([references[i] for i in todo], [hypotheses[i] for i in todo])
        for i, chunks in zip(todo, output.alignments, strict=True):
            for chunk in chunks:
                ref_span = chunk.ref_end_idx - chunk.ref_start_idx
                if chunk.type == "equal":
                    counts["hit"][i] += ref_span
                elif chunk.type == "substitute":
                    counts["sub"][i] += ref_span
                elif chunk.type == "delete":
                    counts["del"][i] += ref_span
                elif chunk.type == "insert":
                    counts["ins"][i] += chunk.hyp_end_idx - chunk.hyp_start_idx
    counts["errors"] = counts["sub"] + counts["del"] + counts["ins"]
    return counts


def jiwer_version() -> str:
    from importlib.metadata import version

    return version("jiwer")
