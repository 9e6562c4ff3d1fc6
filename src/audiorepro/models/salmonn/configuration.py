"""SALMONN presets and the facts that tie a SALMONN checkpoint to its components.

A preset names the released combination (which checkpoint goes with which Whisper, BEATs and
Vicuna) and the component sizes that combination must have. Without a preset every size is read
from the component files themselves (that is how the tiny parity fixture is loaded)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Reference settings of the v1 code (model.py @ 6a54390) and the 2024 decode config.
PROMPT_TEMPLATE = "USER: <Speech><SpeechHere></Speech> {instruction}\nASSISTANT:"
SPEECH_PLACEHOLDER = "<SpeechHere>"
SECOND_PER_WINDOW = 0.333333  # window = stride = round(1500 frames * 0.333333 s / 30 s) = 17 frames
MAX_AUDIO_SECONDS = 30.0
REFERENCE_LORA_SCALING = 4.0  # lora_alpha 32 / lora_rank 8
REFERENCE_DTYPE = "float16"  # Vicuna in fp16, encoders in fp32 (under fp16 autocast on GPU)


@dataclass(frozen=True)
class KnownLLM:
    """A Vicuna release, identified by the config fields that differ between releases."""

    name: str  # manifest name, e.g. "vicuna-13b-v1.1"
    hidden_size: int
    num_hidden_layers: int
    max_position_embeddings: int
    rms_norm_eps: float
    vocab_size: int = 32000

    def matches(self, llm_config) -> bool:
        return (
            llm_config.hidden_size == self.hidden_size
            and llm_config.num_hidden_layers == self.num_hidden_layers
            and llm_config.max_position_embeddings == self.max_position_embeddings
            and abs(llm_config.rms_norm_eps - self.rms_norm_eps) < 1e-12
            and llm_config.vocab_size == self.vocab_size
        )

    def describe(self) -> str:
        return (
            f"{self.name} (hidden {self.hidden_size}, {self.num_hidden_layers} layers, "
            f"max_position_embeddings {self.max_position_embeddings}, rms_norm_eps {self.rms_norm_eps}, "
            f"vocab {self.vocab_size})"
        )


VICUNA_13B_V1_1 = KnownLLM("vicuna-13b-v1.1", 5120, 40, 2048, 1e-6)
VICUNA_7B_V1_5 = KnownLLM("vicuna-7b-v1.5", 4096, 32, 4096, 1e-5)

# Which Vicuna a SALMONN checkpoint was trained with, by the LLM width its projection writes into
# (a 13B v1.5 Vicuna has the right width for salmonn_v1.pth but gives empty outputs: issue #78).
LLM_FOR_CHECKPOINT_WIDTH = {5120: VICUNA_13B_V1_1, 4096: VICUNA_7B_V1_5}


@dataclass(frozen=True)
class SalmonnPreset:
    name: str
    checkpoint_manifest: str
    whisper_manifest: str
    beats_manifest: str
    llm: KnownLLM
    whisper_d_model: int = 1280
    whisper_layers: int = 32
    beats_dim: int = 768
    qformer_num_heads: int = 12
    lora_rank: int = 8
    lora_alpha: float = 32.0
    notes: list[str] = field(default_factory=list)

    @property
    def llm_manifest(self) -> str:
        return self.llm.name


PRESETS: dict[str, SalmonnPreset] = {
    "salmonn-13b-v1": SalmonnPreset(
        name="salmonn-13b-v1",
        checkpoint_manifest="salmonn-13b-v1",
        whisper_manifest="whisper-large-v2",
        beats_manifest="beats-iter3-plus-as2m-cpt2",
        llm=VICUNA_13B_V1_1,
    ),
    "salmonn-7b": SalmonnPreset(
        name="salmonn-7b",
        checkpoint_manifest="salmonn-7b",
        whisper_manifest="whisper-large-v2",
        beats_manifest="beats-iter3-plus-as2m-cpt2",
        llm=VICUNA_7B_V1_5,
        notes=["the 7B demo Space uses lora_alpha 24 (scaling 3.0); the default here is the code's 4.0"],
    ),
}


def get_preset(name: str | None) -> SalmonnPreset | None:
    if name is None:
        return None
    if name not in PRESETS:
        raise ValueError(f"unknown SALMONN preset {name!r}; known: {', '.join(PRESETS)}")
    return PRESETS[name]
