"""The SALMONN paper's GPT-3.5 judge protocol (SQQA accuracy, SAC accuracy and following rate):
prompts byte for byte against the published text (tests/fixtures/salmonn_judge, see SOURCE.md),
reply parsing, invalid replies counted, and scoring with and without verdicts."""

from __future__ import annotations

import pytest

from audiorepro.jsonl import read_json, read_jsonl, write_jsonl
from audiorepro.judge.base import Judge
from audiorepro.judge.protocols import PROTOCOLS
from audiorepro.judge.salmonn import (
    SAC_ACCURACY_PROMPT,
    SAC_FOLLOWING_PROMPT,
    SQQA_PROMPT,
    parse_sac_reply,
    parse_sqqa_reply,
    render_sac_accuracy,
    render_sac_following,
    render_sqqa,
)
from audiorepro.judge.salmonn_judges import SalmonnAPIJudge, SalmonnMatcherJudge
from audiorepro.judge.stage import judge_meta, judge_predictions
from audiorepro.records import Example, Prediction


@pytest.fixture(scope="module")
def published(fixtures_dir):
    folder = fixtures_dir / "salmonn_judge"
    return {name: (folder / f"{name}.txt").read_bytes().decode("utf-8") for name in ("sqqa_accuracy", "sac_following", "sac_accuracy")}


def test_templates_are_the_published_text(published):
    assert SQQA_PROMPT.encode() == published["sqqa_accuracy"].encode()
    assert SAC_FOLLOWING_PROMPT.encode() == published["sac_following"].encode()
    assert SAC_ACCURACY_PROMPT.encode() == published["sac_accuracy"].encode()


def test_sqqa_prompt_is_the_paper_text_with_the_dictionary(published):
    # the dictionary written by hand, as Python prints it: an apostrophe switches to double quotes
    sentence = (
        "{'Question': 'who wrote hamlet', 'Standard Answer': 'Hamlet is a tragedy by William Shakespeare.', "
        "'My Answer': \"It's William Shakespeare.\"}"
    )
    expected = published["sqqa_accuracy"].replace("SENTENCEHERE", sentence)
    rendered = render_sqqa("who wrote hamlet", "Hamlet is a tragedy by William Shakespeare.", "It's William Shakespeare.")
    assert rendered.encode("utf-8") == expected.encode("utf-8")
    assert "SENTENCEHERE" not in rendered


def test_sac_prompts_are_the_paper_text_with_the_fields(published):
    question, caption, output = "What animal is making that noise?", "A dog barks twice near a busy road.", "It is a dog <audio>."
    accuracy = published["sac_accuracy"].replace("<question>", question).replace("<audio>", caption).replace("<output>", output)
    following = published["sac_following"].replace("<question>", question).replace("<output>", output)
    assert render_sac_accuracy(question, caption, output).encode() == accuracy.encode()
    assert render_sac_following(question, output).encode() == following.encode()


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ('{"Correct": True, "Reason": "matches the standard answer"}', "correct"),
        ("{'Correct': False, 'Reason': 'wrong person'}", "incorrect"),
        ('Your response is: {"Correct": true, "Reason": "json style"}', "correct"),
        ('```python\n{"Correct": False, "Reason": "no"}\n```', "incorrect"),
        ('{"Correct": "True", "Reason": "a string, not the format"}', "invalid"),
        ('{"Reason": "no verdict key"}', "invalid"),
        ("Correct: True", "invalid"),
        ("{'Correct': False, 'Reason': 'the model's answer'}", "invalid"),  # not a readable literal
        ("", "invalid"),
    ],
)
def test_sqqa_reply_parsing(reply, verdict):
    assert parse_sqqa_reply(reply).verdict == verdict


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ('{"Response": "Yes", "Reason": "answers the question"}', "correct"),
        ("{'Response': 'No', 'Reason': 'only describes the audio'}", "incorrect"),
        ('{"Response": " yes ", "Reason": "case and spaces"}', "correct"),
        ('{"Response": "Yes/No", "Reason": "the template itself"}', "invalid"),
        ('{"Response": true}', "invalid"),
        ("Yes, it answers.", "invalid"),
    ],
)
def test_sac_reply_parsing(reply, verdict):
    assert parse_sac_reply(reply).verdict == verdict


def test_sqqa_reason_is_kept():
    parsed = parse_sqqa_reply("{'Correct': False, 'Reason': 'names another author'}")
    assert parsed.explanation == "names another author" and parsed.judgement == "False"


class ScriptedJudge(Judge):
    """Replies from a list, in request order; records the prompts it saw."""

    judge_id = "scripted"

    def __init__(self, replies):
        self.replies = list(replies)
        self.seen = []

    def complete(self, messages):
        self.seen.append(messages)
        return self.replies.pop(0)


