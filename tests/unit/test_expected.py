"""expected/*.yaml hold the published numbers. The numbers below are typed here independently from
the reference notes (SALMONN Table 3 and 5 from the paper text and the student deck, the SAKURA
leaderboard from the official README), not read from the YAML files they check."""

from __future__ import annotations

from pathlib import Path

import jiwer
import pytest

from audiorepro.errors import InputError
from audiorepro.expected import load_expected, load_expected_file, load_results_set
from audiorepro.paths import expected_dir
from audiorepro.tasks import list_tasks

NL = None  # a cell the arXiv text prints illegibly / the paper leaves empty

# SALMONN Table 3: cell -> (w/o activation, w/ activation, reference value). A tuple in the middle
# column is a disputed value: (arXiv text, student deck).
TABLE3 = {
    "asr-librispeech-clean": (2.1, 2.1, 2.2),
    "asr-librispeech-other": (4.9, 4.9, 5.1),
    "asr-gigaspeech": (9.1, 10.0, 9.2),
    "en2zh-covost2": (NL, 33.1, 14.6),
    "aac-audiocaps/meteor": (25.6, 24.0, 25.0),
    "aac-audiocaps/spider": (47.6, 40.3, 48.5),
    "pr-librispeech-clean": (NL, (17.6, 4.2), 3.1),
    "er-iemocap": (NL, 0.69, 0.81),
    "mc-musiccaps/bleu": (NL, 5.5, 6.1),
    "mc-musiccaps/rouge_l": (NL, 21.8, 21.5),
    "osr-librimix": (NL, 23.0, 7.6),
    "sv-voxceleb1": (NL, 0.94, NL),
    "en2de-covost2": (19.7, 18.6, 16.5),
    "en2ja-covost2": (22.0, 22.7, 15.6),
    "ke-inspec": (0.30, 0.32, 0.31),
    "sqqa-wikiqa/accuracy": (0.19, 0.41, 0.77),
    "sqqa-wikiqa/following_rate": (0.29, 0.98, 1.00),
    "sf-slurp/accuracy": (0.33, 0.41, 0.46),
    "sf-slurp/following_rate": (0.77, 0.99, 1.00),
    "story-audiocaps/story": (7.77, 82.57, NL),
    "story-audiocaps/following_rate": (0.00, 1.00, NL),
    "sac-inhouse/accuracy": (0.02, 0.50, NL),
    "sac-inhouse/following_rate": (0.04, 0.73, NL),
}
TABLE3_REFERENCE_WHO = {
    "asr-librispeech-clean": "Whisper",
    "en2zh-covost2": "Whisper + Vicuna",
    "aac-audiocaps/meteor": "Mei et al. 2023",
    "pr-librispeech-clean": "WavLM",
    "er-iemocap": "Wu et al. 2021",
    "mc-musiccaps/bleu": "Doh et al. 2023",
    "osr-librimix": "Huang et al. 2023c",
    "en2de-covost2": "Whisper + Vicuna",
}

# SALMONN Table 5: row -> (ASR, PR, SQQA acc, SQQA FR, Story, Story FR, SAC acc, SAC FR, repeat %)
TABLE5 = {
    "wo-activation": (2.1, 17.6, 0.19, 0.29, 7.77, 0.00, 0.02, 0.04, 0.2),
    "story": (2.1, NL, NL, NL, 82.57, 1.00, NL, NL, 0.1),
    "qa-long": (2.1, NL, 0.40, 0.93, 59.82, 1.00, NL, NL, 4.6),
    "asr-long": (2.2, NL, NL, NL, 7.87, 0.00, NL, NL, 0.1),
    "story-text-based": (2.1, 17.6, 0.23, 0.32, 8.45, 0.03, 0.11, 0.03, 0.1),
    "story-lora-only": (2.1, 17.6, 0.44, 0.96, 82.29, 1.00, 0.34, 0.65, 0.2),
}
TABLE5_CELLS = [
    "asr",
    "pr",
    "sqqa-accuracy",
    "sqqa-fr",
    "story",
    "story-fr",
    "sac-accuracy",
    "sac-fr",
    "repeat-rate",
]

