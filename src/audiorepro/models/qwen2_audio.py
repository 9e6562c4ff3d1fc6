"""Qwen2-Audio-7B-Instruct through transformers' `Qwen2AudioForConditionalGeneration`.

Follows the model card and the official chat evaluation (QwenLM/Qwen2-Audio `evaluate_chat.py`):
the processor's chat template (default system prompt "You are a helpful assistant.", the audio as
`Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\\n` before the instruction), the waveform at the
feature extractor's 16 kHz, left padding for batches, bf16 on GPU, and the reply decoded with
`skip_special_tokens=True, clean_up_tokenization_spaces=False`.

Decoding presets (recorded in `describe()`):
- "official" (default): the checkpoint's generation_config.json, which samples (documented as
  do_sample, top_k 20, top_p 0.5, temperature 0.7, repetition_penalty 1.1; the values in the
  loaded checkpoint's file take precedence), with `max_new_tokens=256` in place
  of the README's `max_length=256` (which counts the up-to-750 audio tokens of the prompt);
- "greedy": the official chat evaluation's greedy decoding (max_new_tokens 256, min_new_tokens 1).
Sampled outputs are seeded per batch; with the predict runner's deterministic batching a rerun
gives the same outputs, but the same item in another batch can differ (sampling).

The weights are the qwen2-audio-7b-instruct manifest's, verified before loading
(audiorepro.models.pinned); `--model-arg model_path=DIR` loads another directory.
`device_map=auto` / `load_in_8bit=true` place the model over several cards or in 8 bit
(audiorepro.models.placement)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..errors import AudioreproError
from ..provenance import Deviation
from .base import (
    AudioLanguageModel,
    DecodingConfig,
    GenerationRequest,
    GenerationResult,
    check_decoding_preset,
)
from .pinned import resolve_checkpoint
from .placement import Placement, resolve_device, resolve_dtype, torch_dtype
from .weights import load_pretrained_strict

MANIFEST = "qwen2-audio-7b-instruct"
SAMPLE_RATE = 16_000

# The checkpoint's generation_config.json as published (third-party copy, verified against the
# real file at load time: differences are recorded in describe()).
OFFICIAL_SAMPLING = DecodingConfig(
    num_beams=1,
    do_sample=True,
    max_new_tokens=256,
    min_new_tokens=0,
    temperature=0.7,
    top_p=0.5,
    top_k=20,
    repetition_penalty=1.1,
    length_penalty=1.0,
    seed=0,
)
OFFICIAL_GREEDY = DecodingConfig(
    num_beams=1,
    do_sample=False,
    max_new_tokens=256,
    min_new_tokens=1,
    temperature=1.0,
    top_p=1.0,
    top_k=0,
    repetition_penalty=1.0,
    length_penalty=1.0,
    seed=0,
)
DECODING_PRESETS = {"official": OFFICIAL_SAMPLING, "greedy": OFFICIAL_GREEDY}
SAMPLING_KEYS = ("do_sample", "top_k", "top_p", "temperature", "repetition_penalty")


def build_conversation(request: GenerationRequest, system_prompt: str | None = None) -> list[dict]:
    """The chat the model card builds: one user turn with the audio, then the instruction.
    Text-only requests (the caption control) have no audio item, as in SAKE's text-only call."""
    content: list[dict] = []
    if request.audio is not None:
        content.append({"type": "audio", "audio_url": request.audio_path or "audio"})
    content.append({"type": "text", "text": request.prompt})
    conversation = [{"role": "user", "content": content}]
    if system_prompt is not None:
        conversation.insert(0, {"role": "system", "content": system_prompt})
    return conversation


def generation_kwargs(decoding: DecodingConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "do_sample": bool(decoding.do_sample),
        "num_beams": decoding.num_beams or 1,
        "max_new_tokens": decoding.max_new_tokens,
        "repetition_penalty": decoding.repetition_penalty,
        "length_penalty": decoding.length_penalty,
    }
    if decoding.min_new_tokens:
        kwargs["min_new_tokens"] = decoding.min_new_tokens
    if decoding.do_sample:
        kwargs.update(temperature=decoding.temperature, top_p=decoding.top_p, top_k=decoding.top_k)
    else:  # clear the checkpoint's sampling values, which greedy decoding does not use
        kwargs.update(temperature=None, top_p=None, top_k=None)
    return kwargs