def _sqqa_items():
    rows = [
        ("who wrote hamlet", ["Hamlet is a tragedy by William Shakespeare."], "William Shakespeare wrote Hamlet."),
        ("what is the capital of peru", ["Lima is the capital of Peru."], "The capital is Cusco."),
        ("how tall is everest", ["Everest is 8,849 metres high."], "how tall is everest"),
    ]
    examples = [
        Example(id=f"q{i}", task="sqqa-wikiqa", audio=None, prompt="Please answer the question in detail.", references=refs, meta={"question_text": q})
        for i, (q, refs, _) in enumerate(rows)
    ]
    predictions = [Prediction(id=f"q{i}", output=a, raw_output=a, n_tokens=5, finish_reason="eos", seconds=0.1) for i, (*_, a) in enumerate(rows)]
    return examples, predictions


def test_unparseable_replies_stay_in_the_denominator(tmp_path):
    examples, predictions = _sqqa_items()
    judge = ScriptedJudge(['{"Correct": True, "Reason": "ok"}', "{'Correct': False, 'Reason': 'no'}", "I think it is right."])
    records = judge_predictions(examples, predictions, judge, cache=tmp_path / "c.sqlite", protocol_name="salmonn-sqqa")
    assert [r["verdict"] for r in records] == ["correct", "incorrect", "invalid"]
    assert all(r["protocol"] == "salmonn-sqqa" for r in records)
    # the judge saw one user message: the paper's prompt with this item's dictionary
    assert judge.seen[0] == [{"role": "user", "content": render_sqqa("who wrote hamlet", "Hamlet is a tragedy by William Shakespeare.", "William Shakespeare wrote Hamlet.")}]
    meta = judge_meta(judge, records, family="salmonn")
    assert meta["counts"] == {"correct": 1, "incorrect": 1, "invalid": 1, "total": 3, "accuracy": pytest.approx(1 / 3)}


def test_matcher_replies_in_the_paper_format(tmp_path):
    examples, predictions = _sqqa_items()
    records = judge_predictions(examples, predictions, SalmonnMatcherJudge(), cache=tmp_path / "c.sqlite", protocol_name="salmonn-sqqa")
    # q0 names the whole reference sentence's content only partly: the containment rule says no;
    # q1 is wrong; q2 repeats the question
    assert [r["verdict"] for r in records] == ["incorrect", "incorrect", "incorrect"]
    exact = [Prediction(id="q0", output="Hamlet is a tragedy by William Shakespeare.", raw_output="", n_tokens=1, finish_reason="eos", seconds=0)]
    records = judge_predictions(examples[:1], exact, SalmonnMatcherJudge(), cache=tmp_path / "c.sqlite", protocol_name="salmonn-sqqa")
    assert records[0]["verdict"] == "correct" and records[0]["raw_reply"].startswith("{'Correct': True")


def test_matcher_refuses_sac_accuracy():
    from audiorepro.errors import AudioreproError

    prompt = [{"role": "user", "content": render_sac_accuracy("q?", "a dog barks", "a dog")}]
    with pytest.raises(AudioreproError, match="cannot judge SAC accuracy"):
        SalmonnMatcherJudge().complete(prompt)


def test_api_judge_records_snapshot_and_temperature_as_deviations(monkeypatch):
    pytest.importorskip("openai")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-not-used")
    judge = SalmonnAPIJudge()
    assert judge.model == "gpt-3.5-turbo-0125" and judge.sampling == {"temperature": 0.0}
    names = {d["name"] for d in judge.describe()["deviations"]}
    assert names == {"judge_snapshot", "judge_temperature"}


