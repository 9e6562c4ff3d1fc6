"""`audiorepro run`: every stage for a suite, in order, each reading only the files of the stage
before (fetch -> prepare -> predict -> [judge] -> score -> compare -> report).

Three outcomes per task, kept apart because they ask different things of the user:
- not run: its data is not available (a gated dataset not yet placed, a download that cannot be
  made here): a normal state, the other tasks go on and the run exits 0;
- broken: a malformed manifest, a missing bundled file or a preparer error: a fault;
- failed: a model did not load, or predict/judge/score raised for one (model, task): recorded
  with the error's first line and the other models and tasks go on.
Broken or failed cells show as "failed" in the report and the run exits non-zero at the end; so
does a run where nothing at all could run. A checksum mismatch stops the whole run at once.
A rerun continues: complete predictions are not redone (no model is loaded when nothing is left)
and current scores are kept.

Under torchrun (`--nproc N`, or `torchrun`/`srun` on a cluster: audiorepro.distributed) rank 0
fetches and prepares, every rank predicts its shard of every task, and once all ranks are past a
barrier rank 0 alone judges, scores, compares and reports."""

from __future__ import annotations

import sys
import time
import traceback
from dataclasses import dataclass, field

from .compare import compare_suite
from .distributed import Group, current_group
from .errors import AudioreproError, ChecksumMismatch, InputError
from .fetch import fetch
from .jsonl import atomic_write_json
from .judge.protocols import family_of, task_judge
from .judge.stage import build_judge, judge_task
from .layout import examples_path, run_name, scores_path, verdicts_path
from .manifests import has_manifest
from .models.registry import build_model
from .paths import runs_dir
from .predict import Shard, discard_predictions, predict_task, predictions_complete
from .prepare import dataset_for, prepare_task
from .report import render_suite_report
from .score import score_is_current, score_task
from .tasks import list_tasks, load_task
from .tasks.schema import TaskSpec

RUN_SUMMARY = "run_summary.json"


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


def first_line(error: BaseException) -> str:
    """The error's first line, with its type when it is not one of ours (a bug, not bad input)."""
    text = (str(error).strip().splitlines() or [""])[0]
    return text if isinstance(error, AudioreproError) else f"{type(error).__name__}: {text}"


def _unavailable(error: AudioreproError) -> bool:
    """Data that is simply not there yet (gated data not placed, a download that cannot be made
    here) is a normal state; an InputError (a malformed manifest, a missing bundled file, a bad
    record) means something is broken."""
    return not isinstance(error, InputError)


@dataclass
class RunSummary:
    """What happened to every task and model of a run; written to runs/<suite>/run_summary.json."""

    not_run: dict[str, str] = field(default_factory=dict)  # task -> reason (data not available)
    broken: dict[str, str] = field(default_factory=dict)  # task -> first line (fetch or prepare failed)
    failed: dict[str, dict[str, str]] = field(default_factory=dict)  # run -> task -> first line
    awaiting_judge: dict[str, list[str]] = field(default_factory=dict)  # run -> judged tasks without verdicts
    scores: list[str] = field(default_factory=list)

    def fail(self, run: str, task: str, error: BaseException, stage: str) -> None:
        reason = f"{stage}: {first_line(error)}"
        self.failed.setdefault(run, {})[task] = reason
        _log(f"  FAILED {task} [{run}]: {reason}")
        if not isinstance(error, AudioreproError):
            traceback.print_exception(error, file=sys.stderr)

    @property
    def ok(self) -> bool:
        """False when anything is broken or failed, or when nothing at all could run."""
        return not (self.broken or self.failed) and (bool(self.scores) or bool(self.awaiting_judge))

    def to_dict(self) -> dict:
        return {
            "not_run": self.not_run,
            "broken": self.broken,
            "failed": self.failed,
            "awaiting_judge": self.awaiting_judge,
            "scores": self.scores,
        }


