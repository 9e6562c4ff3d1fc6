"""The score stage: examples + predictions (+ judge verdicts) -> scores.json with provenance.

Reads only its input files, so a reviewer can rescore on a laptop from shipped predictions."""

from __future__ import annotations

from pathlib import Path

from . import metrics
from .checksums import sha256_file
from .errors import AudioreproError, InputError
from .jsonl import atomic_write_json, check_unique_ids, iter_jsonl, read_json
from .judge.protocols import record_protocol, task_judge
from .layout import (
    JUDGE_META,
    PREDICT_META,
    examples_path,
    inputs_changed_since,
    predictions_sha256,
    run_dir,
    scores_path,
    verdicts_path,
)
from .manifests import load_manifest
from .perplexity import read_item_stats
from .predict import count_audio_notes, load_examples, merged_predictions
from .prepare import dataset_for
from .provenance import Deviation, base_provenance, code_version
from .tasks.schema import MetricSpec, TaskSpec

NO_JUDGE_MESSAGE = (
    "task {task}: no judge verdicts at {path}. SAKURA is scored by an LLM judge; choose one:\n"
    "  audiorepro judge --suite {suite} --tasks {task} --models {run} --judge api      "
    "(the paper's gpt-4o-2024-11-20; needs OPENAI_API_KEY, or --base-url for a compatible server)\n"
    "  audiorepro judge ... --judge local --judge-model DIR   (a local transformers judge: a named deviation)\n"
    "  audiorepro judge ... --judge matcher                   (deterministic option matcher: a named deviation)\n"
    "  audiorepro judge ... --verdicts FILE                   (import a shipped verdicts JSONL)"
)


# The one metric that scores judge verdicts; every other metric reads the model's answers.
VERDICT_METRIC = "judge_accuracy"
# A SALMONN Table 3 judged metric with no verdicts: reported as not computed, never replaced by
# another metric under the paper's name.
NOT_JUDGED_REASON = (
    "not computed: needs a judge ({protocol} protocol, the paper's GPT-3.5 prompt). Rerun with "
    "`make reproduce-table3 JUDGE=api|local|matcher` or `VERDICTS=FILE`, or `audiorepro judge --suite table3 ...`"
)


# An item option whose field starts with this reads the run's item_stats.jsonl (statistics the
# predict stage recorded, e.g. token_logprobs for Table 4) instead of the example's meta.
ITEM_STATS_PREFIX = "stats."


def _metric_inputs(
    spec: MetricSpec, examples, outputs, item_stats: dict[str, dict] | None = None
) -> tuple[list[str], list[list[str]], dict]:
    options = dict(spec.options)
    for option, field in spec.item_options.items():
        if field.startswith(ITEM_STATS_PREFIX):
            name = field[len(ITEM_STATS_PREFIX) :]
            missing = [e.id for e in examples if name not in (item_stats or {}).get(e.id, {})]
            if missing:
                raise AudioreproError(
                    f"metric {spec.name}: item option {option!r} needs {name!r} in item_stats.jsonl, missing for "
                    f"{len(missing)} item(s) (e.g. {missing[:3]}); rerun predict with --restart for this task"
                )
            options[option] = [item_stats[e.id][name] for e in examples]
            continue
        missing = [e.id for e in examples if field not in e.meta]
        if missing:
            raise AudioreproError(f"metric {spec.name}: item option {option!r} needs meta field {field!r}, missing in {missing[:3]}")
        options[option] = [e.meta[field] for e in examples]
    return outputs, [e.references for e in examples], options


def item_set(task: TaskSpec, examples, data_subset: str | None) -> dict:
    """Which items were scored, in words and numbers: the manifest and its prepare options (split,
    pairing, keys ...), the count, and how many items carry each true boolean flag of their meta
    (e.g. `longer_than_30s` for spoken abstracts that SALMONN hears only in part)."""

    dataset = dataset_for(task, data_subset)
    try:
        options = {k: v for k, v in load_manifest(dataset).prepare_options.items() if v is not None}
    except AudioreproError:
        options = {}
    flags: dict[str, int] = {}
    for e in examples:
        for key, value in e.meta.items():
            if isinstance(value, bool):
                flags[key] = flags.get(key, 0) + int(value)
    summary = f"{len(examples)} items of {dataset}"
    if options:
        summary += " (" + ", ".join(f"{k}={v}" for k, v in options.items()) + ")"
    if flags:
        summary += "; " + ", ".join(f"{k}: {v} of {len(examples)}" for k, v in sorted(flags.items()))
    return {"dataset": dataset, "prepare_options": options, "n_items": len(examples), "flag_counts": flags, "summary": summary}


