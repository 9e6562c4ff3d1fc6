"""Model registry: name -> "module:factory". Adding a model is one file and one `register` line here.

Factories are imported lazily (audiorepro.registry) so `audiorepro models` and the scoring stages
never import torch models they do not need. A factory takes keyword options (from `--model-arg
key=value`) and returns an AudioLanguageModel. Entries may carry `preset` options."""

from __future__ import annotations

import inspect
import os
from typing import Any

from ..errors import AudioreproError
from ..registry import Registry

MODELS: Registry = Registry("model")
MODELS.register(
    "cascade",
    "audiorepro.models.cascade:CascadeModel",
    description="Table 3 'Reference value' rows: Whisper ASR, then a text LLM (demo: Whisper tiny.en + SmolLM2-135M)",
)
MODELS.register("salmonn", "audiorepro.models.salmonn:SalmonnModel", description="SALMONN from explicit component paths")
MODELS.register(
    "salmonn-13b-v1",
    "audiorepro.models.salmonn:SalmonnModel",
    description="SALMONN-13B v1 (Whisper-large-v2, BEATs iter3+ AS2M cpt2, Vicuna-13B v1.1, LoRA r8 a32)",
    preset={"preset": "salmonn-13b-v1"},
)
MODELS.register(
    "salmonn-7b",
    "audiorepro.models.salmonn:SalmonnModel",
    description="SALMONN-7B (Whisper-large-v2, BEATs iter3+ AS2M cpt2, Vicuna-7B v1.5, LoRA r8 a32)",
    preset={"preset": "salmonn-7b"},
)
MODELS.register(
    "qwen2-audio",
    "audiorepro.models.qwen2_audio:Qwen2AudioModel",
    description="Qwen2-Audio-7B-Instruct via transformers (bf16 on GPU)",
)
MODELS.register(
    "qwen2-audio-vllm",
    "audiorepro.models.qwen2_audio_vllm:Qwen2AudioVllmModel",
    description="Qwen2-Audio-7B-Instruct via vLLM (optional extra, GPU)",
)
MODELS.register(
    "qwen-audio-chat",
    "audiorepro.models.qwen_audio_chat:QwenAudioChatModel",
    description="Qwen-Audio-Chat via its remote code (trust_remote_code), chat API",
)


def _registered() -> Registry:
    """MODELS plus plug-ins from AUDIOREPRO_MODEL_PLUGINS="name=module:Factory,...", so a user (or
    a test) can run a model of their own through every stage without editing this package. Read
    on every call: the variable is the user's, and a plug-in may stand in for a built-in name."""
    models = MODELS.copy()
    for entry in filter(None, os.environ.get("AUDIOREPRO_MODEL_PLUGINS", "").split(",")):
        name, _, target = entry.partition("=")
        if ":" not in target:
            raise AudioreproError(f"AUDIOREPRO_MODEL_PLUGINS entry {entry!r} must look like name=module:Factory")
        models.register(name.strip(), target.strip(), description=f"plug-in ({target.strip()})", replace=True)
    return models


def list_models() -> list[tuple[str, str]]:
    return [(entry.name, entry.description) for entry in _registered().entries()]


def build_model(name: str, **options: Any):
    entry = _registered().entry(name)
    factory = entry.load()
    _check_options(name, factory, options)
    model = factory(**{**entry.metadata.get("preset", {}), **options})
    model.name = name
    return model


def _check_options(name: str, factory, options: dict[str, Any]) -> None:
    """A `--model-arg` the model does not take is a one-line error naming the model and what it
    takes, not a TypeError from inside its constructor."""
    params = inspect.signature(factory).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    accepted = [k for k, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and k != "self"]
    unknown = sorted(set(options) - set(accepted))
    if not unknown:
        return
    if unknown == ["decoding"]:
        raise AudioreproError(
            f"model {name} has no decoding presets (--model-arg decoding=...); "
            "set single decoding settings with --decoding key=value instead"
        )
    raise AudioreproError(
        f"model {name}: unknown option(s) {', '.join(unknown)} (--model-arg); it takes: {', '.join(accepted) or 'none'}"
    )
