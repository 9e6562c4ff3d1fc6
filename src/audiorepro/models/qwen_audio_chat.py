"""Qwen-Audio-Chat through its own remote code (`trust_remote_code=True`) and its chat API.

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

The remote code was written for transformers 4.32 (its requirements pin transformers==4.32.0);
run this model in an environment with that version if the installed transformers rejects it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..errors import AudioreproError
from ..paths import data_root
from .base import AudioLanguageModel, DecodingConfig, GenerationRequest, GenerationResult
from .weights import load_pretrained_strict

DEFAULT_CHECKPOINT = "Qwen/Qwen-Audio-Chat"
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


def query_items(request: GenerationRequest, audio_path: str | None) -> list[dict]:
    """The list the model card hands to `tokenizer.from_list_format`."""
    items: list[dict] = []
    if audio_path is not None:
        items.append({"audio": audio_path})
    items.append({"text": request.prompt})
    return items


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


class QwenAudioChatModel(AudioLanguageModel):
    name = "qwen-audio-chat"

    def __init__(
        self,
        model_path: str = DEFAULT_CHECKPOINT,
        *,
        revision: str | None = None,
        decoding: str = "official",
        dtype: str | None = None,
        device: str | None = None,
        system_prompt: str = DEFAULT_SYSTEM,
        local_files_only: bool = False,
        tokenizer: Any = None,
        model: Any = None,
    ):
        """`tokenizer`/`model` may be given ready-made (tests); otherwise they are loaded with
        trust_remote_code from `model_path`."""
        if decoding not in DECODING_PRESETS:
            raise AudioreproError(
                f"qwen-audio-chat: unknown decoding preset {decoding!r}; choose {sorted(DECODING_PRESETS)}"
            )
        self.model_path = str(model_path)
        self.revision = revision
        self.decoding_preset = decoding
        self.system_prompt = system_prompt
        if model is None or tokenizer is None:
            if shutil.which("ffmpeg") is None:
                raise AudioreproError(
                    "qwen-audio-chat reads audio with the ffmpeg command, which is not on PATH "
                    "(apt-get install ffmpeg)"
                )
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
            self.dtype_name = dtype or ("bfloat16" if self.device.startswith("cuda") else "float32")
            load = {"revision": revision, "local_files_only": local_files_only, "trust_remote_code": True}
            tokenizer = AutoTokenizer.from_pretrained(self.model_path, **load)
            # the remote code takes its precision as bf16=/fp16= flags rather than a dtype
            precision = {"bfloat16": {"bf16": True}, "float16": {"fp16": True}}.get(
                self.dtype_name, {"fp32": True}
            )
            model = load_pretrained_strict(
                AutoModelForCausalLM,
                self.model_path,
                what="Qwen-Audio-Chat",
                device_map=self.device,
                **load,
                **precision,
            )
            model.eval()
        else:
            self.device = device or "cpu"
            self.dtype_name = dtype or "float32"
        self.tokenizer = tokenizer
        self.model = model

    def _audio_path(self, request: GenerationRequest) -> str | None:
        if request.audio is None and request.audio_path is None:
            return None
        if request.audio_path is None:
            raise AudioreproError(
                f"{request.id}: qwen-audio-chat reads audio files itself and needs audio_path"
            )
        path = Path(request.audio_path)
        return str(path if path.is_absolute() else data_root() / path)

    def build_query(self, request: GenerationRequest) -> str:
        return self.tokenizer.from_list_format(query_items(request, self._audio_path(request)))

    def render_prompt(self, request: GenerationRequest) -> str:
        return chatml_context(self.build_query(request), self.system_prompt)

    def default_decoding(self) -> DecodingConfig:
        return DECODING_PRESETS[self.decoding_preset].merged(None)

    def sort_key(self, request: GenerationRequest) -> float:
        return 0.0  # one query at a time: keep the input order

    def generate(self, batch: list[GenerationRequest], decoding: DecodingConfig) -> list[GenerationResult]:
        import torch

        decoding = self.default_decoding().merged(decoding)
        results = []
        for request in batch:
            query = self.build_query(request)
            torch.manual_seed(decoding.seed if decoding.seed is not None else README_SEED)
            response, _history = self.model.chat(
                self.tokenizer, query=query, history=None, system=self.system_prompt, **chat_kwargs(decoding)
            )
            ids = list(self.tokenizer.encode(response))
            finish = "length" if len(ids) >= decoding.max_new_tokens else "eos"
            results.append(
                GenerationResult(
                    text=response.strip(), raw_text=response, token_ids=ids, finish_reason=finish
                )
            )
        return results

    def describe(self) -> dict[str, Any]:
        deviations = []
        if self.decoding_preset == "greedy":
            deviations.append(
                {
                    "name": "decoding",
                    "value": "greedy",
                    "reference": "sampling, top_p 0.5, top_k 0 (generation_config)",
                }
            )
        if self.default_decoding().seed != README_SEED:
            deviations.append(
                {"name": "seed", "value": self.default_decoding().seed, "reference": README_SEED}
            )
        if self.system_prompt != DEFAULT_SYSTEM:
            deviations.append(
                {"name": "system_prompt", "value": self.system_prompt, "reference": DEFAULT_SYSTEM}
            )
        return {
            "name": self.name,
            "implementation": "remote code (trust_remote_code) model.chat",
            "model_path": self.model_path,
            "revision": self.revision,
            "dtype": self.dtype_name,
            "device": self.device,
            "decoding_preset": self.decoding_preset,
            "decoding": self.default_decoding().to_dict(),
            "seed_policy": "torch.manual_seed(seed) before every item",
            "deviations": deviations,
        }
