"""`audiorepro run --nproc N` and the cluster environments (audiorepro.distributed), on the CPU
with the gloo backend and a toy model (tests/pipeline/toy_models.py): the ranks' predictions
together equal a one-process run, scores and report are written once, a killed rank's run
resumes without duplicates (with the same or another number of ranks), and a Slurm `srun`
environment (SLURM_PROCID/NTASKS/LOCALID + MASTER_ADDR/PORT, one rank per node) works the same."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audiorepro.cli import main

TESTS_DIR = Path(__file__).resolve().parent
TASKS = ("demo-asr", "demo-en2de", "demo-sqqa")
RUN = [sys.executable, "-m", "audiorepro.cli", "run", "--suite", "demo", "--models", "toy", "--no-progress", "--batch-size", "1"]


def _env(root: Path, delay: float = 0.0, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK") and not k.startswith("SLURM_")}
    env.update(
        AUDIOREPRO_RUNS=str(root / "runs"),
        AUDIOREPRO_REPORTS=str(root / "reports"),
        AUDIOREPRO_MODEL_PLUGINS="toy=toy_models:SlowPrepareStats",
        PYTHONPATH=os.pathsep.join([str(TESTS_DIR), env.get("PYTHONPATH", "")]),
        TOY_MODEL_DELAY=str(delay),
        **extra,
    )
    return env


def _lines(root: Path, task: str) -> list[dict]:
    folder = root / "runs" / "demo" / task / "toy"
    return [json.loads(x) for f in sorted(folder.glob("predictions*.jsonl")) for x in f.read_text().splitlines()]


def _outputs(root: Path) -> dict[str, dict[str, str]]:
    out = {}
    for task in TASKS:
        lines = _lines(root, task)
        ids = [p["id"] for p in lines]
        assert len(ids) == len(set(ids)), f"{task}: duplicate ids {sorted(ids)}"
        out[task] = {p["id"]: p["output"] for p in lines}
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, dict[str, str]]:
    """The one-process run, in this process."""
    root = tmp_path_factory.mktemp("one")
    saved = dict(os.environ)
    os.environ.update(_env(root))
    try:
        assert main(RUN[3:]) == 0
    finally:
        os.environ.clear()
        os.environ.update(saved)
    outputs = _outputs(root)
    assert [len(outputs[t]) for t in TASKS] == [5, 4, 6]
    return outputs


def test_two_ranks_give_the_one_rank_predictions_and_score_once(tmp_path, reference):
    done = subprocess.run([*RUN, "--nproc", "2"], env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _outputs(tmp_path) == reference
    for task in TASKS:
        folder = tmp_path / "runs" / "demo" / task / "toy"
        shards = [[json.loads(x)["id"] for x in (folder / f"predictions.shard{r}of2.jsonl").read_text().splitlines()] for r in (0, 1)]
        assert shards[0] and shards[1] and not set(shards[0]) & set(shards[1])
        assert (folder / "scores.json").is_file()
        assert done.stdout.count(f"score {task} [toy]") == 1
    assert done.stdout.count("report: ") == 1
    assert (tmp_path / "reports" / "demo" / "index.html").is_file()


def _kill_rank_one(root: Path) -> None:
    """Start a 2-rank run, SIGKILL rank 1 once it has written a prediction; the launcher must stop
    rank 0 and fail with a message naming the rank."""
    pid_dir = root / "pids"
    pid_dir.mkdir(parents=True)
    proc = subprocess.Popen([*RUN, "--nproc", "2"], env=_env(root, delay=0.25, TOY_MODEL_PID_DIR=str(pid_dir)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    shard = root / "runs" / "demo" / "demo-asr" / "toy" / "predictions.shard1of2.jsonl"
    deadline = time.time() + 180
    while not (shard.exists() and shard.read_text().count("\n") >= 1 and (pid_dir / "rank1.pid").exists()):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"the run ended before rank 1 wrote a prediction: {proc.communicate()}")
        time.sleep(0.05)
    os.kill(int((pid_dir / "rank1.pid").read_text()), signal.SIGKILL)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "rank 1 of 2 failed" in stderr
    assert not (root / "runs" / "demo" / "demo-asr" / "toy" / "scores.json").exists()


def test_killed_rank_resumes_with_the_same_ranks(tmp_path, reference):
    _kill_rank_one(tmp_path)
    partial = sum(len(_lines(tmp_path, t)) for t in TASKS)
    assert 0 < partial < sum(len(v) for v in reference.values())
    done = subprocess.run([*RUN, "--nproc", "2"], env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert _outputs(tmp_path) == reference


def test_killed_run_resumes_with_another_number_of_ranks(tmp_path, reference, monkeypatch):
    """A restart with another N predicts only the ids no shard file has: nothing twice."""
    _kill_rank_one(tmp_path)
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    assert main(RUN[3:]) == 0
    assert _outputs(tmp_path) == reference
    assert (tmp_path / "runs" / "demo" / "demo-asr" / "toy" / "predictions.jsonl").is_file()


def _alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's parent may never reap it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def test_ranks_die_with_a_killed_launcher_and_one_rank_resumes_without_duplicates(tmp_path, reference, monkeypatch):
    """Found on a fresh clone: `make demo NPROC=2` killed with SIGKILL (or its terminal closed)
    left both ranks running, since torchrun starts them in their own session; a `make demo` rerun
    then predicted the same items as the orphans, and the task failed on duplicate ids from then on."""
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    proc = subprocess.Popen([*RUN, "--nproc", "2"], env=_env(tmp_path, delay=2.0, TOY_MODEL_PID_DIR=str(pid_dir)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while not all((pid_dir / f"rank{r}.pid").exists() for r in (0, 1)):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("the ranks did not start")
        time.sleep(0.05)
    time.sleep(0.5)  # both pid files complete
    ranks = [int((pid_dir / f"rank{r}.pid").read_text()) for r in (0, 1)]
    proc.kill()
    proc.wait()

    # each rank is 12 s from its next barrier (3 items of 2 + 2 s): without the fix they live on
    deadline = time.time() + 3
    while any(_alive(pid) for pid in ranks) and time.time() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in ranks if _alive(pid)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    assert not alive, "ranks outlived their killed launcher"

    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    assert main(RUN[3:]) == 0
    assert _outputs(tmp_path) == reference


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_slurm_srun_environment_one_rank_per_node(tmp_path, reference):
    """What `srun` gives each task of a 2-node, 1-GPU-per-node step (LOCAL id 0 on both), plus
    the MASTER_ADDR/MASTER_PORT the batch script exports (docs/scale_out.md)."""
    port = str(_free_port())
    procs = [
        subprocess.Popen(RUN, env=_env(tmp_path, SLURM_PROCID=str(r), SLURM_NTASKS="2", SLURM_LOCALID="0", SLURM_STEP_ID="0",
                                       MASTER_ADDR="127.0.0.1", MASTER_PORT=port),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for r in (0, 1)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert _outputs(tmp_path) == reference
    assert "report: " in outs[0][0] and "report: " not in outs[1][0]
    assert "(rank 1/2)" in outs[1][0]


@pytest.mark.slow
def test_demo_with_cascade_two_ranks_equal_one_rank(tmp_path):
    """The acceptance case with the real demo weights: `audiorepro run --suite demo --models
    cascade --nproc 2` predicts the texts of `--nproc 1` and scores and reports once (~80 s)."""
    results = {}
    for nproc in (1, 2):
        root = tmp_path / f"n{nproc}"
        env = _env(root)
        cmd = [sys.executable, "-m", "audiorepro.cli", "run", "--suite", "demo", "--models", "cascade", "--no-progress", "--nproc", str(nproc)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("report: ") == 1
        outputs = {}
        for task in TASKS:
            folder = root / "runs" / "demo" / task / "cascade"
            lines = [json.loads(x) for f in sorted(folder.glob("predictions*.jsonl")) for x in f.read_text().splitlines()]
            assert len(lines) == len({p["id"] for p in lines})
            outputs[task] = {p["id"]: p["output"] for p in lines}
            assert done.stdout.count(f"score {task} [cascade]") == 1
        results[nproc] = outputs
    assert results[2] == results[1]
    assert [len(results[1][t]) for t in TASKS] == [5, 4, 6]