def run_suite(opts: RunOptions) -> dict:
    """Run every stage; return the RunSummary as a dict plus 'ok', 'report' and 'compare'.
    On ranks other than 0 of a distributed run only predict runs; scores and report are rank 0's.

    A model or task that fails is recorded and the others go on; only a checksum mismatch stops
    the run. Tasks whose predictions are complete (same examples, prompts and decoding options)
    are not predicted again, and a model none of whose tasks has anything left is not loaded."""
    t_start = time.perf_counter()
    tasks = select_tasks(opts.suite, opts.tasks)
    summary = RunSummary()
    # an explicit --shard i/N is a hand-launched shard: it predicts and scores on its own
    group = (current_group() if not opts.shard else Group.single()).start()
    try:
        if group.is_main:
            ready = _fetch_and_prepare(opts, tasks, summary)
            if opts.restart and group.world > 1:
                _discard_all(opts, ready)  # before any rank writes; the ranks then resume nothing
        plan = group.broadcast(([t.name for t in ready], summary.not_run, summary.broken) if group.is_main else None)
        ready_names, summary.not_run, summary.broken = plan
        ready = [t for t in tasks if t.name in ready_names]

        runs = [run_name(m, opts.model_args) for m in opts.models]
        predicted = {
            run: _predict_all(opts, model_name, run, ready, restart=opts.restart and group.world == 1, group=group, summary=summary)
            for model_name, run in zip(opts.models, runs, strict=True)
        }
        group.barrier()  # every shard of every task is on disk
        if not group.is_main:
            return {**summary.to_dict(), "ok": summary.ok, "report": None, "rank": group.rank}

        judges: dict[str, object] = {}  # one judge per judge family (SAKURA, SALMONN), built when first needed
        for run in runs:
            _judge_and_score(opts, run, predicted[run], judges, summary)

        failed_cells = {run: {**summary.broken, **summary.failed.get(run, {})} for run in runs}
        atomic_write_json(runs_dir() / opts.suite / RUN_SUMMARY, summary.to_dict())
        result = {**summary.to_dict(), "ok": summary.ok, "report": None}
        if opts.report:

            not_run = {**summary.not_run}
            for run, waiting in summary.awaiting_judge.items():
                for name in waiting:
                    not_run.setdefault(name, f"awaiting judge verdicts ({run})")
            compare_path = compare_suite(opts.suite, not_run=not_run, failed={r: f for r, f in failed_cells.items() if f})
            result["compare"] = str(compare_path)
            result["report"] = str(render_suite_report(opts.suite))
        if summary.awaiting_judge:
            result["judge_hint"] = judge_hint(summary.awaiting_judge)
        _log(f"done in {time.perf_counter() - t_start:.1f} s")
        return result
    finally:
        group.close()


def _fetch_and_prepare(opts: RunOptions, tasks: list[TaskSpec], summary: RunSummary) -> list[TaskSpec]:
    """The tasks ready to predict; the others go into summary.not_run (data not available) or
    summary.broken (a fault)."""

    # fetch: verify (or download) each dataset once
    datasets = sorted({dataset_for(t, opts.subset) for t in tasks})
    unavailable: dict[str, str] = {}
    broken: dict[str, str] = {}
    for name in datasets:
        if opts.subset and not has_manifest(name):  # a subset is declared for a few datasets only
            unavailable[name] = f"no {opts.subset!r} subset is declared (no manifest {name!r})"
            continue
        _log(f"fetch {name}")
        try:
            fetch(name)
        except ChecksumMismatch:
            raise
        except AudioreproError as e:
            if _unavailable(e):
                unavailable[name] = str(e)
                _log(f"  not available: {e}")
            else:
                broken[name] = first_line(e)
                _log(f"  BROKEN: {e}")

    ready: list[TaskSpec] = []
    for task in tasks:
        ds = dataset_for(task, opts.subset)
        if ds in unavailable:
            summary.not_run[task.name] = f"dataset {ds} not available: {unavailable[ds]}"
            continue
        if ds in broken:
            summary.broken[task.name] = f"dataset {ds}: {broken[ds]}"
            continue
        _log(f"prepare {task.name}")
        try:
            prepare_task(task, subset=opts.subset, limit=opts.limit)
        except ChecksumMismatch:
            raise
        except AudioreproError as e:  # the data is there, so this is a fault, not a missing dataset
            summary.broken[task.name] = f"prepare: {first_line(e)}"
            _log(f"  BROKEN: {e}")
            continue
        ready.append(task)
    return ready


