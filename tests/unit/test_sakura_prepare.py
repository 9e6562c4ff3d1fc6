"""SAKURA data: the official metadata parses into 4 tracks x 500 clips x 2 hops with the counts
documented for the benchmark (sakura.md section 1.3), the bundled clips match the published
per-file sha256 list, and the preparer yields the items the tasks select."""

import hashlib
from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from audiorepro.checksums import verify_file
from audiorepro.errors import InputError
from audiorepro.expected import load_expected
from audiorepro.manifests import load_manifest, load_manifest_file
from audiorepro.paths import data_root
from audiorepro.prepare.sakura import parse_options, prepare_sakura, read_metadata
from audiorepro.tasks import list_tasks

TRACKS = ("Gender", "Language", "Emotion", "Animal")
# sakura.md 1.6: sha256 of each track's "sha256  path\n" lines sorted by file name
TRACK_DIGESTS = {
    "Gender": "f8a3f798a0619d4e5bb86c35793d7d55bc5cb3fe80abbd879763fcc2e0d96ba3",
    "Language": "358fc757a6af6f20396dfef45b090e81c2a1b68831ea83da50bb997c0d3d0fbe",
    "Emotion": "75060b00ce861c69d526a812a128a25c5944c518405333e477ba558dceb0a8f9",
    "Animal": "57e656484863f455cdd7283179d952cdccf1b1186ce54934fb68e49c31c0762c",
}


@pytest.fixture(scope="module")
def all_rows(fixtures_dir):
    return {t: read_metadata(fixtures_dir / "sakura" / t / "metadata.csv") for t in TRACKS}


def test_full_metadata_counts(all_rows):
    for track, rows in all_rows.items():
        assert len(rows) == 500, track
        n_options = {len(parse_options(r[f"{hop}_instruction"])) for r in rows for hop in ("single", "multi")}
        assert n_options == ({2} if track == "Gender" else {4}), track
        for hop in ("single", "multi"):
            letters = Counter(r[f"{hop}_answer"].strip()[1] for r in rows)
            expected = {"a": 250, "b": 250} if track == "Gender" else dict.fromkeys("abcd", 125)
            assert letters == expected, (track, hop)
    assert Counter(r["attribute_label"] for r in all_rows["Emotion"]) == dict.fromkeys(
        ["angry", "sad", "fear", "disgust", "happy"], 100
    )
    # the 300 CREMA-D rows whose single_answer starts with a space
    assert sum(r["single_answer"].startswith(" ") for r in all_rows["Emotion"]) == 300


def test_options_keep_inner_text_and_spacing():
    question = (
        "Which response? (a) Give them space to cool off before engaging further. (b) Reassure them and "
        "offer a way to move past the uncomfortable    situation. (c) Listen. (d) Express excitement."
    )
    options = parse_options(question)
    assert list(options) == ["a", "b", "c", "d"]
    assert options["b"] == "Reassure them and offer a way to move past the uncomfortable    situation."
    assert parse_options("No options here") == {}


def test_checksum_list_matches_documented_track_digests(fixtures_dir):
    from audiorepro.paths import manifests_dir

    lines = (manifests_dir() / "datasets" / "sakura.sha256sums.txt").read_text().splitlines()
    assert len(lines) == 2008
    for track, digest in TRACK_DIGESTS.items():
        prefix = f"data/{track}/audio/"
        entries = sorted(
            (ln for ln in lines if ln.split("  ")[1].startswith(prefix)), key=lambda ln: ln.split("  ")[1]
        )
        assert len(entries) == 500
        assert hashlib.sha256("".join(e + "\n" for e in entries).encode()).hexdigest() == digest, track


def test_bundled_files_match_the_manifest():
    manifest = load_manifest("sakura-fixture")
    assert len(manifest.files) == 4 * (2 + 6 + 1)
    for entry in manifest.files:
        verify_file(manifest.root() / entry.path, entry.sha256, entry.size)
    full = {
        line.split("  ")[1]: line.split("  ")[0]
        for line in (manifest.root() / "sha256sums.txt").read_text().splitlines()
    }
    for entry in manifest.files:
        if not entry.path.endswith("sample_rows.csv"):
            assert full["data/" + entry.path] == entry.sha256


def test_all_sakura_manifests_load():
    for name in ("sakura", "sakura-fixture", "sakura-text", "sakura-text-fixture"):
        assert load_manifest(name).preparer == "sakura"


