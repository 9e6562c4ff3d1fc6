"""Command line: one subcommand per stage, plus `run` (all stages for a suite), `tasks`, `models`.

    audiorepro run --suite demo --models cascade
    audiorepro fetch --status
    audiorepro predict --suite table3 --tasks asr-librispeech-clean --models salmonn-13b-v1
"""

from __future__ import annotations

import argparse
import sys

from .compare.cli import (
    add_compare_arguments,
    add_compare_prior_arguments,
)
from .distributed import die_with_launcher, launch, strip_nproc
from .errors import AudioreproError, InputError
from .fetch import add_fetch_arguments
from .infer import add_infer_arguments
from .judge.stage import add_judge_arguments, add_judge_options
from .layout import examples_path, run_name
from .models.base import DecodingConfig
from .models.registry import build_model, list_models
from .pipeline import RunOptions, run_suite, select_tasks
from .predict import Shard, predict_task, predictions_complete, predictions_file
from .prepare import prepare_task
from .report import add_report_arguments
from .score import score_task
from .tasks import list_tasks


def _csv(text: str | None) -> list[str] | None:
    return [x for x in text.split(",") if x] if text else None


def _key_values(pairs: list[str] | None, what: str) -> dict:
    """`k=v` pairs with YAML scalars (numbers, booleans) parsed, e.g. lora_scaling=2.0."""
    import yaml

    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise AudioreproError(f"{what} must look like key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.replace("-", "_")] = yaml.safe_load(value)
    return out


def _decoding(pairs: list[str] | None) -> dict:
    """--decoding overrides, checked (names and types) before any model is loaded."""
    overrides = _key_values(pairs, "--decoding")
    try:
        DecodingConfig().merged(overrides)
    except ValueError as e:
        raise AudioreproError(f"--decoding: {e}") from e
    return overrides


def _at_least_one(text: str) -> int:
    """argparse type of a count: `--limit -1` silently dropped the last example (a slice), and
    `--batch-size 0` was a ValueError traceback once something was left to predict."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _add_selection(p: argparse.ArgumentParser, models: bool = True) -> None:
    p.add_argument("--suite", required=True, help="demo, table3, sakura, sakura-text")
    p.add_argument("--tasks", help="comma-separated task names (default: every task of the suite)")
    if models:
        p.add_argument("--models", help="comma-separated model names (see `audiorepro models`)")
        p.add_argument("--model-arg", action="append", metavar="KEY=VALUE", help="model option, repeatable")
    p.add_argument("--subset", help="use the smaller '<dataset>-<subset>' manifest (a recorded deviation)")


def _add_predict_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch-size", type=_at_least_one, default=8)
    p.add_argument("--limit", type=_at_least_one, help="only the first N examples (smoke runs)")
    p.add_argument("--shard", help="i/N: this process predicts every N-th example from i (torchrun sets it)")
    p.add_argument("--decoding", action="append", metavar="KEY=VALUE", help="decoding override, repeatable")
    p.add_argument("--restart", action="store_true", help="discard existing predictions instead of resuming")
    p.add_argument("--no-progress", action="store_true")


def _judge_options(args) -> dict | None:
    """The judge settings of `run` (flags from judge.stage.add_judge_options), or None."""
    if not (args.judge or args.verdicts):
        return None
    return {
        "kind": "import" if args.verdicts and not args.judge else args.judge,
        "verdicts_file": args.verdicts,
        "judge_model": args.judge_model,
        "base_url": args.base_url,
        "concurrency": args.judge_concurrency,
        "timeout": args.judge_timeout,
        "max_retries": args.judge_retries,
        "cache": args.judge_cache,
        "agreement_with": args.agreement_with,
    }


def tasks_command(args) -> int:
    specs = list_tasks(args.suite)
    if not specs:  # an empty list printed with exit 0 reads as "this suite has no tasks" (a typo)
        raise InputError(None, f"no task has suite {args.suite!r}; see `audiorepro tasks`")
    if args.names:  # one name a line, for Make and scripts
        print("\n".join(sorted(t.name for t in specs)))
        return 0
    for t in sorted(specs, key=lambda t: (t.suite, t.name)):
        metrics = ", ".join([t.metric.name, *(m.name for m in t.extra_metrics)])
        print(f"{t.suite:12s} {t.name:28s} {t.dataset:24s} {metrics}")
    return 0


def models_command(args) -> int:
    for name, desc in list_models():
        print(f"{name:18s} {desc}")
    return 0


def prepare_command(args) -> int:

    for task in select_tasks(args.suite, _csv(args.tasks)):
        path = prepare_task(task, subset=args.subset, limit=args.limit)
        print(path)
    return 0


def _models(args, command: str) -> list[str]:
    """--models as a list; without one, `predict` and `score` did nothing and exited 0, which
    reads as success (found on a fresh clone)."""
    models = _csv(args.models)
    if not models:
        raise AudioreproError(f"--models is required for `{command}` (see `audiorepro models`)")
    return models


def predict_command(args) -> int:

    model_args = _key_values(args.model_arg, "--model-arg")
    decoding = _decoding(args.decoding)
    shard = Shard.parse(args.shard)
    tasks = select_tasks(args.suite, _csv(args.tasks))
    for model_name in _models(args, "predict"):
        run = run_name(model_name, model_args)
        pending = [
            t for t in tasks
            if args.restart or not predictions_complete(
                t, examples_path(t.suite, t.name), model_name, run, decoding_overrides=decoding, shard=shard, limit=args.limit
            )
        ]
        model = build_model(model_name, **model_args) if pending else None  # nothing left: no load
        for task in tasks:
            if task not in pending:
                print(predictions_file(task, run, shard))
                continue
            out = predict_task(
                task,
                examples_path(task.suite, task.name),
                model,
                run,
                decoding_overrides=decoding,
                batch_size=args.batch_size,
                shard=shard,
                restart=args.restart,
                progress=not args.no_progress,
                limit=args.limit,
            )
            print(out)
    return 0


def score_command(args) -> int:

    model_args = _key_values(args.model_arg, "--model-arg")
    for model_name in _models(args, "score"):
        for task in select_tasks(args.suite, _csv(args.tasks)):
            print(score_task(task, run_name(model_name, model_args), allow_partial=args.allow_partial, data_subset=args.subset))
    return 0


def run_command(args) -> int:
    models = _models(args, "run")
    result = run_suite(
        RunOptions(
            suite=args.suite,
            tasks=_csv(args.tasks),
            models=models,
            model_args=_key_values(args.model_arg, "--model-arg"),
            decoding=_decoding(args.decoding),
            subset=args.subset,
            batch_size=args.batch_size,
            limit=args.limit,
            shard=args.shard,
            judge=_judge_options(args),
            allow_partial=args.allow_partial,
            restart=args.restart,
            progress=not args.no_progress,
            report=not args.no_report,
        )
    )
    if result.get("rank", 0) != 0:  # rank 0 reports for the whole run; a rank's own failures still count
        return 1 if result["failed"] else 0
    for task, reason in result["not_run"].items():
        print(f"not run: {task}: {reason}")
    for task, reason in result["broken"].items():
        print(f"FAILED: {task}: {reason}")
    for run, tasks in result["failed"].items():
        for task, reason in tasks.items():
            print(f"FAILED: {run} {task}: {reason}")
    if result.get("judge_hint"):
        print(f"not judged yet: {result['judge_hint']}")
    if result.get("report"):
        print(f"report: {result['report']}")
    if result["ok"]:
        return 0
    if not (result["broken"] or result["failed"]):
        print("audiorepro: error: nothing could run: no task of the selection has its data (see 'not run' above)", file=sys.stderr)
    else:
        n = len(result["broken"]) + sum(len(t) for t in result["failed"].values())
        print(f"audiorepro: error: {n} task(s) failed (listed above; also in runs/{args.suite}/run_summary.json)", file=sys.stderr)
    return 1


def build_parser() -> argparse.ArgumentParser:

    parser = argparse.ArgumentParser(prog="audiorepro", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("tasks", help="list registered tasks")
    p.add_argument("--suite", help="only this suite's tasks")
    p.add_argument("--names", action="store_true", help="print only the task names, one a line (for Make)")
    p.set_defaults(func=tasks_command)
    sub.add_parser("models", help="list registered models").set_defaults(func=models_command)

    add_fetch_arguments(sub)

    p = sub.add_parser("prepare", help="dataset items + task -> runs/<suite>/<task>/examples.jsonl")
    _add_selection(p, models=False)
    p.add_argument("--limit", type=_at_least_one)
    p.set_defaults(func=prepare_command)

    p = sub.add_parser("predict", help="examples -> predictions.jsonl (batched, resumable, shardable)")
    _add_selection(p)
    _add_predict_options(p)
    p.set_defaults(func=predict_command)

    add_judge_arguments(sub)

    p = sub.add_parser("score", help="predictions (+ verdicts) -> scores.json with CI and provenance")
    _add_selection(p)
    p.add_argument("--allow-partial", action="store_true", help="score the predicted items only (recorded)")
    p.set_defaults(func=score_command)

    add_compare_arguments(sub)
    add_compare_prior_arguments(sub)
    add_report_arguments(sub)

    p = sub.add_parser("run", help="every stage for a suite: fetch, prepare, predict, [judge], score, compare, report")
    _add_selection(p)
    _add_predict_options(p)
    add_judge_options(p)
    p.add_argument("--allow-partial", action="store_true")
    p.add_argument("--no-report", action="store_true")
    p.add_argument(
        "--nproc", type=int, default=1, metavar="N",
        help="N ranks on this machine through torchrun, one per GPU (gloo on CPU); see docs/scale_out.md",
    )
    p.set_defaults(func=run_command)

    add_infer_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    die_with_launcher()
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parser.parse_args(argv)  # inside: an option's type (--judge) may raise AudioreproError
        if getattr(args, "nproc", 1) != 1:
            if args.shard:
                raise AudioreproError("--nproc and --shard exclude each other: --nproc gives each rank its shard")

            return launch(strip_nproc(argv), args.nproc)
        return args.func(args)
    except AudioreproError as e:
        print(f"audiorepro: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        # A write the stages do not wrap themselves (a library's cache, a report asset): disk
        # full or a read-only folder is the user's to fix, so one line naming the file, no traceback.
        where = f"{e.filename}: " if e.filename else ""
        print(f"audiorepro: error: {where}{e.strerror or e} (OSError {e.errno})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("audiorepro: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
