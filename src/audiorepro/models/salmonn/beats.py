"""BEATs audio encoder (Chen et al. 2023), inference only, loading the official checkpoints.

An official BEATs checkpoint is `torch.save({'cfg': dict, 'model': state_dict})`. The parameter
names here are the official ones (including the legacy weight-norm names `weight_g`/`weight_v` of
the positional convolution), so `ckpt['model']` loads with `strict=True`. BEATs is not packaged in
transformers or any maintained library, hence this file.

What SALMONN uses: `extract_features(waveform, feature_only=True)`, i.e. the encoder output before
the AudioSet `predictor` head (the head's weights are loaded and ignored).

Architecture: Kaldi fbank (128 mel) -> 16x16 patch embedding -> LayerNorm -> projection ->
Transformer encoder with a weight-normed convolutional positional embedding, T5-style relative
position bias with GRU gating shared across layers, post-LayerNorm "deep norm" residuals."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import InputError
from ..weights import torch_load_weights
from .kaldi_fbank import fbank

FBANK_MEAN = 15.41663
FBANK_STD = 6.55582
# BEATs scales logits down by this factor before the softmax and back up after subtracting the
# row maximum (a numerical-stability trick of the original; same math, kept for parity).
ATTENTION_ALPHA = 32


@dataclass
class BEATsConfig:
    input_patch_size: int = 16
    embed_dim: int = 512
    conv_bias: bool = False
    encoder_layers: int = 12
    encoder_embed_dim: int = 768
    encoder_ffn_embed_dim: int = 3072
    encoder_attention_heads: int = 12
    activation_fn: str = "gelu"
    layer_norm_first: bool = False
    deep_norm: bool = True
    conv_pos: int = 128
    conv_pos_groups: int = 16
    relative_position_embedding: bool = True
    num_buckets: int = 320
    max_distance: int = 800
    gru_rel_pos: bool = True
    finetuned_model: bool = True
    predictor_class: int = 527

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> BEATsConfig:
        known = {f.name for f in fields(cls)}
        # dropout rates, layerdrop and gradient-decay settings only matter for training
        return cls(**{k: v for k, v in cfg.items() if k in known})


class BEATsAttention(nn.Module):
    def __init__(self, config: BEATsConfig, has_relative_attention_bias: bool):
        super().__init__()
        dim = config.encoder_embed_dim
        self.num_heads = config.encoder_attention_heads
        self.head_dim = dim // self.num_heads
        self.scaling = self.head_dim**-0.5
        self.num_buckets = config.num_buckets
        self.max_distance = config.max_distance
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.q_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)
        self.gru_rel_pos = config.gru_rel_pos
        if self.gru_rel_pos:
            self.grep_linear = nn.Linear(self.head_dim, 8)
            self.grep_a = nn.Parameter(torch.ones(1, self.num_heads, 1, 1))
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(config.num_buckets, self.num_heads)

    def _relative_position_bucket(self, relative_position: torch.Tensor) -> torch.Tensor:
        """Bidirectional T5 buckets: half per direction, exact up to a quarter, log-spaced after."""
        num_buckets = self.num_buckets // 2
        buckets = (relative_position > 0).long() * num_buckets
        distance = relative_position.abs()
        max_exact = num_buckets // 2
        log_ratio = torch.log(distance.float() / max_exact) / math.log(self.max_distance / max_exact)
        if_large = max_exact + (log_ratio * (num_buckets - max_exact)).long()
        if_large = torch.clamp(if_large, max=num_buckets - 1)
        return buckets + torch.where(distance < max_exact, distance, if_large)

    def compute_position_bias(self, length: int) -> torch.Tensor:
        """[num_heads, length, length] learned bias for key position minus query position."""
        positions = torch.arange(length, dtype=torch.long)
        relative_position = positions[None, :] - positions[:, None]
        buckets = self._relative_position_bucket(relative_position).to(
            self.relative_attention_bias.weight.device
        )
        return self.relative_attention_bias(buckets).permute(2, 0, 1)

    def forward(
        self, x: torch.Tensor, key_padding_mask: torch.Tensor | None, position_bias: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: [T, B, C] (time-major, as the original). Returns the output and the ungated position
        bias [B*H, T, T], which later layers reuse."""
        length, batch, dim = x.shape
        if position_bias is None and hasattr(self, "relative_attention_bias"):
            position_bias = self.compute_position_bias(length)
            position_bias = (
                position_bias.unsqueeze(0).repeat(batch, 1, 1, 1).view(batch * self.num_heads, length, length)
            )

        q = self.q_proj(x) * self.scaling / ATTENTION_ALPHA
        k = self.k_proj(x)
        v = self.v_proj(x)
        q = q.contiguous().view(length, batch * self.num_heads, self.head_dim).transpose(0, 1)
        k = k.contiguous().view(length, batch * self.num_heads, self.head_dim).transpose(0, 1)
        v = v.contiguous().view(length, batch * self.num_heads, self.head_dim).transpose(0, 1)

        scores = torch.bmm(q, k.transpose(1, 2))
        scores = (scores - scores.max(dim=-1, keepdim=True)[0]) * ATTENTION_ALPHA
        if key_padding_mask is not None:
            scores = scores.view(batch, self.num_heads, length, length)
            scores = scores.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
            scores = scores.view(batch * self.num_heads, length, length)

        if position_bias is not None:
            bias = position_bias
            if self.gru_rel_pos:
                # gate computed from the unscaled query, per head and query position
                query = q.view(batch, self.num_heads, length, self.head_dim) * ATTENTION_ALPHA / self.scaling
                gates = self.grep_linear(query).view(batch, self.num_heads, length, 2, 4).sum(-1)
                gate_a, gate_b = torch.sigmoid(gates).chunk(2, dim=-1)
                gate = gate_a * (gate_b * self.grep_a - 1.0) + 2.0
                bias = gate.view(batch * self.num_heads, length, 1) * position_bias
            scores = scores + bias.view(scores.shape)

        probs = F.softmax(scores, dim=-1).type_as(scores)
        out = torch.bmm(probs, v).transpose(0, 1).contiguous().view(length, batch, dim)
        return self.out_proj(out), position_bias


