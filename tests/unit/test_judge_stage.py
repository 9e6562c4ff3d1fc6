"""`audiorepro judge` on a hand-made run folder: import mode, agreement with the matcher, missing
verdicts and the no-judge message."""

from __future__ import annotations

import json

import pytest

from audiorepro.cli import main
from audiorepro.jsonl import read_jsonl, write_jsonl
from audiorepro.judge.cache import messages_sha256
from audiorepro.judge.sakura import render_prompt

TASK = "sakura-gender-single"
QUESTION = "Please identify the gender of the speaker. (a) Female (b) Male"
# (model output, reply the shipped verdict file holds)
ITEMS = [
    ("(a) Female", "Explanation: picks Female\nJudgement: correct"),
    ("Male", "Explanation: picks Male\nJudgement: incorrect"),
    ("Female, I think", "Explanation: picks Female\nJudgement: correct"),
    ("It is a woman", "Explanation: a woman is female\nJudgement: correct"),  # the matcher cannot read this
]


@pytest.fixture
def run_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOREPRO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("AUDIOREPRO_CACHE", str(tmp_path / "cache"))
    task_dir = tmp_path / "runs" / "sakura" / TASK
    examples, predictions, verdicts = [], [], []
    for i, (output, reply) in enumerate(ITEMS):
        item_id = f"gender/clip{i}.wav/single"
        examples.append(
            {
                "id": item_id,
                "task": TASK,
                "audio": None,
                "prompt": QUESTION,
                "references": ["(a) Female"],
                "meta": {"question": QUESTION},
            }
        )
        predictions.append(
            {
                "id": item_id,
                "output": output,
                "raw_output": output,
                "n_tokens": 3,
                "finish_reason": "eos",
                "seconds": 0.1,
            }
        )
        sha = messages_sha256(render_prompt(QUESTION, "(a) Female", output))
        verdicts.append(
            {
                "judge_id": "gpt-4o-2024-11-20",
                "endpoint": "https://api.openai.com/v1",
                "prompt_sha256": sha,
                "sampling": {"temperature": 0.0, "top_p": 0.9},
                "raw_reply": reply,
            }
        )
    write_jsonl(task_dir / "examples.jsonl", examples)
    write_jsonl(task_dir / "m" / "predictions.jsonl", predictions)
    write_jsonl(tmp_path / "shipped.jsonl", verdicts)
    return tmp_path


def test_import_and_agreement_with_matcher(run_folder):
    rc = main(
        [
            "judge",
            "--suite",
            "sakura",
            "--tasks",
            TASK,
            "--models",
            "m",
            "--verdicts",
            str(run_folder / "shipped.jsonl"),
            "--agreement-with",
            "matcher",
        ]
    )
    assert rc == 0
    folder = run_folder / "runs" / "sakura" / TASK / "m"
    verdicts = read_jsonl(folder / "verdicts.jsonl")
    assert [v["verdict"] for v in verdicts] == ["correct", "incorrect", "correct", "correct"]
    assert {v["judge_id"] for v in verdicts} == {"gpt-4o-2024-11-20"}
    meta = json.loads((folder / "judge_meta.json").read_text())
    assert meta["judge"]["kind"] == "import" and meta["judge"]["deviations"] == []
    assert meta["counts"] == {"correct": 3, "incorrect": 1, "invalid": 0, "total": 4, "accuracy": 0.75}
    agreement = json.loads((folder / "judge_agreement.json").read_text())
    # the matcher says correct, incorrect, correct, incorrect: 3 of 4 agree;
    # p_e = 0.75*0.5 + 0.25*0.5 = 0.5, kappa = (0.75 - 0.5) / 0.5 = 0.5
    assert agreement["percent_agreement"] == pytest.approx(75.0)
    assert agreement["cohens_kappa"] == pytest.approx(0.5)
    assert agreement["disagreements"] == ["gender/clip3.wav/single"]


def test_import_with_a_missing_verdict_names_the_items(run_folder, capsys):
    shipped = read_jsonl(run_folder / "shipped.jsonl")
    write_jsonl(run_folder / "partial.jsonl", shipped[:3])
    rc = main(
        [
            "judge",
            "--suite",
            "sakura",
            "--tasks",
            TASK,
            "--models",
            "m",
            "--verdicts",
            str(run_folder / "partial.jsonl"),
        ]
    )
    assert rc != 0
    err = capsys.readouterr().err
    assert "no verdict for 1 of 4" in err and "gender/clip3.wav/single" in err


def test_no_judge_names_the_options(run_folder, capsys):
    rc = main(["judge", "--suite", "sakura", "--tasks", TASK, "--models", "m"])
    assert rc != 0
    err = capsys.readouterr().err
    for option in ("--judge api", "--judge local", "--judge matcher", "--verdicts"):
        assert option in err


def test_import_refuses_two_judges_for_one_prompt(run_folder, capsys):
    shipped = read_jsonl(run_folder / "shipped.jsonl")
    other = dict(shipped[0], judge_id="option-matcher-v1", sampling={})
    write_jsonl(run_folder / "mixed.jsonl", [*shipped, other])
    rc = main(
        [
            "judge",
            "--suite",
            "sakura",
            "--tasks",
            TASK,
            "--models",
            "m",
            "--verdicts",
            str(run_folder / "mixed.jsonl"),
        ]
    )
    assert rc != 0
    assert "two judges answer the same prompt" in capsys.readouterr().err
