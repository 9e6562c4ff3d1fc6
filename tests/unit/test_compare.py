"""Compare stage: verdict rules on a hand-computed case, CIs, derived SAKURA averages, CCCs of the
prior reproduction, provenance deviations, and the CLI hooks. Results are small synthetic
scores.json files in tmp dirs."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pytest

from audiorepro.compare import compare, compare_suite, load_run_results, results_from_set
from audiorepro.compare.cli import add_compare_arguments, compare_command, compare_prior
from audiorepro.compare.schema import (
    SCHEMA,
    VERDICTS,
    CellComparison,
    CompareDocument,
    RowComparison,
    Verdict,
)
from audiorepro.errors import InputError
from audiorepro.expected import load_expected, load_expected_file
from audiorepro.judge.client import OpenAICompatibleJudge
from audiorepro.metrics import compute
from audiorepro.paths import expected_dir
from audiorepro.report.markdown import render_markdown
from audiorepro.tasks import load_task
from metric_outputs import metric_output, not_computable_output


def write_scores(
    root: Path, suite: str, task: str, model: str, metrics: dict, provenance: dict | None = None
):
    path = root / suite / task / model / "scores.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    main = next(iter(metrics))
    doc = {
        "suite": suite,
        "task": task,
        "task_version": 1,
        "model": model,
        "main_metric": main,
        "value": metrics[main].get("value"),
        "ci": metrics[main].get("ci"),
        "n": metrics[main].get("n"),
        "n_scored": metrics[main].get("n_scored"),
        "metrics": {name: {"name": name, "status": "ok", "details": {}, **m} for name, m in metrics.items()},
        "provenance": provenance or {"code_commit": "abc123", "deviations": []},
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


MINI = """\
table: mini
suite: mini
title: Mini table
paper: hand-made
sources: {src-a: first source, src-b: second source}
tolerance_families:
  wer: {value: 0.3, why: test}
  acc: {value: 0.025, why: test}
  bleu: {value: 1.05, why: test}
rows:
  - {id: paper, label: Paper, compare_with: [{model: m1}]}
cells:
  - {id: c-tol, task: t-asr, metric: wer, label: tol, unit: "%WER", scale: percent, direction: lower,
     tolerance: wer, values: {paper: {value: 2.1, source: src-a}}}
  - {id: c-ci, task: t-acc, metric: accuracy, label: ci, unit: acc, scale: fraction, direction: higher,
     tolerance: acc, values: {paper: {value: 0.69, source: src-a}}}
  - {id: c-dev, task: t-bleu, metric: bleu, label: dev, unit: BLEU, scale: x100, direction: higher,
     tolerance: bleu, values: {paper: {value: 33.1, source: src-a}}}
  - {id: c-nr, task: t-missing, metric: wer, label: not run, unit: "%WER", scale: percent, direction: lower,
     tolerance: wer, values: {paper: {value: 5.0, source: src-a}}}
  - {id: c-nc, task: t-bleu, metric: spider, label: nc, unit: SPIDEr, scale: x100, direction: higher,
     tolerance: bleu, values: {paper: {value: 40.3, source: src-a}}}
  - {id: c-disp, task: t-per, metric: per, label: disputed, unit: "%PER", scale: percent, direction: lower,
     tolerance: wer, values: {paper: {disputed: true, values: [{value: 17.6, source: src-a}, {value: 4.2, source: src-b}]}}}
  - {id: c-noref, task: t-acc, metric: accuracy, label: no ref, unit: acc, scale: fraction, direction: higher,
     tolerance: acc, values: {paper: {value: null, note: not legible}}}