class BEATsLayer(nn.Module):
    def __init__(self, config: BEATsConfig, has_relative_attention_bias: bool):
        super().__init__()
        if config.layer_norm_first or not config.deep_norm:
            raise NotImplementedError(
                "only the post-LN deep-norm BEATs variant (all released checkpoints) is supported"
            )
        dim = config.encoder_embed_dim
        self.self_attn = BEATsAttention(config, has_relative_attention_bias)
        self.self_attn_layer_norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, config.encoder_ffn_embed_dim)
        self.fc2 = nn.Linear(config.encoder_ffn_embed_dim, dim)
        self.final_layer_norm = nn.LayerNorm(dim)
        self.deep_norm_alpha = math.pow(2 * config.encoder_layers, 1 / 4)

    def forward(self, x, key_padding_mask, position_bias):
        residual = x
        x, position_bias = self.self_attn(x, key_padding_mask, position_bias)
        x = self.self_attn_layer_norm(residual * self.deep_norm_alpha + x)
        residual = x
        x = self.fc2(F.gelu(self.fc1(x).float()).type_as(x))
        x = self.final_layer_norm(residual * self.deep_norm_alpha + x)
        return x, position_bias


class SamePad(nn.Module):
    """Drop the extra frame an even-kernel 'same' convolution produces."""

    def __init__(self, kernel_size: int):
        super().__init__()
        self.remove = 1 if kernel_size % 2 == 0 else 0

    def forward(self, x):
        return x[:, :, : -self.remove] if self.remove else x


class BEATsEncoder(nn.Module):
    def __init__(self, config: BEATsConfig):
        super().__init__()
        dim = config.encoder_embed_dim
        conv = nn.Conv1d(
            dim, dim, kernel_size=config.conv_pos, padding=config.conv_pos // 2, groups=config.conv_pos_groups
        )
        # Legacy weight_norm keeps the checkpoint's `weight_g` / `weight_v` names (the newer
        # parametrization API would rename them); its deprecation warning is expected.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            conv = nn.utils.weight_norm(conv, name="weight", dim=2)
        self.pos_conv = nn.Sequential(conv, SamePad(config.conv_pos), nn.GELU())
        self.layers = nn.ModuleList(
            [
                BEATsLayer(config, config.relative_position_embedding and i == 0)
                for i in range(config.encoder_layers)
            ]
        )
        if config.relative_position_embedding:
            # one bias table, shared by reference, as in the original (the checkpoint stores a copy per layer)
            for layer in self.layers[1:]:
                layer.self_attn.relative_attention_bias = self.layers[0].self_attn.relative_attention_bias
        self.layer_norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None) -> torch.Tensor:
        if padding_mask is not None:
            x = x.masked_fill(padding_mask.unsqueeze(-1), 0.0)
        x = x + self.pos_conv(x.transpose(1, 2)).transpose(1, 2)
        x = self.layer_norm(x)
        x = x.transpose(0, 1)
        position_bias = None
        for layer in self.layers:
            x, position_bias = layer(x, padding_mask, position_bias)
        return x.transpose(0, 1)