# SAKURA leaderboard (sakura.md 3.1): Gender S/M, Language S/M, Emotion S/M, Animal S/M, Avg S/M.
SAKURA = {
    "ltu-as": (52.4, 19.6, 16.8, 11.4, 28.6, 19.6, 65.6, 21.8, 40.9, 18.1),
    "gama-it": (76.4, 39.8, 5.6, 19.4, 5.6, 24.2, 85.2, 51.4, 43.2, 33.7),
    "salmonn": (59.8, 48.6, 21.8, 29.6, 19.8, 28.2, 68.6, 34.6, 42.5, 35.3),
    "desta2": (88.4, 85.2, 94.2, 75.4, 34.8, 36.4, 34.4, 31.2, 63.0, 57.1),
    "qwen-audio-chat": (49.6, 43.8, 87.6, 40.6, 63.2, 37.0, 92.2, 66.0, 73.2, 46.9),
    "qwen2-audio-instruct": (88.0, 47.2, 83.8, 48.0, 64.2, 39.8, 88.8, 61.4, 81.2, 49.1),
    "gpt-4o-audio": (NL, NL, 95.2, 83.6, 38.2, 23.8, 80.6, 55.4, 71.3, 54.3),
    "gemini-1.5-flash": (77.0, 24.2, 98.2, 79.8, 24.6, 19.4, 27.2, 16.2, 56.8, 34.9),
    "gemini-1.5-pro": (74.0, 43.4, 97.2, 90.6, 39.2, 24.0, 42.0, 28.6, 63.1, 46.6),
}
SAKURA_CELLS = [
    f"sakura-{t}-{h}" for t in ("gender", "language", "emotion", "animal") for h in ("single", "multi")
] + ["sakura-avg-single", "sakura-avg-multi"]

# The 2025 student reproduction (paper_tables.md): value, +- half-width, in the SAKURA cell order.
PRIOR_SAKURA = {
    "salmonn-13b-v1": [
        53.8,
        4.4,
        49.0,
        4.4,
        22.0,
        3.6,
        22.0,
        3.6,
        31.0,
        4.1,
        31.8,
        4.1,
        73.0,
        3.9,
        46.4,
        4.4,
        45.0,
        4.0,
        37.3,
        4.1,
    ],
    "salmonn-7b": [
        60.0,
        4.3,
        48.8,
        4.4,
        20.6,
        3.5,
        29.4,
        4.0,
        19.6,
        3.5,
        28.2,
        3.9,
        68.0,
        4.1,
        34.6,
        4.2,
        42.0,
        3.9,
        35.2,
        4.1,
    ],
    "qwen-audio-chat": [
        24.9,
        2.7,
        45.6,
        5.3,
        90.3,
        3.0,
        30.9,
        4.9,
        62.6,
        5.1,
        36.0,
        5.1,
        90.1,
        3.2,
        57.6,
        5.2,
        67.0,
        3.5,
        42.5,
        5.1,
    ],
    "qwen2-audio": [
        86.2,
        3.7,
        44.0,
        5.2,
        86.9,
        3.4,
        45.7,
        5.3,
        68.0,
        4.8,
        39.1,
        5.2,
        87.0,
        3.5,
        57.7,
        5.2,
        82.0,
        3.9,
        46.6,
        5.2,
    ],
}
PRIOR_PRINTED_CCC = {
    "salmonn-13b-v1": 0.9125,
    "salmonn-7b": 0.9995,
    "qwen-audio-chat": 0.9004,
    "qwen2-audio": 0.9902,
}
PRIOR_TABLE3 = {
    "asr-librispeech-clean": 2.2,
    "asr-librispeech-other": 5.1,
    "asr-gigaspeech": 11.6,
    "en2zh-covost2": 35.4,
    "aac-audiocaps/meteor": 22.0,
    "aac-audiocaps/spider": 23.3,
    "pr-librispeech-clean": 4.0,
    "er-iemocap": 0.68,
    "mc-musiccaps/bleu": 3.53,
    "mc-musiccaps/rouge_l": 22.62,
    "osr-librimix": 22.1,
    "sv-voxceleb1": 1.00,
    "en2de-covost2": 20.3,
    "en2ja-covost2": 23.7,
    "ke-inspec": 0.32,
    "sqqa-wikiqa/accuracy": 0.37,
    "sqqa-wikiqa/following_rate": 1.00,
    "sf-slurp/accuracy": 0.39,
    "sf-slurp/following_rate": 1.00,
    "story-audiocaps/story": 82.58,
    "story-audiocaps/following_rate": 1.00,
}


def _entry_values(entry):
    """Comparable shape of a YAML entry: None, a float, or a tuple of per-source floats."""
    if entry is None or (not entry.disputed and entry.value is None):
        return None
    if entry.disputed:
        return tuple(v.value for v in entry.values)
    return entry.value


def test_all_expected_files_load():
    names = sorted(p.stem for p in expected_dir().glob("*.yaml"))
    assert names == ["demo", "sakura", "table3", "table4", "table5"]
    for name in names:
        assert load_expected(name).table == name


