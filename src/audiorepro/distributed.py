"""Data-parallel runs: one process (rank) per GPU, each predicting its shard of every task.

Why torchrun: it starts the ranks, gives each its RANK / WORLD_SIZE / LOCAL_RANK and the
rendezvous address (MASTER_ADDR / MASTER_PORT), and stops every rank when one fails, so a rank
waiting at a barrier never waits for a dead peer. `audiorepro run --nproc N` re-launches itself
through `python -m torch.distributed.run --standalone --nproc-per-node N`; on a cluster the same
`run` command is started by `torchrun --nnodes` or by Slurm's `srun` (docs/scale_out.md), and
`DistEnv.from_environ` reads either environment.

Only small objects and barriers cross ranks (no tensors): the coordination group is gloo even
on GPUs, so a barrier that waits hours for the slowest shard does not trip NCCL's watchdog; the
default group is nccl on CUDA (gloo on CPU) for any model that wants collectives."""

from __future__ import annotations

import datetime
import os
import signal
import sys
from dataclasses import dataclass

from .errors import AudioreproError

# A barrier waits for the slowest shard of a whole suite (hours on the full Table 3).
BARRIER_TIMEOUT = datetime.timedelta(hours=72)


@dataclass(frozen=True)
class DistEnv:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    master_addr: str | None = None
    master_port: str | None = None
    source: str = "single process"

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> DistEnv:
        """torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), else those
        of a Slurm step started by `srun` (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; MASTER_ADDR and
        MASTER_PORT exported by the batch script), else a single process."""
        env = os.environ if environ is None else environ
        addr, port = env.get("MASTER_ADDR"), env.get("MASTER_PORT")
        try:
            if "RANK" in env or "WORLD_SIZE" in env:
                rank, world = int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1))
                local = int(env.get("LOCAL_RANK", rank))
                source = "torchrun"
            # SLURM_STEP_ID: inside an `srun` step; the batch script itself has SLURM_NTASKS too
            elif int(env.get("SLURM_NTASKS", 1)) > 1 and "SLURM_STEP_ID" in env:
                rank, world = int(env["SLURM_PROCID"]), int(env["SLURM_NTASKS"])
                local = int(env.get("SLURM_LOCALID", 0))
                source = "slurm"
            else:
                return cls()
        except (KeyError, ValueError) as e:
            raise AudioreproError(f"bad distributed environment variable: {e}") from e
        if not 0 <= rank < world:
            raise AudioreproError(f"rank {rank} is outside 0..{world - 1} ({source} environment)")
        if world > 1 and not (addr and port):
            raise AudioreproError(
                f"{source} environment with {world} ranks but no MASTER_ADDR/MASTER_PORT: export them "
                "(the first node's host name and a free port) before srun; see docs/scale_out.md"
            )
        return cls(rank, world, local, addr, port, source)


class Group:
    """The ranks of one run. With one rank every method is a no-op, so the pipeline has one code
    path for both."""

    def __init__(self, env: DistEnv):
        self.env = env
        self.rank, self.world = env.rank, env.world
        self._coordination = None

    @classmethod
    def single(cls) -> Group:
        return cls(DistEnv())

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def start(self) -> Group:
        if self.world == 1:
            return self
        import torch
        import torch.distributed as dist

        # torchrun sets these; the Slurm path has them from the batch script
        os.environ.update(
            RANK=str(self.rank), WORLD_SIZE=str(self.world), LOCAL_RANK=str(self.env.local_rank),
            MASTER_ADDR=self.env.master_addr, MASTER_PORT=self.env.master_port,
        )
        if torch.cuda.is_available():
            # "cuda" now means this rank's GPU, for every model that asks for the default device
            torch.cuda.set_device(self.env.local_rank % torch.cuda.device_count())
            backend = "nccl"
        else:
            backend = "gloo"
        if not dist.is_initialized():
            dist.init_process_group(backend=backend, timeout=BARRIER_TIMEOUT)
        self._coordination = dist.new_group(backend="gloo", timeout=BARRIER_TIMEOUT)
        return self

    def barrier(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            dist.barrier(group=self._coordination)

    def broadcast(self, obj):
        """Rank 0's `obj` on every rank."""
        if self.world == 1:
            return obj
        import torch.distributed as dist

        box = [obj if self.is_main else None]
        dist.broadcast_object_list(box, src=0, group=self._coordination)
        return box[0]

    def close(self) -> None:
        if self.world > 1:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


def current_group() -> Group:
    return Group(DistEnv.from_environ())


# Set by `launch` for its ranks: the pid they must not outlive.
LAUNCHER_PID = "AUDIOREPRO_LAUNCHER_PID"


def die_with_launcher() -> None:
    """In a rank that `launch` started: be killed when the launcher dies. torchrun starts each rank
    in its own session, so a SIGKILL of `make demo NPROC=2` (or a closed terminal) misses the
    ranks, which go on writing their shards until their next collective call (found on a fresh
    clone: a rerun then predicted the same items and the task failed on duplicate ids)."""
    launcher = os.environ.pop(LAUNCHER_PID, None)  # popped: not inherited by what this rank starts
    if launcher is None or not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1  # <linux/prctl.h>
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != int(launcher):  # it died before the line above
        os._exit(1)


def launch(argv: list[str], nproc: int) -> int:
    """Run `audiorepro <argv>` as `nproc` ranks on this machine through torchrun's launcher API
    (what `torchrun --standalone --nproc-per-node N` does); return the exit code."""
    if nproc < 1:
        raise AudioreproError(f"--nproc must be at least 1, got {nproc}")
    if DistEnv.from_environ().world > 1:
        raise AudioreproError("--nproc inside a torchrun or srun step: the launcher already started the ranks; drop --nproc")
    import uuid

    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    # torchrun's default of one thread per rank starves a CPU run; share the cores instead
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=str(uuid.uuid4()),
        rdzv_backend="c10d",
        rdzv_endpoint="localhost:0",  # a free port, as --standalone picks
        max_restarts=0,  # a failed rank stops the run; rerunning resumes it
        monitor_interval=0.5,
    )
    print(f"[audiorepro] launching {nproc} ranks: audiorepro {' '.join(argv)}", flush=True)
    os.environ[LAUNCHER_PID] = str(os.getpid())  # for the ranks only (die_with_launcher)
    try:
        elastic_launch(config, entrypoint=sys.executable)("-m", "audiorepro.cli", *argv)
    except ChildFailedError as e:
        rank, failure = e.get_first_failure()
        code = failure.exitcode if failure.exitcode and failure.exitcode > 0 else 1
        print(
            f"audiorepro: error: rank {rank} of {nproc} failed (exit code {failure.exitcode}; its message is "
            "above) and the other ranks were stopped; rerun the same command to resume",
            file=sys.stderr,
        )
        return code
    except SignalException as e:  # Ctrl-C or a scheduler's SIGTERM: torchrun has stopped the ranks
        print(f"audiorepro: {e}; rerun the same command to resume", file=sys.stderr)
        return 130
    finally:
        os.environ.pop(LAUNCHER_PID, None)
    return 0


def strip_nproc(argv: list[str]) -> list[str]:
    """argv without `--nproc N` / `--nproc=N` (the ranks must not launch again)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out
