"""The benchmarks' reference judges, stated once, and the deviations a judge records from them.

SAKURA names its judge exactly (gpt-4o-2024-11-20, temperature 0.0, top_p 0.9); the SALMONN paper
says only GPT-3.5. Every judge (API, local, matcher, imported verdicts) describes itself through
`judge_deviations`, so a judge other than the reference is one `judge` deviation wherever it comes
from, and compare, which reads the recorded deviations, never reports it twice. A server other
than OpenAI's is `judge_endpoint` (judge/client.py: `endpoint_deviations`).
"""

from __future__ import annotations

from typing import Any

from ..provenance import Deviation
from . import sakura, salmonn


def sampling_text(sampling: dict[str, Any]) -> str:
    """{"temperature": 0.0, "top_p": 0.9} -> "temperature 0.0, top_p 0.9"."""
    return ", ".join(f"{k} {v}" for k, v in sampling.items())


# family -> the judge the paper or benchmark used, as the `reference` of a deviation
REFERENCE_JUDGES = {
    "sakura": f"{sakura.JUDGE_MODEL}, {sampling_text(sakura.JUDGE_SAMPLING)}",
    "salmonn": salmonn.PAPER_JUDGE,
}


def is_reference_judge(family: str, judge_ids: list[str]) -> bool:
    """Verdicts all from the family's reference judge. Only SAKURA's judge is known exactly; any
    SALMONN judge is a stand-in for a GPT-3.5 snapshot the paper does not name."""
    return (
        family == "sakura"
        and bool(judge_ids)
        and all(str(j).startswith(sakura.JUDGE_MODEL) for j in judge_ids)
    )


def judge_deviations(
    family: str, *, judge: str | None = None, sampling: dict[str, Any] | None = None
) -> list[dict[str, str]]:
    """The deviations of a judge from `family`'s reference judge: `judge` names the judge used
    when it is not the reference (None: it is); `sampling`, where given, is compared with SAKURA's
    stated sampling (the SALMONN paper states none)."""
    deviations = []
    if judge is not None:
        deviations.append(Deviation(name="judge", value=judge, reference=REFERENCE_JUDGES[family]))
    if family == "sakura" and sampling is not None and dict(sampling) != sakura.JUDGE_SAMPLING:
        deviations.append(
            Deviation(
                name="judge_sampling",
                value=sampling_text(sampling),
                reference=sampling_text(sakura.JUDGE_SAMPLING),
            )
        )
    return [d.model_dump() for d in deviations]
