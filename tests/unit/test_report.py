"""Report stage: a self-contained HTML page and a Markdown table rendered from a compare document
built on synthetic scores.json files."""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import audiorepro.report
from audiorepro.cli import main
from audiorepro.compare import SCHEMA, compare, load_run_results
from audiorepro.errors import InputError
from audiorepro.expected import load_expected
from audiorepro.jsonl import atomic_write_json
from audiorepro.report import add_report_arguments, render_report
from audiorepro.report.format import headline
from metric_outputs import metric_output


def write_scores(
    root: Path, suite: str, task: str, model: str, metrics: dict, provenance: dict | None = None
):
    """A minimal scores.json as the score stage writes it (see docs/compare_and_report.md)."""
    path = root / suite / task / model / "scores.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "suite": suite,
        "task": task,
        "model": model,
        "main_metric": next(iter(metrics)),
        "metrics": {name: {"name": name, "status": "ok", **m} for name, m in metrics.items()},
        "provenance": provenance or {"code_commit": "abc123", "deviations": []},
    }
    path.write_text(json.dumps(doc), encoding="utf-8")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    runs = tmp / "runs"
    table3 = load_expected("table3")
    prov = {
        "code_commit": "0123abcd",
        "code_dirty": False,
        "device": "cpu",
        "seed": 0,
        "package_versions": {"torch": "2.13.0+cpu"},
        "model": {"name": "salmonn-13b-v1", "lora_scaling": 4.0, "checkpoint_sha256": "709c665b"},
        "decoding": {"num_beams": 4},
        "deviations": [
            {"name": "text normaliser", "value": "whisper EnglishTextNormalizer", "reference": "unstated"}
        ],
    }
    write_scores(
        runs,
        "table3",
        "asr-librispeech-clean",
        "salmonn-13b-v1",
        {"wer": metric_output("wer", 2.2, ci=[2.0, 2.4])},
        prov,
    )
    write_scores(
        runs,
        "table3",
        "asr-gigaspeech",
        "salmonn-13b-v1",
        {"wer": metric_output("wer", 11.6, ci=[11.2, 12.0])},
        prov,
    )
    write_scores(
        runs, "table3", "pr-librispeech-clean", "salmonn-13b-v1", {"per": metric_output("per", 4.0)}, prov
    )
    write_scores(
        runs,
        "table3",
        "aac-audiocaps",
        "salmonn-13b-v1",
        {
            "meteor": metric_output("meteor", 23.6),
            "spider": {
                "value": None,
                "status": "not_computable",
                "reason": "SPICE needs Stanford CoreNLP 3.6.0",
            },
        },
        prov,
    )
    doc3 = compare("table3", load_run_results("table3", table3, runs), table3)
    sakura = load_expected("sakura")
    write_scores(
        runs,
        "sakura",
        "sakura-gender-single",
        "salmonn-7b",
        {"judge_accuracy": metric_output("judge_accuracy", 0.538, n=500)},
    )
    docs = compare("sakura", load_run_results("sakura", sakura, runs), sakura, against="salmonn")
    out = tmp / "out"
    index = render_report([doc3, docs], out, title="Test report")
    return index, index.read_text(encoding="utf-8"), (out / "report.md").read_text(encoding="utf-8"), doc3


def test_report_files_are_written(rendered):
    index, html, md, _ = rendered
    assert index.name == "index.html" and html.startswith("<!DOCTYPE html>")
    assert md.startswith("# Test report")


def test_verdict_classes_are_colour_coded(rendered):
    html = rendered[1]
    for cls in (
        "v-reproduced",
        "v-deviates",
        "v-disputed",
        "v-not-run",
        "v-not-computable",
        "v-no-reference",
    ):
        assert f"class='{cls}'" in html, cls
        assert f"tr.{cls}" in html  # and styled
    assert "SPICE needs Stanford CoreNLP 3.6.0" in html


def test_header_summary_counts(rendered):
    doc3 = rendered[3]
    comp = next(c for c in doc3["comparisons"] if c["model"] == "salmonn-13b-v1")
    # clean 2.2 vs 2.1 (tolerance), METEOR 23.6 vs 24.0 (tolerance): 2 reproduced; GigaSpeech
    # 11.6 vs 10.0 deviates; PR disputed; SPIDEr not computable; the other 18 cells not run
    assert comp["summary"] == {
        "reproduced": 2,
        "deviates": 1,
        "disputed": 1,
        "failed": 0,
        "not run": 18,
        "not computable": 1,
        "no reference": 0,
    }
    assert "2 of 23 cells reproduced, 1 deviate, 1 disputed, 18 not run, 1 not computable" in rendered[1]
    summary = {
        "cells": 10,
        "reproduced": 3,
        "deviates": 2,
        "disputed": 0,
        "not run": 0,
        "not computable": 0,
        "no reference": 5,
    }
    assert headline(summary) == "3 of 10 cells reproduced, 2 deviate, 5 without a paper value"


def test_ccc_and_bland_altman_are_shown(rendered):
    html = rendered[1]
    comp = next(c for c in rendered[3]["comparisons"] if c["model"] == "salmonn-13b-v1")
    ccc = comp["agreement"]["ccc"]
    assert comp["agreement"]["n"] == 3
    assert f"{ccc:.4f}" in html
    assert "Lin's CCC" in html
    assert "Bland-Altman bias" in html


def test_wald_interval_is_shown_as_plus_minus(rendered):
    # 53.8% at n = 500 without a CI in scores.json: Wald 95% +-4.4 (sakura.md 2.5)
    assert "±4.4 [49.43, 58.17]" in rendered[1]


