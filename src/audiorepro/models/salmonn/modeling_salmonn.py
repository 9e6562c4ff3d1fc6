"""SALMONN (Tang et al., ICLR 2024) inference network, read top to bottom.

    waveform (16 kHz, float64, <= 30 s)
      ├─ Whisper feature extractor -> Whisper encoder -> ln_speech      [B, 1500, 1280]
      └─ BEATs (Kaldi fbank in float64) -> ln_audio, zero-pad to 1500   [B, 1500, 768]
    concatenate channels                                               [B, 1500, 2048]
    cut into 88 windows of 17 frames (0.333 s); frames 1496-1499 dropped
    window-level Q-Former: 1 learned query per window cross-attends to its 17 frames
    speech_llama_proj                                                   [B, 88, 5120]
    [<s>] + "USER: <Speech>" + 88 speech embeddings + "</Speech> {instruction}\\nASSISTANT:"
    Vicuna (LLaMA + LoRA on q_proj/v_proj) generates the answer

Attribute names are the original module's (`speech_encoder`, `ln_speech`, `beats`, `ln_audio`,
`speech_Qformer`, `speech_query_tokens`, `speech_llama_proj`, `llama_model`), so this module's
state-dict keys are the checkpoint's keys. Differences from the v1 code are only in batching:
v1 runs one item at a time; here a batch is encoded item-exactly (Whisper input is always padded
to 30 s; BEATs runs per item; prompts are left-padded) so that results do not depend on batching."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .beats import BEATs
from .configuration import PROMPT_TEMPLATE, SECOND_PER_WINDOW, SPEECH_PLACEHOLDER
from .qformer import QFormerConfig, SpeechQFormer


@dataclass
class SpeechEncoding:
    """Intermediate tensors of the audio path (kept for parity checks and debugging)."""

    whisper_features: torch.Tensor  # [B, 80, 3000]
    whisper_hidden: torch.Tensor  # [B, 1500, d_whisper], encoder output before ln_speech
    beats_hidden: list[torch.Tensor]  # per item [T_i, d_beats], BEATs output before ln_audio
    fused: torch.Tensor  # [B, 1500, d_whisper + d_beats]
    qformer_out: torch.Tensor  # [B * windows, 1, d_qformer]
    speech_embeds: torch.Tensor  # [B, windows, d_llm]


class SalmonnForConditionalGeneration(nn.Module):
    def __init__(
        self,
        speech_encoder: nn.Module,
        beats: BEATs,
        llama_model: nn.Module,
        qformer_config: QFormerConfig,
        *,
        whisper_d_model: int,
        beats_dim: int,
        llm_hidden_size: int,
        num_query_tokens: int = 1,
        second_per_window: float = SECOND_PER_WINDOW,
    ):
        super().__init__()
        self.speech_encoder = speech_encoder
        self.ln_speech = nn.LayerNorm(whisper_d_model)
        self.beats = beats
        self.ln_audio = nn.LayerNorm(beats_dim)
        self.speech_Qformer = SpeechQFormer(qformer_config)
        self.speech_query_tokens = nn.Parameter(torch.zeros(1, num_query_tokens, qformer_config.hidden_size))
        self.speech_llama_proj = nn.Linear(qformer_config.hidden_size, llm_hidden_size)
        self.llama_model = llama_model  # peft PeftModelForCausalLM around LlamaForCausalLM
        self.second_per_window = second_per_window
        self.encoder_autocast_dtype: torch.dtype | None = None  # fp16/bf16 autocast for the encoders on GPU

    # --- audio path -------------------------------------------------------------------------

    def _encoder_autocast(self, device: torch.device):
        if self.encoder_autocast_dtype is None or device.type != "cuda":
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.encoder_autocast_dtype)

    @torch.no_grad()
    def encode_speech(self, whisper_features: torch.Tensor, waveforms: list[torch.Tensor]) -> SpeechEncoding:
        """whisper_features [B, 80, 3000]; waveforms: B float64 1-D tensors (the BEATs input)."""
        device = whisper_features.device
        with self._encoder_autocast(device):
            whisper_hidden = self.speech_encoder(whisper_features).last_hidden_state
            # one item at a time: BEATs' padding mask is approximate for padded batches
            # (microsoft/unilm#1427), and this keeps each item's features its own
            beats_hidden = [self.beats.extract_features(wav.unsqueeze(0))[0] for wav in waveforms]
            speech = self.ln_speech(whisper_hidden)
            num_frames = speech.shape[1]
            audio = torch.stack(
                [
                    F.pad(self.ln_audio(hidden), (0, 0, 0, num_frames - hidden.shape[0]))
                    for hidden in beats_hidden
                ]
            )
            fused = torch.cat([speech, audio.to(speech.dtype)], dim=-1)

            # Non-overlapping windows (kernel == stride), the same frames F.unfold takes in v1.
            batch, _, channels = fused.shape
            window = round(num_frames * self.second_per_window / 30)
            num_windows = (num_frames - window) // window + 1
            windows = fused[:, : num_windows * window].reshape(batch * num_windows, window, channels)
            queries = self.speech_query_tokens.expand(windows.shape[0], -1, -1)
            qformer_out = self.speech_Qformer(queries, windows)
            speech_embeds = self.speech_llama_proj(qformer_out).reshape(
                batch, -1, self.speech_llama_proj.out_features
            )
        return SpeechEncoding(
            whisper_features, whisper_hidden, beats_hidden, fused, qformer_out, speech_embeds
        )

    # --- prompt -----------------------------------------------------------------------------

    @staticmethod
    def prompt_pieces(instruction: str) -> tuple[str, str]:
        """The text before and after the speech embeddings (v1 splits the template at <SpeechHere>)."""
        left, right = PROMPT_TEMPLATE.format(instruction=instruction).split(SPEECH_PLACEHOLDER)
        return left, right

    def build_inputs_embeds(
        self,
        speech_embeds: torch.Tensor,
        prompt_ids: list[tuple[list[int], list[int]]],
        bos_token_id: int,
        dtype: torch.dtype,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """[<s>] + left ids + speech + right ids per item, left-padded with zeros (mask 0)."""
        embed_tokens = self.llama_model.get_input_embeddings()
        device = speech_embeds.device
        sequences = []
        for speech, (left_ids, right_ids) in zip(speech_embeds, prompt_ids, strict=True):
            left = torch.tensor([bos_token_id, *left_ids], dtype=torch.long, device=device)
            right = torch.tensor(right_ids, dtype=torch.long, device=device)
            sequences.append(
                torch.cat(
                    [embed_tokens(left).to(dtype), speech.to(dtype), embed_tokens(right).to(dtype)], dim=0
                )
            )
        length = max(seq.shape[0] for seq in sequences)
        inputs_embeds = speech_embeds.new_zeros((len(sequences), length, sequences[0].shape[-1]), dtype=dtype)
        attention_mask = torch.zeros((len(sequences), length), dtype=torch.long, device=device)
        for row, seq in enumerate(sequences):
            inputs_embeds[row, length - seq.shape[0] :] = seq
            attention_mask[row, length - seq.shape[0] :] = 1
        return inputs_embeds, attention_mask
