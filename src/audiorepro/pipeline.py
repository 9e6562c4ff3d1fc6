"""`audiorepro run`: every stage for a suite, in order, each reading only the files of the stage
before (fetch -> prepare -> predict -> [judge] -> score -> compare -> report).

A task whose data is not available (a gated dataset not yet placed, say) is reported as not run
with the reason and the other tasks go on; a checksum mismatch stops the whole run."""

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
    """Run every stage; return {'not_run': {task: reason}, 'scores': [paths], 'report': path}."""
    from .fetch import fetch
    from .prepare import dataset_for, prepare_task

    t_start = time.perf_counter()
    tasks = select_tasks(opts.suite, opts.tasks)
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

    judges: dict[str, object] = {}  # one judge per judge family (SAKURA, SALMONN), built when first needed
    score_paths: list[Path] = []
    for model_name in opts.models if ready else []:  # nothing to predict: do not load a model
        run = run_name(model_name, opts.model_args)
        model = _build_model(model_name, opts.model_args)
        for task in ready:
            from .predict import Shard, run_predict

            _log(f"predict {task.name} with {run}")
            run_predict(
                task,
                examples_path(task.suite, task.name),
                model,
                run,
                decoding_overrides=opts.decoding,
                batch_size=opts.batch_size,
                shard=Shard.parse(opts.shard),
                restart=opts.restart,
                progress=opts.progress,
            )
        del model
        for task in ready:
            if task.judge and opts.judge:
                from .judge.stage import judge_run

                _log(f"judge {task.name} [{run}] with {opts.judge.get('kind')}")
                judge_run(task, run, **{**opts.judge, "judge": _judge_for(task, opts, judges)})
            from .score import score_run

            _log(f"score {task.name} [{run}]")
            path = score_run(task, run, allow_partial=opts.allow_partial, data_subset=opts.subset)
            score_paths.append(path)

    result = {"not_run": not_run, "scores": [str(p) for p in score_paths], "report": None}
    if opts.report:
        from .compare import compare_suite
        from .report import render_suite_report

        compare_path = compare_suite(opts.suite, not_run=not_run)
        result["compare"] = str(compare_path)
        result["report"] = str(render_suite_report(opts.suite))
    _log(f"done in {time.perf_counter() - t_start:.1f} s")
    return result


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