def read_verdicts(path: Path) -> dict[tuple[str, str], dict]:
    """verdicts.jsonl by (protocol, id); a pair seen twice is an error (it would count one item
    twice). SAC has two verdicts per item, one per protocol."""
    records = list(iter_jsonl(path))
    for number, v in enumerate(records, start=1):
        if not isinstance(v.get("id"), str) or not isinstance(v.get("verdict"), str):
            raise InputError(path, f"record {number} lacks a string 'id' or 'verdict'")
    check_unique_ids(path, ((v["id"], record_protocol(v)) for v in records), "verdict", "; rerun `audiorepro judge`")
    return {(record_protocol(v), v["id"]): v for v in records}


def check_verdicts_match(path: Path, verdicts: dict[tuple[str, str], dict], predictions: dict) -> None:
    """Every verdict must be for the answer predictions.jsonl holds now (its `prediction_sha256`),
    so answers changed after judging are never scored with the old verdicts."""
    stale = [
        key
        for key, v in verdicts.items()
        if key[1] in predictions and v.get("prediction_sha256") != predictions[key[1]].output_sha256
    ]
    if stale:
        first = verdicts[stale[0]]
        why = (
            "carry no prediction_sha256 (judged by an older audiorepro)"
            if "prediction_sha256" not in first
            else "were given for other answers than the predictions hold now"
        )
        raise InputError(
            path,
            f"{len(stale)} of {sum(k[1] in predictions for k in verdicts)} verdicts {why} (e.g. {stale[0][1]!r}); "
            "rerun `audiorepro judge` for these predictions",
        )


def score_is_current(task: TaskSpec, run: str, *, data_subset: str | None = None) -> bool:
    """True when scores.json was written by this code version from the examples, predictions and
    verdicts now on disk (their sha256s are in its provenance), so a rerun need not rescore."""
    out = scores_path(task.suite, task.name, run)
    ex_path = examples_path(task.suite, task.name)
    if not (out.exists() and ex_path.exists()):
        return False
    try:
        record = read_json(out)
    except AudioreproError:
        return False
    prov = record.get("provenance") or {}
    if record.get("task_version") != task.version or prov.get("data_subset") != data_subset:
        return False
    if any(d.get("name") == "partial_predictions" for d in prov.get("deviations") or []):
        return False
    if any(prov.get(k) != v for k, v in code_version().items() if k != "code_dirty"):
        return False
    # scored from these verdicts, or scored without any (a judged metric not computed)
    return not inputs_changed_since(run_dir(task.suite, task.name, run), prov, judged=bool(task.judge))


