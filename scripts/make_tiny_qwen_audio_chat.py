"""Build a tiny random Qwen-Audio-Chat (2 layers, width 32) from the model's real remote code, for
testing the worker end to end without the 16 GB checkpoint.

Run with Qwen-Audio-Chat's environment (`make tiny-qwen-audio-chat CODE=DIR OUT=DIR`, or
`.venv-qwen-audio-chat/bin/python scripts/make_tiny_qwen_audio_chat.py --code DIR --out DIR`).
CODE is a folder with the remote code as published in QwenLM/Qwen-Audio or the Hugging Face repo
Qwen/Qwen-Audio-Chat (configuration_qwen.py, modeling_qwen.py, tokenization_qwen.py,
qwen_generation_utils.py, audio.py, qwen.tiktoken, mel_filters.npz, tokenizer_config.json,
config.json and a generation config). That code is not part of audiorepro (its licence is the
model's); it is copied into OUT next to the random weights, as in the real checkpoint."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

CODE_FILES = (
    "configuration_qwen.py",
    "modeling_qwen.py",
    "tokenization_qwen.py",
    "qwen_generation_utils.py",
    "audio.py",
    "qwen.tiktoken",
    "mel_filters.npz",
    "tokenizer_config.json",
)
# The real config's architecture kept (vocabulary, special ids, rotary/NTK settings, audio
# front end); only the widths and depths shrink.
TINY = {
    "hidden_size": 32,
    "num_attention_heads": 2,
    "kv_channels": 16,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
}
TINY_AUDIO = {"n_state": 32, "n_head": 2, "n_layer": 1, "output_dim": 32}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", required=True, type=Path, help="folder with the remote code files")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the tiny model to")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    missing = [f for f in (*CODE_FILES, "config.json") if not (args.code / f).is_file()]
    generation = next(
        (args.code / f for f in ("generation_config.json", "chat_generation_config.json") if (args.code / f).is_file()),
        None,
    )
    if missing or generation is None:
        print(f"error: {args.code}: missing {missing or ['generation_config.json']}", file=sys.stderr)
        return 2

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    args.out.mkdir(parents=True, exist_ok=True)
    for name in CODE_FILES:
        shutil.copyfile(args.code / name, args.out / name)
    if (args.code / "cpp_kernels.py").is_file():
        shutil.copyfile(args.code / "cpp_kernels.py", args.out / "cpp_kernels.py")
    else:
        # The Hugging Face repo ships cpp_kernels.py (KV-cache quantization kernels, imported only
        # when use_cache_quantization is on); the GitHub copy does not, and transformers' loader
        # needs every relative import of modeling_qwen.py to exist.
        (args.out / "cpp_kernels.py").write_text(
            'raise ImportError("KV-cache quantization kernels are not part of this copy")\n', encoding="utf-8"
        )
    config = json.loads((args.code / "config.json").read_text(encoding="utf-8"))
    config.update(TINY)
    config["audio"] = {**config["audio"], **TINY_AUDIO}
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    shutil.copyfile(generation, args.out / "generation_config.json")

    # The real vocabulary is padded past the tokenizer's last id (155947 > 155165); a trained model
    # never emits the padding ids but a random one does, and decoding them fails. Trim to the
    # tokenizer's ids.
    config["vocab_size"] = len(AutoTokenizer.from_pretrained(args.out, trust_remote_code=True))
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    torch.manual_seed(args.seed)
    model_config = AutoConfig.from_pretrained(args.out, trust_remote_code=True, fp32=True)
    model = AutoModelForCausalLM.from_config(model_config, trust_remote_code=True, torch_dtype=torch.float32)
    model.generation_config = GenerationConfig.from_pretrained(args.out)
    model.save_pretrained(args.out, safe_serialization=True)
    # save_pretrained rewrites config.json with the load-time precision flags; keep the published ones
    (args.out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"tiny Qwen-Audio-Chat ({sum(p.numel() for p in model.parameters())} parameters) in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
