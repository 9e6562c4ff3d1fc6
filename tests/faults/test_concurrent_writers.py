"""Fault table, two processes on one run (docs/faults.md): a second `make demo` started in another
terminal while the first is still predicting. Found by hand on a fresh clone (2026-11-26): both
appended the same items, and the second run then stopped on "duplicate prediction id". Now the
second one stops before writing anything, naming the first; a killed holder leaves no stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from fault_support import REPO, asr_examples, prediction, run_cli, tone, write_jsonl, write_wav

from audiorepro.errors import BusyError
from audiorepro.jsonl import sole_writer

HOLD = """
import sys, time
from audiorepro.jsonl import sole_writer
with sole_writer(sys.argv[1]):
    print("holding", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def holder(tmp_path):
    """Start a process that holds the writer lock of a path; yields (start, the running processes)."""
    started = []

    def start(path):
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        )
        assert proc.stdout.readline().strip() == "holding"
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()


def test_a_second_writer_is_refused_naming_the_first_and_a_killed_one_leaves_no_lock(tmp_path, holder):
    target = tmp_path / "predictions.jsonl"
    proc = holder(target)

    with pytest.raises(BusyError) as refused:
        with sole_writer(target):
            pass
    message = str(refused.value)
    assert message.startswith(f"{target}: pid {proc.pid} (`-c {target}`, since ")
    assert message.endswith("is writing this file now; wait for it to finish or stop it, then rerun "
                            "(two writers would record the same items twice)")

    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sole_writer(target):  # the kernel dropped the lock with the process: no stale lock file to delete
        pass


def test_predict_stops_before_writing_while_another_process_predicts_the_same_run(workspace, capsys, holder):
    runs = workspace / "runs"
    clip = write_wav(workspace / "audio" / "a.wav", tone(0.5))
    asr_examples(runs, {"a": clip, "b": clip, "c": clip})
    out = write_jsonl(runs / "demo" / "demo-asr" / "toy" / "predictions.jsonl", [prediction("a", "x")])
    before = out.read_bytes()
    proc = holder(out)
    select = ("--suite", "demo", "--tasks", "demo-asr", "--models", "toy", "--no-progress")

    result = run_cli(capsys, "predict", *select)

    assert result.rc == 2
    assert result.error_line.startswith(f"{out}: pid {proc.pid} ")
    assert out.read_bytes() == before  # not one record appended, the meta file not rewritten either
    assert not (out.parent / "predict_meta.json").exists()

    proc.kill()
    proc.wait()
    time.sleep(0.1)
    resumed = run_cli(capsys, *("predict", *select))
    assert resumed.rc == 0, resumed.err
    assert [line.split('"id": "')[1][0] for line in out.read_text().splitlines()] == ["a", "b", "c"]


def test_a_whole_run_reports_the_busy_task_as_failed_and_goes_on(workspace, capsys, holder):
    """`audiorepro run` (what `make demo` calls): the busy task is "failed" with the holder's
    name, the run exits 1, and the other tasks are unaffected."""
    runs = workspace / "runs"
    clip = write_wav(workspace / "audio" / "a.wav", tone(0.5))
    asr_examples(runs, {"a": clip})
    out = runs / "demo" / "demo-asr" / "toy" / "predictions.jsonl"
    proc = holder(out)

    result = run_cli(capsys, "run", "--suite", "demo", "--tasks", "demo-asr", "--models", "toy", "--no-progress", "--no-report")

    assert result.rc == 1
    assert f"FAILED: toy demo-asr: predict: {out}: pid {proc.pid} " in result.out
    assert not out.exists()