def test_deviation_and_provenance_sections(rendered):
    html = rendered[1]
    assert "Deviations from the reference protocol" in html
    assert "text normaliser" in html and "whisper EnglishTextNormalizer" in html
    assert re.search(r"<details><summary>Provenance[^<]*</summary>", html)
    assert "0123abcd" in html and "709c665b" in html and "2.13.0+cpu" in html


def test_rerun_command_per_cell(rendered):
    cmd = "audiorepro run --suite table3 --tasks asr-gigaspeech --models salmonn-13b-v1 --model-arg lora_scaling=4.0"
    assert cmd in rendered[1]
    # report.md: one command per row, every task of the table
    combined = re.search(
        r"audiorepro run --suite table3 --tasks (\S+) --models salmonn-13b-v1 --model-arg lora_scaling=4.0",
        rendered[2],
    )
    assert combined and combined.group(1).split(",")[:3] == [
        "asr-librispeech-clean",
        "asr-librispeech-other",
        "asr-gigaspeech",
    ]


def test_html_is_self_contained(rendered):
    html = rendered[1]
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    images = re.findall(r"<img [^>]*src='([^']*)'", html)
    assert images and all(src.startswith("data:image/png;base64,") for src in images)
    assert "<style>" in html


def test_markdown_has_the_verdict_table(rendered):
    md = rendered[2]
    assert "| cell | ours | 95% CI | paper | Δ | tol | verdict | reason |" in md
    assert re.search(r"\| ASR GigaSpeech test \| 11\.60 \|.*\| \*\*deviates\*\* \|", md)
    assert "**disputed**" in md and "**not computable**" in md
    assert "text normaliser" in md


def test_report_cli(tmp_path, monkeypatch, capsys, rendered):
    monkeypatch.setenv("AUDIOREPRO_REPORTS", str(tmp_path))
    parser = argparse.ArgumentParser()
    add_report_arguments(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", "--suite", "table3"])
    with pytest.raises(InputError, match="audiorepro compare --suite table3"):
        args.func(args)
    table = load_expected("demo")  # nothing run: no charts to draw, so this stays fast
    doc = compare("demo", load_run_results("demo", table, tmp_path / "no-runs"), table)
    atomic_write_json(tmp_path / "table3" / "compare.json", doc)
    assert args.func(args) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == str(tmp_path / "table3" / "index.html")
    assert (tmp_path / "table3" / "report.md").exists()


@pytest.mark.parametrize("found", ["audiorepro.compare/0", None])
def test_report_refuses_a_compare_json_of_another_schema(tmp_path, monkeypatch, capsys, found):
    """A compare.json hand-edited to an older schema (or with none) stops the report with one line
    naming the file, both versions and the command that rebuilds it; nothing is rendered."""
    monkeypatch.setenv("AUDIOREPRO_REPORTS", str(tmp_path))
    table = load_expected("demo")
    doc = compare("demo", load_run_results("demo", table, tmp_path / "no-runs"), table)
    assert doc["schema"] == "audiorepro.compare/1"
    if found is None:
        del doc["schema"]
    else:
        doc["schema"] = found
    path = tmp_path / "demo" / "compare.json"
    atomic_write_json(path, doc)

    assert main(["report", "--suite", "demo"]) == 2
    err = capsys.readouterr().err
    expected_found = found or "unknown (no schema key)"
    assert err == (
        f"audiorepro: error: {path}: compare.json of schema {expected_found}, this report reads "
        "audiorepro.compare/1; rebuild it with `make compare SUITE=demo`\n"
    )
    assert not (tmp_path / "demo" / "index.html").exists() and not (tmp_path / "demo" / "report.md").exists()

    # a compare.json given with --compare elsewhere: the command names that file as --out
    other = tmp_path / "elsewhere.json"
    atomic_write_json(other, doc)
    assert main(["report", "--suite", "demo", "--compare", str(other), "--out", str(tmp_path / "r")]) == 2
    assert f"rebuild it with `audiorepro compare --suite demo --out {other}`" in capsys.readouterr().err


def test_the_committed_example_compare_files_have_the_current_schema():
    """reports/example/ is rendered by `audiorepro report --compare ...`; a schema change must
    rebuild them, or the documented example stops rendering."""
    examples = sorted((Path(__file__).resolve().parents[2] / "reports" / "example").rglob("*compare.json"))
    assert len(examples) == 3, examples
    for path in examples:
        assert json.loads(path.read_text(encoding="utf-8"))["schema"] == SCHEMA, path


def test_markdown_is_written_without_matplotlib(rendered, tmp_path):
    """report.md needs no plotting stack: with matplotlib made unimportable, Markdown still renders."""
    path = tmp_path / "compare.json"
    atomic_write_json(path, rendered[3])
    code = (
        "import json, sys\n"
        "sys.modules['matplotlib'] = None  # any import of it now raises ImportError\n"
        "from audiorepro.report.markdown import render_markdown\n"
        f"md = render_markdown([json.load(open({str(path)!r}))], 'T')\n"
        "assert '| ASR GigaSpeech test | 11.60 |' in md, md\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_report_reads_only_the_compare_schema():
    """No import cycle between the stages: report depends on compare/schema.py and nothing else
    of the compare package (compare's CLI renders the report)."""
    imported = set()
    for path in Path(audiorepro.report.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                name = node.module if node.level == 0 else "audiorepro." + node.module
                if name.startswith("audiorepro.compare"):
                    imported.add(name)
    assert imported == {"audiorepro.compare.schema"}