def _sqqa_run(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOREPRO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("AUDIOREPRO_CACHE", str(tmp_path / "cache"))
    examples, predictions = _sqqa_items()
    folder = tmp_path / "runs" / "table3" / "sqqa-wikiqa"
    write_jsonl(folder / "examples.jsonl", [e.to_dict() for e in examples])
    write_jsonl(folder / "m" / "predictions.jsonl", [p.to_dict() for p in predictions])
    return folder


def test_sqqa_without_a_judge_is_not_computed(tmp_path, monkeypatch):
    from audiorepro.score import score_task
    from audiorepro.tasks import load_task

    folder = _sqqa_run(tmp_path, monkeypatch)
    scores = read_json(score_task(load_task("sqqa-wikiqa"), "m"))
    accuracy = scores["metrics"]["accuracy"]
    assert accuracy["status"] == "not_computable" and accuracy["value"] is None
    assert accuracy["reason"].startswith("not computed: needs a judge")
    # the judge-free containment score is there, under its own name, and the following rate too
    assert scores["metrics"]["qa_containment"]["value"] == 0.0
    assert scores["metrics"]["following_rate"]["value"] == pytest.approx(2 / 3)
    assert not (folder / "m" / "verdicts.jsonl").exists()
    assert scores["provenance"]["item_set"]["n_items"] == 3
    # the compare stage shows the cell as not computable with that reason, not as a number
    from audiorepro.compare import load_run_results
    from audiorepro.expected import load_expected

    cell = load_run_results("table3", load_expected("table3"), tmp_path / "runs").models["m"].cells["sqqa-wikiqa/accuracy"]
    assert cell.status == "not_computable" and cell.value is None and "needs a judge" in cell.reason


def test_sqqa_with_a_judge_counts_invalid_replies(tmp_path, monkeypatch):
    from audiorepro.judge.stage import judge_task
    from audiorepro.score import score_task
    from audiorepro.tasks import load_task

    _sqqa_run(tmp_path, monkeypatch)
    task = load_task("sqqa-wikiqa")
    judge = ScriptedJudge(['{"Correct": True, "Reason": "ok"}', "{'Correct': False, 'Reason': 'no'}", "unsure"])
    judge_task(task, "m", judge=judge, cache=tmp_path / "c.sqlite")
    scores = read_json(score_task(task, "m"))
    accuracy = scores["metrics"]["accuracy"]
    assert accuracy["value"] == pytest.approx(1 / 3) and accuracy["n"] == 3
    assert accuracy["details"]["invalid"] == 1 and accuracy["details"]["protocol"] == "salmonn-sqqa"


def test_sac_asks_both_prompts_and_scores_both_numbers(tmp_path, monkeypatch):
    from audiorepro.judge.stage import judge_task
    from audiorepro.score import score_task
    from audiorepro.tasks import load_task

    monkeypatch.setenv("AUDIOREPRO_RUNS", str(tmp_path / "runs"))
    folder = tmp_path / "runs" / "table3" / "sac-inhouse"
    meta = {"question_text": "What animal do you hear?", "background_caption": "A dog barks."}
    write_jsonl(folder / "examples.jsonl", [{"id": f"s{i}", "task": "sac-inhouse", "audio": None, "prompt": "p", "references": [], "meta": meta} for i in range(2)])
    outs = ["A dog.", "There is a dog barking and a man talking."]
    write_jsonl(folder / "m" / "predictions.jsonl", [Prediction(id=f"s{i}", output=o, raw_output=o, n_tokens=2, finish_reason="eos", seconds=0).to_dict() for i, o in enumerate(outs)])
    # accuracy replies first (both items), then following
    judge = ScriptedJudge(['{"Response": "Yes"}', '{"Response": "No"}', '{"Response": "Yes"}', '{"Response": "Yes"}'])
    task = load_task("sac-inhouse")
    judge_task(task, "m", judge=judge, cache=tmp_path / "c.sqlite")
    assert "Background Audio: A dog barks." in judge.seen[0][0]["content"]
    assert "Background Audio" not in judge.seen[2][0]["content"]
    records = read_jsonl(folder / "m" / "verdicts.jsonl")
    assert sorted((r["protocol"], r["id"]) for r in records) == [
        ("salmonn-sac-accuracy", "s0"), ("salmonn-sac-accuracy", "s1"), ("salmonn-sac-following", "s0"), ("salmonn-sac-following", "s1")
    ]
    scores = read_json(score_task(task, "m"))
    assert scores["metrics"]["accuracy"]["value"] == 0.5
    assert scores["metrics"]["following_rate"]["value"] == 1.0


def test_every_salmonn_protocol_is_registered():
    assert {"salmonn-sqqa", "salmonn-sac-accuracy", "salmonn-sac-following"} <= set(PROTOCOLS)


def test_a_run_builds_one_judge_per_family():
    """`audiorepro run --judge matcher`: SAKURA tasks get the option matcher, SALMONN tasks the
    answer matcher, each built once."""
    from audiorepro.judge.matcher import OptionMatcherJudge
    from audiorepro.pipeline import RunOptions, _judge_for
    from audiorepro.tasks import load_task

    opts = RunOptions(suite="table3", judge={"kind": "matcher"})
    judges: dict = {}
    sqqa = _judge_for(load_task("sqqa-wikiqa"), opts, judges)
    assert isinstance(sqqa, SalmonnMatcherJudge) and _judge_for(load_task("sac-inhouse"), opts, judges) is sqqa
    assert isinstance(_judge_for(load_task("sakura-gender-single"), opts, judges), OptionMatcherJudge)
    assert _judge_for(load_task("sqqa-wikiqa"), RunOptions(suite="table3"), {}) is None