class Qwen2AudioModel(AudioLanguageModel):
    name = "qwen2-audio"

    def __init__(
        self,
        model_path: str | None = None,
        *,
        decoding: str = "official",
        dtype: str | None = None,
        device: str | None = None,
        system_prompt: str | None = None,
        device_map: str | None = None,
        max_memory: Any = None,
        offload_folder: str | None = None,
        load_in_8bit: bool | str = False,
    ):
        # lazy: importing transformers takes about a second; only loading a model needs it
        from transformers import AutoProcessor, Qwen2AudioForConditionalGeneration

        check_decoding_preset("qwen2-audio", decoding, list(DECODING_PRESETS))
        self.placement = Placement.from_options(
            self.name,
            device_map=device_map,
            max_memory=max_memory,
            offload_folder=offload_folder,
            load_in_8bit=load_in_8bit,
        )
        self.placement.check_available(self.name)
        self.checkpoint = resolve_checkpoint(MANIFEST, model_path)
        self.model_path = str(self.checkpoint.path)
        self.decoding_preset = decoding
        self.system_prompt = system_prompt
        self.device = resolve_device(device)
        # bf16 on GPU as the official eval (torch_dtype='auto' resolves to the checkpoint's bf16)
        self.dtype_name = resolve_dtype(dtype, self.device, gpu_default="bfloat16", model=self.name)
        self.processor = AutoProcessor.from_pretrained(self.model_path, local_files_only=True)
        self.processor.tokenizer.padding_side = "left"
        self.model = load_pretrained_strict(
            Qwen2AudioForConditionalGeneration,
            self.model_path,
            what="Qwen2-Audio",
            dtype=torch_dtype(self.dtype_name),
            local_files_only=True,
            **self.placement.from_pretrained_kwargs(self.device),
        )
        if not self.placement.dispatched:
            self.model.to(self.device)
        self.model.eval()
        self.checkpoint_generation_config = _json_safe(self.model.generation_config.to_diff_dict())

    # ---- prompts -------------------------------------------------------------------------
    def render_prompt(self, request: GenerationRequest) -> str:
        """The exact text fed to the processor (before <|AUDIO|> is expanded)."""
        return self.processor.apply_chat_template(
            build_conversation(request, self.system_prompt), add_generation_prompt=True, tokenize=False
        )

    # ---- AudioLanguageModel ----------------------------------------------------------------
    def default_decoding(self) -> DecodingConfig:
        if self.decoding_preset == "official":
            # the checkpoint's own generation_config.json wins over the documented copy
            return OFFICIAL_SAMPLING.merged(self._checkpoint_sampling())
        return DECODING_PRESETS[self.decoding_preset].merged(None)

    def _checkpoint_sampling(self) -> dict[str, Any]:
        return {
            k: self.checkpoint_generation_config[k]
            for k in SAMPLING_KEYS
            if k in self.checkpoint_generation_config
        }

    def generate(self, batch: list[GenerationRequest], decoding: DecodingConfig) -> list[GenerationResult]:
        # lazy: importing torch takes about a second; this module is imported without a model
        import torch

        decoding = self.default_decoding().merged(decoding)
        texts = [self.render_prompt(r) for r in batch]
        audios = [np.asarray(r.audio, dtype=np.float32) for r in batch if r.audio is not None]
        for r in batch:
            if r.audio is not None and r.sample_rate != SAMPLE_RATE:
                raise AudioreproError(
                    f"{r.id}: qwen2-audio needs {SAMPLE_RATE} Hz audio, got {r.sample_rate} Hz"
                )
        inputs = self.processor(
            text=texts,
            audio=audios or None,
            sampling_rate=SAMPLE_RATE,
            return_tensors="pt",
            padding=True,
        ).to(self.device)
        if "input_features" in inputs:
            inputs["input_features"] = inputs["input_features"].to(self.model.dtype)
        if decoding.do_sample:
            torch.manual_seed(decoding.seed or 0)
        with torch.inference_mode():
            output = self.model.generate(**inputs, **generation_kwargs(decoding))
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        return [self._result(row) for row in new_tokens.tolist()]

    def _result(self, token_ids: list[int]) -> GenerationResult:
        tokenizer = self.processor.tokenizer
        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
        pad = tokenizer.pad_token_id
        ids = [t for t in token_ids if t != pad or t in eos_ids]
        end = next((i for i, t in enumerate(ids) if t in eos_ids), None)
        finish = "eos" if end is not None else "length"
        ids = ids if end is None else ids[:end]
        text = tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        raw = tokenizer.decode(token_ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
        return GenerationResult(text=text.strip(), raw_text=raw, token_ids=ids, finish_reason=finish)

    def identity(self) -> dict[str, Any]:
        """describe() without where the weights lie or how layers were placed (no effect on outputs)."""
        described = self.describe()
        described["checkpoint"] = {k: v for k, v in described["checkpoint"].items() if k != "path"}
        for key in ("model_path", "placement"):
            described.pop(key, None)
        return described

    def deviations(self) -> list[Deviation]:
        deviations = list(self.checkpoint.deviations())
        if self.decoding_preset == "official":
            deviations.append(
                Deviation(
                    name="max_new_tokens",
                    value=str(OFFICIAL_SAMPLING.max_new_tokens),
                    reference="README generate(max_length=256), which counts the prompt's audio tokens",
                )
            )
            differing = [
                f"{k}: documented {getattr(OFFICIAL_SAMPLING, k)}, checkpoint {v}"
                for k, v in self._checkpoint_sampling().items()
                if v != getattr(OFFICIAL_SAMPLING, k)
            ]
            if differing:  # we use the checkpoint's values; the documented copy is shown for review
                deviations.append(
                    Deviation(
                        name="documented_sampling_differs_from_checkpoint",
                        value="; ".join(differing),
                        reference="checkpoint generation_config.json (used)",
                    )
                )
        else:
            deviations.append(
                Deviation(
                    name="decoding",
                    value="greedy (official chat eval: max_new_tokens 256, min_new_tokens 1)",
                    reference="checkpoint generation_config.json samples (top_k 20, top_p 0.5, temperature 0.7)",
                )
            )
        if self.system_prompt is not None:
            deviations.append(
                Deviation(name="system_prompt", value=self.system_prompt, reference="You are a helpful assistant.")
            )
        deviations += self.placement.deviations("bfloat16 weights (official chat evaluation)")
        return deviations

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "implementation": "transformers Qwen2AudioForConditionalGeneration",
            "model_path": self.model_path,
            "checkpoint": self.checkpoint.provenance(),
            "dtype": self.dtype_name,
            "device": self.device,
            "placement": self.placement.describe(self.model),
            "decoding_preset": self.decoding_preset,
            "decoding": self.default_decoding().to_dict(),
            "checkpoint_generation_config": self.checkpoint_generation_config,
            "deviations": [d.model_dump() for d in self.deviations()],
        }


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))
