"""Shared by the fault-table tests (docs/faults.md): run the CLI in-process as a user would, with
every output folder in a temporary directory, a tiny deterministic model, a fake OpenAI-compatible
judge server, and small writers for hand-made run folders."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import soundfile as sf

from audiorepro.models.base import AudioLanguageModel, DecodingConfig, GenerationResult

REPO = Path(__file__).resolve().parents[2]
FAULTS_DIR = Path(__file__).resolve().parent
ERROR_PREFIX = "audiorepro: error: "


# ---------------------------------------------------------------------------------- the CLI


@dataclass
class CliResult:
    rc: int
    out: str
    err: str

    @property
    def error_line(self) -> str:
        """The first line of the error message (what a user reads first)."""
        lines = [line for line in self.err.splitlines() if line.startswith(ERROR_PREFIX)]
        assert lines, f"no error message; rc={self.rc}\nstdout:\n{self.out}\nstderr:\n{self.err}"
        return lines[0].removeprefix(ERROR_PREFIX)


def run_cli(capsys, *argv: str) -> CliResult:
    from audiorepro.cli import main

    capsys.readouterr()  # drop anything printed before
    rc = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return CliResult(rc, captured.out, captured.err)


# ---------------------------------------------------------------------------------- toy models


class SignalLength(AudioLanguageModel):
    """Answers with the number of samples it was given: shows exactly what loading delivered."""


    def default_decoding(self) -> DecodingConfig:
        return DecodingConfig(num_beams=1, do_sample=False, max_new_tokens=16)

    def generate(self, batch, decoding):
        out = []
        for req in batch:
            text = f"{0 if req.audio is None else len(req.audio)} samples"
            out.append(GenerationResult(text=text, raw_text=text, token_ids=[1], finish_reason="eos"))
        return out

    def describe(self) -> dict:
        return {"name": self.name, "device": "cpu", "deviations": []}


class WindowedSignalLength(SignalLength):
    """The same with a 1 s audio window (as SALMONN has a 30 s one)."""

    max_audio_seconds = 1.0


# ---------------------------------------------------------------------------------- files


def write_wav(path: Path, samples, sample_rate: int = 16_000, subtype: str = "PCM_16") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.asarray(samples, dtype=np.float64), sample_rate, subtype=subtype)
    return path


def tone(seconds: float, sample_rate: int = 16_000) -> np.ndarray:
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    return 0.1 * np.sin(2 * np.pi * 440 * t)


def write_jsonl(path: Path, records: list[dict], *, final_newline: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(json.dumps(r) for r in records)
    path.write_text(text + ("\n" if final_newline and records else ""))
    return path


def asr_examples(runs: Path, clips: dict[str, Path], task: str = "demo-asr", suite: str = "demo") -> Path:
    """examples.jsonl of `task` with one example per (id, audio file)."""
    records = [
        {"id": i, "task": task, "audio": str(p), "prompt": "Transcribe.", "references": ["a b"], "meta": {}}
        for i, p in clips.items()
    ]
    return write_jsonl(runs / suite / task / "examples.jsonl", records)


def prediction(item_id: str, output: str) -> dict:
    return {"id": item_id, "output": output, "raw_output": output, "n_tokens": 1, "finish_reason": "eos", "seconds": 0.1}


# ---------------------------------------------------------------------------------- SAKURA run


SAKURA_TASK = "sakura-gender-single"
SAKURA_QUESTION = "What is the gender of the speaker? (a) Female (b) Male"


def sakura_run(runs: Path, outputs: dict[str, str], run: str = "m") -> Path:
    """A judged task's folder: examples (ground truth '(a) Female') and the given predictions."""
    task_dir = runs / "sakura" / SAKURA_TASK
    write_jsonl(
        task_dir / "examples.jsonl",
        [
            {
                "id": i,
                "task": SAKURA_TASK,
                "audio": None,
                "prompt": SAKURA_QUESTION,
                "references": ["(a) Female"],
                "meta": {"question": SAKURA_QUESTION},
            }
            for i in outputs
        ],
    )
    write_jsonl(task_dir / run / "predictions.jsonl", [prediction(i, o) for i, o in outputs.items()])
    return task_dir / run


class FakeChatServer:
    """An OpenAI-compatible chat-completions endpoint on 127.0.0.1. `mode` picks the reply:
    "judge" (a valid verdict), "html" (a proxy's web page), "no-choices" (JSON without choices),
    "slow" (a valid verdict after `delay` seconds)."""

    def __init__(self, mode: str = "judge", delay: float = 0.0):
        self.mode, self.delay = mode, delay
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                if server.mode == "slow":
                    time.sleep(server.delay)
                if server.mode == "html":
                    payload, kind = b"<html><body><h1>Welcome to nginx!</h1></body></html>", "text/html"
                elif server.mode == "no-choices":
                    payload, kind = json.dumps({"id": "x", "object": "chat.completion", "model": body["model"]}).encode(), "application/json"
                else:
                    reply = {"role": "assistant", "content": "Explanation: it says Female.\nJudgement: correct"}
                    payload = json.dumps(
                        {
                            "id": "chatcmpl-1",
                            "object": "chat.completion",
                            "created": 0,
                            "model": body["model"],
                            "choices": [{"index": 0, "message": reply, "finish_reason": "stop"}],
                        }
                    ).encode()
                    kind = "application/json"
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def no_predictions(model_dir: Path) -> bool:
    """No prediction record in a run folder (an empty file is allowed: it holds no result)."""
    return not any(p.read_bytes().strip() for p in model_dir.glob("predictions*.jsonl"))


def files_under(folder: Path) -> list[str]:
    """Every file below `folder` (relative paths), to show what a failed stage left behind."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
