"""Qwen-Audio-Chat through its own remote code (`trust_remote_code=True`) and its chat API, run in
its own environment.

The remote code needs transformers 4.32.0 (its requirements pin it) and fails under the main
environment's transformers 5, so the model runs in `.venv-qwen-audio-chat`
(`make setup-qwen-audio-chat`, requirements/qwen-audio-chat.lock.txt) as a worker subprocess
(audiorepro/models/qwen_audio_chat_worker.py) spoken to in JSON lines. This class is the main
side: the same interface, resume, provenance and decoding options as every other model; the
worker's package versions go into `describe()`. The weights are the qwen-audio-chat manifest's,
verified before the worker loads them (audiorepro.models.pinned); `--model-arg model_path=DIR`
loads another directory.

As the model card does it: `query = tokenizer.from_list_format([{"audio": path}, {"text": q}])`
(giving `Audio 1:<audio>PATH</audio>\\n` + q), then `model.chat(tokenizer, query=query,
history=None)`, whose chatml context is
`<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n<|im_start|>user\\n{query}<|im_end|>\\n<|im_start|>assistant\\n`.
The remote code reads the file itself with the `ffmpeg` CLI (16 kHz mono, 30 s window), so
requests need `audio_path`; the chat API takes one query at a time (no batching).

Decoding presets (recorded in `describe()`):
- "official" (default): the checkpoint's generation config, which samples (do_sample, top_p 0.5,
  top_k 0 = off, temperature 1.0, repetition_penalty 1.0, max_new_tokens 512). The model card
  seeds with `torch.manual_seed(1234)`; we reset the seed before every item, so an item's output
  does not depend on which items ran before it;
- "greedy": do_sample=False, same length limit.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..audio import write_wav_atomic
from ..errors import AudioreproError
from ..paths import data_root, repo_root
from ..provenance import Deviation
from .base import (
    AudioLanguageModel,
    DecodingConfig,
    GenerationRequest,
    GenerationResult,
    check_decoding_preset,
)
from .pinned import resolve_checkpoint
from .placement import Placement
from .weights import check_loading_info

MANIFEST = "qwen-audio-chat"
WORKER_SCRIPT = Path(__file__).with_name("qwen_audio_chat_worker.py")
PROTOCOL = 1
ENV_VAR = "AUDIOREPRO_QWEN_AUDIO_CHAT_PYTHON"
SETUP_HINT = "run `make setup-qwen-audio-chat`"
DEFAULT_SYSTEM = "You are a helpful assistant."
README_SEED = 1234

OFFICIAL_SAMPLING = DecodingConfig(
    num_beams=1,
    do_sample=True,
    max_new_tokens=512,
    min_new_tokens=0,
    temperature=1.0,
    top_p=0.5,
    top_k=0,
    repetition_penalty=1.0,
    length_penalty=1.0,
    seed=README_SEED,
)
GREEDY = OFFICIAL_SAMPLING.merged({"do_sample": False})
DECODING_PRESETS = {"official": OFFICIAL_SAMPLING, "greedy": GREEDY}


def chatml_context(query: str, system: str = DEFAULT_SYSTEM) -> str:
    """The text `model.chat` builds for a first turn (chat_format "chatml"), for provenance and
    prompt snapshots; the remote code builds it itself."""
    return f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{query}<|im_end|>\n<|im_start|>assistant\n"


def chat_kwargs(decoding: DecodingConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "do_sample": bool(decoding.do_sample),
        "max_new_tokens": decoding.max_new_tokens,
    }
    if decoding.do_sample:
        kwargs.update(
            top_p=decoding.top_p,
            top_k=decoding.top_k,
            temperature=decoding.temperature,
            repetition_penalty=decoding.repetition_penalty,
        )
    if decoding.num_beams and decoding.num_beams > 1:
        kwargs["num_beams"] = decoding.num_beams
    return kwargs


class WorkerError(AudioreproError):
    """The worker crashed, answered with an error, or broke the protocol."""


def worker_python() -> Path:
    """The Python of Qwen-Audio-Chat's environment: $AUDIOREPRO_QWEN_AUDIO_CHAT_PYTHON, else
    .venv-qwen-audio-chat/ in the checkout (where `make setup-qwen-audio-chat` puts it)."""
    configured = os.environ.get(ENV_VAR)
    python = Path(configured) if configured else repo_root() / ".venv-qwen-audio-chat" / "bin" / "python"
    if not python.is_file():
        raise AudioreproError(
            f"qwen-audio-chat runs in its own environment (transformers 4.32.0), not found at {python}: "
            f"{SETUP_HINT} (or set {ENV_VAR} to that environment's python)"
        )
    return python


class WorkerClient:
    """One worker subprocess; requests and replies are JSON lines (protocol in
    qwen_audio_chat_worker.py). Its stderr goes to a temporary file whose tail is shown when it
    fails."""

    def __init__(self, command: list[str], name: str = "qwen-audio-chat worker"):
        self.name = name
        self.stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("PYTHONPATH", None)  # the worker environment must not see the main one's packages
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            encoding="utf-8",
            bufsize=1,
            env=env,
        )
        atexit.register(self.close)
        self.hello = self.receive("hello")
        if self.hello.get("protocol") != PROTOCOL:
            self.close()
            raise WorkerError(
                f"{self.name}: speaks protocol {self.hello.get('protocol')!r}, expected {PROTOCOL}; "
                f"rerun {SETUP_HINT}"
            )

    def _stderr_tail(self, lines: int = 15) -> str:
        self.stderr.seek(0)
        tail = self.stderr.read().strip().splitlines()[-lines:]
        return ("\n  " + "\n  ".join(tail)) if tail else ""

    def receive(self, expected: str) -> dict[str, Any]:
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            status = self.process.wait()
            raise WorkerError(
                f"{self.name} exited (status {status}) while {expected!r} was awaited{self._stderr_tail()}"
            )
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            message = None
        if not isinstance(message, dict) or "type" not in message:
            self.close()
            raise WorkerError(
                f"{self.name} sent a malformed line instead of {expected!r}: {line.strip()[:200]!r}"
            )
        if message["type"] == "error":
            raise WorkerError(f"{self.name}: {message.get('message')}{self._stderr_tail(5)}")
        if message["type"] != expected:
            self.close()
            raise WorkerError(f"{self.name} answered {message['type']!r} where {expected!r} was expected")
        return message

    def request(self, message: dict[str, Any], expected: str) -> dict[str, Any]:
        if self.process.poll() is not None:
            raise WorkerError(
                f"{self.name} is not running (status {self.process.returncode}){self._stderr_tail()}"
            )
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            status = self.process.wait()
            raise WorkerError(f"{self.name} exited (status {status}){self._stderr_tail()}") from None
        reply = self.receive(expected)
        if "id" in message and reply.get("id") != message["id"]:
            self.close()
            raise WorkerError(f"{self.name} answered id {reply.get('id')!r} to request {message['id']!r}")
        return reply

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"type": "shutdown"}) + "\n")
                self.process.stdin.flush()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


class QwenAudioChatModel(AudioLanguageModel):
    name = "qwen-audio-chat"

    def __init__(
        self,
        model_path: str | None = None,
        *,
        decoding: str = "official",
        dtype: str | None = None,
        device: str | None = None,
        system_prompt: str = DEFAULT_SYSTEM,
        device_map: str | None = None,
        max_memory: Any = None,
        offload_folder: str | None = None,
        load_in_8bit: bool | str = False,
        worker_command: list[str] | None = None,
    ):
        """`worker_command` replaces `[<env python>, qwen_audio_chat_worker.py]` (tests run a
        fake worker with it)."""
        check_decoding_preset("qwen-audio-chat", decoding, list(DECODING_PRESETS))
        self.decoding_preset = decoding
        self.system_prompt = system_prompt
        self.placement = Placement.from_options(
            self.name,
            device_map=device_map,
            max_memory=max_memory,
            offload_folder=offload_folder,
            load_in_8bit=load_in_8bit,
        )
        if worker_command is None:
            worker_command = [str(worker_python()), str(WORKER_SCRIPT)]
        self.checkpoint = resolve_checkpoint(MANIFEST, model_path)
        self.model_path = str(self.checkpoint.path)
        self.worker = WorkerClient(list(worker_command))
        self.environment = self.worker.hello.get("versions", {})
        if not self.worker.hello.get("ffmpeg"):
            self.worker.close()
            raise AudioreproError(
                "qwen-audio-chat reads audio with the ffmpeg command, which is not on the worker's PATH "
                "(apt-get install ffmpeg, or AUDIOREPRO_WITH_FFMPEG=1 scripts/install_system_packages.sh)"
            )
        if self.placement.load_in_8bit and not self.environment.get("bitsandbytes"):
            self.worker.close()
            raise AudioreproError(
                "qwen-audio-chat: load_in_8bit needs bitsandbytes in the worker environment "
                f"({self.worker.name}; {SETUP_HINT} with bitsandbytes added)"
            )
        self.load_info = self.worker.request(
            {
                "type": "load",
                "model_path": self.model_path,
                "dtype": dtype,
                "device": device,
                "device_map": self.placement.device_map,
                "max_memory": {str(k): v for k, v in (self.placement.max_memory or {}).items()} or None,
                "offload_folder": self.placement.offload_folder,
                "load_in_8bit": self.placement.load_in_8bit,
            },
            "loaded",
        )["info"]
        try:
            check_loading_info(self.load_info.get("loading_info") or {}, self.model_path, "Qwen-Audio-Chat")
        except AudioreproError:
            self.worker.close()
            raise
        self.device = self.load_info.get("device", device or "cpu")
        self.dtype_name = self.load_info.get("dtype", dtype or "float32")
        self._samples_dir: tempfile.TemporaryDirectory | None = None

    def _audio_path(self, request: GenerationRequest) -> str | None:
        """The file the remote code reads with ffmpeg: the request's file, or its samples written
        to a temporary 16-bit WAV when it has none."""
        if request.audio is None and request.audio_path is None:
            return None
        if request.audio_path is None:
            if self._samples_dir is None:
                self._samples_dir = tempfile.TemporaryDirectory(prefix="qwen-audio-chat-")
            path = Path(self._samples_dir.name) / f"{len(os.listdir(self._samples_dir.name))}.wav"
            return str(write_wav_atomic(path, request.audio, request.sample_rate))
        path = Path(request.audio_path)
        return str(path if path.is_absolute() else data_root() / path)

    def build_query(self, request: GenerationRequest) -> str:
        reply = self.worker.request(
            {
                "type": "query",
                "id": request.id,
                "prompt": request.prompt,
                "audio_path": self._audio_path(request),
            },
            "query",
        )
        return reply["query"]

    def render_prompt(self, request: GenerationRequest) -> str:
        return chatml_context(self.build_query(request), self.system_prompt)

    def default_decoding(self) -> DecodingConfig:
        return DECODING_PRESETS[self.decoding_preset].merged(None)

    def generate(self, batch: list[GenerationRequest], decoding: DecodingConfig) -> list[GenerationResult]:
        decoding = self.default_decoding().merged(decoding)
        results = []
        for request in batch:
            reply = self.worker.request(
                {
                    "type": "generate",
                    "id": request.id,
                    "prompt": request.prompt,
                    "audio_path": self._audio_path(request),
                    "system": self.system_prompt,
                    "seed": decoding.seed if decoding.seed is not None else README_SEED,
                    "chat_kwargs": chat_kwargs(decoding),
                },
                "result",
            )
            missing = {"text", "token_ids", "finish_reason"} - set(reply)
            if missing:
                raise WorkerError(f"{self.worker.name}: result for {request.id!r} lacks {sorted(missing)}")
            results.append(
                GenerationResult(
                    text=reply["text"].strip(),
                    raw_text=reply["text"],
                    token_ids=list(reply["token_ids"]),
                    finish_reason=reply["finish_reason"],
                )
            )
        return results

    def deviations(self) -> list[Deviation]:
        deviations = list(self.checkpoint.deviations())
        if self.decoding_preset == "greedy":
            deviations.append(
                Deviation(name="decoding", value="greedy", reference="sampling, top_p 0.5, top_k 0 (generation_config)")
            )
        seed = self.default_decoding().seed
        if seed != README_SEED:
            deviations.append(Deviation(name="seed", value=str(seed), reference=str(README_SEED)))
        if self.system_prompt != DEFAULT_SYSTEM:
            deviations.append(Deviation(name="system_prompt", value=self.system_prompt, reference=DEFAULT_SYSTEM))
        deviations += self.placement.deviations("bfloat16 weights (model card)")
        return deviations

    def identity(self) -> dict[str, Any]:
        """describe() without where the weights lie or how layers were placed (no effect on outputs)."""
        described = self.describe()
        described["checkpoint"] = {k: v for k, v in described["checkpoint"].items() if k != "path"}
        for key in ("model_path", "placement", "device_map"):
            described.pop(key, None)
        return described

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "implementation": "remote code (trust_remote_code) model.chat in a worker subprocess",
            "model_path": self.model_path,
            "checkpoint": self.checkpoint.provenance(),
            "environment": self.environment,
            "dtype": self.dtype_name,
            "device": self.device,
            "placement": {
                **self.placement.describe(),
                "hf_device_map": self.load_info.get("hf_device_map") or None,
            },
            "decoding_preset": self.decoding_preset,
            "decoding": self.default_decoding().to_dict(),
            "seed_policy": "torch.manual_seed(seed) before every item",
            "deviations": [d.model_dump() for d in self.deviations()],
        }

    def close(self) -> None:
        """Stop the worker (its GPU memory is freed with it) and remove temporary audio files."""
        worker = getattr(self, "worker", None)
        if worker is not None:
            worker.close()
        if getattr(self, "_samples_dir", None) is not None:
            self._samples_dir.cleanup()
            self._samples_dir = None

    def __del__(self):
        # the pipeline drops a model before loading the next one: the worker must go with it
        self.close()
