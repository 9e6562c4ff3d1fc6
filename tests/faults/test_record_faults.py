"""Fault table, record rows: `score` never trusts verdicts or predictions blindly, and `predict`
never resumes over a damaged predictions file (docs/faults.md)."""

from __future__ import annotations

import json

import pytest
from fault_support import (
    SAKURA_TASK,
    asr_examples,
    prediction,
    run_cli,
    sakura_run,
    tone,
    write_jsonl,
    write_wav,
)

OUTPUTS = {"a1": "(a) Female", "a2": "(b) Male"}  # ground truth (a): one right, one wrong
SELECT = ("--suite", "sakura", "--tasks", SAKURA_TASK, "--models", "m")


def _judged(workspace, capsys):
    folder = sakura_run(workspace / "runs", OUTPUTS)
    assert run_cli(capsys, "judge", *SELECT, "--judge", "matcher").rc == 0
    return folder


def test_score_refuses_verdicts_for_answers_that_changed_since_judging(workspace, capsys):
    folder = _judged(workspace, capsys)
    write_jsonl(folder / "predictions.jsonl", [prediction("a1", "(a) Female"), prediction("a2", "(a) Female")])

    result = run_cli(capsys, "score", *SELECT)

    assert result.rc == 2
    assert result.error_line == (
        f"{folder / 'verdicts.jsonl'}: 1 of 2 verdicts were given for other answers than the predictions hold now "
        "(e.g. 'a2'); rerun `audiorepro judge` for these predictions"
    )
    assert not (folder / "scores.json").exists()


def test_score_refuses_duplicate_verdict_ids(workspace, capsys):
    """A copied 'correct' line would move the accuracy from 0.5 to 1.0."""
    folder = _judged(workspace, capsys)
    lines = (folder / "verdicts.jsonl").read_text().splitlines()
    correct = next(line for line in lines if json.loads(line)["verdict"] == "correct")
    wrong_id = next(json.loads(line)["id"] for line in lines if json.loads(line)["verdict"] != "correct")
    (folder / "verdicts.jsonl").write_text("\n".join([*lines, correct.replace('"a1"', f'"{wrong_id}"')]) + "\n")

    result = run_cli(capsys, "score", *SELECT)

    assert result.rc == 2
    assert result.error_line == (
        f"{folder / 'verdicts.jsonl'}: duplicate verdict id {wrong_id!r} (sakura) (records 2 and 3); rerun `audiorepro judge`"
    )
    assert not (folder / "scores.json").exists()


def test_predict_refuses_to_resume_over_duplicate_prediction_ids(workspace, capsys):
    runs = workspace / "runs"
    clip = write_wav(workspace / "audio" / "a.wav", tone(0.5))
    asr_examples(runs, {"a": clip, "b": clip, "c": clip})
    out = write_jsonl(runs / "demo" / "demo-asr" / "toy" / "predictions.jsonl", [prediction("a", "x"), prediction("a", "y")])
    before = out.read_bytes()

    result = run_cli(capsys, "predict", "--suite", "demo", "--tasks", "demo-asr", "--models", "toy", "--no-progress")

    assert result.rc == 2
    assert result.error_line == (
        f"{out}: duplicate prediction id 'a' (records 1 and 2); the file was edited or written by two "
        "processes at once. Delete one, or rerun predict with --restart"
    )
    assert out.read_bytes() == before  # nothing appended to a file in that state
    assert not (out.parent / "scores.json").exists()


def test_last_record_without_final_newline_is_scored_and_kept_by_resume(workspace, capsys):
    """A complete JSON object is a record with or without its newline; only a cut line is torn."""
    runs = workspace / "runs"
    clip = write_wav(workspace / "audio" / "a.wav", tone(0.5))
    asr_examples(runs, {"a": clip, "b": clip})
    out = write_jsonl(
        runs / "demo" / "demo-asr" / "toy" / "predictions.jsonl",
        [prediction("a", "a b"), prediction("b", "a c")],
        final_newline=False,
    )
    select = ("--suite", "demo", "--tasks", "demo-asr", "--models", "toy")

    assert run_cli(capsys, "score", *select).rc == 0
    scores = json.loads((out.parent / "scores.json").read_text())
    assert scores["n"] == 2 and scores["value"] == 25.0  # WER: 1 substitution in 4 reference words

    resumed = run_cli(capsys, "predict", *select, "--no-progress")
    assert resumed.rc == 0, resumed.err
    lines = out.read_text().splitlines(keepends=True)
    assert [json.loads(line)["id"] for line in lines] == ["a", "b"]  # kept, not predicted again
    assert lines[-1].endswith("\n")