def test_table3_values_equal_the_paper():
    table = load_expected("table3")
    assert [c.id for c in table.cells] == list(TABLE3)
    for cell_id, (wo, w, ref) in TABLE3.items():
        cell = table.cell(cell_id)
        got = tuple(
            _entry_values(cell.values.get(r)) for r in ("wo-activation", "w-activation", "reference-value")
        )
        assert got == (wo, w, ref), cell_id


def test_table3_disputed_pr_cell_keeps_both_sources():
    entry = load_expected("table3").cell("pr-librispeech-clean").values["w-activation"]
    assert entry.disputed
    assert {(v.value, tuple(v.source)) for v in entry.values} == {
        (17.6, ("arxiv-text",)),
        (4.2, ("student-deck",)),
    }


def test_table3_null_cells_say_why():
    table = load_expected("table3")
    for cell in table.cells:
        for row_id, entry in cell.values.items():
            if not entry.disputed and entry.value is None:
                assert entry.note, (cell.id, row_id)
    assert "not legible" in table.cell("er-iemocap").values["wo-activation"].note


def test_table3_reference_row_names_its_system():
    table = load_expected("table3")
    for cell_id, who in TABLE3_REFERENCE_WHO.items():
        assert table.cell(cell_id).values["reference-value"].who == who
    # specialist systems are shown but not comparable with our cascade
    assert not table.cell("pr-librispeech-clean").values["reference-value"].comparable
    assert table.cell("en2de-covost2").values["reference-value"].comparable


def test_table3_rows_map_to_our_models():
    table = load_expected("table3")
    assert table.row("wo-activation").compare_with == []
    (w,) = table.row("w-activation").compare_with
    assert (w.model, w.options) == ("salmonn-13b-v1", {"lora_scaling": 4.0})
    assert [c.model for c in table.row("reference-value").compare_with] == ["cascade"]


def test_table3_units_and_directions():
    table = load_expected("table3")
    assert table.cell("asr-gigaspeech").direction == "lower"
    assert table.cell("er-iemocap").scale == "fraction"
    assert table.cell("aac-audiocaps/meteor").scale == "x100"
    for cell in table.cells:
        assert table.tolerance(cell).value > 0 and table.tolerance(cell).why


def test_table5_values_equal_the_paper():
    table = load_expected("table5")
    assert [c.id for c in table.cells] == TABLE5_CELLS
    for row_id, values in TABLE5.items():
        got = tuple(_entry_values(table.cell(c).values.get(row_id)) for c in TABLE5_CELLS)
        assert got == values, row_id


def test_sakura_leaderboard_equals_the_readme():
    table = load_expected("sakura")
    assert [c.id for c in table.cells] == SAKURA_CELLS
    assert [r.id for r in table.rows] == list(SAKURA)
    for row_id, values in SAKURA.items():
        got = tuple(_entry_values(table.cell(c).values.get(row_id)) for c in SAKURA_CELLS)
        assert got == values, row_id


def test_sakura_printed_averages_are_track_means():
    # The paper's average is the plain mean of the four tracks (GPT-4o Audio: of three).
    for row_id, v in SAKURA.items():
        for hop, printed in ((0, v[8]), (1, v[9])):
            tracks = [x for x in v[hop:8:2] if x is not None]
            assert abs(sum(tracks) / len(tracks) - printed) <= 0.05 + 1e-9, (row_id, hop)


def test_sakura_rows_map_to_our_models():
    table = load_expected("sakura")
    salmonn = {c.model: c for c in table.row("salmonn").compare_with}
    assert set(salmonn) == {"salmonn-7b", "salmonn-13b-v1"}
    assert salmonn["salmonn-7b"].caveat is None
    assert "no SALMONN-13B row" in salmonn["salmonn-13b-v1"].caveat
    assert [c.model for c in table.row("qwen-audio-chat").compare_with] == ["qwen-audio-chat"]
    assert [c.model for c in table.row("qwen2-audio-instruct").compare_with] == ["qwen2-audio"]
    avg = table.cell("sakura-avg-single")
    assert avg.derived.mean_of == SAKURA_CELLS[0:8:2] and avg.derived.pooled_n == 2000
    assert all(table.cell(c).n == 500 for c in SAKURA_CELLS[:8])


