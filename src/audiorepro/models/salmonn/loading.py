"""Build SALMONN from its four component files and check that they belong together.

Components: a Whisper directory (HF `save_pretrained` layout), the BEATs `.pt`, a Vicuna
directory (HF layout with `tokenizer.model`), and the SALMONN `.pth` holding only the trained
parts (Q-Former, LayerNorms, projection, LoRA). The reference loads the `.pth` with
`strict=False`, which silently leaves LoRA at zero if a key is missing; here every tensor the
network needs from the checkpoint must be present with the right shape, or loading stops with a
list of what is wrong (the Whisper and Vicuna folders are loaded just as strictly, see
models/weights.py). Entries the network does not use (optimizer state, rotary `inv_freq`
buffers of old transformers, unused Q-Former text layers) are ignored and reported."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ...errors import AudioreproError, InputError
from ..weights import load_pretrained_strict, torch_load_weights
from .beats import BEATs, BEATsConfig, load_beats
from .configuration import LLM_FOR_CHECKPOINT_WIDTH, SalmonnPreset
from .modeling_salmonn import SalmonnForConditionalGeneration
from .qformer import QFormerConfig

LORA_TARGETS = [
    "q_proj",
    "v_proj",
]  # peft's default for LLaMA, what the reference's target_modules=None means
CHECKPOINT_PREFIXES = (
    "speech_query_tokens",
    "ln_speech.",
    "ln_audio.",
    "speech_Qformer.",
    "speech_llama_proj.",
)
# Saved by the reference but not needed here: the LLaMA rotary buffers (recomputed by
# transformers) and the Q-Former's text-only parts, which the query path never runs.
IGNORED_KEY_PATTERNS = (
    re.compile(r"\.rotary_emb\.inv_freq$"),
    re.compile(r"^speech_Qformer\.cls\."),
    re.compile(r"^speech_Qformer\.bert\.embeddings\.(word|position)_embeddings\."),
    re.compile(r"^speech_Qformer\.bert\.encoder\.layer\.\d+\.(intermediate|output)\."),
)
OPTIONAL_BUFFERS = ("speech_Qformer.bert.embeddings.position_ids",)
_LORA_A = re.compile(r"layers\.(\d+)\.self_attn\.q_proj\.lora_A\.default\.weight$")


@dataclass
class CheckpointLayout:
    """Sizes of the trained parts, read from the checkpoint's shapes."""

    qformer_hidden: int
    qformer_layers: int
    qformer_intermediate: int
    encoder_width: int  # Whisper d_model + BEATs dim
    num_query_tokens: int
    llm_hidden: int
    lora_rank: int
    lora_layers: int


@dataclass
class LoadReport:
    loaded: int = 0
    ignored: list[str] = field(default_factory=list)  # known entries of ckpt['model'] that are not used
    unexpected: list[str] = field(default_factory=list)  # unknown entries of ckpt['model'] (also not used)
    extra_top_level: list[str] = field(default_factory=list)  # e.g. optimizer, scaler, epoch
    missing_optional: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "loaded_tensors": self.loaded,
            "ignored_keys": len(self.ignored),
            "ignored_examples": self.ignored[:5],
            "unexpected_keys": self.unexpected[:20],
            "extra_top_level_entries": self.extra_top_level,
            "missing_optional_buffers": self.missing_optional,
        }