def score_task(
    task: TaskSpec,
    run: str,
    *,
    allow_partial: bool = False,
    data_subset: str | None = None,
) -> Path:
    suite = task.suite
    ex_path = examples_path(suite, task.name)
    examples = load_examples(ex_path)
    preds = merged_predictions(suite, task.name, run)
    if not preds:
        raise InputError(run_dir(suite, task.name, run), "no predictions: run `audiorepro predict` first")
    unknown = set(preds) - {e.id for e in examples}
    if unknown:
        raise InputError(run_dir(suite, task.name, run), f"{len(unknown)} prediction ids are not in {ex_path}, e.g. {sorted(unknown)[:3]}")
    missing = [e for e in examples if e.id not in preds]
    deviations = []
    if data_subset:
        deviations.append(Deviation(name="data_subset", value=data_subset, reference="the full test set").model_dump())
    if missing:
        if not allow_partial:
            raise AudioreproError(
                f"task {task.name} [{run}]: {len(missing)} of {len(examples)} examples have no prediction "
                f"(e.g. {missing[0].id!r}); resume `audiorepro predict`, or score with --allow-partial"
            )
        scored = f"{len(examples) - len(missing)} of {len(examples)}"
        deviations.append(Deviation(name="partial_predictions", value=scored, reference="all items").model_dump())
        examples = [e for e in examples if e.id in preds]

    judge_info = None
    verdict_labels: dict[str, list[str]] = {}  # judge protocol -> verdict per example
    if task.judge:
        vpath = verdicts_path(suite, task.name, run)
        if not vpath.exists() and task_judge(task.judge).without_verdicts == "error":
            raise AudioreproError(NO_JUDGE_MESSAGE.format(task=task.name, path=vpath, suite=suite, run=run))
    if task.judge and vpath.exists():
        verdicts = read_verdicts(vpath)
        check_verdicts_match(vpath, verdicts, {e.id: preds[e.id] for e in examples})
        for protocol_name in task_judge(task.judge).protocols:
            lacking = [e.id for e in examples if (protocol_name, e.id) not in verdicts]
            if lacking:
                raise AudioreproError(
                    f"{vpath}: {len(lacking)} items have no {protocol_name} verdict (e.g. {lacking[0]!r}); "
                    "rerun `audiorepro judge`"
                )
            verdict_labels[protocol_name] = [verdicts[(protocol_name, e.id)]["verdict"] for e in examples]
        judge_ids = sorted({v.get("judge_id", "?") for v in verdicts.values()})
        judge_info = {"judge_ids": judge_ids, "verdicts_sha256": sha256_file(vpath)}
        judge_meta_path = vpath.parent / JUDGE_META
        if judge_meta_path.exists():
            judge_meta = read_json(judge_meta_path)
            judge_info.update(judge_meta)
            deviations += list(judge_meta.get("judge", {}).get("deviations", []))
    answers = [preds[e.id].output for e in examples]
    item_stats = None
    if task.record:
        item_stats = read_item_stats(run_dir(suite, task.name, run))

    results = {}
    for spec in [task.metric, *task.extra_metrics]:
        if spec.name == VERDICT_METRIC and not task.judge:
            raise AudioreproError(f"task {task.name}: metric {VERDICT_METRIC} needs `judge:` in the task YAML")
        if spec.name == VERDICT_METRIC:
            protocol_name = spec.verdicts or task_judge(task.judge).protocols[0]
            if protocol_name not in task_judge(task.judge).protocols:
                raise AudioreproError(
                    f"task {task.name}: metric {spec.report_as or spec.name} reads {protocol_name!r} verdicts, "
                    f"which judge {task.judge!r} does not produce"
                )
            if protocol_name not in verdict_labels:
                result = metrics.not_computable(
                    VERDICT_METRIC, len(examples), NOT_JUDGED_REASON.format(protocol=protocol_name), protocol=protocol_name
                )
                results[spec.report_as or spec.name] = result.to_dict()
                continue
        preds_in, refs_in, options = _metric_inputs(
            spec, examples, verdict_labels[protocol_name] if spec.name == VERDICT_METRIC else answers, item_stats
        )
        result = metrics.compute(spec.name, preds_in, refs_in, **options)
        if spec.name == VERDICT_METRIC:
            result.details["protocol"] = protocol_name
        results[spec.report_as or spec.name] = result.to_dict()

    main_key = task.metric.report_as or task.metric.name
    main = results[main_key]
    meta_path = run_dir(suite, task.name, run) / PREDICT_META
    predict_meta = read_json(meta_path) if meta_path.exists() else {}
    model_desc = predict_meta.get("model", {})
    deviations += list(model_desc.get("deviations", []))
    deviations += [d.model_dump() for d in task.deviations]
    for key, value in (predict_meta.get("decoding_overrides") or {}).items():
        override = Deviation(name=f"decoding.{key}", value=str(value), reference="the task's decoding (command-line override)")
        deviations.append(override.model_dump())
    finish = {}
    for e in examples:
        reason = preds[e.id].finish_reason
        finish[reason] = finish.get(reason, 0) + 1

    provenance = {
        **base_provenance(),
        "model": model_desc,
        "decoding": predict_meta.get("decoding"),
        "judge": judge_info,
        "device": model_desc.get("device"),
        "seed": (predict_meta.get("decoding") or {}).get("seed"),
        "examples_sha256": sha256_file(ex_path),
        "predictions_sha256": predictions_sha256(run_dir(suite, task.name, run)),
        "finish_reasons": finish,
        # clips cut to the model's window (as the reference does) and all-zero clips, by count
        "audio_notes": count_audio_notes(preds[e.id] for e in examples),
        "data_subset": data_subset,
        "item_set": item_set(task, examples, data_subset),
        "deviations": deviations,
    }
    record = {
        "suite": suite,
        "task": task.name,
        "task_version": task.version,
        "model": run,
        "main_metric": main_key,
        "value": main["value"],
        "ci": main["ci"],
        "n": main["n"],
        "n_scored": main["n_scored"],
        "metrics": results,
        "provenance": provenance,
    }
    out = scores_path(suite, task.name, run)
    atomic_write_json(out, record)
    return out
