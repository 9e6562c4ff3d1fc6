"""Judge protocols: which prompt a task's items are judged with and how the reply is read.

A task's `judge:` names one of TASK_JUDGES; each asks one or more protocols per item (SAC asks
two: accuracy and following). Every protocol shares the same client, cache, verdict export and
import; only rendering and parsing differ. Protocols of one *family* share a reference judge
(SAKURA: GPT-4o-2024-11-20; SALMONN: the paper's unspecified GPT-3.5), which decides the default
judge model and the text of the deviation records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import AudioreproError, InputError
from ..records import Example, Prediction
from . import sakura, salmonn
from .sakura import ParsedReply


@dataclass(frozen=True)
class JudgeProtocol:
    name: str
    family: str  # "sakura" | "salmonn"
    render: Callable[[Example, Prediction], list[dict]]
    parse: Callable[[str], ParsedReply]


@dataclass(frozen=True)
class TaskJudge:
    protocols: tuple[str, ...]
    #: without verdicts: "error" stops scoring (SAKURA: its only metric is judged); "not_computed"
    #: scores the other metrics and reports the judged ones as not computed (SALMONN Table 3)
    without_verdicts: str


FAMILIES = {
    "sakura": {"model": sakura.JUDGE_MODEL},
    "salmonn": {"model": salmonn.JUDGE_MODEL},
}


def _meta(example: Example, field: str) -> str:
    value = example.meta.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InputError(None, f"example {example.id!r} (task {example.task}): the judge prompt needs meta field {field!r}")
    return value


def _render_sakura(example: Example, prediction: Prediction) -> list[dict]:
    # The question the judge sees is the benchmark's instruction (options included), also for the
    # caption control whose model prompt wraps it; the ground truth is the stripped answer.
    question = example.meta.get("question", example.prompt)
    return sakura.render_prompt(question, example.references[0], prediction.output)


def _render_sqqa(example: Example, prediction: Prediction) -> list[dict]:
    # WikiQA may label several sentences correct for one question; the paper's dictionary has one
    # "Standard Answer" string, so they are joined with a space (an interpretation, documented).
    standard = " ".join(r.strip() for r in example.references if r.strip())
    if not standard:
        raise InputError(None, f"example {example.id!r}: SQQA needs a standard answer (references)")
    return salmonn.as_messages(salmonn.render_sqqa(_meta(example, "question_text"), standard, prediction.output))


def _render_sac_accuracy(example: Example, prediction: Prediction) -> list[dict]:
    return salmonn.as_messages(
        salmonn.render_sac_accuracy(
            _meta(example, "question_text"), _meta(example, "background_caption"), prediction.output
        )
    )


def _render_sac_following(example: Example, prediction: Prediction) -> list[dict]:
    return salmonn.as_messages(salmonn.render_sac_following(_meta(example, "question_text"), prediction.output))


PROTOCOLS: dict[str, JudgeProtocol] = {
    p.name: p
    for p in (
        JudgeProtocol("sakura", "sakura", _render_sakura, sakura.extract_judgement),
        JudgeProtocol("salmonn-sqqa", "salmonn", _render_sqqa, salmonn.parse_sqqa_reply),
        JudgeProtocol("salmonn-sac-accuracy", "salmonn", _render_sac_accuracy, salmonn.parse_sac_reply),
        JudgeProtocol("salmonn-sac-following", "salmonn", _render_sac_following, salmonn.parse_sac_reply),
    )
}

TASK_JUDGES: dict[str, TaskJudge] = {
    "sakura": TaskJudge(("sakura",), "error"),
    "salmonn-sqqa": TaskJudge(("salmonn-sqqa",), "not_computed"),
    "salmonn-sac": TaskJudge(("salmonn-sac-accuracy", "salmonn-sac-following"), "not_computed"),
}

DEFAULT_PROTOCOL = "sakura"  # verdict records written before protocols existed are SAKURA's


def protocol(name: str) -> JudgeProtocol:
    if name not in PROTOCOLS:
        raise AudioreproError(f"unknown judge protocol {name!r}; known: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def task_judge(name: str) -> TaskJudge:
    if name not in TASK_JUDGES:
        raise AudioreproError(f"unknown task judge {name!r}; known: {', '.join(TASK_JUDGES)}")
    return TASK_JUDGES[name]


def family_of(task_judge_name: str) -> str:
    return protocol(task_judge(task_judge_name).protocols[0]).family


def record_protocol(record: dict) -> str:
    return record.get("protocol", DEFAULT_PROTOCOL)
