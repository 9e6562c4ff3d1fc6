"""Captioning metrics (AudioCaps AAC, MusicCaps MC) with the coco-caption code (pycocoevalcap).

METEOR, CIDEr-D, SPICE and SPIDEr follow coco-caption: both sides go through its Stanford
PTBTokenizer (lowercase, punctuation removed) first. Java runs once per call for the tokenizer and
once for the METEOR jar (never per item). SPICE needs the Stanford CoreNLP 3.6.0 jars, which are
not downloadable offline: without them SPICE and SPIDEr are "not computable", never 0.

ROUGE-L is rouge_score's F-measure averaged over items, the convention of published MusicCaps
numbers (LP-MusicCaps); MusicCaps BLEU-4 is the `bleu` metric with tokenize 13a, smooth none.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import stats
from .base import MetricResult, mean_bootstrap_ci, per_item

CORENLP_JARS = ("stanford-corenlp-3.6.0.jar", "stanford-corenlp-3.6.0-models.jar")


def _java_missing() -> str | None:
    if shutil.which("java") is None:
        return "Java is not installed (coco-caption's PTB tokenizer and METEOR jar need Java 8 or newer)"
    return None


def _pycocoevalcap_version() -> str:
    from importlib.metadata import version

    return f"pycocoevalcap {version('pycocoevalcap')}"


def ptb_tokenize(predictions: Sequence[str], references: Sequence[Sequence[str]]):
    """coco-caption's PTBTokenizer over predictions and references in one Java call.

    Returns (res, gts) dicts keyed by item index, in the form the pycocoevalcap scorers take.
    """
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    # The tokenizer and the METEOR jar are line-based: any line break inside a caption (\r, \u2028,
    # not only \n) would shift every later item, so whitespace runs become single spaces first.
    captions = {}
    for i, prediction in enumerate(predictions):
        captions[("res", i)] = [{"caption": " ".join(prediction.split())}]
    for i, refs in enumerate(references):
        captions[("gts", i)] = [{"caption": " ".join(r.split())} for r in refs if r.strip()]
    tokenized = PTBTokenizer().tokenize(captions)
    n = len(predictions)
    if len(tokenized) != len(captions) or any(len(tokenized[k]) != len(v) for k, v in captions.items()):
        raise RuntimeError(
            "coco-caption's PTBTokenizer returned a different number of captions than it was given"
        )
    res = {i: tokenized[("res", i)] for i in range(n)}
    gts = {i: tokenized[("gts", i)] for i in range(n)}
    return res, gts


def meteor(
    predictions: Sequence[str], references: Sequence[Sequence[str]], *, n_resamples: int = 200, seed: int = 0
) -> MetricResult:
    """coco-caption METEOR 1.5 (x100): `meteor-1.5.jar -l en -norm`, corpus score from pooled
    statistics (not the mean of item scores). The bootstrap re-runs the jar's corpus aggregation
    on resampled item statistics, in the same Java process.

    Options: n_resamples (default 200, not 1000: each resample is one round trip through the jar,
    about 0.2 s per 1,000 items), seed; 0 resamples gives no CI.
    """
    n = len(predictions)
    missing = _java_missing()
    if missing:
        return MetricResult.not_computable("meteor", n, missing)
    from pycocoevalcap.meteor.meteor import Meteor

    res, gts = ptb_tokenize(predictions, references)
    scorer = Meteor()
    try:
        item_stats = [scorer._stat(res[i][0], [r.replace("|||", "") for r in gts[i]]) for i in range(n)]
        corpus, item_scores = _meteor_eval(scorer, item_stats)
        ci = None
        if n_resamples > 0:
            def resampled(idx: np.ndarray) -> float:
                return _meteor_eval(scorer, [item_stats[j] for j in idx])[0]

            ci = [100.0 * v for v in stats.bootstrap_ci(n, resampled, n_resamples=n_resamples, seed=seed)]
    finally:
        _stop_jvm(scorer.meteor_p)
    return MetricResult(
        name="meteor",
        value=100.0 * corpus,
        ci=ci,
        n=n,
        n_scored=n,
        details={
            "scorer": f"{_pycocoevalcap_version()} (meteor-1.5.jar -l en -norm, PTBTokenizer)",
            "mean_item_score": 100.0 * float(np.mean(item_scores)),
            "empty_predictions": sum(1 for i in range(n) if not res[i][0]),
            "bootstrap": {"n_resamples": n_resamples, "seed": seed},
            **per_item([100.0 * s for s in item_scores]),
        },
    )


def _meteor_eval(scorer, item_stats: list[str]) -> tuple[float, list[float]]:
    """The jar's EVAL command: one line of item statistics in, item scores and the corpus score out
    (the exchange pycocoevalcap's compute_score performs)."""
    process = scorer.meteor_p
    process.stdin.write(("EVAL ||| " + " ||| ".join(item_stats) + "\n").encode())
    process.stdin.flush()
    item_scores = [float(process.stdout.readline()) for _ in item_stats]
    return float(process.stdout.readline()), item_scores


def _stop_jvm(process: subprocess.Popen) -> None:
    """Stop the METEOR JVM now rather than whenever pycocoevalcap's __del__ runs."""
    process.stdin.close()
    process.kill()
    process.wait()


def _cider_item_scores(res: dict, gts: dict) -> tuple[float, np.ndarray]:
    from pycocoevalcap.cider.cider import Cider

    corpus, scores = Cider().compute_score(gts, res)
    return float(corpus), np.asarray(scores, dtype=np.float64)


def cider_d(
    predictions: Sequence[str], references: Sequence[Sequence[str]], *, n_resamples: int = 1000, seed: int = 0
) -> MetricResult:
    """CIDEr-D (x100): pycocoevalcap's `Cider` (which is CIDEr-D: Gaussian length penalty with
    sigma 6, clipped n-gram counts, x10), document frequencies from this corpus' references.
    The CI resamples the per-item scores with the document frequencies of the full corpus.

    Options: n_resamples, seed.
    """
    n = len(predictions)
    missing = _java_missing()
    if missing:
        return MetricResult.not_computable("cider_d", n, missing)
    res, gts = ptb_tokenize(predictions, references)
    corpus, scores = _cider_item_scores(res, gts)
    return MetricResult(
        name="cider_d",
        value=100.0 * corpus,
        ci=mean_bootstrap_ci(scores, scale=100.0, n_resamples=n_resamples, seed=seed),
        n=n,
        n_scored=n,
        details={
            "scorer": f"{_pycocoevalcap_version()} Cider (CIDEr-D, n=4, sigma=6), PTBTokenizer",
            "bootstrap": {"n_resamples": n_resamples, "seed": seed},
            **per_item([100.0 * s for s in scores]),
        },
    )


def spice_jars_missing() -> str | None:
    """Why SPICE cannot run here, or None when it can."""
    from importlib.util import find_spec

    missing = _java_missing()
    if missing:
        return missing
    spec = find_spec("pycocoevalcap")
    lib = Path(next(iter(spec.submodule_search_locations))) / "spice" / "lib"
    absent = [jar for jar in CORENLP_JARS if not (lib / jar).exists()]
    if absent:
        return (
            f"SPICE needs the Stanford CoreNLP 3.6.0 jars ({', '.join(absent)}) in {lib}; they are only "
            "downloadable from nlp.stanford.edu or Maven Central, not available offline"
        )
    return None


def _spice_item_scores(res: dict, gts: dict) -> np.ndarray:
    """Run coco-caption's spice-1.0.jar once on all items.

    pycocoevalcap's Spice wrapper always passes `-cache`, whose FST serialisation fails on Java >= 16
    (coco-caption issue #59), and writes into its package directory; so the same jar is called here
    without the cache, with temporary files outside the package.
    """
    from importlib.util import find_spec

    spice_dir = Path(next(iter(find_spec("pycocoevalcap").submodule_search_locations))) / "spice"
    items = [{"image_id": i, "test": res[i][0], "refs": gts[i]} for i in sorted(res)]
    with tempfile.TemporaryDirectory(prefix="audiorepro-spice-") as tmp:
        in_file, out_file = Path(tmp) / "in.json", Path(tmp) / "out.json"
        in_file.write_text(json.dumps(items))
        command = [
            "java",
            "-jar",
            "-Xmx8G",
            "spice-1.0.jar",
            str(in_file),
            "-out",
            str(out_file),
            "-subset",
            "-silent",
        ]
        completed = subprocess.run(
            command, cwd=spice_dir, capture_output=True, text=True, env=os.environ.copy()
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"spice-1.0.jar failed (exit {completed.returncode}): {completed.stderr[-2000:]}"
            )
        results = {item["image_id"]: item["scores"]["All"]["f"] for item in json.loads(out_file.read_text())}
    return np.asarray([float(results[i]) for i in sorted(res)], dtype=np.float64)


def spice(
    predictions: Sequence[str], references: Sequence[Sequence[str]], *, n_resamples: int = 1000, seed: int = 0
) -> MetricResult:
    """SPICE (x100), coco-caption's spice-1.0.jar: mean of per-item F-scores. Only when the
    Stanford CoreNLP 3.6.0 jars are installed; otherwise "not computable" with the reason.

    Options: n_resamples, seed.
    """
    n = len(predictions)
    reason = spice_jars_missing()
    if reason:
        return MetricResult.not_computable("spice", n, reason)
    res, gts = ptb_tokenize(predictions, references)
    scores = _spice_item_scores(res, gts)
    return MetricResult(
        name="spice",
        value=100.0 * float(np.mean(scores)),
        ci=mean_bootstrap_ci(scores, scale=100.0, n_resamples=n_resamples, seed=seed),
        n=n,
        n_scored=n,
        details={"scorer": f"{_pycocoevalcap_version()} spice-1.0.jar (no -cache), PTBTokenizer"},
    )


def spider(
    predictions: Sequence[str], references: Sequence[Sequence[str]], *, n_resamples: int = 1000, seed: int = 0
) -> MetricResult:
    """SPIDEr = (CIDEr-D + SPICE) / 2 (Liu et al. 2017), x100, per item then averaged. Needs SPICE.

    Options: n_resamples, seed.
    """
    n = len(predictions)
    reason = spice_jars_missing()
    if reason:
        return MetricResult.not_computable("spider", n, reason)
    res, gts = ptb_tokenize(predictions, references)
    cider_corpus, cider_scores = _cider_item_scores(res, gts)
    spice_scores = _spice_item_scores(res, gts)
    scores = (cider_scores + spice_scores) / 2.0
    return MetricResult(
        name="spider",
        value=100.0 * float(np.mean(scores)),
        ci=mean_bootstrap_ci(scores, scale=100.0, n_resamples=n_resamples, seed=seed),
        n=n,
        n_scored=n,
        details={
            "cider_d": 100.0 * cider_corpus,
            "spice": 100.0 * float(np.mean(spice_scores)),
            "scorer": f"{_pycocoevalcap_version()} Cider + spice-1.0.jar, PTBTokenizer",
        },
    )


def rouge_l(
    predictions: Sequence[str],
    references: Sequence[Sequence[str]],
    *,
    use_stemmer: bool = False,
    n_resamples: int = 1000,
    seed: int = 0,
) -> MetricResult:
    """ROUGE-L F-measure (x100) with rouge_score, averaged over items (LP-MusicCaps' MusicCaps
    convention; their `evaluate` bootstrap "mid" differs from the plain mean by about 1e-4).
    With several references an item takes its best one (rouge_score's score_multi).

    Options: use_stemmer (default False, as LP-MusicCaps), n_resamples, seed.
    """
    from importlib.metadata import version

    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=use_stemmer)
    scores = np.asarray(
        [
            scorer.score_multi([r for r in refs if r.strip()], prediction)["rougeL"].fmeasure
            for prediction, refs in zip(predictions, references, strict=True)
        ],
        dtype=np.float64,
    )
    n = len(predictions)
    return MetricResult(
        name="rouge_l",
        value=100.0 * float(scores.mean()),
        ci=mean_bootstrap_ci(scores, scale=100.0, n_resamples=n_resamples, seed=seed),
        n=n,
        n_scored=n,
        details={
            "scorer": f"rouge_score {version('rouge_score')} rougeL F-measure, mean over items",
            "use_stemmer": use_stemmer,
            "bootstrap": {"n_resamples": n_resamples, "seed": seed},
            **per_item([100.0 * s for s in scores]),
        },
    )
