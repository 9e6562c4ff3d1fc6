"""The OpenAI-compatible judge client against a real HTTP server on 127.0.0.1 (started here):
happy path, rate limit then success, server errors, timeout, unparseable replies, cache hits and
verdict export/import."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from audiorepro.judge.cache import VerdictCache
from audiorepro.judge.client import JudgeRequestError, OpenAICompatibleJudge
from audiorepro.judge.sakura import render_prompt
from audiorepro.judge.stage import JudgeNotConfigured, judge_predictions
from audiorepro.records import Example, Prediction

SECRET = "sk-test-secret-do-not-log"


class FakeOpenAI:
    """A chat-completions endpoint that plays a script of behaviours, one per request:
    ("reply", text) | ("status", code, headers) | ("sleep", seconds, text). When the script runs
    out it answers with `default`."""

    def __init__(self):
        self.script: list[tuple] = []
        self.default = ("reply", "Explanation: fine\nJudgement: correct")
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.requests.append(
                        {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                    )
                    action = fake.script.pop(0) if fake.script else fake.default
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    self._answer(action, body)
                finally:
                    with fake.lock:
                        fake.in_flight -= 1

            def _answer(self, action, body):
                if action[0] == "status":
                    payload = json.dumps({"error": {"message": "scripted", "type": "test"}}).encode()
                    self.send_response(action[1])
                    for k, v in action[2].items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if action[0] == "sleep":
                    time.sleep(action[1])
                    text = action[2]
                else:
                    text = action[1]
                payload = json.dumps(
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": text},
                            }
                        ],
                    }
                ).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    s = FakeOpenAI()
    yield s
    s.stop()


@pytest.fixture
def judge(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    return OpenAICompatibleJudge(
        base_url=server.base_url, timeout=5.0, max_retries=2, backoff_base=0.01, concurrency=2
    )


MESSAGES = render_prompt("Q? (a) Female (b) Male", "(a) Female", "Female")


def test_happy_path_sends_the_benchmarks_request(server, judge):
    assert judge.complete(MESSAGES) == "Explanation: fine\nJudgement: correct"
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == f"Bearer {SECRET}"
    body = request["body"]
    assert body["model"] == "gpt-4o-2024-11-20"
    assert body["messages"] == MESSAGES
    assert body["temperature"] == 0.0 and body["top_p"] == 0.9
    assert "max_tokens" not in body and "seed" not in body  # the benchmark sends neither


def test_rate_limit_then_success(server, judge):
    server.script = [("status", 429, {"Retry-After": "0"}), ("reply", "Explanation: x\nJudgement: incorrect")]
    assert judge.complete(MESSAGES).endswith("incorrect")
    assert len(server.requests) == 2


def test_server_error_is_retried_then_reported(server, judge):
    server.script = [("status", 500, {})] * 3
    with pytest.raises(JudgeRequestError, match="giving up after 3 attempts"):
        judge.complete(MESSAGES)
    assert len(server.requests) == 3  # first try + max_retries=2


def test_server_error_then_success(server, judge):
    server.script = [("status", 503, {}), ("reply", "Explanation: x\nJudgement: correct")]
    assert judge.complete(MESSAGES).endswith("correct")
    assert len(server.requests) == 2


def test_client_errors_are_not_retried(server, judge):
    server.script = [("status", 401, {})]
    with pytest.raises(JudgeRequestError, match="HTTP 401"):
        judge.complete(MESSAGES)
    assert len(server.requests) == 1


def test_timeout_is_retried(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    judge = OpenAICompatibleJudge(base_url=server.base_url, timeout=0.3, max_retries=1, backoff_base=0.01)
    server.script = [("sleep", 1.5, "too late"), ("reply", "Explanation: x\nJudgement: correct")]
    assert judge.complete(MESSAGES).endswith("correct")
    assert len(server.requests) == 2


def test_concurrency_limit(server, judge):
    server.default = ("sleep", 0.2, "Explanation: x\nJudgement: correct")
    replies = judge.complete_many([MESSAGES] * 6)
    assert replies == ["Explanation: x\nJudgement: correct"] * 6
    assert len(server.requests) == 6
    assert server.max_in_flight == 2  # judge.concurrency


def test_api_key_is_never_logged_or_recorded(server, judge, caplog):
    server.script = [("status", 429, {"Retry-After": "0"}), ("status", 500, {})]
    with caplog.at_level(logging.DEBUG):
        judge.complete(MESSAGES)
    assert len(caplog.records) >= 2
    assert SECRET not in caplog.text
    assert SECRET not in json.dumps(judge.describe())


def test_missing_key_for_openai_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(Exception, match="OPENAI_API_KEY"):
        OpenAICompatibleJudge()


def _items(responses):
    examples, predictions = [], []
    for i, response in enumerate(responses):
        examples.append(
            Example(
                id=f"gender/clip{i}.wav/single",
                task="sakura-gender-single",
                audio=f"Gender/audio/clip{i}.wav",
                prompt="Please identify the gender of the speaker. (a) Female (b) Male",
                references=["(a) Female"],
                meta={"question": "Please identify the gender of the speaker. (a) Female (b) Male"},
            )
        )
        predictions.append(Prediction(f"gender/clip{i}.wav/single", response, response, 3, "eos", 0.1))
    return examples, predictions


def test_stage_counts_unparseable_and_bold_replies_and_uses_the_cache(server, judge, tmp_path):
    examples, predictions = _items(["Female", "Male", "I am not sure", "(a)"])
    replies = {
        "Female": "Explanation: picks Female\nJudgement: correct",
        "Male": "Explanation: picks Male\nJudgement: incorrect",
        "I am not sure": "The model does not choose an option, so it is incorrect.",  # no Judgement:
        "(a)": "Explanation: picks (a)\n**Judgement:** correct",  # markdown bold
    }
    # one request at a time, so the scripted replies arrive in item order
    judge.concurrency = 1
    server.script = [("reply", replies[p.output]) for p in predictions]
    server.default = ("status", 500, {})
    cache_path = tmp_path / "verdicts.sqlite"
    out = tmp_path / "verdicts.jsonl"
    records = judge_predictions(examples, predictions, judge, out_path=out, cache=cache_path)
    assert [r["verdict"] for r in records] == ["correct", "incorrect", "invalid", "invalid"]
    assert len(server.requests) == 4
    assert records[2]["explanation"] == "No extracted explanation"
    assert set(records[0]) == {
        "id",
        "protocol",
        "verdict",
        "judge_id",
        "endpoint",
        "explanation",
        "raw_reply",
        "prompt_sha256",
        "prediction_sha256",
        "sampling",
    }
    assert records[0]["sampling"] == {"temperature": 0.0, "top_p": 0.9}
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [e.id for e in examples]

    # the same items again: all cache hits, no request
    again = judge_predictions(examples, predictions, judge, cache=cache_path)
    assert again == records
    assert len(server.requests) == 4

    # export, then rescore from the exported file alone: server down, fresh cache
    with VerdictCache(cache_path) as cache:
        assert cache.export_jsonl(tmp_path / "export.jsonl") == 4
    server.stop()
    for shipped in (out, tmp_path / "export.jsonl"):
        rescored = judge_predictions(
            examples, predictions, None, verdicts_file=shipped, cache=tmp_path / f"{shipped.stem}.sqlite"
        )
        assert rescored == records


def test_duplicate_prompts_are_requested_once(server, judge, tmp_path):
    examples, predictions = _items(["Female", "Female"])
    examples[1].id = predictions[1].id = "gender/other.wav/single"
    records = judge_predictions(examples, predictions, judge, cache=tmp_path / "c.sqlite")
    assert len(server.requests) == 1
    assert [r["verdict"] for r in records] == ["correct", "correct"]


def test_no_judge_names_the_options(tmp_path):
    examples, predictions = _items(["Female"])
    with pytest.raises(JudgeNotConfigured) as err:
        judge_predictions(examples, predictions, None, cache=tmp_path / "c.sqlite")
    message = str(err.value)
    for option in ("--judge api", "--judge local", "--judge matcher", "--verdicts"):
        assert option in message


def test_answered_replies_survive_a_failure_in_the_same_run(server, judge, tmp_path):
    examples, predictions = _items(["Female", "Male", "(a)"])
    judge.concurrency = 1
    judge.max_retries = 0
    server.script = [
        ("reply", "Explanation: x\nJudgement: correct"),
        ("reply", "Explanation: y\nJudgement: incorrect"),
    ]
    server.default = ("status", 500, {})
    with pytest.raises(JudgeRequestError):
        judge_predictions(examples, predictions, judge, cache=tmp_path / "c.sqlite")
    assert len(server.requests) == 3
    server.default = ("reply", "Explanation: z\nJudgement: correct")
    records = judge_predictions(examples, predictions, judge, cache=tmp_path / "c.sqlite")
    assert len(server.requests) == 4  # only the failed item is asked again
    assert [r["verdict"] for r in records] == ["correct", "incorrect", "correct"]
