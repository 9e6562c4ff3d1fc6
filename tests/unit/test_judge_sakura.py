"""The SAKURA judge protocol: prompts byte-identical to the benchmark's llm_judge.py, replies
counted as its calculate_acc.py counts them. Expected values come from the benchmark's files
(the snapshot, built from llm_judge.py itself; see snapshots/make_snapshots.py), the documented
template length, and hand-worked regex cases."""

import json

import pytest

from audiorepro.judge.sakura import (
    SYSTEM_PROMPT,
    USER_PROMPT_TEMPLATE,
    count_verdicts,
    extract_judgement,
    parse_verdict,
    render_prompt,
)

SNAPSHOTS = "sakura/snapshots/judge_prompts.jsonl"


def test_template_lengths_and_whitespace_match_the_benchmark():
    # sakura.md: 2806 characters including the leading newline and the 4-space indents
    assert len(USER_PROMPT_TEMPLATE) == 2806
    assert USER_PROMPT_TEMPLATE.startswith("\n    You will be given a question with list of possible options")
    assert USER_PROMPT_TEMPLATE.endswith(
        '\n    Judgement: <Your judgement, either "correct" or "incorrect">\n    '
    )
    assert "one and only one corect answer" in USER_PROMPT_TEMPLATE  # the original's typo
    assert '"happy".\n    \n    Now here is' in USER_PROMPT_TEMPLATE  # the one line of 4 spaces
    # the system prompt's first line ends with a space, the second starts with 23 spaces
    first, second = SYSTEM_PROMPT.split("\n")
    assert first.endswith("model generated response. ")
    assert second == " " * 23 + "You have to determine whether the model generated answer is correct."


def test_render_prompt_for_one_row_by_hand():
    question = "Please identify the gender of the speaker. (a) Female (b) Male"
    messages = render_prompt(question, "(a) Female", "The speaker is a woman.")
    assert [m["role"] for m in messages] == ["system", "user"]
    expected_tail = (
        "\n    Now here is the question and the model generated response for you to judge:\n"
        "    Question: Please identify the gender of the speaker. (a) Female (b) Male\n"
        "    Ground truth answer: (a) Female\n"
        "    Model generated response: The speaker is a woman.\n"
        "\n"
        "    Carefully make your decision based on the above criteria. Return your judgement with the following format:\n"
        "    Explanation: <Your explanation on your judgement>\n"
        '    Judgement: <Your judgement, either "correct" or "incorrect">\n'
        "    "
    )
    user = messages[1]["content"]
    assert user.endswith(expected_tail)
    assert len(user) == 2806 - len("[QUESTION][GROUND_TRUTH_ANSWER][MODEL_GENERATED_RESPONSE]") + len(
        question + "(a) Female" + "The speaker is a woman."
    )


def test_placeholders_are_replaced_in_the_benchmarks_order():
    # llm_judge.py replaces QUESTION, then MODEL_GENERATED_RESPONSE, then GROUND_TRUTH_ANSWER: a
    # response containing the ground-truth placeholder therefore gets it filled in.
    user = render_prompt("Q? (a) x (b) y", "(a) x", "[GROUND_TRUTH_ANSWER]")[1]["content"]
    assert "Model generated response: (a) x\n" in user


def test_prompts_for_all_fixture_rows_equal_the_snapshot(fixtures_dir):
    rows = [json.loads(line) for line in (fixtures_dir / SNAPSHOTS).read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 48
    for row in rows:
        assert render_prompt(row["question"], row["ground_truth"], row["response"]) == row["messages"], row[
            "id"
        ]


@pytest.mark.parametrize(
    "reply, verdict",
    [
        ("Explanation: The response picks (a).\nJudgement: correct", "correct"),
        ("Explanation: Wrong option.\nJudgement: incorrect", "incorrect"),
        ("Explanation: ok\nJudgement: Correct", "correct"),  # lower()
        ("Explanation: ok\nJudgement:  CORRECT \n", "correct"),  # strip(); $ matches before the last \n
        ("Explanation: ok\nJudgement: incorrect\n\nSome trailing remark.", "incorrect"),  # stops at \n\n
        ("Explanation: line one\n\nline two\nJudgement: correct", "correct"),  # DOTALL explanation
        ("Explanation: ok\nJudgement: correct.", "invalid"),  # the period survives strip()
        ("Explanation: ok\nJudgement: correct\nBecause (a).", "invalid"),  # runs to the end of the text
        ('Explanation: ok\nJudgement: "correct"', "invalid"),  # quotes break the comparison
        ("Explanation: ok\nJudgement: **correct**", "invalid"),  # markdown bold around the word
        ("**Explanation:** ok\n**Judgement:** correct", "invalid"),  # markdown bold labels: no match
        ("The response is correct.", "invalid"),  # no "Judgement:" at all
        ("Judgement: correct", "invalid"),  # no Explanation
        ("Explanation: ok\nJudgement: partially correct", "invalid"),
        ("", "invalid"),
    ],
)
def test_parse_verdict_follows_the_benchmark_regex(reply, verdict):
    assert parse_verdict(reply) == verdict


def test_unmatched_reply_gets_the_benchmarks_placeholder_fields():
    parsed = extract_judgement("I cannot decide.")
    assert (parsed.explanation, parsed.judgement, parsed.verdict) == (
        "No extracted explanation",
        "No extracted judgement",
        "invalid",
    )


def test_invalid_replies_stay_in_the_denominator():
    counts = count_verdicts(["correct", "correct", "incorrect", "invalid"])
    assert counts == {"correct": 2, "incorrect": 1, "invalid": 1, "total": 4, "accuracy": 0.5}
    with pytest.raises(ValueError, match="unknown verdict"):
        count_verdicts(["correct", "maybe"])


def test_judge_stage_prompts_for_prepared_fixture_items_equal_the_snapshot(fixtures_dir):
    from audiorepro.judge.stage import render_item
    from audiorepro.manifests import load_manifest
    from audiorepro.prepare import build_examples
    from audiorepro.prepare.sakura import prepare_sakura
    from audiorepro.records import Prediction
    from audiorepro.tasks import list_tasks

    rows = {
        r["id"]: r
        for r in map(json.loads, (fixtures_dir / SNAPSHOTS).read_text(encoding="utf-8").splitlines())
    }
    checked = 0
    for suite, dataset in (("sakura", "sakura-fixture"), ("sakura-text", "sakura-text-fixture")):
        manifest = load_manifest(dataset)
        items = list(prepare_sakura(manifest, **manifest.prepare_options))
        for task in list_tasks(suite):
            for example in build_examples(task, items, source=dataset):
                row = rows[example.id]
                prediction = Prediction(example.id, row["response"], row["response"], 1, "eos", 0.0)
                assert render_item(example, prediction) == row["messages"], (task.name, example.id)
                checked += 1
    assert checked == 96  # 48 questions, audio and caption variants