def read_salmonn_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], list[str]]:
    """`torch.load(weights_only=True)` of a SALMONN `.pth`: returns ckpt['model'] and the names of
    the other top-level entries (optimizer state etc., ignored)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "SALMONN checkpoint not found")
    checkpoint = torch_load_weights(path, "SALMONN")
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("model"), dict):
        raise InputError(path, "not a SALMONN checkpoint: expected a dict with a 'model' state dict")
    return checkpoint["model"], sorted(k for k in checkpoint if k != "model")


def checkpoint_layout(state: dict[str, Any], source: str | Path = "checkpoint") -> CheckpointLayout:
    """Read the trained parts' sizes from the shapes (works on tensors and on meta tensors)."""

    def shape(key: str) -> tuple[int, ...]:
        if key not in state:
            raise InputError(source, f"not a SALMONN checkpoint: key {key!r} is missing")
        return tuple(state[key].shape)

    qformer_layers = 1 + max(
        (
            int(m.group(1))
            for k in state
            if (m := re.match(r"speech_Qformer\.bert\.encoder\.layer\.(\d+)\.", k))
        ),
        default=-1,
    )
    lora_layers = sorted(int(m.group(1)) for k in state if (m := _LORA_A.search(k)))
    if not lora_layers:
        raise InputError(
            source, "no LoRA tensors (…self_attn.q_proj.lora_A.default.weight) in the checkpoint"
        )
    proj = shape("speech_llama_proj.weight")
    queries = shape("speech_query_tokens")
    return CheckpointLayout(
        qformer_hidden=queries[-1],
        qformer_layers=qformer_layers,
        qformer_intermediate=shape("speech_Qformer.bert.encoder.layer.0.intermediate_query.dense.weight")[0],
        encoder_width=shape("speech_Qformer.bert.encoder.layer.0.crossattention.self.key.weight")[1],
        num_query_tokens=queries[1],
        llm_hidden=proj[0],
        lora_rank=shape(
            f"llama_model.base_model.model.model.layers.{lora_layers[0]}.self_attn.q_proj.lora_A.default.weight"
        )[0],
        lora_layers=len(lora_layers),
    )


def check_llm_for_checkpoint(
    llm_config,
    layout: CheckpointLayout,
    llm_path: str | Path,
    preset: SalmonnPreset | None,
    ckpt_path: str | Path = "SALMONN checkpoint",
) -> None:
    """Refuse a Vicuna of the wrong size or release for the checkpoint (known cause of empty
    outputs, bytedance/SALMONN#78), naming the one it needs."""
    if preset is not None and layout.llm_hidden != preset.llm.hidden_size:
        raise InputError(
            ckpt_path,
            f"this SALMONN checkpoint projects into a {layout.llm_hidden}-wide LLM, but preset {preset.name} "
            f"uses {preset.llm.describe()}; use the {preset.checkpoint_manifest} checkpoint",
        )
    expected = preset.llm if preset is not None else LLM_FOR_CHECKPOINT_WIDTH.get(layout.llm_hidden)
    found = (
        f"hidden {llm_config.hidden_size}, {llm_config.num_hidden_layers} layers, "
        f"max_position_embeddings {llm_config.max_position_embeddings}, rms_norm_eps {llm_config.rms_norm_eps}, "
        f"vocab {llm_config.vocab_size}"
    )
    if llm_config.hidden_size != layout.llm_hidden or llm_config.num_hidden_layers != layout.lora_layers:
        need = (
            expected.describe()
            if expected is not None
            else f"hidden {layout.llm_hidden}, {layout.lora_layers} layers"
        )
        raise InputError(
            llm_path,
            f"this LLM ({found}) does not fit the SALMONN checkpoint, which was trained with {need}; "
            f"use {expected.name if expected else 'the matching LLaMA'}",
        )
    if expected is not None and not expected.matches(llm_config):
        raise InputError(
            llm_path,
            f"wrong Vicuna release for this SALMONN checkpoint: found {found}; it needs {expected.describe()}. "
            f"Fetch it with `make fetch-{expected.name}`",
        )


def expected_checkpoint_shapes(model: SalmonnForConditionalGeneration) -> dict[str, tuple[int, ...]]:
    """Every tensor of `model` that must come from the SALMONN checkpoint, with its shape."""
    expected = {}
    for key, tensor in model.state_dict().items():
        if key.startswith(CHECKPOINT_PREFIXES) or ".lora_" in key:
            expected[key] = tuple(tensor.shape)
    return expected


