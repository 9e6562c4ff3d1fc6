"""A task is one YAML file: everything else derives from the task files. Shared templates
(`include:`), extra task folders (AUDIOREPRO_TASKS), `audiorepro tasks --names` for Make, and the
dataset manifests' `used_by` agreeing with the tasks that read each dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiorepro import tasks as tasks_module
from audiorepro.cli import main
from audiorepro.errors import InputError
from audiorepro.manifests import list_manifests, load_manifest
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


def test_dataset_manifests_used_by_agrees_with_the_task_files():
    # used_by is documentation for a reader of the manifest; it must name every task that reads
    # the dataset (or its whole suite, "<suite> suite"), and every task it names must read it
    # (directly or as its `--subset` variant)
    task_by_name = {t.name: t for t in list_tasks()}
    for task in task_by_name.values():
        used_by = load_manifest(task.dataset).used_by
        assert task.name in used_by or f"{task.suite} suite" in used_by, (task.name, task.dataset)
    for manifest in list_manifests("dataset"):
        for user in manifest.used_by:
            if user in task_by_name:
                dataset = task_by_name[user].dataset
                assert manifest.name == dataset or manifest.name.startswith(f"{dataset}-"), (manifest.name, user)
