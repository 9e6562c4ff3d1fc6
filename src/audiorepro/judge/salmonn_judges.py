"""The judges for the SALMONN paper's protocol (judge/salmonn.py): the same API client, local
model and cache as SAKURA's, with the SALMONN reference judge in their deviation records, plus a
deterministic matcher. `judge.stage.build_judge(kind, "salmonn")` picks them.

The paper names only "GPT-3.5": the snapshot and temperature used here are always recorded as
named deviations, whatever they are, because no value can match an unstated one."""

from __future__ import annotations

import re
from typing import Any

from .. import metrics
from ..errors import AudioreproError
from ..provenance import Deviation
from .base import Judge
from .client import OpenAICompatibleJudge
from .deviations import judge_deviations
from .local import LocalTransformersJudge
from .salmonn import JUDGE_MODEL, JUDGE_SAMPLING, read_reply_dict

MATCHER_VERSION = "1"


class SalmonnAPIJudge(OpenAICompatibleJudge):
    """GPT-3.5 (default `gpt-3.5-turbo-0125`) through the OpenAI-compatible client. Only the
    temperature is sent: the paper states no sampling, so top_p stays at the API's default."""

    def __init__(self, *, model: str = JUDGE_MODEL, temperature: float = JUDGE_SAMPLING["temperature"], **kwargs: Any):
        kwargs.pop("top_p", None)
        super().__init__(model=model, temperature=temperature, **kwargs)
        self.sampling = {"temperature": temperature}

    def describe(self) -> dict[str, Any]:
        described = super().describe()
        described["protocol_family"] = "salmonn"
        described["deviations"] = [
            Deviation(name="judge_snapshot", value=self.model, reference="GPT-3.5 (the paper names no snapshot)").model_dump(),
            Deviation(
                name="judge_temperature", value=str(self.sampling["temperature"]), reference="not stated in the paper"
            ).model_dump(),
            *self.endpoint_deviations(),
        ]
        return described


def salmonn_local_judge(model_path: str) -> Judge:
    class SalmonnLocalJudge(LocalTransformersJudge):
        family = "salmonn"

        def describe(self) -> dict[str, Any]:
            return {**super().describe(), "protocol_family": "salmonn"}

    return SalmonnLocalJudge(model_path)


class SalmonnMatcherJudge(Judge):
    """A deterministic stand-in (a named deviation): SQQA is correct when the answer contains the
    standard answer as whole words and does not merely repeat the question (the `qa_accuracy`
    rule); SAC following is the WER >= 30% rule of `following_rate`. SAC accuracy has no answer
    key to match, so the matcher refuses it. It reads the fields back out of the rendered prompt
    and replies in the paper's dictionary format, so its replies go through the same parser and
    cache as an LLM's."""

    judge_id = f"salmonn-answer-matcher-v{MATCHER_VERSION}"
    endpoint = "builtin"
    sampling: dict[str, Any] = {}
    concurrency = 1

    _SQQA = re.compile(r"following question and answer: (\{.*\}) \n Your response is:$", re.DOTALL)
    _SAC = re.compile(r"Question in audio: (.*?) \n Model Output: (.*) \n Your Response:$", re.DOTALL)

    def complete(self, messages: list[dict]) -> str:
        prompt = messages[-1]["content"]
        if "Background Audio: " in prompt:
            raise AudioreproError(
                "the matcher cannot judge SAC accuracy (the data has no answer key); use JUDGE=api or JUDGE=local"
            )
        sqqa = self._SQQA.search(prompt)
        if sqqa:
            fields = read_reply_dict(sqqa.group(1)) or {}
            question, standard, answer = (fields.get(k) for k in ("Question", "Standard Answer", "My Answer"))
            if not all(isinstance(v, str) for v in (question, standard, answer)) or not standard.strip():
                return "not a SALMONN SQQA judge prompt"
            correct = metrics.compute("qa_accuracy", [answer], [[standard]], questions=[question]).value == 1.0
            reason = "the answer contains the standard answer" if correct else "the standard answer is not in the answer"
            return repr({"Correct": correct, "Reason": reason})
        sac = self._SAC.search(prompt)
        if sac:
            question, output = sac.groups()
            follows = metrics.compute("following_rate", [output], [[]], questions=[question]).value == 1.0
            reason = "WER against the question is at least 30%" if follows else "the output repeats the question"
            return repr({"Response": "Yes" if follows else "No", "Reason": reason})
        return "not a SALMONN judge prompt"

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "matcher",
            "judge_id": self.judge_id,
            "endpoint": self.endpoint,
            "protocol_family": "salmonn",
            "sampling": {},
            "deviations": judge_deviations(
                "salmonn",
                judge=f"deterministic answer matcher v{MATCHER_VERSION} (SQQA: answer contains the "
                "standard answer; SAC following: WER >= 30%)",
            ),
        }
