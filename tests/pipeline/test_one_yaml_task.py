"""Adding a task is one YAML file: a Table 3-like ASR task on an existing dataset (the bundled
LibriVox clips), written into a folder of its own (AUDIOREPRO_TASKS), goes through prepare ->
predict -> score -> compare with no other file touched. The model is a fixed-answer double, so
the WER is known by hand."""

from __future__ import annotations

import json

from audiorepro import tasks as tasks_module
from audiorepro.cli import main
from audiorepro.models.base import AudioLanguageModel, DecodingConfig, GenerationResult

UTTERANCE = "sense_and_sensibility_01_austen_64kb-0880"
# the bundled transcript of that clip is "he was not an ill disposed young man" (8 words);
# this answer substitutes one word: WER = 1/8 = 12.5 %
ANSWER = "he was not an old disposed young man"

TASK_YAML = f"""\
name: asr-librivox-one
suite: my-table
version: 1
dataset: demo-librivox
where: {{utterance_id: {UTTERANCE}}}
prompt: Recognize the speech and give me the transcription.
metric:
  name: wer
"""


class FixedAnswer(AudioLanguageModel):
    """Answers ANSWER to every request."""

    def default_decoding(self) -> DecodingConfig:
        return DecodingConfig(num_beams=1, do_sample=False, max_new_tokens=16)

    def generate(self, batch, decoding):
        return [GenerationResult(text=ANSWER, raw_text=ANSWER, token_ids=[1], finish_reason="eos") for _ in batch]

    def describe(self) -> dict:
        return {"name": "fixed-answer", "device": "cpu", "deviations": [{"name": "model", "value": "test double", "reference": "n/a"}]}


def test_a_new_task_is_one_yaml_file(tmp_path, monkeypatch):
    folder = tmp_path / "my_tasks"
    folder.mkdir()
    (folder / "asr-librivox-one.yaml").write_text(TASK_YAML, encoding="utf-8")
    monkeypatch.setenv("AUDIOREPRO_TASKS", str(folder))
    monkeypatch.setenv("AUDIOREPRO_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("AUDIOREPRO_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("AUDIOREPRO_MODEL_PLUGINS", f"fixed-answer={__name__}:FixedAnswer")
    tasks_module._index.cache_clear()
    try:
        which = ["--suite", "my-table", "--tasks", "asr-librivox-one"]
        assert main(["prepare", *which]) == 0
        assert main(["predict", *which, "--models", "fixed-answer"]) == 0
        assert main(["score", *which, "--models", "fixed-answer"]) == 0
        assert main(["compare", "--suite", "my-table"]) == 0
    finally:
        tasks_module._index.cache_clear()

    task_dir = tmp_path / "runs" / "my-table" / "asr-librivox-one"
    examples = [json.loads(line) for line in (task_dir / "examples.jsonl").read_text().splitlines()]
    assert [e["id"] for e in examples] == [UTTERANCE]
    scores = json.loads((task_dir / "fixed-answer" / "scores.json").read_text())
    assert scores["task"] == "asr-librivox-one" and scores["n"] == 1
    assert abs(scores["value"] - 12.5) < 1e-6
    compared = json.loads((tmp_path / "reports" / "my-table" / "compare.json").read_text())
    # a suite with no paper table gets one cell per task, with our value and no verdict
    (comparison,) = compared["comparisons"]
    assert comparison["model"] == "fixed-answer"
    (cell,) = comparison["cells"]
    assert cell["task"] == "asr-librivox-one" and cell["metric"] == "wer"
    assert abs(cell["ours"]["value"] - 12.5) < 1e-6 and cell["paper"] is None
    assert cell["verdict"] == "no reference"
