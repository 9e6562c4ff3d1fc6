"""The SALMONN paper's own GPT-3.5 judge protocol for SQQA accuracy and SAC (accuracy and
following rate), beside SAKURA's (judge/sakura.py).

The prompts are the paper's text byte for byte (ICLR 2024 version, Appendix E, Table 6, and the
two SAC prompts of Appendix C): SQQA's `SENTENCEHERE` becomes the Python dictionary
`{'Question': ..., 'Standard Answer': ..., 'My Answer': ...}` the prompt itself describes (Python's
own `repr`, the form the prompt shows); SAC's `<question>`, `<audio>` (the background caption) and
`<output>` are filled with `str.replace`, the model output last so its text is never re-filled.

The paper asks for a reply "in the python dictionary format" (`{"Correct": True / False, ...}`,
`{"Response": "Yes/No", ...}`). A reply is read as a Python literal (`ast.literal_eval`) or JSON,
never by pattern matching; a reply that is neither, lacks the key, or holds another value is
"invalid" and stays in the denominator, as for SAKURA.

What the paper does not give (the GPT-3.5 snapshot, the temperature, whether the prompt went as a
user or system message) is chosen here and recorded as named deviations: the default snapshot is
`gpt-3.5-turbo-0125`, temperature 0, the prompt sent as one user message."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from typing import Any

from .sakura import ParsedReply

JUDGE_MODEL = "gpt-3.5-turbo-0125"
JUDGE_SAMPLING = {"temperature": 0.0}
PAPER_JUDGE = "GPT-3.5 (snapshot, temperature and message roles not stated in the paper)"

SQQA_PROMPT = (
    "Next I will give you a question and give you the corresponding standard answer and the answer I "
    "said. You need to judge whether my answer is correct or not based on the standard answer to the "
    "question. I will give you the question and the corresponding answer in the following form: "
    "{'Question': 'xxx', 'Standard Answer': 'xxx', 'My Answer': 'xxx'} \n"
    " You need to judge the correctness of my answer, as well as state a short justification. Your "
    "responses need to follow the python dictionary format: \n"
    ' {"Correct": True / False, "Reason": "xxx"} \n'
    " Now, I will give you the following question and answer: SENTENCEHERE \n"
    " Your response is:"
)

SAC_FOLLOWING_PROMPT = (
    "There is an audio clip, and there is a person in the audio asking questions. I now have an AI "
    "model that needs to go and answer the speaker's question based on the background audio. I'll "
    "tell you the question the speaker is asking and the output of my AI model, and what you need to "
    "determine: whether my AI model is trying to answer the question and why. You need to be "
    "especially careful that my model may just be describing the audio without hearing your question "
    "and answering it. You don't need to care about the correctness of the answer. All you need to "
    "focus on is whether the model is trying to answer the question. Your response needs to follow "
    'the format of the python dictionary: {"Response": "Yes/No", "Reason": "xxx"}.\n'
    " Question in audio: <question> \n"
    " Model Output: <output> \n"
    " Your Response:"
)

SAC_ACCURACY_PROMPT = (
    "There is an audio clip, and there is a person in the audio asking questions. I now have an AI "
    "model that needs to go and answer the speaker's question based on the background audio. I'll "
    "tell you the question asked by the speaker, some description of the background audio, and the "
    "output of my AI model, and you need to decide whether my AI model answered it correctly, and "
    "why. Your response needs to follow the format of the python dictionary: "
    '{"Response": "Yes/No", "Reason": "xxx"}.\n'
    " Question in audio: <question> \n"
    " Background Audio: <audio> \n"
    " Model Output: <output> \n"
    " Your Response:"
)


def sqqa_sentence(question: str, standard_answer: str, my_answer: str) -> str:
    """The dictionary that replaces SENTENCEHERE, written as Python writes it."""
    return repr({"Question": question, "Standard Answer": standard_answer, "My Answer": my_answer})


def render_sqqa(question: str, standard_answer: str, my_answer: str) -> str:
    return SQQA_PROMPT.replace("SENTENCEHERE", sqqa_sentence(question, standard_answer, my_answer))


def render_sac_following(question: str, output: str) -> str:
    return SAC_FOLLOWING_PROMPT.replace("<question>", question).replace("<output>", output)


def render_sac_accuracy(question: str, background: str, output: str) -> str:
    return (
        SAC_ACCURACY_PROMPT.replace("<question>", question)
        .replace("<audio>", background)
        .replace("<output>", output)
    )


def as_messages(prompt: str) -> list[dict]:
    return [{"role": "user", "content": prompt}]


def read_reply_dict(reply: str) -> dict | None:
    """The dictionary in a judge reply: the text from the first "{" to the last "}" read as a
    Python literal, else as JSON (lower-case true/false). None when it is neither."""
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end < start:
        return None
    text = reply[start : end + 1]
    for read in (ast.literal_eval, json.loads):
        try:
            value = read(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
    return None


def _parsed(reply: str, key: str, decide: Callable[[Any], str | None]) -> ParsedReply:
    found = read_reply_dict(reply)
    if found is None:
        return ParsedReply(explanation="no python dictionary in the reply", judgement="", verdict="invalid")
    reason = found.get("Reason")
    explanation = reason if isinstance(reason, str) else ""
    if key not in found:
        return ParsedReply(explanation=explanation, judgement="", verdict="invalid")
    value = found[key]
    return ParsedReply(explanation=explanation, judgement=str(value), verdict=decide(value) or "invalid")


def _correct_flag(value: Any) -> str | None:
    # only the booleans the prompt asks for; "True" as a string is not the format
    if value is True:
        return "correct"
    if value is False:
        return "incorrect"
    return None


def _yes_no(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return {"yes": "correct", "no": "incorrect"}.get(value.strip().lower())


def parse_sqqa_reply(reply: str) -> ParsedReply:
    """`{"Correct": True|False, "Reason": ...}` -> correct / incorrect; anything else invalid."""
    return _parsed(reply, "Correct", _correct_flag)


def parse_sac_reply(reply: str) -> ParsedReply:
    """`{"Response": "Yes"|"No", "Reason": ...}` -> correct / incorrect (for the following prompt:
    follows / does not follow); case and surrounding spaces of Yes/No are ignored."""
    return _parsed(reply, "Response", _yes_no)

