"""Optional vLLM backend for Qwen2-Audio-7B-Instruct (`pip install vllm`; GPU only).

The prompt is written out as vLLM's official example does (examples/offline_inference/
audio_language.py), and a unit test checks it equals what the transformers path's chat template
renders, so both backends put the same text in front of the model. vLLM's kernels and batching
can still change greedy outputs slightly; the backend is recorded in `describe()`."""

from __future__ import annotations

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
from .qwen2_audio import DECODING_PRESETS, MANIFEST, SAMPLE_RATE

DEFAULT_SYSTEM = "You are a helpful assistant."


def build_prompt(request: GenerationRequest, system_prompt: str = DEFAULT_SYSTEM) -> str:
    audio = "Audio 1: <|audio_bos|><|AUDIO|><|audio_eos|>\n" if request.audio is not None else ""
    return (
        f"<|im_start|>system\n{system_prompt}<|im_end|>\n"
        f"<|im_start|>user\n{audio}{request.prompt}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def sampling_params_kwargs(decoding: DecodingConfig) -> dict[str, Any]:
    """vLLM SamplingParams arguments; temperature 0 is vLLM's greedy."""
    if not decoding.do_sample:
        return {
            "temperature": 0.0,
            "max_tokens": decoding.max_new_tokens,
            "min_tokens": decoding.min_new_tokens or 0,
        }
    return {
        "temperature": decoding.temperature,
        "top_p": decoding.top_p,
        "top_k": decoding.top_k if decoding.top_k else -1,
        "repetition_penalty": decoding.repetition_penalty,
        "max_tokens": decoding.max_new_tokens,
        "min_tokens": decoding.min_new_tokens or 0,
        "seed": decoding.seed,
    }


class Qwen2AudioVllmModel(AudioLanguageModel):
    name = "qwen2-audio-vllm"

    def __init__(
        self,
        model_path: str | None = None,
        *,
        decoding: str = "official",
        max_model_len: int = 4096,
        max_num_seqs: int = 8,
        dtype: str = "bfloat16",
    ):
        try:  # vLLM is optional (GPU image only): imported when this backend is chosen
            from vllm import LLM
        except ImportError as e:
            raise AudioreproError(
                "the vLLM backend needs `pip install vllm` (GPU); use model qwen2-audio instead"
            ) from e
        check_decoding_preset("qwen2-audio-vllm", decoding, list(DECODING_PRESETS))
        # the same verified files as the transformers backend (audiorepro.models.pinned)
        self.checkpoint = resolve_checkpoint(MANIFEST, model_path)
        self.model_path, self.decoding_preset, self.dtype = str(self.checkpoint.path), decoding, dtype
        self.llm = LLM(
            model=self.model_path,
            max_model_len=max_model_len,
            max_num_seqs=max_num_seqs,
            limit_mm_per_prompt={"audio": 1},
            dtype=dtype,
        )

    def default_decoding(self) -> DecodingConfig:
        return DECODING_PRESETS[self.decoding_preset].merged(None)

    def generate(self, batch: list[GenerationRequest], decoding: DecodingConfig) -> list[GenerationResult]:
        from vllm import SamplingParams  # optional, as in __init__

        decoding = self.default_decoding().merged(decoding)
        inputs = []
        for r in batch:
            item: dict[str, Any] = {"prompt": build_prompt(r)}
            if r.audio is not None:
                item["multi_modal_data"] = {"audio": [(np.asarray(r.audio, dtype=np.float32), SAMPLE_RATE)]}
            inputs.append(item)
        outputs = self.llm.generate(inputs, SamplingParams(**sampling_params_kwargs(decoding)))
        results = []
        for out in outputs:
            completion = out.outputs[0]
            finish = "length" if completion.finish_reason == "length" else "eos"
            results.append(
                GenerationResult(
                    text=completion.text.strip(),
                    raw_text=completion.text,
                    token_ids=list(completion.token_ids),
                    finish_reason=finish,
                )
            )
        return results

    def deviations(self) -> list[Deviation]:
        return [
            *self.checkpoint.deviations(),
            Deviation(name="backend", value="vLLM", reference="transformers (outputs can differ slightly)"),
        ]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "implementation": "vLLM",
            "model_path": self.model_path,
            "checkpoint": self.checkpoint.provenance(),
            "dtype": self.dtype,
            "decoding_preset": self.decoding_preset,
            "decoding": self.default_decoding().to_dict(),
            "deviations": [d.model_dump() for d in self.deviations()],
        }
