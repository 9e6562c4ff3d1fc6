"""The judge stage: predictions.jsonl -> verdicts.jsonl for tasks with a `judge:` (SAKURA's
protocol, or the SALMONN paper's SQQA/SAC protocols: judge/protocols.py).

    audiorepro judge --suite sakura --models qwen2-audio --judge api [--base-url URL] [--judge-model M]
    audiorepro judge --suite sakura --models qwen2-audio --judge local --judge-model PATH
    audiorepro judge --suite sakura --models qwen2-audio --judge matcher
    audiorepro judge --suite sakura --models qwen2-audio --verdicts shipped_verdicts.jsonl

Every reply goes through the verdict cache (SQLite, keyed by endpoint, judge id, prompt sha256
and sampling), so rerunning costs nothing; `--verdicts FILE` imports replies from a verdicts JSONL
(or a cache export) and then judges from the cache alone, with no judge at all. Each verdict
record carries the sha256 of the answer it judged (`prediction_sha256`), so the score stage can
refuse verdicts made for answers that have changed since."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from ..errors import AudioreproError, InputError
from ..jsonl import atomic_write_json, iter_jsonl, read_jsonl, write_jsonl
from ..layout import JUDGE_META, examples_path, run_dir, verdicts_path
from ..paths import cache_dir
from ..predict import load_examples, merged_predictions
from ..records import Example, Prediction
from ..tasks import list_tasks
from .agreement import judge_agreement
from .base import Judge
from .cache import UNKNOWN_ENDPOINT, VerdictCache, messages_sha256, normalise_endpoint, record_endpoint
from .client import endpoint_deviations
from .deviations import is_reference_judge, judge_deviations
from .protocols import DEFAULT_PROTOCOL, FAMILIES, protocol, record_protocol, task_judge
from .registry import JUDGES
from .sakura import JUDGE_MODEL, count_verdicts

log = logging.getLogger(__name__)

NO_JUDGE_MESSAGE = (
    "scoring SAKURA needs judge verdicts and no judge is configured. Choose one of:\n"
    "  --judge api [--base-url URL] [--judge-model NAME]   OpenAI-compatible API (the benchmark's judge is "
    f"{JUDGE_MODEL}; key from OPENAI_API_KEY)\n"
    "  --judge local --judge-model PATH                    a local transformers chat model (deviation)\n"
    "  --judge matcher                                     the deterministic option matcher (deviation)\n"
    "  --verdicts FILE                                     import verdicts shipped with a run (no judge needed)"
)


class JudgeNotConfigured(AudioreproError):
    def __init__(self) -> None:
        super().__init__(NO_JUDGE_MESSAGE)


class MissingVerdicts(AudioreproError):
    """Verdict import mode: some items have no imported reply."""


def judge_kind(name: str) -> str:
    """`--judge`'s type: a kind registered in JUDGES when the command line is parsed, so a judge a
    plug-in registers after this module is imported is accepted. An unknown name is an
    AudioreproError (`unknown judge 'x'; registered: ...`), which argparse lets through to the
    CLI's one-line `audiorepro: error:`; argparse's own `choices` would be fixed at import."""
    try:
        JUDGES.entry(name)
    except AudioreproError as e:
        raise AudioreproError(f"--judge: {e}") from None
    return name


def default_cache_path() -> Path:
    return cache_dir() / "judge" / "verdicts.sqlite"


def build_judge(kind: str | None, family: str = "sakura", **options: Any) -> Judge:
    """`kind` is a registered judge (judge/registry.py: "api", "local", "matcher"); options are
    the CLI's (judge_model, base_url, ...). `family` ("sakura" or "salmonn") picks the reference
    judge the default model and the deviation records refer to."""
    if kind is None:
        raise JudgeNotConfigured()
    return JUDGES.get(kind)(family, **options)


def _judge_inputs(examples: list[Example], predictions: list[Prediction]) -> list[tuple[Example, Prediction]]:
    by_id = {p.id: p for p in predictions}
    missing = [e.id for e in examples if e.id not in by_id]
    if missing:
        raise AudioreproError(
            f"{len(missing)} example(s) have no prediction (first: {missing[:3]}); finish the predict stage first"
        )
    return [(e, by_id[e.id]) for e in examples]


def render_item(example: Example, prediction: Prediction, protocol_name: str = DEFAULT_PROTOCOL) -> list[dict]:
    return protocol(protocol_name).render(example, prediction)


def _record(
    prediction: Prediction,
    judge_id: str,
    endpoint: str,
    sampling: dict,
    sha: str,
    raw_reply: str,
    protocol_name: str = DEFAULT_PROTOCOL,
) -> dict:
    parsed = protocol(protocol_name).parse(raw_reply)
    return {
        "id": prediction.id,
        "protocol": protocol_name,
        "verdict": parsed.verdict,
        "judge_id": judge_id,
        "endpoint": endpoint,
        "explanation": parsed.explanation,
        "raw_reply": raw_reply,
        "prompt_sha256": sha,
        "prediction_sha256": prediction.output_sha256,
        "sampling": sampling,
    }


def judge_predictions(
    examples: list[Example],
    predictions: list[Prediction],
    judge: str | Judge | None,
    *,
    out_path: str | Path | None = None,
    cache: VerdictCache | str | Path | None = None,
    verdicts_file: str | Path | None = None,
    protocol_name: str = DEFAULT_PROTOCOL,
    **judge_options: Any,
) -> list[dict]:
    """Judge every example's prediction and return verdict records (written to `out_path`).

    `judge` is a Judge, a kind name ("api", "local", "matcher"), or None with `verdicts_file`:
    then the replies come only from that file (matched by prompt sha256) and a missing one is an
    error naming the items."""
    items = _judge_inputs(examples, predictions)
    own_cache = not isinstance(cache, VerdictCache)
    store = cache if isinstance(cache, VerdictCache) else VerdictCache(cache or default_cache_path())
    try:
        if verdicts_file is not None and judge is None:
            records = _from_verdicts_file(items, Path(verdicts_file), store, protocol_name)
        else:
            if verdicts_file is not None:
                store.import_jsonl(verdicts_file)
            if not isinstance(judge, Judge):
                judge = build_judge(judge, protocol(protocol_name).family, **judge_options)
            records = _with_judge(items, judge, store, protocol_name)
    finally:
        if own_cache:
            store.close()
    if out_path is not None:
        write_jsonl(out_path, records)
    return records


def _with_judge(
    items: list[tuple[Example, Prediction]], judge: Judge, store: VerdictCache, protocol_name: str = DEFAULT_PROTOCOL
) -> list[dict]:
    rendered = [(p, render_item(e, p, protocol_name)) for e, p in items]
    shas = [messages_sha256(m) for _, m in rendered]
    replies: dict[str, str] = {}
    todo: list[tuple[str, list[dict]]] = []
    queued: set[str] = set()  # identical prompts (same question, answer and response) are asked once
    for (_, messages), sha in zip(rendered, shas, strict=True):
        if sha in replies or sha in queued:
            continue
        cached = store.get(judge.judge_id, sha, judge.sampling, endpoint=judge.endpoint)
        if cached is not None:
            replies[sha] = cached
        else:
            todo.append((sha, messages))
            queued.add(sha)
    log.info("judge %s: %d cached, %d to request", judge.judge_id, len(items) - len(todo), len(todo))

    def keep(i: int, reply: str) -> None:
        store.put(judge.judge_id, todo[i][0], judge.sampling, reply, endpoint=judge.endpoint)

    for (sha, _), reply in zip(todo, judge.complete_many([m for _, m in todo], on_reply=keep), strict=True):
        replies[sha] = reply
    endpoint = normalise_endpoint(judge.endpoint)
    return [
        _record(prediction, judge.judge_id, endpoint, judge.sampling, sha, replies[sha], protocol_name)
        for (prediction, _), sha in zip(rendered, shas, strict=True)
    ]


def _from_verdicts_file(
    items: list[tuple[Example, Prediction]], path: Path, store: VerdictCache, protocol_name: str = DEFAULT_PROTOCOL
) -> list[dict]:
    by_sha: dict[str, dict] = {}
    for record in iter_jsonl(path):
        store.put_record(record, source=path)
        earlier = by_sha.setdefault(record["prompt_sha256"], record)
        if (earlier["judge_id"], record_endpoint(earlier), earlier["sampling"]) != (
            record["judge_id"],
            record_endpoint(record),
            record["sampling"],
        ):
            raise InputError(
                path,
                f"two judges answer the same prompt ({earlier['judge_id']} at {record_endpoint(earlier)} and "
                f"{record['judge_id']} at {record_endpoint(record)}); import one judge's verdicts at a time",
            )
    records, missing = [], []
    for example, prediction in items:
        sha = messages_sha256(render_item(example, prediction, protocol_name))
        found = by_sha.get(sha)
        if found is None:
            missing.append(example.id)
            continue
        records.append(
            _record(
                prediction,
                found["judge_id"],
                record_endpoint(found),
                found["sampling"],
                sha,
                found["raw_reply"],
                protocol_name,
            )
        )
    if missing:
        raise MissingVerdicts(
            f"{path}: no verdict for {len(missing)} of {len(items)} item(s) ({protocol_name} prompt; first: {missing[:3]}); the file "
            "was made for other predictions or prompts. Judge the rest with --judge api|local|matcher."
        )
    return records


# ---- CLI -------------------------------------------------------------------------------------


def add_judge_options(parser: argparse.ArgumentParser) -> None:
    """Judge choice flags, shared by `audiorepro judge` and `audiorepro run`."""
    group = parser.add_argument_group("judge (SAKURA; SALMONN SQQA and SAC)")
    group.add_argument(
        "--judge", type=judge_kind, default=None, metavar="KIND",
        help=f"which judge scores free-form answers: {', '.join(JUDGES.names())} (judge/registry.py)",
    )
    group.add_argument(
        "--judge-model",
        default=None,
        help=f"API model name (default {JUDGE_MODEL} for SAKURA, {FAMILIES['salmonn']['model']} for SALMONN) "
        "or local model folder",
    )
    group.add_argument("--base-url", default=None, help="OpenAI-compatible endpoint (default: OpenAI)")
    group.add_argument("--verdicts", default=None, help="import judge replies from a verdicts JSONL")
    group.add_argument(
        "--judge-cache", default=None, help="verdict cache (default <cache>/judge/verdicts.sqlite)"
    )
    group.add_argument(
        "--judge-concurrency", type=int, default=None, help="parallel API requests (default 4)"
    )
    group.add_argument(
        "--judge-timeout", type=float, default=None, help="seconds to wait for one API reply (default 60)"
    )
    group.add_argument(
        "--judge-retries",
        type=int,
        default=None,
        help="retries of a failed API request: rate limits, 5xx, timeouts (default 6)",
    )
    group.add_argument(
        "--agreement-with",
        default=None,
        help="also score with 'matcher' or a verdicts JSONL and report agreement (percent, Cohen's kappa)",
    )


def add_judge_arguments(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("judge", help="judge free-form answers (SAKURA, SALMONN SQQA/SAC) -> verdicts.jsonl")
    parser.add_argument("--suite", default="sakura", help="suite whose `judge:` tasks to judge")
    parser.add_argument("--tasks", default=None, help="comma list of task names (default: all judged tasks)")
    parser.add_argument("--models", required=True, help="comma list of model names")
    add_judge_options(parser)
    parser.set_defaults(func=judge_command)
    return parser


def judge_options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "judge_model": getattr(args, "judge_model", None),
        "base_url": getattr(args, "base_url", None),
        "concurrency": getattr(args, "judge_concurrency", None),
        "timeout": getattr(args, "judge_timeout", None),
        "max_retries": getattr(args, "judge_retries", None),
    }


def judge_task(
    task,
    run: str,
    *,
    kind: str | None = None,
    verdicts_file: str | Path | None = None,
    judge_model: str | None = None,
    base_url: str | None = None,
    concurrency: int | None = None,
    timeout: float | None = None,
    max_retries: int | None = None,
    cache: str | Path | None = None,
    agreement_with: str | None = None,
    judge: Judge | None = None,
) -> list[dict]:
    """Judge one runs/<suite>/<task>/<run>/ folder and write its verdicts.jsonl.

    `kind` is "api", "local", "matcher", or "import" (replies from `verdicts_file` only); a ready
    `judge` object can be passed instead (so one judge serves many tasks of one judge family).
    Every protocol of the task's judge is asked (SAC: accuracy and following); verdicts.jsonl
    holds one record per item and protocol."""

    examples = load_examples(examples_path(task.suite, task.name))
    predictions = list(merged_predictions(task.suite, task.name, run).values())
    protocols = task_judge(task.judge or "sakura").protocols
    family = protocol(protocols[0]).family
    if judge is None and kind not in (None, "import"):
        judge = build_judge(
            kind,
            family,
            judge_model=judge_model,
            base_url=base_url,
            concurrency=concurrency,
            timeout=timeout,
            max_retries=max_retries,
        )
    if judge is None and verdicts_file is None:
        raise JudgeNotConfigured()
    store = VerdictCache(cache or default_cache_path())
    try:
        records = []
        for name in protocols:
            records += judge_predictions(
                examples, predictions, judge, cache=store, verdicts_file=verdicts_file, protocol_name=name
            )
        write_jsonl(verdicts_path(task.suite, task.name, run), records)
        atomic_write_json(
            run_dir(task.suite, task.name, run) / JUDGE_META,
            judge_meta(judge, records, verdicts_file=verdicts_file, family=family),
        )
        if agreement_with:
            if family != "sakura":
                raise AudioreproError("--agreement-with compares SAKURA judges only (the option matcher)")
            write_agreement(
                examples, predictions, records, agreement_with, run_dir(task.suite, task.name, run), store
            )
    finally:
        store.close()
    return records


def judge_meta(
    judge: Judge | None, records: list[dict], *, verdicts_file: str | Path | None = None, family: str = "sakura"
) -> dict:
    """Provenance of a verdicts.jsonl: which judge (and its deviations from the benchmark's judge)
    and the benchmark's counts, invalid replies included (per protocol when there are several)."""
    if judge is not None:
        described = judge.describe()
    else:
        judge_ids = sorted({r["judge_id"] for r in records})
        endpoints = sorted({r.get("endpoint", UNKNOWN_ENDPOINT) for r in records})
        described = {
            "kind": "import",
            "protocol_family": family,
            "verdicts_file": str(verdicts_file),
            "judge_ids": judge_ids,
            "endpoints": endpoints,
            "deviations": [
                *judge_deviations(
                    family, judge=None if is_reference_judge(family, judge_ids) else ", ".join(judge_ids)
                ),
                *endpoint_deviations(endpoints),
            ],
        }
    meta = {"judge": described, "counts": count_verdicts([r["verdict"] for r in records])}
    names = sorted({record_protocol(r) for r in records})
    if len(names) > 1:
        meta["counts_by_protocol"] = {
            n: count_verdicts([r["verdict"] for r in records if record_protocol(r) == n]) for n in names
        }
    return meta


def write_agreement(
    examples: list[Example],
    predictions: list[Prediction],
    records: list[dict],
    other: str,
    run_dir: Path,
    cache: VerdictCache,
) -> dict:
    if other == "matcher":
        second = judge_predictions(examples, predictions, "matcher", cache=cache)
    elif Path(other).is_file():
        second = read_jsonl(other)
    else:
        raise InputError(other, "--agreement-with takes 'matcher' or an existing verdicts JSONL")
    result = judge_agreement(records, second)
    write_jsonl(run_dir / f"verdicts.{_safe(result['judge_b'] or 'second')}.jsonl", second)
    atomic_write_json(run_dir / "judge_agreement.json", result)
    return result


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def judge_command(args: argparse.Namespace) -> int:
    if args.judge is None and args.verdicts is None:
        raise JudgeNotConfigured()
    tasks = [t for t in list_tasks(args.suite) if t.judge]
    if args.tasks:
        wanted = [t.strip() for t in args.tasks.split(",") if t.strip()]
        unknown = sorted(set(wanted) - {t.name for t in tasks})
        if unknown:
            raise AudioreproError(f"no judged task(s) {unknown} in suite {args.suite!r}")
        tasks = [t for t in tasks if t.name in wanted]
    judges: dict[str, Judge] = {}  # one per judge family, built when first needed

    def judge_for(task) -> Judge | None:
        if not args.judge:
            return None
        family = protocol(task_judge(task.judge).protocols[0]).family
        if family not in judges:
            judges[family] = build_judge(args.judge, family, **judge_options_from_args(args))
        return judges[family]

    for run in [m.strip() for m in args.models.split(",") if m.strip()]:
        for task in tasks:
            records = judge_task(
                task,
                run,
                judge=judge_for(task),
                verdicts_file=args.verdicts,
                cache=args.judge_cache,
                agreement_with=args.agreement_with,
            )
            counts = {v: sum(r["verdict"] == v for r in records) for v in ("correct", "incorrect", "invalid")}
            print(
                f"{task.name} {run}: {counts['correct']}/{len(records)} correct, {counts['invalid']} invalid"
            )
    return 0
