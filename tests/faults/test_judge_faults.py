"""Fault table, judge rows: replies are cached per endpoint, provenance never claims the official
endpoint for another server's replies, and a reply that is not a chat completion is an error
naming the endpoint (docs/faults.md). Fake OpenAI-compatible servers run on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from fault_support import SAKURA_TASK, FakeChatServer, files_under, run_cli, sakura_run

OUTPUTS = {"a1": "(a) Female", "a2": "It is a woman.", "a3": "Male"}
JUDGE = ("judge", "--suite", "sakura", "--tasks", SAKURA_TASK, "--models", "m", "--judge", "api")


def test_judge_cache_is_keyed_by_endpoint(workspace, capsys, monkeypatch):
    """A local server that calls its model gpt-4o-2024-11-20 answers first; the official endpoint
    (played by a second local server) must still be asked for every item, and only its run's
    judge_meta.json may claim no endpoint deviation."""
    from audiorepro.judge import client

    folder = sakura_run(workspace / "runs", OUTPUTS)
    with FakeChatServer() as local, FakeChatServer() as official:
        first = run_cli(capsys, *JUDGE, "--base-url", local.url)
        assert first.rc == 0, first.err
        meta = json.loads((folder / "judge_meta.json").read_text())["judge"]
        assert meta["endpoint"] == local.url and meta["model"] == "gpt-4o-2024-11-20"
        assert meta["deviations"] == [
            {"name": "judge_endpoint", "value": local.url, "reference": "https://api.openai.com/v1"}
        ]

        monkeypatch.setattr(client, "DEFAULT_BASE_URL", official.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        second = run_cli(capsys, *JUDGE)
        assert second.rc == 0, second.err

    assert len(local.requests) == 3
    assert len(official.requests) == 3  # nothing reused from the other endpoint's cache entries
    meta = json.loads((folder / "judge_meta.json").read_text())["judge"]
    assert meta["endpoint"] == official.url and meta["deviations"] == []
    verdicts = [json.loads(line) for line in (folder / "verdicts.jsonl").read_text().splitlines()]
    assert {v["endpoint"] for v in verdicts} == {official.url}


@pytest.mark.parametrize(
    ("mode", "problem"),
    [
        ("html", "the judge endpoint answered with a non-JSON page, not a chat completion (starts with "
                 "'<html><body><h1>Welcome to nginx!</h1></body></html>'); check --base-url"),
        ("no-choices", "the judge endpoint's reply has no 'choices' (fields: id, model, object); it is not an "
                       "OpenAI-compatible chat completion"),
    ],
    ids=["html-page", "json-without-choices"],
)  # fmt: skip
def test_judge_reply_that_is_not_a_chat_completion_stops_naming_the_endpoint(workspace, capsys, mode, problem):
    """Such a reply says nothing about the answer, so it is an error, not an 'invalid' verdict
    (which would count as a wrong answer and lower the score)."""
    folder = sakura_run(workspace / "runs", OUTPUTS)
    with FakeChatServer(mode) as server:
        result = run_cli(capsys, *JUDGE, "--base-url", server.url)

    assert result.rc == 2
    assert result.error_line == f"{server.url}: {problem}"
    assert files_under(folder) == ["predictions.jsonl"]  # no verdicts.jsonl, no judge_meta.json
    from audiorepro.judge.cache import VerdictCache

    with VerdictCache(workspace / "cache" / "judge" / "verdicts.sqlite") as cache:
        assert len(cache) == 0  # and no reply cached for reuse


def test_judge_timeout_and_retries_are_set_from_the_command_line(workspace, capsys):
    folder = sakura_run(workspace / "runs", {"a1": "(a) Female"})
    with FakeChatServer("slow", delay=1.5) as server:
        result = run_cli(capsys, *JUDGE, "--base-url", server.url, "--judge-timeout", "0.3", "--judge-retries", "1")

    assert result.rc == 2
    assert result.error_line == (
        f"judge gpt-4o-2024-11-20 at {server.url}: giving up after 2 attempts (APITimeoutError: Request timed out.)"
    )
    assert len(server.requests) == 2  # the first try and one retry, as asked
    assert files_under(folder) == ["predictions.jsonl"]


def test_api_key_is_sent_but_never_written_or_printed(workspace, capsys, monkeypatch):
    secret = "sk-test-secret-never-written"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    sakura_run(workspace / "runs", OUTPUTS)
    with FakeChatServer() as server:
        result = run_cli(capsys, *JUDGE, "--base-url", server.url)
        assert run_cli(capsys, "score", "--suite", "sakura", "--tasks", SAKURA_TASK, "--models", "m").rc == 0

    assert result.rc == 0, result.err
    assert server.requests  # the key was used ...
    assert secret not in result.out + result.err  # ... but never printed
    written = [p for p in workspace.rglob("*") if p.is_file()]
    assert any(p.name == "scores.json" for p in written) and any(p.suffix == ".sqlite" for p in written)
    assert [p for p in written if secret.encode() in p.read_bytes()] == []  # nor written anywhere


def test_imported_verdicts_of_unknown_origin_are_a_named_deviation(workspace, capsys):
    """A verdicts file from before the endpoint was recorded: its replies may come from any
    server, so importing it is allowed but never reported as the paper's judge."""
    folder = sakura_run(workspace / "runs", OUTPUTS)
    with FakeChatServer() as server:
        assert run_cli(capsys, *JUDGE, "--base-url", server.url).rc == 0
    shipped = workspace / "shipped.jsonl"
    records = [json.loads(line) for line in (folder / "verdicts.jsonl").read_text().splitlines()]
    shipped.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "endpoint"}) + "\n" for r in records))

    result = run_cli(capsys, "judge", "--suite", "sakura", "--tasks", SAKURA_TASK, "--models", "m",
                     "--verdicts", shipped, "--judge-cache", workspace / "other.sqlite")  # fmt: skip

    assert result.rc == 0, result.err
    meta = json.loads((folder / "judge_meta.json").read_text())["judge"]
    assert meta["kind"] == "import" and meta["endpoints"] == ["unknown"]
    assert meta["deviations"] == [
        {"name": "judge_endpoint", "value": "unknown", "reference": "https://api.openai.com/v1"}
    ]
