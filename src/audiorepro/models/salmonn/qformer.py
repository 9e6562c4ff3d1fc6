"""SALMONN's window-level Q-Former: the query path of the LAVIS/BLIP-2 `BertLMHeadModel`.

SALMONN only ever calls `speech_Qformer.bert(query_embeds=..., encoder_hidden_states=...)` with no
text, so only the query path exists here: embeddings LayerNorm, then per layer self-attention over
the queries, cross-attention to the window's frames, and the query feed-forward block
(`intermediate_query` / `output_query`). Module names match the LAVIS ones, so the checkpoint keys
`speech_Qformer.bert.encoder.layer.N...` load as they are. The text-only parts (word/position
embeddings, `intermediate`, `output`, `cls`) are absent from the released checkpoints and unused.

transformers' `Blip2QFormerModel` computes the same thing, but under different module names
(`attention.attention.query`, `layernorm`) that have changed between releases, so the ~100 lines
are kept here with the checkpoint's own names. All masks are all-ones in SALMONN (one query,
17 unpadded frames per window), so no masks are taken."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class QFormerConfig:
    hidden_size: int = 768
    num_hidden_layers: int = 2
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    layer_norm_eps: float = 1e-12
    encoder_width: int = 2048  # Whisper d_model + BEATs dim
    cross_attention_freq: int = 1


class QFormerSelfAttention(nn.Module):
    def __init__(self, config: QFormerConfig, key_value_width: int):
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(key_value_width, config.hidden_size)
        self.value = nn.Linear(key_value_width, config.hidden_size)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(x.shape[0], x.shape[1], self.num_heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, hidden_states: torch.Tensor, key_value_states: torch.Tensor) -> torch.Tensor:
        query = self._split_heads(self.query(hidden_states))
        key = self._split_heads(self.key(key_value_states))
        value = self._split_heads(self.value(key_value_states))
        scores = torch.matmul(query, key.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = F.softmax(scores, dim=-1)
        context = torch.matmul(probs, value).permute(0, 2, 1, 3).contiguous()
        return context.view(context.shape[0], context.shape[1], -1)


class QFormerSelfOutput(nn.Module):
    def __init__(self, config: QFormerConfig, input_size: int | None = None):
        super().__init__()
        self.dense = nn.Linear(input_size or config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden_states: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(hidden_states) + residual)


class QFormerAttention(nn.Module):
    def __init__(self, config: QFormerConfig, is_cross_attention: bool):
        super().__init__()
        width = config.encoder_width if is_cross_attention else config.hidden_size
        self.self = QFormerSelfAttention(config, width)
        self.output = QFormerSelfOutput(config)

    def forward(self, hidden_states: torch.Tensor, key_value_states: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(hidden_states, key_value_states), hidden_states)


class QFormerIntermediate(nn.Module):
    def __init__(self, config: QFormerConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(hidden_states))


class QFormerLayer(nn.Module):
    def __init__(self, config: QFormerConfig, layer_index: int):
        super().__init__()
        self.attention = QFormerAttention(config, is_cross_attention=False)
        self.has_cross_attention = layer_index % config.cross_attention_freq == 0
        if self.has_cross_attention:
            self.crossattention = QFormerAttention(config, is_cross_attention=True)
        self.intermediate_query = QFormerIntermediate(config)
        self.output_query = QFormerSelfOutput(config, input_size=config.intermediate_size)

    def forward(self, queries: torch.Tensor, encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        queries = self.attention(queries, queries)
        if self.has_cross_attention:
            queries = self.crossattention(queries, encoder_hidden_states)
        return self.output_query(self.intermediate_query(queries), queries)


class QFormerEncoder(nn.Module):
    def __init__(self, config: QFormerConfig):
        super().__init__()
        self.layer = nn.ModuleList([QFormerLayer(config, i) for i in range(config.num_hidden_layers)])


class QFormerEmbeddings(nn.Module):
    """Only the LayerNorm applied to the query tokens (no text, hence no word/position lookup).
    `position_ids` is a buffer of the original that the checkpoints carry; kept so they load."""

    def __init__(self, config: QFormerConfig):
        super().__init__()
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.register_buffer("position_ids", torch.arange(512).expand((1, -1)).clone(), persistent=True)


class QFormerModel(nn.Module):
    """`speech_Qformer.bert`: query_embeds [N, Q, H] attend to encoder_hidden_states [N, W, C]."""

    def __init__(self, config: QFormerConfig):
        super().__init__()
        self.config = config
        self.embeddings = QFormerEmbeddings(config)
        self.encoder = QFormerEncoder(config)

    def forward(self, query_embeds: torch.Tensor, encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        hidden = self.embeddings.LayerNorm(query_embeds)
        for layer in self.encoder.layer:
            hidden = layer(hidden, encoder_hidden_states)
        return hidden


class SpeechQFormer(nn.Module):
    """Holds `.bert` so that state-dict keys read `speech_Qformer.bert.…` as in the checkpoint."""

    def __init__(self, config: QFormerConfig):
        super().__init__()
        self.bert = QFormerModel(config)

    def forward(self, query_embeds: torch.Tensor, encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        return self.bert(query_embeds, encoder_hidden_states)
