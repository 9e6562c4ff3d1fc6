"""Agreement of two judges on the same items: percent agreement and Cohen's kappa."""

from __future__ import annotations

from ..stats import cohens_kappa


def judge_agreement(verdicts_a: list[dict], verdicts_b: list[dict]) -> dict:
    """Compare two lists of verdict records ({id, verdict, judge_id, ...}) on their common ids.

    Labels are the three verdicts ("correct", "incorrect", "invalid"), so a judge whose replies
    do not parse disagrees with one whose replies do."""
    by_id_a = {r["id"]: r["verdict"] for r in verdicts_a}
    by_id_b = {r["id"]: r["verdict"] for r in verdicts_b}
    common = sorted(set(by_id_a) & set(by_id_b))
    judge_a = verdicts_a[0]["judge_id"] if verdicts_a else None
    judge_b = verdicts_b[0]["judge_id"] if verdicts_b else None
    if not common:
        return {
            "judge_a": judge_a,
            "judge_b": judge_b,
            "n": 0,
            "percent_agreement": None,
            "cohens_kappa": None,
        }
    labels_a = [by_id_a[i] for i in common]
    labels_b = [by_id_b[i] for i in common]
    agree = sum(a == b for a, b in zip(labels_a, labels_b, strict=True))
    return {
        "judge_a": judge_a,
        "judge_b": judge_b,
        "n": len(common),
        "n_agree": agree,
        "percent_agreement": 100.0 * agree / len(common),
        "cohens_kappa": cohens_kappa(labels_a, labels_b),
        "disagreements": [i for i, a, b in zip(common, labels_a, labels_b, strict=True) if a != b],
    }
