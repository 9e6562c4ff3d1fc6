"""A local judge: any transformers chat model given by path (a named deviation: `--judge local`).

The benchmark's messages go through the model's own chat template; decoding is greedy, which is
what temperature 0.0 means (top_p then has no effect), with a cap on the reply length."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ..checksums import sha256_file
from ..errors import InputError
from ..models.placement import resolve_device
from ..models.weights import load_pretrained_strict
from .base import Judge
from .deviations import judge_deviations

DEFAULT_MAX_NEW_TOKENS = 512


class LocalTransformersJudge(Judge):
    concurrency = 1  # one model in memory; requests are served one after another
    family = "sakura"  # whose reference judge it stands in for (SALMONN: judge/salmonn_judges.py)

    def __init__(
        self,
        model_path: str,
        *,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        device: str | None = None,
        dtype: str = "auto",
    ):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(model_path)
        if not path.is_dir():
            raise InputError(path, "local judge model folder not found (give --judge-model PATH)")
        self.model_path = str(path)
        self.device = resolve_device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
        if self.tokenizer.chat_template is None:
            raise InputError(path, "the tokenizer has no chat template; the local judge needs a chat model")
        self.model = load_pretrained_strict(
            AutoModelForCausalLM, self.model_path, what="local judge", dtype=dtype, local_files_only=True
        )
        self.model.to(self.device).eval()
        self.max_new_tokens = max_new_tokens
        weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
        self.weights_sha256 = {w.name: sha256_file(w) for w in weights}
        fingerprint = "-".join(h[:12] for h in self.weights_sha256.values()) or "no-weights"
        self.judge_id = f"local:{path.name}:{fingerprint}"
        self.sampling = {"do_sample": False, "max_new_tokens": max_new_tokens}
        self._lock = threading.Lock()

    def complete(self, messages: list[dict]) -> str:
        import torch

        inputs = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(self.device)
        with self._lock, torch.inference_mode():
            output = self.model.generate(
                **inputs,
                do_sample=False,
                max_new_tokens=self.max_new_tokens,
                pad_token_id=self.tokenizer.eos_token_id,
            )
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        return self.tokenizer.decode(new_tokens, skip_special_tokens=True)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "local",
            "judge_id": self.judge_id,
            "endpoint": self.endpoint,
            "model_path": self.model_path,
            "weights_sha256": self.weights_sha256,
            "sampling": dict(self.sampling),
            "device": self.device,
            "deviations": judge_deviations(
                self.family, judge=f"local transformers model {Path(self.model_path).name} (greedy)"
            ),
        }
