"""Where a big LLM's weights go: one card (the default), spread over every visible GPU and then CPU
RAM and disk (`--model-arg device_map=auto`, accelerate), or loaded in 8 bit
(`--model-arg load_in_8bit=true`, bitsandbytes, as the SALMONN reference's `low_resource`).

Spreading layers over devices changes where each layer runs, not what it computes: outputs stay
identical, so `device_map` is not a deviation (tests/parity/test_salmonn_device_map.py checks it
against the unsplit model). 8-bit weights change the numbers, so `load_in_8bit` is a named
deviation in provenance and the report. Used by SALMONN (Vicuna) and both Qwen models.

`resolve_device` and `resolve_dtype` are the one place an unset or "auto" device/dtype becomes a
concrete one, for every model, the local judge and the benchmark (the Qwen-Audio-Chat worker
repeats the rule because it runs in another environment and imports nothing from audiorepro)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

from ..errors import AudioreproError
from ..provenance import Deviation

DEVICE_MAPS = ("auto", "balanced", "balanced_low_0", "sequential")
DTYPES = ("float32", "float16", "bfloat16")


def resolve_device(device: str | None) -> str:
    """None or "auto" -> "cuda" when torch sees a CUDA GPU, else "cpu"; anything else as given,
    once torch knows it and (for CUDA) sees that GPU: a typo or a missing GPU is one line here,
    not a torch traceback from deep inside a model load."""
    import torch  # lazy: the scoring stages import this module's callers without torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise AudioreproError(f"device {device!r} is not a torch device (cpu, cuda, cuda:1, mps ...)") from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise AudioreproError(
                f"device {device!r}: torch sees no CUDA GPU here (torch.cuda.is_available() is False); "
                "use device=cpu, or run where a GPU is visible"
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise AudioreproError(f"device {device!r}: torch sees {torch.cuda.device_count()} CUDA GPU(s)")
    return device


def resolve_dtype(dtype: str | None, device: str, *, gpu_default: str, model: str) -> str:
    """None or "auto" -> float32 on CPU (half precision is slow or missing there), `gpu_default`
    on an accelerator; an unknown name is a one-line error naming the model."""
    if dtype in (None, "auto"):
        dtype = "float32" if str(device).startswith("cpu") else gpu_default
    if dtype not in DTYPES:
        raise AudioreproError(f"{model}: dtype {dtype!r} not one of {', '.join(DTYPES)}")
    return dtype


def torch_dtype(name: str):
    import torch  # lazy, as in resolve_device

    return getattr(torch, name)


def _parse_max_memory(value: Any, model: str) -> dict[Any, str] | None:
    """`{0: "20GiB", "cpu": "60GiB"}` or the command-line form "0=20GiB,1=20GiB,cpu=60GiB"."""
    if value is None or isinstance(value, dict):
        items = (value or {}).items()
    elif isinstance(value, str):
        pairs = [p.split("=", 1) for p in value.split(",") if p.strip()]
        if any(len(p) != 2 for p in pairs):
            raise AudioreproError(f"{model}: max_memory must look like 0=20GiB,cpu=60GiB, got {value!r}")
        items = pairs
    else:
        raise AudioreproError(f"{model}: max_memory must look like 0=20GiB,cpu=60GiB, got {value!r}")
    out = {}
    for device, limit in items:
        key = str(device).strip()
        out[int(key) if key.isdigit() else key] = str(limit).strip()
    return out or None


@dataclass(frozen=True)
class Placement:
    device_map: str | dict[str, Any] | None = None
    max_memory: dict[Any, str] | None = None
    offload_folder: str | None = None
    load_in_8bit: bool = False

    @classmethod
    def from_options(
        cls,
        model: str,
        *,
        device_map: str | dict[str, Any] | None = None,
        max_memory: Any = None,
        offload_folder: str | None = None,
        load_in_8bit: bool | str = False,
    ) -> Placement:
        if isinstance(load_in_8bit, str):
            if load_in_8bit.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise AudioreproError(f"{model}: load_in_8bit must be true or false, got {load_in_8bit!r}")
            load_in_8bit = load_in_8bit.lower() in ("true", "1", "yes")
        if device_map is not None and not isinstance(device_map, dict) and device_map not in DEVICE_MAPS:
            raise AudioreproError(
                f"{model}: device_map must be one of {', '.join(DEVICE_MAPS)} (or a dict), got {device_map!r}"
            )
        memory = _parse_max_memory(max_memory, model)
        if memory is not None and device_map is None:
            raise AudioreproError(f"{model}: max_memory needs device_map=auto")
        return cls(device_map, memory, offload_folder, bool(load_in_8bit))

    @property
    def dispatched(self) -> bool:
        """True when accelerate places the LLM (the caller must not move it with .to())."""
        return self.device_map is not None or self.load_in_8bit

    def check_available(self, model: str) -> None:
        """Fail early, naming the package, rather than deep inside from_pretrained."""
        if self.device_map is not None and importlib.util.find_spec("accelerate") is None:
            raise AudioreproError(
                f"{model}: device_map needs the accelerate package (in requirements/lock.txt)"
            )
        if self.load_in_8bit:
            import torch  # lazy, as in resolve_device

            if importlib.util.find_spec("bitsandbytes") is None:
                raise AudioreproError(
                    f"{model}: load_in_8bit needs bitsandbytes (requirements/gpu.lock.txt, installed in the "
                    "Docker image; natively: pip install --require-hashes -r requirements/gpu.lock.txt)"
                )
            if not torch.cuda.is_available():
                raise AudioreproError(f"{model}: load_in_8bit needs a CUDA GPU (bitsandbytes int8 kernels)")

    def from_pretrained_kwargs(self, default_device: str) -> dict[str, Any]:
        """Keyword arguments for a transformers `from_pretrained` (transformers >= 4.45)."""
        if not self.dispatched:
            return {}
        kwargs: dict[str, Any] = {"device_map": self.device_map or default_device}
        if self.max_memory:
            kwargs["max_memory"] = dict(self.max_memory)
        if self.offload_folder:
            kwargs["offload_folder"] = self.offload_folder
        if self.load_in_8bit:
            from transformers import BitsAndBytesConfig  # lazy: transformers takes about a second

            kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
        return kwargs

    def deviations(self, reference_precision: str) -> list[Deviation]:
        if not self.load_in_8bit:
            return []
        return [
            Deviation(
                name="load_in_8bit",
                value="LLM weights in 8 bit (bitsandbytes LLM.int8)",
                reference=reference_precision,
            )
        ]

    def describe(self, llm: Any = None) -> dict[str, Any]:
        hf_map = getattr(llm, "hf_device_map", None) if llm is not None else None
        return {
            "device_map": self.device_map,
            "max_memory": {str(k): v for k, v in (self.max_memory or {}).items()} or None,
            "load_in_8bit": self.load_in_8bit,
            # which layer went where: where the memory went, not what was computed
            "hf_device_map": {k: str(v) for k, v in hf_map.items()} if hf_map else None,
        }
