"""`audiorepro run`: every stage for a suite, in order, each reading only the files of the stage
before (fetch -> prepare -> predict -> [judge] -> score -> compare -> report).

A task whose data is not available (a gated dataset not yet placed, say) is reported as not run
with the reason and the other tasks go on; a checksum mismatch stops the whole run.

Under torchrun (`--nproc N`, or `torchrun`/`srun` on a cluster: audiorepro.distributed) rank 0
fetches and prepares, every rank predicts its shard of every task, and once all ranks are past a
barrier rank 0 alone judges, scores, compares and reports."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AudioreproError, ChecksumMismatch
from .layout import examples_path, run_name
from .tasks import list_tasks, load_task
from .tasks.schema import TaskSpec


@dataclass
class RunOptions:
    suite: str
    tasks: list[str] | None = None
    models: list[str] = field(default_factory=list)
    model_args: dict = field(default_factory=dict)
    decoding: dict = field(default_factory=dict)
    subset: str | None = None
    batch_size: int = 8
    limit: int | None = None
    shard: str | None = None
    judge: dict | None = None  # options for the judge stage (kind, model, base_url, verdicts file)
    allow_partial: bool = False
    restart: bool = False
    progress: bool = True
    report: bool = True


def _log(msg: str) -> None:
    print(f"[audiorepro] {msg}", flush=True)


def select_tasks(suite: str, names: list[str] | None) -> list[TaskSpec]:
    if names:
        tasks = [load_task(n) for n in names]
        wrong = [t.name for t in tasks if t.suite != suite]
        if wrong:
            raise AudioreproError(f"task(s) {wrong} do not belong to suite {suite!r}")
        return tasks
    tasks = list_tasks(suite)
    if not tasks:
        raise AudioreproError(f"no tasks in suite {suite!r}; see `audiorepro tasks`")
    return tasks


def run_suite(opts: RunOptions) -> dict:
    """Run every stage; return {'not_run': {task: reason}, 'scores': [paths], 'report': path}.
    On ranks other than 0 of a distributed run only predict runs; scores and report are rank 0's."""
    from .distributed import Group, current_group

    t_start = time.perf_counter()
    tasks = select_tasks(opts.suite, opts.tasks)
    # an explicit --shard i/N is a hand-launched shard: it predicts and scores on its own
    group = (current_group() if not opts.shard else Group.single()).start()
    try:
        if group.is_main:
            ready, not_run = _fetch_and_prepare(opts, tasks)
            if opts.restart and group.world > 1:
                _discard_all(opts, ready)  # before any rank writes; the ranks then resume nothing
        plan = group.broadcast(([t.name for t in ready], not_run) if group.is_main else None)
        ready_names, not_run = plan
        ready = [t for t in tasks if t.name in ready_names]

        for model_name in opts.models if ready else []:  # nothing to predict: do not load a model
            _predict_all(opts, model_name, ready, restart=opts.restart and group.world == 1, group=group)
        group.barrier()  # every shard of every task is on disk
        if not group.is_main:
            return {"not_run": not_run, "scores": [], "report": None, "rank": group.rank}

        judges: dict[str, object] = {}  # one judge per judge family (SAKURA, SALMONN), built when first needed
        score_paths: list[Path] = []
        for model_name in opts.models if ready else []:
            score_paths.extend(_judge_and_score(opts, run_name(model_name, opts.model_args), ready, judges))

        result = {"not_run": not_run, "scores": [str(p) for p in score_paths], "report": None}
        if opts.report:
            from .compare import compare_suite
            from .report import render_suite_report

            compare_path = compare_suite(opts.suite, not_run=not_run)
            result["compare"] = str(compare_path)
            result["report"] = str(render_suite_report(opts.suite))
        _log(f"done in {time.perf_counter() - t_start:.1f} s")
        return result
    finally:
        group.close()


