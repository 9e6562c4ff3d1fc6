"""The rank environment audiorepro.distributed reads: torchrun's variables, a Slurm srun step's,
or none; and the --nproc re-launch argv."""

from __future__ import annotations

import pytest

from audiorepro.distributed import DistEnv, strip_nproc
from audiorepro.errors import AudioreproError

MASTER = {"MASTER_ADDR": "node001", "MASTER_PORT": "29500"}


def test_torchrun_nnodes_environment():
    # rank 5 of 8 = node 1 (of 2, 4 GPUs each), its GPU 1
    env = DistEnv.from_environ({"RANK": "5", "WORLD_SIZE": "8", "LOCAL_RANK": "1", **MASTER})
    assert (env.rank, env.world, env.local_rank, env.master_addr, env.source) == (5, 8, 1, "node001", "torchrun")


def test_slurm_srun_step_environment():
    env = DistEnv.from_environ(
        {"SLURM_PROCID": "3", "SLURM_NTASKS": "4", "SLURM_LOCALID": "1", "SLURM_STEP_ID": "0", **MASTER}
    )
    assert (env.rank, env.world, env.local_rank, env.source) == (3, 4, 1, "slurm")


def test_slurm_batch_script_itself_is_one_process():
    """The sbatch script sees SLURM_NTASKS too, but it is not one of the srun tasks."""
    env = DistEnv.from_environ({"SLURM_PROCID": "0", "SLURM_NTASKS": "4", "SLURM_LOCALID": "0"})
    assert (env.rank, env.world) == (0, 1)


def test_torchrun_variables_win_over_slurm_ones():
    """`srun torchrun ...`: torchrun's RANK is the global rank, SLURM_PROCID is the node's task."""
    env = DistEnv.from_environ(
        {"RANK": "6", "WORLD_SIZE": "8", "LOCAL_RANK": "2", "SLURM_PROCID": "1", "SLURM_NTASKS": "2", "SLURM_STEP_ID": "0", **MASTER}
    )
    assert (env.rank, env.world, env.local_rank) == (6, 8, 2)


def test_no_variables_is_a_single_process():
    assert DistEnv.from_environ({}) == DistEnv()


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"SLURM_PROCID": "1", "SLURM_NTASKS": "2", "SLURM_STEP_ID": "0"}, "no MASTER_ADDR/MASTER_PORT"),
        ({"RANK": "2", "WORLD_SIZE": "2", **MASTER}, "rank 2 is outside 0..1"),
        ({"RANK": "one", "WORLD_SIZE": "2", **MASTER}, "bad distributed environment variable"),
    ],
)
def test_bad_environment_is_a_clear_error(environ, message):
    with pytest.raises(AudioreproError, match=message):
        DistEnv.from_environ(environ)


def test_strip_nproc():
    argv = ["run", "--suite", "demo", "--nproc", "2", "--models", "cascade", "--nproc=4"]
    assert strip_nproc(argv) == ["run", "--suite", "demo", "--models", "cascade"]


def test_nproc_with_shard_is_refused(capsys):
    from audiorepro.cli import main

    assert main(["run", "--suite", "demo", "--models", "cascade", "--nproc", "2", "--shard", "0/2"]) == 2
    assert "--nproc and --shard exclude each other" in capsys.readouterr().err
