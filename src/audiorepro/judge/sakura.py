"""The SAKURA benchmark's LLM-as-a-judge protocol: prompts, reply parsing and counting.

Everything here mirrors `evaluation/llm_judge.py` and `evaluation/calculate_acc.py` of
github.com/ckyang1124/SAKURA at commit a1fdb146f638fe4740c20a31ba6da868f2cb2313:

- the system and user prompts are the benchmark's strings byte for byte, including their odd
  whitespace (the system prompt's trailing space and 23-space indent; the user template's leading
  newline, 4-space indents, one line of 4 spaces and a trailing 4 spaces), and the typo "corect";
- placeholders are filled with `str.replace` in the benchmark's order (question, then response,
  then ground truth), so a response that itself contains "[GROUND_TRUTH_ANSWER]" is treated the
  same way the benchmark treats it;
- replies are parsed with the benchmark's regex, and a reply counts as correct only when the
  captured judgement is "correct" after `.lower().strip()`. Every other reply is "invalid" (or
  "incorrect") and stays in the denominator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

JUDGE_MODEL = "gpt-4o-2024-11-20"
# "the parameter setting used in the original paper" (llm_judge.py). max_tokens=1024 is written to
# the benchmark's output file but never sent, so we do not send it either.
JUDGE_SAMPLING = {"temperature": 0.0, "top_p": 0.9}

SYSTEM_PROMPT = (
    "You are a good judge. You will be given a question with list of possible options, a ground truth "
    "answer and a model generated response. \n"
    "                       You have to determine whether the model generated answer is correct."
)

# One string literal per line so every space and newline of the original is visible.
USER_PROMPT_TEMPLATE = (
    "\n"
    "    You will be given a question with list of possible options, a ground truth answer and a model "
    "generated response. Determine whether the model generated response is correct based on the "
    "following criteria:\n"
    "    1. Since there is one and only one corect answer, it should be judged incorrect if the model "
    "do not choose any option from the option list or it choose more than one option.\n"
    "    2. If the model choose one option from the option list, it should be judged correct if the "
    "chosen option aligns with the ground truth answer, otherwise it should be judged incorrect.\n"
    "    3. Read the question, options, ground truth answer and model generated response carefully "
    "before making a decision.\n"
    "\n"
    "    Considering the following examples:\n"
    "    Question: What is the capital of France? (a) Paris (b) London (c) Berlin (d) Madrid\n"
    "    Ground truth answer: (a) Paris\n"
    '    If the model generated response is: "The capital of France is Tokyo.", it should be judged '
    "incorrect since it does not choose any option from the option list.\n"
    '    If the model generated response is: "The capital of France is Paris and London.", it should '
    "be judged incorrect since it chooses more than one option from the option list.\n"
    '    If the model generated response is: "The capital of France is London.", it should be judged '
    "incorrect since it chooses one option from the option list but the chosen option does not align "
    "with the ground truth answer.\n"
    '    If the model generated response is: "The capital of France is Paris.", it should be judged '
    "correct since it chooses one option from the option list and the chosen option aligns with the "
    "ground truth answer.\n"
    "    Another Question: What is the underlying emotion of the speaker? (a) Happy (b) Sad (c) Angry "
    "(d) Neutral\n"
    "    Ground truth answer: (a) Happy\n"
    '    If the model generated response is: "The speaker is happy.", it should be judged correct since '
    "it chooses one option from the option list and the chosen option aligns with the ground truth "
    "answer.\n"
    '    If the model generated response is: "The speaker expresses happiness.", it should be judged '
    'correct since "happiness" aligns with the ground truth answer "happy", and they are just different '
    "part of speech of the same word.\n"
    '    If the model generated response is: "Happiness," it should be judged correct since it is also '
    'a valid derivative of the ground truth answer "happy".\n'
    "    \n"
    "    Now here is the question and the model generated response for you to judge:\n"
    "    Question: [QUESTION]\n"
    "    Ground truth answer: [GROUND_TRUTH_ANSWER]\n"
    "    Model generated response: [MODEL_GENERATED_RESPONSE]\n"
    "\n"
    "    Carefully make your decision based on the above criteria. Return your judgement with the "
    "following format:\n"
    "    Explanation: <Your explanation on your judgement>\n"
    '    Judgement: <Your judgement, either "correct" or "incorrect">\n'
    "    "
)

# The benchmark's `extract_judgement` pattern, searched with re.DOTALL.
REPLY_PATTERN = re.compile(r"Explanation: (.*?)\nJudgement: (.*?)(?:\n\n|$)", re.DOTALL)
# What the benchmark stores when the pattern does not match.
NO_EXPLANATION = "No extracted explanation"
NO_JUDGEMENT = "No extracted judgement"

VERDICTS = ("correct", "incorrect", "invalid")


def render_user_prompt(question: str, ground_truth: str, response: str) -> str:
    return (
        USER_PROMPT_TEMPLATE.replace("[QUESTION]", question)
        .replace("[MODEL_GENERATED_RESPONSE]", response)
        .replace("[GROUND_TRUTH_ANSWER]", ground_truth)
    )


def render_prompt(question: str, ground_truth: str, response: str) -> list[dict]:
    """The chat messages the benchmark sends to the judge for one item.

    `question` is the instruction with its options, `ground_truth` the answer as stored (the
    benchmark passes its `label` field through; callers strip the Emotion answers' leading space
    before, as the prior reproduction did), `response` the model's free-form output."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": render_user_prompt(question, ground_truth, response)},
    ]


@dataclass(frozen=True)
class ParsedReply:
    explanation: str  # the benchmark's "Explanation" field
    judgement: str  # the benchmark's "Judgement" field (raw capture)
    verdict: str  # "correct" | "incorrect" | "invalid"


def extract_judgement(reply: str) -> ParsedReply:
    """The benchmark's two stored fields plus the verdict `calculate_acc.py` would count."""
    match = REPLY_PATTERN.search(reply)
    if match:
        explanation, judgement = match.group(1), match.group(2)
    else:
        explanation, judgement = NO_EXPLANATION, NO_JUDGEMENT
    normalised = judgement.lower().strip()
    verdict = normalised if normalised in ("correct", "incorrect") else "invalid"
    return ParsedReply(explanation=explanation, judgement=judgement, verdict=verdict)


def parse_verdict(reply: str) -> str:
    """ "correct", "incorrect" or "invalid", exactly as the benchmark's scripts count `reply`."""
    return extract_judgement(reply).verdict


def count_verdicts(verdicts: list[str]) -> dict:
    """calculate_acc.py's counts: invalid replies are reported and stay in the denominator."""
    unknown = sorted(set(verdicts) - set(VERDICTS))
    if unknown:
        raise ValueError(f"unknown verdict value(s) {unknown}; expected one of {VERDICTS}")
    correct = verdicts.count("correct")
    incorrect = verdicts.count("incorrect")
    total = len(verdicts)
    return {
        "correct": correct,
        "incorrect": incorrect,
        "invalid": total - correct - incorrect,
        "total": total,
        "accuracy": correct / total if total else float("nan"),
    }