def _fetch_and_prepare(opts: RunOptions, tasks: list[TaskSpec]) -> tuple[list[TaskSpec], dict[str, str]]:
    """(tasks ready to predict, {task: reason} for the others)."""
    from .fetch import fetch
    from .prepare import dataset_for, prepare_task

    not_run: dict[str, str] = {}
    # fetch: verify (or download) each dataset once
    datasets = sorted({dataset_for(t, opts.subset) for t in tasks})
    unavailable: dict[str, str] = {}
    for name in datasets:
        _log(f"fetch {name}")
        try:
            fetch(name)
        except ChecksumMismatch:
            raise
        except AudioreproError as e:
            unavailable[name] = str(e)
            _log(f"  not available: {e}")

    ready: list[TaskSpec] = []
    for task in tasks:
        ds = dataset_for(task, opts.subset)
        if ds in unavailable:
            not_run[task.name] = f"dataset {ds} not available: {unavailable[ds]}"
            continue
        _log(f"prepare {task.name}")
        try:
            prepare_task(task, subset=opts.subset, limit=opts.limit)
        except ChecksumMismatch:
            raise
        except AudioreproError as e:
            not_run[task.name] = str(e)
            _log(f"  not prepared: {e}")
            continue
        ready.append(task)
    return ready, not_run


def _discard_all(opts: RunOptions, tasks: list[TaskSpec]) -> None:
    from .predict import discard_predictions

    for model_name in opts.models:
        for task in tasks:
            discard_predictions(task.suite, task.name, run_name(model_name, opts.model_args))


def _predict_all(opts: RunOptions, model_name: str, tasks: list[TaskSpec], *, restart: bool, group) -> None:
    from .predict import Shard, run_predict

    run = run_name(model_name, opts.model_args)
    model = _build_model(model_name, opts.model_args)
    shard = Shard.parse(opts.shard)
    where = f" (rank {group.rank}/{group.world})" if group.world > 1 else ""
    for task in tasks:
        _log(f"predict {task.name} with {run}{where}")
        run_predict(
            task,
            examples_path(task.suite, task.name),
            model,
            run,
            decoding_overrides=opts.decoding,
            batch_size=opts.batch_size,
            shard=shard,
            restart=restart,
            progress=opts.progress and group.is_main,
        )


def _judge_and_score(opts: RunOptions, run: str, tasks: list[TaskSpec], judges: dict) -> list[Path]:
    from .score import score_run

    paths = []
    for task in tasks:
        if task.judge and opts.judge:
            from .judge.stage import judge_run

            _log(f"judge {task.name} [{run}] with {opts.judge.get('kind')}")
            judge_run(task, run, **{**opts.judge, "judge": _judge_for(task, opts, judges)})
        _log(f"score {task.name} [{run}]")
        paths.append(score_run(task, run, allow_partial=opts.allow_partial, data_subset=opts.subset))
    return paths


def _build_model(name: str, model_args: dict):
    from .models.registry import build_model

    _log(f"load model {name} {model_args or ''}")
    t0 = time.perf_counter()
    model = build_model(name, **model_args)
    _log(f"  loaded in {time.perf_counter() - t0:.1f} s")
    return model


def _judge_for(task: TaskSpec, opts: RunOptions, judges: dict):
    """One judge object per judge family for the whole run (a local judge model loads once per
    family: the SAKURA and SALMONN protocols refer to different reference judges)."""
    if not opts.judge or opts.judge.get("kind") in (None, "import"):
        return None
    from .judge.protocols import family_of
    from .judge.stage import build_judge

    family = family_of(task.judge)
    if family not in judges:
        o = opts.judge
        judges[family] = build_judge(
            o["kind"],
            family,
            judge_model=o.get("judge_model"),
            base_url=o.get("base_url"),
            concurrency=o.get("concurrency"),
            timeout=o.get("timeout"),
            max_retries=o.get("max_retries"),
        )
    return judges[family]