def _asr_cell(workspace) -> dict:
    document = json.loads((workspace / "reports" / "demo" / "compare.json").read_text())
    cells = [c for cmp in document["comparisons"] if cmp["model"] == "cascade" for c in cmp["cells"]]
    return next(c for c in cells if c["task"] == "demo-asr")


def test_compare_does_not_take_a_scores_json_older_than_the_predictions_it_sits_beside(workspace, capsys):
    """Found on a fresh clone: a hand-edited predictions.jsonl made `score` (and `make demo`) fail,
    the old scores.json stayed, and `make compare SUITE=demo` turned the failed cell back into
    'reproduced' with the old WER. A scores.json made from other predictions is not a result."""
    runs = workspace / "runs"
    clip = write_wav(workspace / "audio" / "a.wav", tone(0.5))
    asr_examples(runs, {"a": clip, "b": clip})
    out = write_jsonl(runs / "demo" / "demo-asr" / "cascade" / "predictions.jsonl", [prediction("a", "a b"), prediction("b", "a b")])
    select = ("--suite", "demo", "--tasks", "demo-asr", "--models", "cascade")
    assert run_cli(capsys, "score", *select).rc == 0
    assert run_cli(capsys, "compare", "--suite", "demo").rc == 0
    assert _asr_cell(workspace)["ours"]["value"] == 0.0  # both transcripts right: 0% WER

    write_jsonl(out, [prediction("a", "a b"), prediction("b", "a b"), prediction("not-an-example", "a b")])
    assert run_cli(capsys, "score", *select).rc == 2  # the foreign id is refused ...
    result = run_cli(capsys, "compare", "--suite", "demo")  # ... and its old score is not taken

    assert result.rc == 0
    ours = _asr_cell(workspace)["ours"]
    assert ours["status"] == "failed" and ours["value"] is None
    assert ours["reason"] == (
        f"{out.parent / 'scores.json'}: made from other predictions than the run folder holds now; "
        "rerun `audiorepro score --suite demo --tasks demo-asr --models cascade`"
    )

    write_jsonl(out, [prediction("a", "a b"), prediction("b", "x y")])  # an edit, never rescored
    assert run_cli(capsys, "compare", "--suite", "demo").rc == 0
    assert _asr_cell(workspace)["ours"]["status"] == "failed"
    assert run_cli(capsys, "score", *select).rc == 0 and run_cli(capsys, "compare", "--suite", "demo").rc == 0
    assert _asr_cell(workspace)["ours"]["value"] == 50.0  # rescored: 2 substitutions in 4 words


def test_compare_does_not_take_a_judged_score_whose_verdicts_changed_since(workspace, capsys):
    """The rule above for the verdicts of a judged task: a verdicts.jsonl judged again (or edited)
    after scoring makes the old accuracy stale (found on the fresh-clone audit: only predictions and
    examples were checked)."""
    folder = sakura_run(workspace / "runs", OUTPUTS, run="qwen2-audio")  # a run the paper table has
    select = ("--suite", "sakura", "--tasks", SAKURA_TASK, "--models", "qwen2-audio")
    assert run_cli(capsys, "judge", *select, "--judge", "matcher").rc == 0
    assert run_cli(capsys, "score", *select).rc == 0
    assert run_cli(capsys, "compare", "--suite", "sakura").rc == 0

    def cell():
        document = json.loads((workspace / "reports" / "sakura" / "compare.json").read_text())
        cells = [c for cmp in document["comparisons"] if cmp["model"] == "qwen2-audio" for c in cmp["cells"]]
        return next(c for c in cells if c["task"] == SAKURA_TASK)["ours"]

    assert cell()["status"] == "ok" and cell()["value"] == 50.0
    verdicts = folder / "verdicts.jsonl"
    verdicts.write_text(verdicts.read_text().replace('"verdict": "incorrect"', '"verdict": "correct"'))

    assert run_cli(capsys, "compare", "--suite", "sakura").rc == 0
    assert cell()["status"] == "failed"
    assert cell()["reason"] == (
        f"{folder / 'scores.json'}: made from other verdicts than the run folder holds now; "
        f"rerun `audiorepro score --suite sakura --tasks {SAKURA_TASK} --models qwen2-audio`"
    )


