"""Every score states its item set (manifest prepare options, count, flagged items) and the compare
report shows it next to the cell: KE's split and 30 s overruns, here on a hand-made run."""

from __future__ import annotations

from audiorepro.jsonl import read_json, write_jsonl
from audiorepro.records import Prediction


def test_ke_score_states_split_keys_and_30s_overruns(tmp_path, monkeypatch):
    from audiorepro.compare import load_run_results
    from audiorepro.expected import load_expected
    from audiorepro.score import score_task
    from audiorepro.tasks import load_task

    monkeypatch.setenv("AUDIOREPRO_RUNS", str(tmp_path / "runs"))
    folder = tmp_path / "runs" / "table3" / "ke-inspec"
    seconds = [41.2, 12.5, 33.0]
    write_jsonl(
        folder / "examples.jsonl",
        [
            {
                "id": f"inspec-{i}",
                "task": "ke-inspec",
                "audio": None,
                "prompt": "Give me only three keywords of the text.",
                "references": ["wavelets", "image compression"],
                "meta": {"audio_seconds": s, "longer_than_30s": s > 30},
            }
            for i, s in enumerate(seconds)
        ],
    )
    out = "wavelets, image compression, noise"
    write_jsonl(
        folder / "salmonn-13b-v1" / "predictions.jsonl",
        [Prediction(id=f"inspec-{i}", output=out, raw_output=out, n_tokens=6, finish_reason="eos", seconds=0).to_dict() for i in range(3)],
    )
    scores = read_json(score_task(load_task("ke-inspec"), "salmonn-13b-v1"))
    item_set = scores["provenance"]["item_set"]
    assert item_set["n_items"] == 3 and item_set["flag_counts"] == {"longer_than_30s": 2}
    assert item_set["prepare_options"]["split"] == "test" and item_set["prepare_options"]["keys"] == "uncontrolled"
    assert "3 items of inspec-tts (split=test, keys=uncontrolled" in item_set["summary"]
    results = load_run_results("table3", load_expected("table3"), tmp_path / "runs")
    notes = results.models["salmonn-13b-v1"].cells["ke-inspec"].notes
    assert "items: 3 items of inspec-tts" in notes and "longer_than_30s: 2 of 3" in notes
