"""Qwen-Audio-Chat worker: runs inside Qwen-Audio-Chat's own environment (transformers 4.32.0,
`make setup-qwen-audio-chat`) and answers the main CLI over JSON lines on stdin/stdout.

Why a subprocess: the model's remote code (trust_remote_code) was written for transformers 4.32
and fails under the main environment's transformers 5, so it cannot be imported there. This file
is run by path with that environment's Python and imports nothing from audiorepro (the worker
environment does not have audiorepro's dependencies): only the standard library, torch and
transformers.

Protocol (one JSON object per line; the client is audiorepro.models.qwen_audio_chat):
  worker -> {"type": "hello", "protocol": 1, "versions": {package: version}, "ffmpeg": path or null}
  -> {"type": "load", "model_path", "dtype", "device", "device_map", "max_memory", "offload_folder",
      "load_in_8bit"}
  <- {"type": "loaded", "info": {...}}
  -> {"type": "generate", "id", "prompt", "audio_path", "system", "seed", "chat_kwargs"}
  <- {"type": "result", "id", "query", "text", "token_ids", "finish_reason"}
  -> {"type": "query", "id", "prompt", "audio_path"}     <- {"type": "query", "id", "query"}
  -> {"type": "shutdown"}
  any request that fails <- {"type": "error", "id", "message"}
Everything the model code prints goes to stderr: stdout carries the protocol only."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import platform
import shutil
import sys
import traceback
from collections.abc import Callable
from typing import Any, TextIO

PROTOCOL = 1
VERSION_PACKAGES = (
    "torch",
    "transformers",
    "tokenizers",
    "accelerate",
    "tiktoken",
    "einops",
    "transformers_stream_generator",
    "numpy",
    "bitsandbytes",
)


def environment_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSION_PACKAGES:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    return versions


def load_model(message: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    """(model, tokenizer, info) as the model card loads them: trust_remote_code from a local
    directory, precision as the remote code's bf16/fp16/fp32 flags."""
    # lazy: the hello (versions, ffmpeg) goes out before torch and transformers take seconds to import
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = message["model_path"]
    device = message.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = message.get("dtype") or ("bfloat16" if device.startswith("cuda") else "float32")
    precision = {"bfloat16": {"bf16": True}, "float16": {"fp16": True}}.get(dtype, {"fp32": True})
    load: dict[str, Any] = {"trust_remote_code": True, "local_files_only": True}
    placement: dict[str, Any] = {"device_map": message.get("device_map") or device}
    if message.get("max_memory"):  # JSON keys are strings; accelerate wants GPU indices as ints
        placement["max_memory"] = {int(k) if k.isdigit() else k: v for k, v in message["max_memory"].items()}
    if message.get("offload_folder"):
        placement["offload_folder"] = message["offload_folder"]
    if message.get("load_in_8bit"):
        placement["load_in_8bit"] = True
    tokenizer = AutoTokenizer.from_pretrained(path, **load)
    # transformers' load report goes back to the client, which refuses weights left random
    # (audiorepro.models.weights.check_loading_info, the check every other model's load makes)
    model, loading_info = AutoModelForCausalLM.from_pretrained(
        path, output_loading_info=True, **load, **precision, **placement
    )
    model.eval()
    placed = {str(v) for v in (getattr(model, "hf_device_map", None) or {}).values()}
    if "disk" in placed or ("cpu" in placed and len(placed) > 1):
        # accelerate keeps offloaded weights on the meta device and streams them in through hooks,
        # but the remote audio encoder moves its inputs to its own weights' device (meta there)
        raise RuntimeError(
            f"Qwen-Audio-Chat's remote code cannot run with layers offloaded to CPU or disk "
            f"(placement {sorted(placed)}): give device_map more GPU memory (max_memory) or use load_in_8bit"
        )
    info = {
        "device": device,
        "dtype": dtype,
        "hf_device_map": {k: str(v) for k, v in (getattr(model, "hf_device_map", None) or {}).items()},
        "generation_config": json.loads(model.generation_config.to_json_string(use_diff=True)),
        "loading_info": {k: [str(x) for x in v] for k, v in loading_info.items()},
    }
    return model, tokenizer, info


def build_query(tokenizer: Any, prompt: str, audio_path: str | None) -> str:
    """The model card's `tokenizer.from_list_format([{"audio": path}, {"text": prompt}])`."""
    items: list[dict[str, str]] = [] if audio_path is None else [{"audio": audio_path}]
    items.append({"text": prompt})
    return tokenizer.from_list_format(items)


def generate(model: Any, tokenizer: Any, message: dict[str, Any]) -> dict[str, Any]:
    import torch  # lazy, as in load_model (imported there already: a name lookup here)

    query = build_query(tokenizer, message["prompt"], message.get("audio_path"))
    kwargs = dict(message.get("chat_kwargs") or {})
    # The model card seeds once; we seed before every item so an output does not depend on
    # which items ran before it.
    torch.manual_seed(int(message.get("seed", 1234)))
    response, _history = model.chat(
        tokenizer,
        query=query,
        history=None,
        system=message.get("system", "You are a helpful assistant."),
        **kwargs,
    )
    ids = list(tokenizer.encode(response))
    limit = kwargs.get("max_new_tokens")
    finish = "length" if limit is not None and len(ids) >= limit else "eos"
    return {"type": "result", "query": query, "text": response, "token_ids": ids, "finish_reason": finish}


def serve(
    requests: TextIO,
    replies: TextIO,
    loader: Callable[[dict[str, Any]], tuple[Any, Any, dict[str, Any]]] = load_model,
) -> int:
    """The request loop; returns the exit status."""

    def send(message: dict[str, Any]) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    # the remote code reads every audio file with the ffmpeg command
    hello = {
        "type": "hello",
        "protocol": PROTOCOL,
        "versions": environment_versions(),
        "ffmpeg": shutil.which("ffmpeg"),
    }
    send(hello)
    model = tokenizer = None
    for line in requests:
        if not line.strip():
            continue
        message: dict[str, Any] = {}
        try:
            message = json.loads(line)
            kind = message.get("type")
            if kind == "shutdown":
                return 0
            if kind == "load":
                model, tokenizer, info = loader(message)
                send({"type": "loaded", "info": info})
            elif model is None:
                raise RuntimeError(f"request {kind!r} before the model was loaded")
            elif kind == "generate":
                send({**generate(model, tokenizer, message), "id": message.get("id")})
            elif kind == "query":
                query = build_query(tokenizer, message["prompt"], message.get("audio_path"))
                send({"type": "query", "id": message.get("id"), "query": query})
            else:
                raise ValueError(f"unknown request type {kind!r}")
        except Exception as e:  # reported to the client, which stops the run with this text
            traceback.print_exc(file=sys.stderr)
            send({"type": "error", "id": message.get("id"), "message": f"{type(e).__name__}: {e}"})
            if message.get("type") == "load":
                return 1
    return 0


def protocol_streams() -> tuple[TextIO, TextIO]:
    """(requests, replies): the protocol keeps the real stdout; file descriptor 1 is pointed at
    stderr so prints from the remote code or libraries cannot corrupt it."""
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return sys.stdin, replies


def main() -> int:
    requests, replies = protocol_streams()
    return serve(requests, replies)


if __name__ == "__main__":
    sys.exit(main())