def test_prior_reproduction_sets_equal_the_deck():
    sakura = load_results_set(expected_dir() / "prior_reproduction" / "sakura.yaml")
    assert list(sakura.models) == list(PRIOR_SAKURA)
    for model, flat in PRIOR_SAKURA.items():
        cells = sakura.models[model].cells
        got = [x for c in SAKURA_CELLS for x in (cells[c].value, cells[c].pm)]
        assert got == flat, model
        assert sakura.models[model].printed_ccc == PRIOR_PRINTED_CCC[model]
    table3 = load_results_set(expected_dir() / "prior_reproduction" / "table3.yaml")
    cells = table3.models["salmonn-13b-v1"].cells
    assert {c: v.value for c, v in cells.items() if v.value is not None} == PRIOR_TABLE3
    assert cells["sac-inhouse/accuracy"].status == "not_run"
    # single utterances: the value is kept but gets no verdict (issue 11)
    assert cells["sv-voxceleb1"].status == "not_computable" and "not comparable" in cells["sv-voxceleb1"].reason
    assert "849 correct of 1,241 scored" in cells["er-iemocap"].notes
    assert "outputs skipped" in cells["en2ja-covost2"].notes and "keyword denominator" in cells["ke-inspec"].notes
    assert "17.3" in cells["pr-librispeech-clean"].notes


def test_demo_asr_sanity_bound_is_the_hand_computed_wer():
    # Whisper tiny.en outputs (offline_assets.md 2.1) after normalisation by hand, against the
    # pocketsphinx-testdata transcripts verbatim.
    refs = [
        "and mister john dashwood had then leisure to consider how much there might be prudently in his power to do for them",
        "he was not an ill disposed young man",
        "unless to be rather cold hearted and rather selfish is to be ill disposed",
        "had he married a more a amiable woman he might have been made still more respectable than he was",
        "he might even have been made amiable himself",
    ]
    hyps = [
        "and mister john dashwood had then leisure to consider how much there might be prudently in his power to do for them",
        "he was not an old sposed young man",
        "unless to be rather cold hearted and rather selfish is to be ill disposed",
        "had he married a more amiable woman he might have been made still more respectable than he was",
        "he might even have been made amiable himself",
    ]
    wer = jiwer.wer(refs, hyps)
    assert wer == pytest.approx(3 / 71)
    demo = load_expected("demo")
    cell = demo.cell("demo-asr")
    assert cell.values["sanity"].value == pytest.approx(100 * wer, abs=0.005)
    # one word error more or less must fall outside the tolerance
    assert demo.tolerance(cell).value < 100 / 71
    for other in ("demo-en2de", "demo-sqqa"):
        assert demo.cell(other).values["sanity"].value is None


def test_every_cell_names_a_task_that_reports_its_metric():
    # the cell -> task link is stored once, in the cell; the task must exist and report the metric
    tasks = {t.name: t for t in list_tasks()}
    checked = 0
    for table_name in ("table3", "table4", "table5", "sakura", "demo"):
        table = load_expected(table_name)
        for cell in table.cells:
            if cell.task is None:  # derived (SAKURA averages) or recorded only (table5)
                assert cell.derived is not None or table_name == "table5", (table_name, cell.id)
                continue
            assert cell.task in tasks, (table_name, cell.id, cell.task)
            spec = tasks[cell.task]
            # the metric name the score stage reports (report_as) is the one the cell reads
            reported = {m.report_as or m.name for m in (spec.metric, *spec.extra_metrics)}
            assert cell.metric in reported, (table_name, cell.id, cell.metric, reported)
            checked += 1
    assert checked >= 40


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


_MINIMAL = """\
table: mini
suite: mini
title: t
paper: p
sources: {s: src}
tolerance_families: {f: {value: 1.0, why: w}}
rows: [{id: r, label: R}]
cells:
  - {id: c, task: t, metric: m, label: C, unit: u, scale: percent, direction: lower, tolerance: f,
     values: {r: {value: 1.0, source: s}}}
"""


def test_loader_accepts_a_minimal_table(tmp_path):
    table = load_expected_file(_write(tmp_path, "mini.yaml", _MINIMAL))
    assert table.cell("c").values["r"].source == ["s"]


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("title: t", "title: t\ncolour: red", "field 'colour': unknown field"),
        ("value: 1.0, source: s", "value: 1.0, source: nowhere", "unknown source(s) ['nowhere']"),
        ("tolerance: f,", "tolerance: g,", "unknown tolerance family 'g'"),
        ("{r: {value: 1.0, source: s}}", "{r: {value: null}}", "needs a 'note'"),
        (
            "{r: {value: 1.0, source: s}}",
            "{r: {disputed: true, values: [{value: 1, source: s}]}}",
            "at least two",
        ),
        ("scale: percent", "scale: permille", "field 'cells.0.scale'"),
    ],
)
def test_loader_errors_name_file_and_problem(tmp_path, old, new, message):
    path = _write(tmp_path, "mini.yaml", _MINIMAL.replace(old, new))
    with pytest.raises(InputError) as err:
        load_expected_file(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_loader_rejects_a_table_name_that_is_not_the_file_name(tmp_path):
    path = _write(tmp_path, "other.yaml", _MINIMAL)
    with pytest.raises(InputError, match="must equal the file name"):
        load_expected_file(path)
