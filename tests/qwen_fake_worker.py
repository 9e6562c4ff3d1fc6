"""A stand-in Qwen-Audio-Chat worker for the protocol tests: the real request loop
(audiorepro.models.qwen_audio_chat_worker.serve) around a fake tokenizer and model, run with the
main environment's Python, plus modes that misbehave the way a broken worker could.

Usage: python qwen_fake_worker.py MODE [CALLS_FILE]
  ok             answer every request
  crash          exit with status 3 on the first generate request (after a line on stderr)
  malformed      write a non-JSON line on the first generate request
  old-protocol   greet with protocol 0
  load-error     fail while loading
  missing-weight report a weight the checkpoint lacks (transformers' load report)
Every `chat` call is appended to CALLS_FILE as a JSON line (query, system, kwargs)."""

from __future__ import annotations

import json
import os
import sys

from audiorepro.models import qwen_audio_chat_worker as worker


class FakeQwenTokenizer:
    """`from_list_format` as the model card documents it; `encode` gives the UTF-8 bytes."""

    def from_list_format(self, items):
        text, n_audio = "", 0
        for item in items:
            if "audio" in item:
                n_audio += 1
                text += f"Audio {n_audio}:<audio>{item['audio']}</audio>\n"
            else:
                text += item["text"]
        return text

    def encode(self, text):
        return list(text.encode())


class FakeQwenChatModel:
    """Answers with a draw from torch's RNG (to observe seeding) and records each call."""

    def __init__(self, calls_file):
        self.calls_file = calls_file

    def chat(self, tokenizer, query, history, system, **kwargs):
        import torch

        if self.calls_file:
            with open(self.calls_file, "a", encoding="utf-8") as f:
                f.write(json.dumps({"query": query, "history": history, "system": system, "kwargs": kwargs}) + "\n")
        return f" {torch.rand(1).item():.8f} ", [(query, "x")]


def main() -> int:
    mode = sys.argv[1]
    calls_file = sys.argv[2] if len(sys.argv) > 2 else None
    requests, replies = worker.protocol_streams()
    if mode == "old-protocol":
        worker.PROTOCOL = 0

    def loader(message):
        if mode == "load-error":
            raise OSError(f"no weights in {message['model_path']}")
        print("remote code chatter on stdout must not reach the protocol")
        info = {"device": "cpu"}
        if mode == "missing-weight":
            info["loading_info"] = {"missing_keys": ["transformer.h.0.attn.c_attn.weight"], "unexpected_keys": []}
        return FakeQwenChatModel(calls_file), FakeQwenTokenizer(), info

    if mode in ("crash", "malformed"):
        real_generate = worker.generate

        def generate(model, tokenizer, message):
            if mode == "crash":
                print("fake worker: simulated crash", file=sys.stderr, flush=True)
                os._exit(3)
            replies.write("this is not json\n")
            replies.flush()
            return real_generate(model, tokenizer, message)

        worker.generate = generate
    return worker.serve(requests, replies, loader=loader)


if __name__ == "__main__":
    sys.exit(main())
