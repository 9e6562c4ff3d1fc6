"""Table 3 task YAMLs: all tasks present and valid, prompts equal to the released test prompts
(bytedance/SALMONN prompts/test_prompt.json, quoted in the reference notes), the paper's metric per
cell, and Make's targets come from the task files: `make -n reproduce-table3` is one run of the
whole suite, and every task has its `table3-<task>` target."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from audiorepro import manifests
from audiorepro.expected import load_expected
from audiorepro.manifests import load_manifest
from audiorepro.tasks import list_tasks, load_task_file

REPO = Path(__file__).resolve().parents[2]
TASK_DIR = REPO / "src" / "audiorepro" / "tasks" / "table3"

# The tasks Table 3's cells name (expected/table3.yaml, the paper's cells), in Table 3 order: the
# one place a cell's task is stored; the task files must be exactly these.
TABLE3 = list(dict.fromkeys(c.task for c in load_expected("table3").cells if c.task))

# Instructions of the released test_prompt.json (salmonn.md section 2.5).
RELEASED_PROMPTS = {
    "asr-librispeech-clean": "Recognize the speech and give me the transcription.",
    "asr-librispeech-other": "Recognize the speech and give me the transcription.",
    "asr-gigaspeech": "Recognize the speech and give me the transcription.",
    "en2zh-covost2": "Listen to the speech and translate it into Chinese.",
    "aac-audiocaps": "Please describe the audio.",
    "pr-librispeech-clean": "Provide the phonetic transcription for the speech.",
    "er-iemocap": "Describe the emotion of the speaker in one word.",
    "mc-musiccaps": "Listen to this music clip and describe the music.",
    "osr-librimix": "Please write down what you hear each person says.",
    "sv-voxceleb1": "Do you only hear the same person talking? Answer yes or no.",
    "ke-inspec": "Give me only three keywords of the text.",
    "sqqa-wikiqa": "Please answer the question in detail.",
    "sf-slurp": "According to the speech, what is the {slot}?",
    "story-audiocaps": (
        "Based on the audio, write a story in detail. Your story should be highly related to the audio."
    ),
    "sac-inhouse": (
        "Use your strong reasoning skills to answer the speaker's question in detail based on the background sound."
    ),
}

# Paper metric per cell (paper_tables.md / metrics.md).
MAIN_METRIC = {
    "asr-librispeech-clean": "wer",
    "asr-librispeech-other": "wer",
    "asr-gigaspeech": "wer",
    "en2zh-covost2": "bleu",
    "en2de-covost2": "bleu",
    "en2ja-covost2": "bleu",
    "aac-audiocaps": "meteor",
    "pr-librispeech-clean": "per",
    "er-iemocap": "accuracy",
    "mc-musiccaps": "bleu",
    "osr-librimix": "cpwer",
    "sv-voxceleb1": "accuracy",
    "ke-inspec": "keyword_accuracy",
    "story-audiocaps": "story",
}
BLEU_TOKENIZE = {
    "en2zh-covost2": "zh",
    "en2de-covost2": "13a",
    "en2ja-covost2": "ja-mecab",
    "mc-musiccaps": "13a",
}
# Cells where Table 3's reference row is the "Whisper + Vicuna" cascade (or Whisper alone, ASR).
CASCADE_CELLS = {
    "asr-librispeech-clean",
    "asr-librispeech-other",
    "asr-gigaspeech",
    "en2zh-covost2",
    "en2de-covost2",
    "en2ja-covost2",
    "ke-inspec",
    "sqqa-wikiqa",
    "sf-slurp",
}
MULTI_CELL = {
    "aac-audiocaps": {"aac-audiocaps/meteor", "aac-audiocaps/spider"},
    "mc-musiccaps": {"mc-musiccaps/bleu", "mc-musiccaps/rouge_l"},
    "sqqa-wikiqa": {"sqqa-wikiqa/accuracy", "sqqa-wikiqa/following_rate"},
    "sf-slurp": {"sf-slurp/accuracy", "sf-slurp/following_rate"},
    "story-audiocaps": {"story-audiocaps/story", "story-audiocaps/following_rate"},
    "sac-inhouse": {"sac-inhouse/accuracy", "sac-inhouse/following_rate"},
}


@pytest.fixture(scope="module")
def tasks():
    manifests._index.cache_clear()
    return {t.name: t for t in list_tasks("table3")}


def test_task_files_match_the_table_cells(tasks):
    assert len(TABLE3) == 17
    assert sorted(p.stem for p in TASK_DIR.glob("*.yaml")) == sorted(TABLE3)
    for path in TASK_DIR.glob("*.yaml"):
        assert load_task_file(path).suite == "table3"
    assert sorted(tasks) == sorted(TABLE3)


def test_prompts_are_the_released_test_prompts(tasks):
    for name, prompt in RELEASED_PROMPTS.items():
        assert tasks[name].prompt == prompt, name
    for name in ("en2de-covost2", "en2ja-covost2"):  # "analogous" to translation_ec
        lang = {"en2de-covost2": "German", "en2ja-covost2": "Japanese"}[name]
        assert tasks[name].prompt == f"Listen to the speech and translate it into {lang}."


def test_metrics_and_cells(tasks):
    for name, metric in MAIN_METRIC.items():
        assert tasks[name].metric.name == metric, name
    for name, tok in BLEU_TOKENIZE.items():
        assert tasks[name].metric.options["tokenize"] == tok, name
    assert tasks["mc-musiccaps"].metric.options.get("smooth_method") == "none"
    assert tasks["er-iemocap"].metric.options == {"labels": "iemocap4"}
    assert tasks["sv-voxceleb1"].metric.options == {"labels": "yes_no"}
    table3 = load_expected("table3")
    for name, task in tasks.items():
        cells = [c for c in table3.cells if c.task == name]
        assert {c.id for c in cells} == MULTI_CELL.get(name, {name}), name
        reported = {task.metric.report_as or task.metric.name} | {
            m.report_as or m.name for m in task.extra_metrics
        }
        for cell in cells:
            assert cell.metric in reported, (name, cell.id)


def test_story_decoding_is_200_new_tokens(tasks):
    assert tasks["story-audiocaps"].decoding == {"max_new_tokens": 200}
    assert all(t.decoding == {} for n, t in tasks.items() if n != "story-audiocaps")


def test_cascade_prompts(tasks):
    assert {n for n, t in tasks.items() if "cascade" in t.model_prompts} == CASCADE_CELLS
    for name in CASCADE_CELLS:
        assert "<transcript>" in tasks[name].model_prompts["cascade"], name
        if name.startswith("asr-"):
            assert tasks[name].model_prompts["cascade"] == "<transcript>"


def test_every_task_dataset_has_a_manifest(tasks):
    for task in tasks.values():
        m = load_manifest(task.dataset)
        assert m.kind == "dataset"


# the audiorepro script of the environment running the tests
AUDIOREPRO = str(Path(sys.executable).parent / "audiorepro")


def _make(*args: str, dry_run: bool = True, check: bool = True) -> subprocess.CompletedProcess:
    flags = ["-n"] if dry_run else []
    return subprocess.run(
        ["make", *flags, "--no-print-directory", "-f", str(REPO / "make" / "table3.mk"), f"AUDIOREPRO={AUDIOREPRO}", *args],
        capture_output=True,
        text=True,
        check=check,
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if k != "AUDIOREPRO_TASKS"},
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make not installed")
def test_make_targets_come_from_the_task_files():
    # the whole table in one process (the model loads once); `run` takes every task of the suite
    lines = _make("reproduce-table3", "MODEL=cascade").stdout.strip().splitlines()
    assert len(lines) == 1, lines
    assert re.fullmatch(rf"{re.escape(AUDIOREPRO)} run --suite table3 --models cascade\s*", lines[0]), lines[0]
    # `make tasks` lists the suite from the task files: the layout's list, in any order
    listed = _make("tasks", "SUITE=table3", dry_run=False).stdout.split()
    assert sorted(listed) == sorted(TABLE3)
    # and one target per task, each its own run
    for name in TABLE3:
        (line,) = _make(f"table3-{name}", "MODEL=cascade").stdout.strip().splitlines()
        assert re.search(rf"audiorepro run --suite table3 --tasks {name} --models cascade\b", line), line
    one = _make("fetch-librispeech-test-clean").stdout
    assert one.strip().endswith("fetch librispeech-test-clean")


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make not installed")
def test_make_target_of_an_unknown_task_is_refused_by_name():
    done = _make("table3-asr-nonexistent", "MODEL=cascade", dry_run=False, check=False)
    assert done.returncode != 0
    assert "unknown task 'asr-nonexistent'" in done.stderr