def load_checkpoint_state(
    model: SalmonnForConditionalGeneration, state: dict[str, torch.Tensor], source: str | Path = "checkpoint"
) -> LoadReport:
    """Strictly load the trained parts into `model`; raise listing every missing or misshapen key."""
    expected = expected_checkpoint_shapes(model)
    report = LoadReport()
    missing = [k for k in expected if k not in state and k not in OPTIONAL_BUFFERS]
    report.missing_optional = [k for k in OPTIONAL_BUFFERS if k in expected and k not in state]
    wrong_shape = [
        f"{k}: expected {list(expected[k])}, got {list(state[k].shape)}"
        for k in expected
        if k in state and tuple(state[k].shape) != expected[k]
    ]
    problems = []
    if missing:
        problems.append(
            f"{len(missing)} missing key(s): " + ", ".join(missing[:20]) + (" …" if len(missing) > 20 else "")
        )
    if wrong_shape:
        problems.append(f"{len(wrong_shape)} wrong shape(s): " + "; ".join(wrong_shape[:10]))
    if problems:
        raise InputError(source, "SALMONN checkpoint does not match the model: " + " | ".join(problems))
    unused = sorted(k for k in state if k not in expected)
    report.ignored = [k for k in unused if any(p.search(k) for p in IGNORED_KEY_PATTERNS)]
    report.unexpected = [k for k in unused if k not in report.ignored]
    to_load = {k: v for k, v in state.items() if k in expected}
    # strict=False only because the frozen Whisper/BEATs/LLaMA weights come from their own files;
    # completeness of the checkpoint's share was checked above.
    model.load_state_dict(to_load, strict=False, assign=_on_meta(model))
    report.loaded = len(to_load)
    return report


def _on_meta(module: torch.nn.Module) -> bool:
    return any(p.is_meta for p in module.parameters())


def qformer_config_for(layout: CheckpointLayout, num_heads: int | None) -> QFormerConfig:
    if num_heads is None:
        num_heads = default_qformer_heads(layout.qformer_hidden)
    if layout.qformer_hidden % num_heads:
        raise AudioreproError(
            f"Q-Former hidden size {layout.qformer_hidden} is not divisible by {num_heads} heads"
        )
    return QFormerConfig(
        hidden_size=layout.qformer_hidden,
        num_hidden_layers=layout.qformer_layers,
        num_attention_heads=num_heads,
        intermediate_size=layout.qformer_intermediate,
        encoder_width=layout.encoder_width,
    )


def default_qformer_heads(hidden_size: int) -> int:
    """The head count is not visible in the weights. BERT-base (every released SALMONN) uses
    64-dim heads: 768 -> 12. Smaller test models (hidden < 64 or not a multiple of 64) are assumed
    to use 8-dim heads (the parity fixture: hidden 32, 4 heads); pass qformer_num_heads otherwise."""
    return hidden_size // 64 if hidden_size % 64 == 0 else max(1, hidden_size // 8)


def wrap_with_lora(llm: torch.nn.Module, rank: int, lora_scaling: float):
    """peft LoRA on q_proj/v_proj; lora_alpha chosen so that alpha/r equals `lora_scaling`."""
    from peft import LoraConfig, get_peft_model  # lazy: peft imports transformers (about a second)

    config = LoraConfig(
        r=rank,
        lora_alpha=lora_scaling * rank,
        target_modules=LORA_TARGETS,
        lora_dropout=0.0,  # 0.1 in the reference; dropout is inactive at inference either way
        inference_mode=True,
    )
    return get_peft_model(llm, config)


def assemble(
    speech_encoder: torch.nn.Module,
    beats: BEATs,
    llm: torch.nn.Module,
    layout: CheckpointLayout,
    *,
    whisper_d_model: int,
    lora_scaling: float,
    qformer_num_heads: int | None,
) -> SalmonnForConditionalGeneration:
    beats_dim = beats.config.encoder_embed_dim
    if whisper_d_model + beats_dim != layout.encoder_width:
        raise InputError(
            None,
            f"encoder widths do not fit the SALMONN checkpoint: Whisper d_model {whisper_d_model} + BEATs dim "
            f"{beats_dim} = {whisper_d_model + beats_dim}, but its Q-Former attends to width {layout.encoder_width}",
        )
    return SalmonnForConditionalGeneration(
        speech_encoder,
        beats,
        wrap_with_lora(llm, layout.lora_rank, lora_scaling),
        qformer_config_for(layout, qformer_num_heads),
        whisper_d_model=whisper_d_model,
        beats_dim=beats_dim,
        llm_hidden_size=layout.llm_hidden,
        num_query_tokens=layout.num_query_tokens,
    )