def _discard_all(opts: RunOptions, tasks: list[TaskSpec]) -> None:
    for model_name in opts.models:
        for task in tasks:
            discard_predictions(task.suite, task.name, run_name(model_name, opts.model_args))


def _predict_all(
    opts: RunOptions, model_name: str, run: str, tasks: list[TaskSpec], *, restart: bool, group, summary: RunSummary
) -> list[TaskSpec]:
    """Predict what is left of every task with one model load (none when nothing is left); a
    failure is recorded and the other tasks go on. Returns the tasks with complete predictions."""
    shard = Shard.parse(opts.shard)
    pending = [
        t
        for t in tasks
        if restart
        or not predictions_complete(
            t, examples_path(t.suite, t.name), model_name, run, decoding_overrides=opts.decoding, shard=shard, limit=opts.limit
        )
    ]
    done = [t for t in tasks if t not in pending]
    if not pending:
        if tasks:
            _log(f"predict: {run} has every prediction already; model not loaded")
        return done
    try:
        model = _build_model(model_name, opts.model_args)
    except ChecksumMismatch:
        raise
    except Exception as e:  # noqa: BLE001 - one model failing must not stop the others
        for task in pending:
            summary.fail(run, task.name, e, f"model {model_name} did not load")
        return done
    where = f" (rank {group.rank}/{group.world})" if group.world > 1 else ""
    for task in pending:
        _log(f"predict {task.name} with {run}{where}")
        try:
            predict_task(
                task,
                examples_path(task.suite, task.name),
                model,
                run,
                decoding_overrides=opts.decoding,
                batch_size=opts.batch_size,
                shard=shard,
                restart=restart,
                progress=opts.progress and group.is_main,
                limit=opts.limit,
            )
        except ChecksumMismatch:
            raise
        except Exception as e:  # noqa: BLE001
            summary.fail(run, task.name, e, "predict")
            continue
        done.append(task)
    return [t for t in tasks if t in done]


def _judge_and_score(opts: RunOptions, run: str, tasks: list[TaskSpec], judges: dict, summary: RunSummary) -> None:
    for task in tasks:
        if task.judge and not opts.judge and not verdicts_path(task.suite, task.name, run).exists():
            if task_judge(task.judge).without_verdicts == "error":  # SAKURA: nothing to score yet
                summary.awaiting_judge.setdefault(run, []).append(task.name)
                continue
        try:
            if task.judge and opts.judge:
                _log(f"judge {task.name} [{run}] with {opts.judge.get('kind')}")
                judge_task(task, run, **{**opts.judge, "judge": _judge_for(task, opts, judges)})
            if score_is_current(task, run, data_subset=opts.subset):
                path = scores_path(task.suite, task.name, run)
                _log(f"score {task.name} [{run}]: up to date")
            else:
                _log(f"score {task.name} [{run}]")
                path = score_task(task, run, allow_partial=opts.allow_partial, data_subset=opts.subset)
        except ChecksumMismatch:
            raise
        except Exception as e:  # noqa: BLE001
            summary.fail(run, task.name, e, "judge/score")
            continue
        summary.scores.append(str(path))


def judge_hint(awaiting: dict[str, list[str]]) -> str:
    """How to judge predictions made without a judge: rerunning the same command with a judge
    predicts nothing again, it judges and scores."""
    runs = ",".join(sorted(awaiting))
    return (
        f"predictions are complete for {runs}; the judged tasks ({sum(len(v) for v in awaiting.values())}) need a judge. "
        f"Rerun the same command with one of: --judge api (gpt-4o-2024-11-20, OPENAI_API_KEY), "
        f"--judge local --judge-model DIR, --judge matcher (a deviation), --verdicts FILE; "
        f"through make, add JUDGE=api|local|matcher or VERDICTS=FILE to the same make command"
    )


def _build_model(name: str, model_args: dict):
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
