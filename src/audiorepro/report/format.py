"""Text formatting shared by the HTML and Markdown reports. No matplotlib here: report.md must be
writable without the plotting stack."""

from __future__ import annotations

from ..compare.schema import VERDICTS, MeasuredDict, Verdict


def fmt_value(v: float | None, scale: str) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if scale == "fraction" else f"{v:.2f}"


def fmt_ci(ours: MeasuredDict, scale: str) -> str:
    ci = ours.get("ci")
    if not ci:
        return "–"
    digits = 3 if scale == "fraction" else 1
    return f"±{ours['pm']:.{digits}f} [{fmt_value(ci[0], scale)}, {fmt_value(ci[1], scale)}]"


_HEADLINE_WORDS = {
    Verdict.DEVIATES: "deviate",
    Verdict.DISPUTED: "disputed",
    Verdict.FAILED: "failed",
    Verdict.NOT_RUN: "not run",
    Verdict.NOT_COMPUTABLE: "not computable",
    Verdict.NO_REFERENCE: "without a paper value",
}


def headline(summary: dict) -> str:
    """ "12 of 23 cells reproduced, 3 deviate, ..." for a summary of verdict counts."""
    parts = [f"{summary[Verdict.REPRODUCED]} of {summary['cells']} cells reproduced"]
    parts += [
        f"{summary[v]} {_HEADLINE_WORDS[v]}" for v in VERDICTS if v != Verdict.REPRODUCED and summary.get(v)
    ]
    return ", ".join(parts)
