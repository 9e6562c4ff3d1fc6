"""A task is one YAML file: everything else derives from the task files. Shared templates
(`include:`), extra task folders (AUDIOREPRO_TASKS), `audiorepro tasks --names` for Make, and which
tasks read a dataset (derived for `fetch --status NAME`; manifests store no list of users)."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiorepro import tasks as tasks_module
from audiorepro.cli import main
from audiorepro.errors import InputError
from audiorepro.fetch.status import DatasetUsers, dataset_users
from audiorepro.manifests import list_manifests, load_manifest, load_manifest_file
from audiorepro.tasks import TASKS_DIR, list_tasks, load_task, load_task_file

TRACKS = ("animal", "emotion", "gender", "language")


@pytest.fixture
def extra_tasks(tmp_path, monkeypatch):
    """An empty AUDIOREPRO_TASKS folder (the task index is rebuilt around the test)."""
    folder = tmp_path / "tasks"
    folder.mkdir()
    monkeypatch.setenv("AUDIOREPRO_TASKS", str(folder))
    tasks_module._index.cache_clear()
    yield folder
    tasks_module._index.cache_clear()


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_sakura_tasks_state_only_name_and_filter():
    for folder, template, suite in (("sakura", "_sakura.yaml", "sakura"), ("sakura_text", "_sakura_text.yaml", "sakura-text")):
        files = sorted((TASKS_DIR / folder).glob("sakura-*.yaml"))
        assert len(files) == 8
        for path in files:
            spec = load_task_file(path)
            text = path.read_text(encoding="utf-8")
            assert [line.split(":")[0] for line in text.splitlines()] == ["name", "include", "where"], path
            assert f"include: {template}" in text
            track, hop = spec.name.removeprefix("sakura-").removeprefix("text-").rsplit("-", 1)
            assert track in TRACKS and hop in ("single", "multi")
            assert spec.where == {"track": track, "hop": hop} and spec.suite == suite
            assert spec.judge == "sakura" and spec.metric.name == "judge_accuracy"
    # the template's prompts: the stored instruction (audio) and SAKE's text query (text control)
    assert load_task("sakura-gender-multi").prompt == "{question}"
    assert load_task("sakura-text-gender-multi").prompt.startswith("Audio/Speech information: \n{caption}\n")


def test_templates_are_not_tasks():
    names = {t.name for t in list_tasks()}
    assert not any(n.startswith("_") for n in names)
    assert len(list_tasks("sakura")) == 8 and len(list_tasks("sakura-text")) == 8


def test_a_task_overrides_its_template_and_bad_includes_name_the_file(extra_tasks):
    _write(extra_tasks, "_family.yaml", "suite: fam\ndataset: demo-librivox\nprompt: P\nmetric: {name: wer}\n")
    _write(extra_tasks, "fam-a.yaml", "name: fam-a\ninclude: _family.yaml\nprompt: own prompt\n")
    spec = load_task("fam-a")
    assert (spec.suite, spec.dataset, spec.prompt, spec.metric.name) == ("fam", "demo-librivox", "own prompt", "wer")

    missing = _write(extra_tasks, "fam-b.yaml", "name: fam-b\ninclude: _nope.yaml\n")
    with pytest.raises(InputError, match=r"fam-b\.yaml.*include.*_nope\.yaml.*not found"):
        load_task_file(missing)
    _write(extra_tasks, "_loop.yaml", "include: _loop.yaml\n")
    looping = _write(extra_tasks, "fam-c.yaml", "name: fam-c\ninclude: _loop.yaml\n")
    with pytest.raises(InputError, match="includes itself"):
        load_task_file(looping)
    # a key the template does not supply is still required, and named
    _write(extra_tasks, "_thin.yaml", "suite: fam\n")
    thin = _write(extra_tasks, "fam-d.yaml", "name: fam-d\ninclude: _thin.yaml\n")
    with pytest.raises(InputError, match=r"fam-d\.yaml.*field 'dataset'"):
        load_task_file(thin)


def test_extra_task_folder_adds_tasks_and_refuses_a_duplicate_name(extra_tasks):
    _write(extra_tasks, "my-asr.yaml", "name: my-asr\nsuite: mine\ndataset: demo-librivox\nprompt: P\nmetric: {name: wer}\n")
    assert [t.name for t in list_tasks("mine")] == ["my-asr"]
    assert load_task("demo-asr").suite == "demo"  # the package's tasks are still there
    _write(extra_tasks, "demo-asr.yaml", "name: demo-asr\nsuite: mine\ndataset: demo-librivox\nprompt: P\nmetric: {name: wer}\n")
    tasks_module._index.cache_clear()
    with pytest.raises(InputError, match="'demo-asr' also defined in"):
        list_tasks()


def test_missing_extra_task_folder_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOREPRO_TASKS", str(tmp_path / "absent"))
    with pytest.raises(InputError, match=r"absent.*AUDIOREPRO_TASKS"):
        list_tasks()


def test_tasks_names_lists_one_suite_from_the_files(capsys):
    assert main(["tasks", "--names", "--suite", "table4"]) == 0
    listed = capsys.readouterr().out.split()
    assert listed == sorted(p.stem for p in (TASKS_DIR / "table4").glob("ppl-*.yaml"))
    assert len(listed) == 5
    assert main(["tasks", "--names", "--suite", "no-such-suite"]) == 2
    assert "no task has suite 'no-such-suite'" in capsys.readouterr().err


def test_the_users_of_a_dataset_come_from_the_task_files_and_the_manifests():
    # expectations read off the YAML files: each task's `dataset:`, the `<dataset>-<subset>` copies,
    # and the manifests' `derived_from`
    librispeech = ("asr-librispeech-clean", "ppl-asr-librispeech-clean", "ppl-pr-librispeech-clean", "pr-librispeech-clean")
    assert dataset_users("librispeech-test-clean") == DatasetUsers(librispeech, None, ("librimix-test",))
    assert dataset_users("librispeech-test-clean-demo") == DatasetUsers(librispeech, "demo", ())
    assert dataset_users("common-voice-en-4") == DatasetUsers((), None, ("covost2-en-de", "covost2-en-ja", "covost2-en-zh"))
    sakura_text = tuple(sorted(f"sakura-text-{t}-{n}" for t in TRACKS for n in ("single", "multi")))
    # the fixture of sakura-text (the longest dataset its name starts with), not a subset of sakura
    assert dataset_users("sakura-text-fixture") == DatasetUsers(sakura_text, "fixture", ())
    assert str(dataset_users("librispeech-test-clean-demo")) == f"tasks {', '.join(librispeech)} (with --subset demo)"
    # every dataset manifest is read by some task or feeds another manifest
    unused = [m.name for m in list_manifests("dataset") if dataset_users(m.name) == DatasetUsers((), None, ())]
    assert not unused


def test_a_new_task_is_a_user_of_its_dataset_without_editing_the_manifest(extra_tasks, capsys):
    manifest = load_manifest("demo-librivox").path_on_disk.read_bytes()
    (extra_tasks / "my-asr.yaml").write_text(
        "name: my-asr\nsuite: mine\ndescription: x\ndataset: demo-librivox\nprompt: Transcribe.\nmetric: {name: wer}\n",
        encoding="utf-8",
    )
    assert main(["fetch", "--status", "demo-librivox"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "demo-librivox is used by tasks demo-asr, my-asr"
    assert load_manifest("demo-librivox").path_on_disk.read_bytes() == manifest
    # a manifest that still lists its users is refused by name: such a list goes stale
    stale = extra_tasks.parent / "stale.yaml"
    stale.write_text(manifest.decode() + "used_by: [demo-asr]\n", encoding="utf-8")
    with pytest.raises(InputError, match="field 'used_by': unknown field"):
        load_manifest_file(stale)