def test_prepare_fixture_items():
    items = list(
        prepare_sakura(load_manifest("sakura-fixture"), **load_manifest("sakura-fixture").prepare_options)
    )
    assert len(items) == 48
    by_id = {i["id"]: i for i in items}
    item = by_id["emotion/1059_WSI_ANG_XX.wav/single"]
    assert item["references"] == ["(c) angry"]  # the leading space is stripped
    assert (
        item["meta"]["question"]
        == "How does the speaker feel in the recording? (a) disgust (b) happy (c) angry (d) sad"
    )
    assert item["meta"]["answer_letter"] == "c" and item["meta"]["options"]["c"] == "angry"
    assert item["meta"]["track"] == "emotion" and item["meta"]["hop"] == "single"
    assert (data_root() / item["audio"]).is_file()
    assert item["audio"] == "tests/fixtures/sakura/Emotion/audio/1059_WSI_ANG_XX.wav"
    assert Counter((i["meta"]["track"], i["meta"]["hop"]) for i in items) == {
        (t, h): 6 for t in ("gender", "language", "emotion", "animal") for h in ("single", "multi")
    }


def test_caption_variant_has_no_audio_and_the_figure1_caption():
    manifest = load_manifest("sakura-text-fixture")
    items = list(prepare_sakura(manifest, **manifest.prepare_options))
    assert len(items) == 48 and all(i["audio"] is None for i in items)
    cat = next(i for i in items if i["id"] == "animal/cat57.wav/multi")
    assert cat["meta"]["caption"] == "The animal making the sound is cat."  # SAKURA Figure 1
    task = next(t for t in list_tasks("sakura-text") if t.name == "sakura-text-animal-multi")
    assert task.prompt_for("qwen2-audio", cat["meta"]) == (
        "Audio/Speech information: \nThe animal making the sound is cat.\n"
        "Based on the information, answer the following question:\n"
        "From the listed locomotion types, which one matches the typical movement of the animal in the sound? "
        "(a) Walking (b) Slithering (c) Swimming (d) Flying"
    )


def test_tasks_select_one_cell_each():
    manifest = load_manifest("sakura-fixture")
    items = list(prepare_sakura(manifest, **manifest.prepare_options))
    for suite in ("sakura", "sakura-text"):
        tasks = list_tasks(suite)
        assert len(tasks) == 8
        for task in tasks:
            assert task.judge == "sakura" and task.metric.name == "judge_accuracy"
            selected = [i for i in items if all(i["meta"].get(k) == v for k, v in task.where.items())]
            assert len(selected) == 6, task.name
    # each audio-based task fills the sakura cell of its own name (the link lives in expected/sakura.yaml)
    linked = sorted(c.task for c in load_expected("sakura").cells if c.task)
    assert linked == sorted(t.name for t in list_tasks("sakura"))
    assert all(c.id == c.task for c in load_expected("sakura").cells if c.task)


def test_bad_metadata_names_the_file(tmp_path):
    bad = tmp_path / "metadata.csv"
    bad.write_text("file,attribute_label\nx.wav,cat\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        read_metadata(bad)
    bad.write_text(
        "file,attribute_label,single_instruction,single_answer,multi_instruction,multi_answer\n"
        "x.wav,cat,Which? (a) dog (b) cat,(c) cow,Which? (a) x (b) y,(a) x\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"line 2 \(x.wav\): single_answer"):
        read_metadata(bad)


def test_wrong_audio_format_names_the_file(tmp_path, fixtures_dir):
    root = tmp_path / "ds"
    (root / "Animal" / "audio").mkdir(parents=True)
    src = fixtures_dir / "sakura" / "Animal" / "sample_rows.csv"
    (root / "Animal" / "rows.csv").write_text(
        src.read_text(encoding="utf-8").splitlines()[0]
        + "\n"
        + src.read_text(encoding="utf-8").splitlines()[1]
        + "\n",
        encoding="utf-8",
    )
    sf.write(root / "Animal" / "audio" / "cat57.wav", np.zeros(800), 8000)
    manifest_path = tmp_path / "tmp-sakura.yaml"
    manifest_path.write_text(
        f"name: tmp-sakura\nkind: dataset\ndescription: x\nlicence: x\naccess: bundled\n"
        f"source: {{type: bundled}}\nlocal_root: {root}\npreparer: sakura\n",
        encoding="utf-8",
    )
    manifest = load_manifest_file(manifest_path)
    with pytest.raises(InputError, match="cat57.wav: expected 16 kHz mono"):
        list(prepare_sakura(manifest, track="animal", data_dir=".", metadata="rows.csv"))
    with pytest.raises(InputError, match="unknown SAKURA track"):
        list(prepare_sakura(manifest, track="birds"))