"""


@pytest.fixture
def mini(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(MINI, encoding="utf-8")
    table = load_expected_file(path)
    runs = tmp_path / "runs"
    write_scores(runs, "mini", "t-asr", "m1", {"wer": metric_output("wer", 2.3, n=100)})  # no CI
    write_scores(runs, "mini", "t-acc", "m1", {"accuracy": metric_output("accuracy", 0.65, ci=[0.62, 0.70])})
    write_scores(
        runs,
        "mini",
        "t-bleu",
        "m1",
        {
            "bleu": metric_output("bleu", 30.0, ci=[29.0, 31.0]),
            "spider": not_computable_output("spider", "SPICE needs CoreNLP 3.6.0"),
        },
    )
    write_scores(runs, "mini", "t-per", "m1", {"per": metric_output("per", 4.0)})
    doc = compare("mini", load_run_results("mini", table, runs), table)
    (comp,) = doc["comparisons"]
    return doc, {c["cell"]: c for c in comp["cells"]}, comp


def test_verdict_by_tolerance(mini):
    _, cells, _ = mini
    c = cells["c-tol"]
    assert c["ours"]["value"] == pytest.approx(2.3)
    assert c["delta"] == pytest.approx(0.2)  # ours - paper
    assert (c["verdict"], c["rule"]) == ("reproduced", "tolerance")
    assert c["ours_is"] == "worse"  # WER: lower is better
    assert "tolerance" in c["reason"]


def test_verdict_by_ci(mini):
    c = mini[1]["c-ci"]
    assert c["delta"] == pytest.approx(-0.04)  # |delta| > 0.025 ...
    assert (c["verdict"], c["rule"]) == ("reproduced", "ci")  # ... but 0.69 lies in [0.62, 0.70]
    assert "inside our 95% CI" in c["reason"]


def test_verdict_deviates(mini):
    c = mini[1]["c-dev"]
    assert c["delta"] == pytest.approx(-3.1)
    assert c["verdict"] == "deviates" and c["rule"] is None
    assert c["ours_is"] == "worse" and "outside our 95% CI" in c["reason"]


def test_not_run_not_computable_and_no_reference(mini):
    cells = mini[1]
    assert cells["c-nr"]["verdict"] == "not run"
    assert "t-missing" in cells["c-nr"]["reason"]
    assert cells["c-nc"]["verdict"] == "not computable"
    assert cells["c-nc"]["reason"] == "SPICE needs CoreNLP 3.6.0"
    assert cells["c-noref"]["verdict"] == "no reference"
    assert cells["c-noref"]["reason"] == "not legible"


def test_disputed_cell_gets_a_verdict_per_source(mini):
    c = mini[1]["c-disp"]
    assert c["verdict"] == "disputed" and c["disputed"]
    per = {tuple(p["source"]): p for p in c["per_source"]}
    assert per[("src-a",)]["verdict"] == "deviates"
    assert per[("src-a",)]["delta"] == pytest.approx(4.0 - 17.6)
    assert per[("src-b",)]["verdict"] == "reproduced"
    assert per[("src-b",)]["delta"] == pytest.approx(4.0 - 4.2)


def test_row_summary_and_agreement(mini):
    doc, _, comp = mini
    assert comp["summary"] == {
        "reproduced": 2,
        "deviates": 1,
        "disputed": 1,
        "failed": 0,
        "not run": 1,
        "not computable": 1,
        "no reference": 1,
    }
    assert doc["summary"]["cells"] == 7
    ag = comp["agreement"]
    assert ag["cells"] == ["c-tol", "c-ci", "c-dev"] and ag["n"] == 3
    # Lin's CCC by hand, fractions on the 0-100 scale: x = ours, y = paper
    x, y = [2.3, 65.0, 30.0], [2.1, 69.0, 33.1]
    mx, my = sum(x) / 3, sum(y) / 3
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / 3
    sx2 = sum((a - mx) ** 2 for a in x) / 3
    sy2 = sum((b - my) ** 2 for b in y) / 3
    assert ag["ccc"] == pytest.approx(2 * sxy / (sx2 + sy2 + (mx - my) ** 2))
    d = [a - b for a, b in zip(x, y, strict=True)]
    bias = sum(d) / 3
    sd = math.sqrt(sum((v - bias) ** 2 for v in d) / 2)
    assert ag["bland_altman"]["bias"] == pytest.approx(bias)
    assert ag["bland_altman"]["upper"] == pytest.approx(bias + 1.959964 * sd)


def test_wald_ci_and_derived_average(tmp_path):
    table = load_expected("sakura")
    runs = tmp_path / "runs"
    for cell, acc in (("gender", 0.538), ("language", 0.22), ("emotion", 0.31), ("animal", 0.73)):
        write_scores(
            runs,
            "sakura",
            f"sakura-{cell}-single",
            "salmonn-7b",
            {"judge_accuracy": metric_output("judge_accuracy", acc, n=500)},
        )
    doc = compare("sakura", load_run_results("sakura", table, runs), table)
    comp = next(c for c in doc["comparisons"] if c["model"] == "salmonn-7b")
    cells = {c["cell"]: c for c in comp["cells"]}
    gender = cells["sakura-gender-single"]["ours"]
    # Wald: 1.959964 * sqrt(0.538 * 0.462 / 500) = 0.04370 -> 53.8 +- 4.4 (sakura.md 2.5)
    assert gender["value"] == pytest.approx(53.8)
    assert round(gender["pm"], 1) == 4.4
    assert gender["ci"] == pytest.approx([53.8 - 4.370, 53.8 + 4.370], abs=0.01)
    avg = cells["sakura-avg-single"]
    # mean of 53.8, 22.0, 31.0, 73.0 = 44.95; pooled k = 269+110+155+365 = 899 of n = 2000:
    # 1.959964 * sqrt(0.4495 * 0.5505 / 2000) = 0.02180
    assert avg["ours"]["value"] == pytest.approx(44.95)
    assert avg["ours"]["n"] == 2000
    assert avg["ours"]["pm"] == pytest.approx(2.180, abs=0.001)
    assert avg["derived"] is True
    assert avg["paper"] == 42.5 and avg["delta"] == pytest.approx(2.45)
    # multi-hop tracks were not run, so neither is their average
    assert cells["sakura-avg-multi"]["verdict"] == "not run"
    assert "sakura-gender-multi" in cells["sakura-avg-multi"]["reason"]
    # every SALMONN comparison is listed, the 13B one with its caveat, with all cells not run
    c13 = next(c for c in doc["comparisons"] if c["model"] == "salmonn-13b-v1")
    assert "no SALMONN-13B row" in c13["caveat"]
    assert c13["summary"]["not run"] == 10


PRIOR_CCC = {
    "salmonn-13b-v1": 0.91246,
    "salmonn-7b": 0.99952,
    "qwen-audio-chat": 0.90039,
    "qwen2-audio": 0.99014,
}


def test_prior_reproduction_ccc_through_the_compare_path():
    table = load_expected("sakura")
    results = results_from_set(expected_dir() / "prior_reproduction" / "sakura.yaml", table)
    doc = compare("sakura", results, table)
    got = {c["model"]: c["agreement"] for c in doc["comparisons"]}
    assert set(got) == set(PRIOR_CCC)
    for model, ccc in PRIOR_CCC.items():
        assert got[model]["n"] == 10
        assert round(got[model]["ccc"], 5) == ccc
    assert round(got["qwen2-audio"]["ccc"], 4) == 0.9901
    assert "printed 0.9902" in got["qwen2-audio"]["note"]
    assert got["salmonn-7b"]["note"] == ""  # printed 0.9995 agrees
    rows = {c["model"]: c["row"] for c in doc["comparisons"]}
    assert rows == {
        "salmonn-13b-v1": "salmonn",
        "salmonn-7b": "salmonn",
        "qwen-audio-chat": "qwen-audio-chat",
        "qwen2-audio": "qwen2-audio-instruct",
    }


def test_prior_table3_verdicts():
    table = load_expected("table3")
    results = results_from_set(expected_dir() / "prior_reproduction" / "table3.yaml", table)
    doc = compare("table3", results, table)
    (comp,) = doc["comparisons"]  # the set has only salmonn-13b-v1 -> row w-activation
    assert comp["row"] == "w-activation"
    cells = {c["cell"]: c for c in comp["cells"]}
    assert cells["asr-librispeech-clean"]["verdict"] == "reproduced"  # 2.2 vs 2.1, tol 0.3
    assert cells["asr-gigaspeech"]["verdict"] == "deviates"  # 11.6 vs 10.0
    assert cells["asr-gigaspeech"]["delta"] == pytest.approx(1.6)
    assert cells["aac-audiocaps/spider"]["verdict"] == "deviates"  # 23.3 vs 40.3
    pr = cells["pr-librispeech-clean"]
    assert pr["verdict"] == "disputed"
    assert {p["source"][0]: p["verdict"] for p in pr["per_source"]} == {
        "arxiv-text": "deviates",
        "student-deck": "reproduced",
    }
    assert cells["sac-inhouse/accuracy"]["verdict"] == "not run"
    assert "in-house" in cells["sac-inhouse/accuracy"]["reason"]
    assert comp["deviations"] and comp["deviations"][0]["name"]


def test_deviations_and_option_warnings_from_provenance(tmp_path):
    table = load_expected("table3")
    runs = tmp_path / "runs"
    prov = {
        "code_commit": "abc",
        "model": {"name": "salmonn-13b-v1", "lora_scaling": 2.0},
        "deviations": [
            {"name": "normaliser", "value": "whisper EnglishTextNormalizer", "reference": "unstated"}
        ],
    }
    for task in ("asr-librispeech-clean", "asr-librispeech-other"):
        write_scores(runs, "table3", task, "salmonn-13b-v1", {"wer": metric_output("wer", 2.2)}, prov)
    doc = compare("table3", load_run_results("table3", table, runs), table)
    comp = next(c for c in doc["comparisons"] if c["model"] == "salmonn-13b-v1")
    (dev,) = comp["deviations"]
    assert dev["name"] == "normaliser"
    assert dev["tasks"] == ["asr-librispeech-clean", "asr-librispeech-other"]
    assert any("lora_scaling=2.0" in w for w in comp["warnings"])
    assert comp["provenance"]["asr-librispeech-clean"]["code_commit"] == "abc"
    cascade = next(c for c in doc["comparisons"] if c["model"] == "cascade")
    assert cascade["summary"]["reproduced"] == 0
    # the specialist reference systems are never given a verdict against the cascade
    assert {c["cell"]: c["verdict"] for c in cascade["cells"]}["pr-librispeech-clean"] == "no reference"


def test_a_numeric_deviation_from_an_older_run_merges_with_its_text_form(tmp_path):
    """Models store deviation values as text since they build `Deviation`s; a run scored before
    (lora_scaling 2.0 as a number) and one after ("2.0") are one deviation, shown as 2.0."""
    table = load_expected("table3")
    runs = tmp_path / "runs"
    for task, value, reference in (("asr-librispeech-clean", 2.0, 4.0), ("asr-librispeech-other", "2.0", "4.0")):
        prov = {"code_commit": "abc", "deviations": [{"name": "lora_scaling", "value": value, "reference": reference}]}
        write_scores(runs, "table3", task, "salmonn-13b-v1", {"wer": metric_output("wer", 2.2)}, prov)
    doc = compare("table3", load_run_results("table3", table, runs), table)
    comp = next(c for c in doc["comparisons"] if c["model"] == "salmonn-13b-v1")
    (dev,) = comp["deviations"]
    assert dev["tasks"] == ["asr-librispeech-clean", "asr-librispeech-other"]
    assert "- **lora_scaling**: 2.0 (reference: 4.0) [asr-librispeech-clean, asr-librispeech-other]" in render_markdown(
        [doc], "t"
    )


def test_against_maps_every_model_to_one_row(tmp_path):
    table = load_expected("sakura")
    runs = tmp_path / "runs"
    write_scores(
        runs,
        "sakura",
        "sakura-animal-single",
        "my-model",
        {"judge_accuracy": metric_output("judge_accuracy", 0.686, n=500)},
    )
    doc = compare("sakura", load_run_results("sakura", table, runs), table, against="salmonn")
    (comp,) = doc["comparisons"]
    assert comp["model"] == "my-model" and comp["row"] == "salmonn"
    animal = next(c for c in comp["cells"] if c["cell"] == "sakura-animal-single")
    assert animal["verdict"] == "reproduced" and animal["delta"] == pytest.approx(0.0)
    plain = compare("sakura", load_run_results("sakura", table, runs), table)
    assert plain["unmatched_models"] == ["my-model"]
    with pytest.raises(InputError, match="unknown row"):
        compare("sakura", load_run_results("sakura", table, runs), table, against="nope")


def test_bad_scores_json_names_the_file(tmp_path):
    table = load_expected("demo")
    path = tmp_path / "runs" / "demo" / "demo-asr" / "cascade" / "scores.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"task": "demo-asr", "model": "cascade"}), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_run_results("demo", table, tmp_path / "runs")
    assert str(path) in str(err.value) and "metrics" in str(err.value)


def test_cli_writes_compare_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AUDIOREPRO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("AUDIOREPRO_REPORTS", str(tmp_path / "reports"))
    write_scores(
        tmp_path / "runs",
        "demo",
        "demo-asr",
        "cascade",
        {"wer": metric_output("wer", 300 / 71, n=5)},
    )
    parser = argparse.ArgumentParser()
    add_compare_arguments(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["compare", "--suite", "demo"])
    assert args.func(args) == 0 and args.func is compare_command
    doc = json.loads((tmp_path / "reports" / "demo" / "compare.json").read_text(encoding="utf-8"))
    cells = {c["cell"]: c for c in doc["comparisons"][0]["cells"]}
    assert cells["demo-asr"]["verdict"] == "reproduced"  # 4.225 vs the hand-computed 4.23
    assert cells["demo-en2de"]["verdict"] == "no reference"
    assert "compare.json" in capsys.readouterr().out


def test_compare_prior_prints_the_four_cccs(tmp_path, capsys, monkeypatch):
    # charts are tested in test_report.py; skip drawing them here to keep the test fast
    monkeypatch.setattr("audiorepro.report.html.cells_chart", lambda *a, **k: None)
    monkeypatch.setattr("audiorepro.report.html.scatter_chart", lambda *a, **k: None)
    assert compare_prior(tmp_path) == 0
    out = capsys.readouterr().out
    for printed in ("CCC 0.9125", "CCC 0.9995", "CCC 0.9004", "CCC 0.9901"):
        assert printed in out
    assert "0.99014" in out and "printed 0.9902" in out
    assert "deviates" in out and "reproduced" in out  # the Table 3 comparison
    assert (tmp_path / "index.html").exists() and (tmp_path / "sakura.compare.json").exists()


def test_run_folders_with_options_match_only_the_assumed_options(tmp_path):
    table = load_expected("table3")
    runs = tmp_path / "runs"
    for run in ("salmonn-13b-v1+lora_scaling=4.0", "salmonn-13b-v1+lora_scaling=2.0"):
        write_scores(runs, "table3", "asr-librispeech-clean", run, {"wer": metric_output("wer", 2.2)})
    doc = compare("table3", load_run_results("table3", table, runs), table)
    rows = {c["model"]: c["row"] for c in doc["comparisons"]}
    assert rows["salmonn-13b-v1+lora_scaling=4.0"] == "w-activation"
    assert "salmonn-13b-v1" not in rows  # the matching run stands for the model
    assert doc["unmatched_models"] == ["salmonn-13b-v1+lora_scaling=2.0"]
    comp = next(c for c in doc["comparisons"] if c["row"] == "w-activation")
    clean = next(c for c in comp["cells"] if c["cell"] == "asr-librispeech-clean")
    assert clean["rerun"] == (
        "audiorepro run --suite table3 --tasks asr-librispeech-clean --models salmonn-13b-v1 --model-arg lora_scaling=4.0"
    )


def test_not_run_reason_from_the_pipeline(tmp_path):
    table = load_expected("table3")
    reason = "dataset sac-inhouse not available: in-house data"
    doc = compare(
        "table3", load_run_results("table3", table, tmp_path), table, not_run={"sac-inhouse": reason}
    )
    comp = next(c for c in doc["comparisons"] if c["row"] == "w-activation")
    cells = {c["cell"]: c for c in comp["cells"]}
    assert cells["sac-inhouse/accuracy"]["verdict"] == "not run"
    assert cells["sac-inhouse/accuracy"]["reason"] == reason
    assert "no scores.json" in cells["er-iemocap"]["reason"]


def test_suite_without_a_paper_table_shows_results_only(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOREPRO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("AUDIOREPRO_REPORTS", str(tmp_path / "reports"))
    write_scores(
        tmp_path / "runs", "sakura-text", "sakura-text-gender-single", "qwen2-audio",
        {"judge_accuracy": metric_output("judge_accuracy", 0.9, ci=[0.87, 0.93], n=500)},
    )  # fmt: skip
    path = compare_suite("sakura-text")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert path == tmp_path / "reports" / "sakura-text" / "compare.json"
    (comp,) = doc["comparisons"]
    cells = {c["cell"]: c for c in comp["cells"]}
    cell = cells["sakura-text-gender-single"]
    assert cell["ours"]["value"] == pytest.approx(0.9) and cell["verdict"] == "no reference"
    assert cells["sakura-text-animal-multi"]["verdict"] == "no reference"


def test_results_set_with_an_unknown_cell_names_file_and_cell(tmp_path):
    path = tmp_path / "set.yaml"
    path.write_text(
        "results_set: x\ntable: sakura\nsuite: sakura\nsource: s\n"
        "models:\n  m:\n    label: M\n    cells:\n      sakura-smell-single: {value: 50.0}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as err:
        results_from_set(path, load_expected("sakura"))
    assert str(path) in str(err.value) and "sakura-smell-single" in str(err.value)
    path.write_text(path.read_text().replace("{value: 50.0}", "{value: 50.0, colour: red}"), encoding="utf-8")
    with pytest.raises(InputError, match="colour': unknown field"):
        results_from_set(path, load_expected("sakura"))


def test_a_substitute_judge_is_reported_as_a_deviation(tmp_path):
    table = load_expected("sakura")
    runs = tmp_path / "runs"
    for task, judge in (
        ("sakura-gender-single", "option-matcher-v1"),
        ("sakura-gender-multi", "gpt-4o-2024-11-20"),
    ):
        prov = {"judge": {"judge_ids": [judge], "verdicts_sha256": "x"}, "deviations": []}
        write_scores(
            runs,
            "sakura",
            task,
            "qwen2-audio",
            {"judge_accuracy": metric_output("judge_accuracy", 0.5, n=500)},
            prov,
        )
    doc = compare("sakura", load_run_results("sakura", table, runs), table)
    comp = next(c for c in doc["comparisons"] if c["model"] == "qwen2-audio")
    (dev,) = comp["deviations"]  # the GPT-4o-judged task is not a deviation
    assert dev["name"] == "judge" and dev["value"] == "option-matcher-v1"
    assert dev["reference"].startswith("gpt-4o-2024-11-20") and dev["tasks"] == ["sakura-gender-single"]


def test_real_metric_outputs_land_on_the_cells_printed_scale(tmp_path):
    """judge_accuracy computes a fraction and SAKURA prints percent; ROUGE-L computes and prints
    x100. No unit string is parsed: the registry's scale decides (the captioning cells used to pass
    only because an unrecognised unit, "ROUGE-L", was taken as printed, with a note saying so)."""
    runs = tmp_path / "runs"
    verdicts = ["correct"] * 269 + ["incorrect"] * 231  # 269 / 500 = 53.8 %
    accuracy = compute("judge_accuracy", verdicts, [[]] * 500)
    write_scores(runs, "sakura", "sakura-gender-single", "salmonn-7b", {"judge_accuracy": accuracy.to_dict()})
    sakura = load_expected("sakura")
    doc = compare("sakura", load_run_results("sakura", sakura, runs), sakura)
    comp = next(c for c in doc["comparisons"] if c["model"] == "salmonn-7b")
    gender = next(c for c in comp["cells"] if c["cell"] == "sakura-gender-single")
    assert gender["ours"]["value"] == pytest.approx(53.8) and gender["ours"]["notes"] == ""

    # ROUGE-L F of a 7-word answer holding the 6-word reference: P = 6/7, R = 1, F = 12/13
    rouge = compute("rouge_l", ["the cat sat on the mat today"], [["the cat sat on the mat"]])
    write_scores(runs, "table3", "mc-musiccaps", "salmonn-13b-v1", {"rouge_l": rouge.to_dict()})
    table3 = load_expected("table3")
    doc = compare("table3", load_run_results("table3", table3, runs), table3)
    comp = next(c for c in doc["comparisons"] if c["model"] == "salmonn-13b-v1")
    cell = next(c for c in comp["cells"] if c["cell"] == "mc-musiccaps/rouge_l")
    assert cell["ours"]["value"] == pytest.approx(100 * 12 / 13) and cell["ours"]["notes"] == ""


def test_results_of_another_task_version_are_flagged(tmp_path):
    table = load_expected("table3")
    runs = tmp_path / "runs"
    current = load_task("asr-librispeech-clean").version
    for task in ("asr-librispeech-clean", "asr-librispeech-other"):
        path = write_scores(runs, "table3", task, "salmonn-13b-v1", {"wer": metric_output("wer", 2.1)})
    stale = runs / "table3" / "asr-librispeech-clean" / "salmonn-13b-v1" / "scores.json"
    scores = json.loads(stale.read_text(encoding="utf-8"))
    scores["task_version"] = current + 1
    stale.write_text(json.dumps(scores), encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8"))["task_version"] == current  # the other one

    doc = compare("table3", load_run_results("table3", table, runs), table)
    comp = next(c for c in doc["comparisons"] if c["model"] == "salmonn-13b-v1")
    (warning,) = [w for w in comp["warnings"] if "task version" in w]
    assert warning.startswith("asr-librispeech-clean:") and f"version {current + 1}" in warning
    cells = {c["cell"]: c for c in comp["cells"]}
    assert "another task version" in cells["asr-librispeech-clean"]["ours"]["notes"]
    assert "another task version" not in cells["asr-librispeech-other"]["ours"]["notes"]
    assert f"> Check: {warning}" in render_markdown([doc], "t")


def test_an_api_judge_with_another_model_is_one_deviation(tmp_path, monkeypatch):
    """The judge describes itself (judge_meta.json), the score stage copies its deviations into the
    provenance, and compare adds no second record of the same judge."""
    monkeypatch.setenv("OPENAI_API_KEY", "unused")
    described = OpenAICompatibleJudge(model="gpt-4o-mini").describe()
    provenance = {
        "judge": {"judge_ids": ["gpt-4o-mini"], "judge": described},
        "deviations": described["deviations"],
    }
    runs = tmp_path / "runs"
    write_scores(
        runs,
        "sakura",
        "sakura-gender-single",
        "qwen2-audio",
        {"judge_accuracy": metric_output("judge_accuracy", 0.5, n=500)},
        provenance,
    )
    table = load_expected("sakura")
    doc = compare("sakura", load_run_results("sakura", table, runs), table)
    comp = next(c for c in doc["comparisons"] if c["model"] == "qwen2-audio")
    (dev,) = comp["deviations"]
    assert (dev["name"], dev["value"]) == ("judge", "gpt-4o-mini")
    assert dev["reference"] == "gpt-4o-2024-11-20, temperature 0.0, top_p 0.9"  # SAKURA's judge


def test_compare_json_has_the_typed_shape(mini):
    """The keys the report reads are the ones schema.py declares, at every level."""
    doc, _, comp = mini
    assert doc["schema"] == SCHEMA
    assert set(doc) == set(CompareDocument.__annotations__)
    assert set(comp) == set(RowComparison.__annotations__)
    for cell in comp["cells"]:
        assert set(cell) == set(CellComparison.__annotations__)
        assert cell["verdict"] in set(Verdict)
    assert [v.value for v in VERDICTS] == [
        "reproduced", "deviates", "disputed", "failed", "not run", "not computable", "no reference"
    ]  # fmt: skip


def test_an_unknown_scale_in_scores_json_names_the_file(tmp_path):
    runs = tmp_path / "runs"
    path = write_scores(runs, "table3", "asr-librispeech-clean", "m", {"wer": {**metric_output("wer", 2.0), "scale": "permille"}})
    with pytest.raises(InputError, match="unknown scale 'permille'") as err:
        load_run_results("table3", load_expected("table3"), runs)
    assert str(path) in str(err.value)