def test_a_limit_smoke_run_is_resumed_by_the_full_run(workspace, capsys):
    """`--limit N` is for smoke runs; the full run after it must continue, not be refused as
    "other prompts" (the prompts' fingerprint used to cover only the first N examples)."""
    runs = workspace / "runs"
    clip = write_wav(workspace / "audio" / "a.wav", tone(0.5))
    asr_examples(runs, {"a": clip, "b": clip, "c": clip})
    select = ("--suite", "demo", "--tasks", "demo-asr", "--models", "toy", "--no-progress")
    assert run_cli(capsys, "predict", *select, "--limit", "1").rc == 0
    out = runs / "demo" / "demo-asr" / "toy" / "predictions.jsonl"
    first = out.read_text()

    full = run_cli(capsys, "predict", *select)

    assert full.rc == 0, full.err
    lines = out.read_text().splitlines(keepends=True)
    assert "".join(lines[:1]) == first  # the smoke run's prediction kept, not redone
    assert sorted(json.loads(line)["id"] for line in lines) == ["a", "b", "c"]


def test_a_resume_refusal_says_what_changed(workspace, capsys):
    """Found on the fresh-clone audit: editing examples.jsonl was refused as "another model
    (weights, options or wrapper version), decoding or prompts", which sent the user after the
    model. The message now says which of the three moved."""
    runs = workspace / "runs"
    clip = write_wav(workspace / "audio" / "a.wav", tone(0.5))
    asr_examples(runs, {"a": clip, "b": clip})
    select = ("--suite", "demo", "--tasks", "demo-asr", "--models", "toy", "--no-progress")
    assert run_cli(capsys, "predict", *select, "--limit", "1").rc == 0
    folder = runs / "demo" / "demo-asr" / "toy"

    other_decoding = run_cli(capsys, "predict", *select, "--decoding", "max_new_tokens=8")
    assert other_decoding.rc == 2
    assert other_decoding.error_line.startswith(
        f"{folder}: existing predictions were made with another decoding (max_new_tokens 16 -> 8) ("
    )

    examples = runs / "demo" / "demo-asr" / "examples.jsonl"
    examples.write_text(examples.read_text().replace("Transcribe.", "Transcribe this."))
    edited = run_cli(capsys, "predict", *select)
    assert edited.rc == 2
    assert edited.error_line.startswith(
        f"{folder}: existing predictions were made with other prompts (examples.jsonl or the task's prompt changed) ("
    )


def test_empty_and_cut_answers_are_named_in_the_cell_note_not_only_in_scores_json(workspace, capsys):
    """Found on the fresh-clone audit: empty answers moved the demo WER from 4.23 to 12.68 and the
    report showed only the number. The cell's note (shown in index.html and report.md) counts them."""
    runs = workspace / "runs"
    clip = write_wav(workspace / "audio" / "a.wav", tone(0.5))
    asr_examples(runs, {"a": clip, "b": clip, "c": clip})
    cut = {**prediction("c", "a b"), "finish_reason": "length"}
    write_jsonl(runs / "demo" / "demo-asr" / "cascade" / "predictions.jsonl", [prediction("a", "a b"), prediction("b", ""), cut])
    assert run_cli(capsys, "score", "--suite", "demo", "--tasks", "demo-asr", "--models", "cascade").rc == 0
    assert run_cli(capsys, "compare", "--suite", "demo").rc == 0

    ours = _asr_cell(workspace)["ours"]
    assert ours["value"] == pytest.approx(100 * 2 / 6)  # the empty answer deletes both reference words
    assert "1 of 3 answers empty (scored as given)" in ours["notes"]
    assert "1 of 3 answers cut at max_new_tokens" in ours["notes"]
    assert run_cli(capsys, "report", "--suite", "demo").rc == 0
    assert "1 of 3 answers empty (scored as given)" in (workspace / "reports" / "demo" / "report.md").read_text()


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        # found on a fresh clone: AttributeError: 'list' object has no attribute 'get'
        (b"[1, 2]", "line 2 is a JSON array, not an object (one record a line)"),
        (b'"a b"', "line 2 is a JSON string, not an object (one record a line)"),
        # bytes that are not UTF-8 (a file saved in another encoding): UnicodeDecodeError
        (b'{"id": "b", "output": "\xe9t\xe9"}', "line 2 is not valid JSON: 'utf-8' codec can't decode byte 0xe9 in position 23: invalid continuation byte"),
    ],
)
def test_a_predictions_line_that_is_not_a_json_object_names_the_file_and_line(workspace, capsys, line, problem):
    runs = workspace / "runs"
    clip = write_wav(workspace / "audio" / "a.wav", tone(0.5))
    asr_examples(runs, {"a": clip, "b": clip})
    out = runs / "demo" / "demo-asr" / "toy" / "predictions.jsonl"
    out.parent.mkdir(parents=True)
    out.write_bytes(json.dumps(prediction("a", "a b")).encode() + b"\n" + line + b"\n")

    result = run_cli(capsys, "score", "--suite", "demo", "--tasks", "demo-asr", "--models", "toy")

    assert result.rc == 2
    assert result.error_line == f"{out}: {problem}"
    assert not (out.parent / "scores.json").exists()