class BEATs(nn.Module):
    def __init__(self, config: BEATsConfig):
        super().__init__()
        self.config = config
        self.patch_embedding = nn.Conv2d(
            1,
            config.embed_dim,
            kernel_size=config.input_patch_size,
            stride=config.input_patch_size,
            bias=config.conv_bias,
        )
        self.layer_norm = nn.LayerNorm(config.embed_dim)
        self.post_extract_proj = (
            nn.Linear(config.embed_dim, config.encoder_embed_dim)
            if config.embed_dim != config.encoder_embed_dim
            else None
        )
        self.encoder = BEATsEncoder(config)
        if config.finetuned_model:
            self.predictor = nn.Linear(config.encoder_embed_dim, config.predictor_class)

    @staticmethod
    def preprocess(waveforms: torch.Tensor) -> torch.Tensor:
        """Normalised 128-bin Kaldi fbank per waveform, computed in the waveform's dtype and
        returned as float32 (SALMONN's BEATs casts after normalising)."""
        features = [
            fbank(
                wav.unsqueeze(0) * 2**15,
                num_mel_bins=128,
                sample_frequency=16000,
                frame_length=25,
                frame_shift=10,
            )
            for wav in waveforms
        ]
        features = torch.stack(features, dim=0)
        return ((features - FBANK_MEAN) / (2 * FBANK_STD)).to(torch.float32)

    @staticmethod
    def _downsample_padding_mask(features: torch.Tensor, padding_mask: torch.Tensor) -> torch.Tensor:
        extra = padding_mask.size(1) % features.size(1)
        if extra > 0:
            padding_mask = padding_mask[:, :-extra]
        return padding_mask.view(padding_mask.size(0), features.size(1), -1).all(-1)

    def extract_features(
        self, waveforms: torch.Tensor, padding_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """waveforms [B, N] (float64 for parity) -> encoder output [B, T_tokens, C].

        With a batch of equal-length waveforms and no padding this is the original's
        `extract_features(..., feature_only=True)[0]`."""
        features = self.preprocess(waveforms)
        if padding_mask is not None:
            padding_mask = self._downsample_padding_mask(features, padding_mask)
        x = self.patch_embedding(features.unsqueeze(1).to(self.patch_embedding.weight.dtype))
        x = x.reshape(x.shape[0], x.shape[1], -1).transpose(
            1, 2
        )  # time-major tokens, 8 freq patches per step
        x = self.layer_norm(x)
        if padding_mask is not None:
            padding_mask = self._downsample_padding_mask(x, padding_mask)
        if self.post_extract_proj is not None:
            x = self.post_extract_proj(x)
        return self.encoder(x, padding_mask)


def load_beats(path: str | Path, *, device: str | torch.device = "cpu") -> BEATs:
    """Build BEATs from an official `{'cfg', 'model'}` checkpoint (strict key match)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "BEATs checkpoint not found")
    checkpoint = torch_load_weights(path, "BEATs")
    if not isinstance(checkpoint, dict) or "cfg" not in checkpoint or "model" not in checkpoint:
        raise InputError(path, "not a BEATs checkpoint: expected a dict with 'cfg' and 'model'")
    model = BEATs(BEATsConfig.from_dict(checkpoint["cfg"]))
    result = model.load_state_dict(checkpoint["model"], strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise InputError(
            path,
            f"BEATs checkpoint does not match its cfg: missing {result.missing_keys[:10]}, "
            f"unexpected {result.unexpected_keys[:10]}",
        )
    return model.to(device).eval()
