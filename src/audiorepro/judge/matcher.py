"""A deterministic stand-in for the LLM judge (a named deviation: `--judge matcher`).

It applies the judge prompt's rules mechanically: find which options the response chooses; exactly
one chosen option that is the ground truth is "correct", anything else (none, several, a wrong
one) is "incorrect". An option counts as chosen when the response names its letter as "(b)" (or
is just the letter), or contains the option text, or, for one-word options, a word starting with
the option's stem ("happiness" for "happy", "fearful" for "fear"), which is the judge prompt's
"different part of speech of the same word" rule. It cannot read paraphrases ("a man" for
"Male"), so it scores free-form answers lower than GPT-4o does; its agreement with the LLM judge
is reported when both ran.

It replies in the judge's own "Explanation: ...\\nJudgement: ..." format, so verdicts go through
the same parser and cache as an LLM judge's."""

from __future__ import annotations

import re
from typing import Any

from ..prepare.sakura import answer_letter, parse_options
from .base import Judge
from .deviations import judge_deviations

MATCHER_VERSION = "1"


def _stem(word: str) -> str:
    # "happy" -> "happ" (happiness, happily); "angry" -> "angr" (angrily); short words stay whole
    return word[:-1] if len(word) > 4 and word.endswith("y") else word


def chosen_options(response: str, options: dict[str, str]) -> set[str]:
    """Letters of the options a free-form response picks."""
    text = response.strip()
    lowered = text.lower()
    chosen = {letter for letter in re.findall(r"\(([a-z])\)", lowered) if letter in options}
    bare = re.fullmatch(r"\(?([a-z])[).:]?", lowered)
    if bare and bare.group(1) in options:
        chosen.add(bare.group(1))
    for letter, option in options.items():
        option_l = option.lower().strip().rstrip(".")
        if not option_l:
            continue
        if " " in option_l:
            pattern = r"(?<!\w)" + re.escape(option_l) + r"(?!\w)"
        else:
            pattern = r"(?<!\w)" + re.escape(_stem(option_l)) + r"\w*"
        if re.search(pattern, lowered):
            chosen.add(letter)
    return chosen


def match_verdict(question: str, ground_truth: str, response: str) -> tuple[str, str]:
    """(verdict, explanation) for one item."""
    options = parse_options(question)
    truth = answer_letter(ground_truth)
    if not options or truth not in options:
        return "incorrect", "the question's options or the ground truth letter could not be read"
    chosen = sorted(chosen_options(response, options))
    if not chosen:
        return "incorrect", "the response chooses no option from the option list"
    if len(chosen) > 1:
        return "incorrect", f"the response chooses more than one option ({', '.join(chosen)})"
    if chosen[0] == truth:
        return "correct", f"the response chooses option ({truth}), the ground truth"
    return "incorrect", f"the response chooses option ({chosen[0]}), the ground truth is ({truth})"


class OptionMatcherJudge(Judge):
    """Reads the question, ground truth and response back out of the rendered judge prompt, so it
    plugs into the same render -> cache -> parse path as the LLM judges."""

    judge_id = f"option-matcher-v{MATCHER_VERSION}"
    endpoint = "builtin"
    sampling: dict[str, Any] = {}
    concurrency = 1

    _FIELDS = re.compile(
        r"for you to judge:\n    Question: (.*?)\n    Ground truth answer: (.*?)\n    Model generated response: "
        r"(.*)\n\n    Carefully make your decision",
        re.DOTALL,
    )

    def complete(self, messages: list[dict]) -> str:
        user = next(m["content"] for m in messages if m["role"] == "user")
        found = self._FIELDS.search(user)
        if found is None:
            return "Explanation: the prompt is not a SAKURA judge prompt\nJudgement: invalid"
        question, ground_truth, response = found.groups()
        verdict, explanation = match_verdict(question, ground_truth, response)
        return f"Explanation: {explanation}\nJudgement: {verdict}"

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "matcher",
            "judge_id": self.judge_id,
            "endpoint": self.endpoint,
            "sampling": {},
            "deviations": judge_deviations(
                "sakura",
                judge=f"deterministic option matcher v{MATCHER_VERSION} (letters, option text, word stems)",
            ),
        }
