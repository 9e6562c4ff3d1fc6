"""Fault table, rows that used to end in a traceback: a full disk and a mistyped decoding setting
become one-line errors naming the file (and field) (docs/faults.md). The full disk is simulated by
making the atomic writers' fsync fail with ENOSPC, as a full filesystem does."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess

import pytest
import torch
from fault_support import (
    REPO,
    asr_examples,
    files_under,
    no_predictions,
    prediction,
    run_cli,
    tone,
    write_jsonl,
    write_wav,
)

SELECT = ("--suite", "demo", "--tasks", "demo-asr", "--models", "toy")


def _disk_full(monkeypatch, name: str | None, code: int = errno.ENOSPC):
    """fsync of files called `name` (of every file: None) fails with `code`: the disk is full."""
    import audiorepro.jsonl

    real_fsync = os.fsync

    def fsync(fd):
        if name is None or os.path.basename(os.readlink(f"/proc/self/fd/{fd}")) == name:
            raise OSError(code, os.strerror(code))
        real_fsync(fd)

    monkeypatch.setattr(audiorepro.jsonl.os, "fsync", fsync)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT], ids=["ENOSPC", "EDQUOT"])
def test_disk_full_while_appending_predictions(workspace, capsys, monkeypatch, code):
    runs = workspace / "runs"
    asr_examples(runs, {"a": write_wav(workspace / "audio" / "a.wav", tone(0.5))})
    _disk_full(monkeypatch, "predictions.jsonl", code)

    result = run_cli(capsys, "predict", *SELECT, "--no-progress")

    out = runs / "demo" / "demo-asr" / "toy" / "predictions.jsonl"
    assert result.rc == 2
    assert result.error_line == (
        f"{out}: cannot write: {os.strerror(code)} [{errno.errorcode[code]}]; the file is left as it was"
    )
    assert no_predictions(out.parent)  # the half-written batch was cut off again


def test_disk_full_while_writing_scores(workspace, capsys, monkeypatch):
    runs = workspace / "runs"
    asr_examples(runs, {"a": write_wav(workspace / "audio" / "a.wav", tone(0.5))})
    folder = runs / "demo" / "demo-asr" / "toy"
    write_jsonl(folder / "predictions.jsonl", [prediction("a", "a b")])
    _disk_full(monkeypatch, None)  # scores.json is written to a temporary file first, then renamed

    result = run_cli(capsys, "score", *SELECT)

    assert result.rc == 2
    assert result.error_line == (
        f"{folder / 'scores.json'}: cannot write: No space left on device [ENOSPC]; the file is left as it was"
    )
    assert files_under(folder) == ["predictions.jsonl"]  # no scores.json, no temporary file


@pytest.fixture
def tasks_copy(tmp_path, monkeypatch):
    """The package's task YAMLs copied to a folder the test may edit (a user editing a task)."""
    from audiorepro import tasks

    folder = tmp_path / "tasks"
    shutil.copytree(tasks.TASKS_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setattr(tasks, "TASKS_DIR", folder)
    tasks._index.cache_clear()
    yield folder
    tasks._index.cache_clear()


def test_mistyped_decoding_setting_in_a_task_yaml_fails_validation(workspace, tasks_copy, capsys):
    runs = workspace / "runs"
    asr_examples(runs, {"a": write_wav(workspace / "audio" / "a.wav", tone(0.5))})
    task_file = tasks_copy / "demo" / "demo-asr.yaml"
    task_file.write_text(task_file.read_text() + 'decoding: {max_new_tokens: "sixty"}\n')

    result = run_cli(capsys, "predict", *SELECT, "--no-progress")

    assert result.rc == 2
    assert result.error_line == (
        f"{task_file}: field 'decoding': Value error, max_new_tokens: Input should be a valid integer (got 'sixty')"
    )
    assert not (runs / "demo" / "demo-asr" / "toy").exists()


def test_mistyped_decoding_override_fails_before_the_model_loads(workspace, capsys):
    runs = workspace / "runs"
    asr_examples(runs, {"a": write_wav(workspace / "audio" / "a.wav", tone(0.5))})

    result = run_cli(capsys, "predict", *SELECT, "--decoding", "max_new_tokens=sixty", "--no-progress")

    assert result.rc == 2
    assert result.error_line == "--decoding: max_new_tokens: Input should be a valid integer (got 'sixty')"
    assert not (runs / "demo" / "demo-asr" / "toy").exists()



@pytest.mark.parametrize(
    ("setting", "message"),
    [
        # found on a fresh clone: accepted, so a rerun reached generate(); 0 new tokens would be
        # an empty answer per item, scored as a real (terrible) number
        ("max_new_tokens=-1", "max_new_tokens: Input should be greater than or equal to 1 (got -1)"),
        ("max_new_tokens=0", "max_new_tokens: Input should be greater than or equal to 1 (got 0)"),
        ("num_beams=0", "num_beams: Input should be greater than or equal to 1 (got 0)"),
        ("top_p=1.5", "top_p: Input should be less than or equal to 1 (got 1.5)"),
    ],
)
def test_an_out_of_range_decoding_override_fails_before_the_model_loads(workspace, capsys, setting, message):
    runs = workspace / "runs"
    asr_examples(runs, {"a": write_wav(workspace / "audio" / "a.wav", tone(0.5))})

    result = run_cli(capsys, "predict", *SELECT, "--decoding", setting, "--no-progress")

    assert result.rc == 2
    assert result.error_line == f"--decoding: {message}"
    assert not (runs / "demo" / "demo-asr" / "toy").exists()


@pytest.mark.parametrize(
    ("device", "message"),
    [
        # found on a fresh clone: both were a torch traceback (RuntimeError, AssertionError)
        ("cdua", "device 'cdua' is not a torch device (cpu, cuda, cuda:1, mps ...)"),
        pytest.param(
            "cuda",
            "device 'cuda': torch sees no CUDA GPU here (torch.cuda.is_available() is False); "
            "use device=cpu, or run where a GPU is visible",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is visible"),
        ),
    ],
)
def test_a_device_that_is_not_there_is_one_line_before_the_model_loads(workspace, capsys, device, message):
    runs = workspace / "runs"
    asr_examples(runs, {"a": write_wav(workspace / "audio" / "a.wav", tone(0.5))})

    result = run_cli(
        capsys, "predict", "--suite", "demo", "--tasks", "demo-asr", "--models", "cascade",
        "--model-arg", f"device={device}", "--no-progress",
    )

    assert result.rc == 2
    assert result.error_line == message
    assert "Traceback" not in result.err
    assert not (runs / "demo" / "demo-asr" / "cascade").exists()


@pytest.mark.parametrize("command", ["predict", "score", "run"])
def test_a_stage_without_models_says_so_instead_of_doing_nothing(workspace, capsys, command):
    """Found on a fresh clone: `audiorepro score --suite demo` (and predict) did nothing and exited 0."""
    result = run_cli(capsys, command, "--suite", "demo")

    assert result.rc == 2
    assert result.error_line == f"--models is required for `{command}` (see `audiorepro models`)"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU is visible: make test-gpu runs the GPU tests")
def test_make_test_gpu_without_a_gpu_fails_with_one_line():
    """Found on a fresh clone: every GPU test skipped and `make test-gpu` exited 0, a green run
    that measured nothing."""
    done = subprocess.run(["make", "-s", "test-gpu"], cwd=REPO, capture_output=True, text=True, timeout=120)

    assert done.returncode != 0
    assert done.stderr.splitlines()[0] == (
        "make test-gpu: torch sees no CUDA GPU here (torch.cuda.is_available() is False); "
        "run it on a CUDA machine (make test runs the CPU tests)"
    )
    assert "passed" not in done.stdout and "skipped" not in done.stdout


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        # found on a fresh clone: examples[:-1] predicted all but the last example, unasked
        ("--limit", "-1", "must be at least 1, got -1"),
        ("--limit", "0", "must be at least 1, got 0"),
        # range(0, n, 0): a ValueError traceback once something is left to predict
        ("--batch-size", "0", "must be at least 1, got 0"),
    ],
)
def test_a_count_option_below_one_is_refused_while_parsing(workspace, capsys, option, value, problem):
    runs = workspace / "runs"
    asr_examples(runs, {"a": write_wav(workspace / "audio" / "a.wav", tone(0.5))})
    capsys.readouterr()

    from audiorepro.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["predict", *SELECT, option, value, "--no-progress"])

    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"audiorepro predict: error: argument {option}: {problem}"
    assert not (runs / "demo" / "demo-asr" / "toy").exists()


def test_a_suite_that_does_not_exist_is_an_error_not_an_empty_list(workspace, capsys):
    """Found on the fresh-clone audit: `audiorepro tasks --suite nosuch` printed nothing and exited 0."""
    for argv in (("tasks", "--suite", "nosuch"), ("tasks", "--suite", "nosuch", "--names")):
        result = run_cli(capsys, *argv)
        assert result.rc == 2
        assert result.error_line == "no task has suite 'nosuch'; see `audiorepro tasks`"