def build_skeleton(
    state: dict[str, Any],
    *,
    whisper_config,
    beats_config: BEATsConfig,
    llm_config,
    lora_scaling: float = 4.0,
    qformer_num_heads: int | None = None,
) -> SalmonnForConditionalGeneration:
    """The whole network from configs only, on the meta device (no memory): for checking a
    checkpoint against full-size models without their weights."""
    # lazy: importing transformers takes about a second; only loading a model needs it
    from transformers import LlamaForCausalLM
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    layout = checkpoint_layout(state)
    check_llm_for_checkpoint(llm_config, layout, "llm config", None)
    with torch.device("meta"):
        return assemble(
            WhisperEncoder(whisper_config),
            BEATs(beats_config),
            LlamaForCausalLM(llm_config),
            layout,
            whisper_d_model=whisper_config.d_model,
            lora_scaling=lora_scaling,
            qformer_num_heads=qformer_num_heads,
        )


def load_components(
    *,
    whisper_path: Path,
    beats_path: Path,
    llm_path: Path,
    ckpt_path: Path,
    preset: SalmonnPreset | None,
    lora_scaling: float,
    llm_dtype: torch.dtype,
    qformer_num_heads: int | None,
    attn_implementation: str = "sdpa",
    llm_load_kwargs: dict[str, Any] | None = None,
) -> tuple[SalmonnForConditionalGeneration, LoadReport]:
    """Load and cross-check the four components (on CPU; the caller moves the model, except an
    LLM placed by `llm_load_kwargs` such as device_map or 8-bit, see models/placement.py)."""
    # lazy: importing transformers takes about a second; only loading a model needs it
    from transformers import LlamaConfig, LlamaForCausalLM, WhisperConfig, WhisperModel

    state, extra_top_level = read_salmonn_checkpoint(ckpt_path)
    layout = checkpoint_layout(state, ckpt_path)
    for what, path in (("Whisper", whisper_path), ("Vicuna/LLaMA", llm_path)):
        if not (Path(path) / "config.json").is_file():
            raise InputError(path, f"{what} directory not found or has no config.json")
    llm_config = LlamaConfig.from_pretrained(llm_path)
    check_llm_for_checkpoint(llm_config, layout, llm_path, preset, ckpt_path)
    whisper_config = WhisperConfig.from_pretrained(whisper_path)
    if preset is not None and (whisper_config.d_model, whisper_config.encoder_layers) != (
        preset.whisper_d_model,
        preset.whisper_layers,
    ):
        raise InputError(
            whisper_path,
            f"preset {preset.name} needs {preset.whisper_manifest} (d_model {preset.whisper_d_model}, "
            f"{preset.whisper_layers} encoder layers); found d_model {whisper_config.d_model}, "
            f"{whisper_config.encoder_layers} layers",
        )

    # strict: a tensor missing from Whisper or Vicuna must stop the run, not load random weights
    speech_encoder = load_pretrained_strict(WhisperModel, whisper_path, what="Whisper", dtype=torch.float32).encoder
    beats = load_beats(beats_path)
    llm = load_pretrained_strict(
        LlamaForCausalLM,
        llm_path,
        what="Vicuna/LLaMA",
        dtype=llm_dtype,
        attn_implementation=attn_implementation,
        **(llm_load_kwargs or {}),
    )
    model = assemble(
        speech_encoder,
        beats,
        llm,
        layout,
        whisper_d_model=whisper_config.d_model,
        lora_scaling=lora_scaling,
        qformer_num_heads=qformer_num_heads
        if qformer_num_heads is not None
        else (preset.qformer_num_heads if preset else None),
    )
    report = load_checkpoint_state(model, state, ckpt_path)
    report.extra_top_level = extra_top_level
    return model.eval().requires_grad_(False), report
