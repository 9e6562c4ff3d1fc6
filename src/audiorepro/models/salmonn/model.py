"""`SalmonnModel`: the project's `AudioLanguageModel` interface around the SALMONN network.

It owns what the v1 code does around the network: audio handling (channel 0, 30 s cut, 16 kHz),
the Whisper feature extractor, the SentencePiece tokenizer, the prompt template, decoding
settings (the released decode config: beam 4, no sampling, 200 new tokens) and output cleanup,
plus provenance (`describe()`) and the named deviations from the reference protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import sentencepiece
import torch

from ...audio import TARGET_SR, resample
from ...checksums import sha256_file
from ...errors import AudioreproError, InputError
from ...provenance import Deviation
from ..base import (
    AudioLanguageModel,
    DecodingConfig,
    GenerationRequest,
    GenerationResult,
    check_decoding_preset,
)
from ..pinned import PinnedCheckpoint, resolve_checkpoint
from ..placement import DTYPES, Placement, resolve_device, torch_dtype
from .configuration import (
    MAX_AUDIO_SECONDS,
    REFERENCE_DTYPE,
    REFERENCE_LORA_SCALING,
    SalmonnPreset,
    get_preset,
)
from .generation import Hypothesis, SearchSettings, beam_search, greedy_search
from .loading import load_components

# decode_config.yaml of the 2024 code; min_length=1 there counts the <s> transformers 4.28 seeds,
# so it allows zero new tokens: min_new_tokens=0 here is the same setting.
REFERENCE_DECODING = DecodingConfig(
    num_beams=4,
    do_sample=False,
    max_new_tokens=200,
    min_new_tokens=0,
    temperature=1.0,
    top_p=0.9,
    top_k=0,
    repetition_penalty=1.0,
    length_penalty=1.0,
    seed=0,
)
# `--model-arg decoding=greedy` (make DECODING=greedy): one beam, the rest as the reference
DECODING_PRESETS = {"reference": REFERENCE_DECODING, "greedy": REFERENCE_DECODING.merged({"num_beams": 1})}
# BEATs needs at least one 16x16 fbank patch: 16 frames of 25 ms every 10 ms.
MIN_SAMPLES = 400 + 15 * 160
SPECIAL_TEXT = {0: "<unk>", 1: "<s>", 2: "</s>"}


def _component_path(
    preset: SalmonnPreset, manifest_name: str, what: str, option: str, pattern: str | None
) -> tuple[Path, PinnedCheckpoint]:
    """Default location of a preset's component: the manifest's files under
    cache/checkpoints/<name>, verified against the manifest and lock before anything is loaded
    (audiorepro.models.pinned, the path every model's checkpoints take)."""
    pinned = resolve_checkpoint(manifest_name, option=option.lstrip("-").replace("-", "_"))
    root = pinned.path
    hint = f"run `make fetch-{manifest_name}` or pass {option}"
    if pattern is None:  # a Hugging Face model directory
        candidates = [root] + sorted(p.parent for p in root.rglob("config.json"))
        for candidate in candidates:
            if (candidate / "config.json").is_file():
                return candidate, pinned
        raise InputError(root, f"no config.json for {what} under this directory; {hint}")
    files = sorted(root.rglob(pattern))
    if len(files) != 1:
        raise InputError(root, f"expected exactly one {pattern} file for {what}, found {len(files)}; {hint}")
    return files[0], pinned


def _move_all_but_llm(network: torch.nn.Module, device: torch.device) -> None:
    """Everything but the LLM to `device`; accelerate has already placed the LLM's layers."""
    for name, child in network.named_children():
        if name != "llama_model":
            child.to(device)
    for param in network.parameters(recurse=False):
        param.data = param.data.to(device)


def _align_lora_with_base_layers(llm: torch.nn.Module) -> None:
    """The LoRA weights loaded from the SALMONN checkpoint onto the device where their layer runs
    (accelerate's hook on the enclosing block names it; offloaded blocks run on their hook's
    execution device too)."""
    execution = {}
    for name, module in llm.named_modules():
        hook = getattr(module, "_hf_hook", None)
        device = getattr(hook, "execution_device", None)
        if device is not None:
            execution[name] = torch.device(device) if not isinstance(device, int) else torch.device("cuda", device)
    if not execution:
        return
    for name, param in llm.named_parameters():
        if ".lora_" not in name:
            continue
        owner = max((m for m in execution if name.startswith(m + ".") or m == ""), key=len, default=None)
        if owner is not None and param.device != execution[owner]:
            param.data = param.data.to(execution[owner])


class SalmonnModel(AudioLanguageModel):
    name = "salmonn"
    #: v1 reads at most 30 s, cut before resampling; a runner that loads audio itself should pass
    #: this as `load_audio(..., max_seconds=)` (the same samples as v1 for any sample rate)
    max_audio_seconds = MAX_AUDIO_SECONDS

    def __init__(
        self,
        preset: str | None = None,
        *,
        whisper_path: str | Path | None = None,
        beats_path: str | Path | None = None,
        llm_path: str | Path | None = None,
        ckpt_path: str | Path | None = None,
        lora_scaling: float = REFERENCE_LORA_SCALING,
        dtype: str = "float16",
        device: str | None = None,
        qformer_num_heads: int | None = None,
        attn_implementation: str = "sdpa",
        hash_llm_files: bool = False,
        device_map: str | dict | None = None,
        max_memory: Any = None,
        offload_folder: str | None = None,
        load_in_8bit: bool | str = False,
        decoding: str = "reference",
    ):
        """`device_map`, `max_memory`, `offload_folder`, `load_in_8bit`: where Vicuna's layers go
        (audiorepro.models.placement); the encoders, Q-Former and projection stay on `device`."""
        check_decoding_preset(self.name if preset is None else preset, decoding, list(DECODING_PRESETS))
        self.decoding_preset = decoding
        self.preset = get_preset(preset)
        self.checkpoints: dict[str, PinnedCheckpoint] = {}  # components resolved through their manifests
        self.placement = Placement.from_options(
            "SALMONN",
            device_map=device_map,
            max_memory=max_memory,
            offload_folder=offload_folder,
            load_in_8bit=load_in_8bit,
        )
        self.placement.check_available("SALMONN")
        paths = {
            "whisper_path": whisper_path,
            "beats_path": beats_path,
            "llm_path": llm_path,
            "ckpt_path": ckpt_path,
        }
        if self.preset is None:
            absent = [k for k, v in paths.items() if v is None]
            if absent:
                raise InputError(None, f"SALMONN without a preset needs explicit {', '.join(absent)}")
        else:
            p = self.preset
            defaults = {
                "whisper_path": (p.whisper_manifest, "Whisper encoder", "--whisper-path", None),
                "beats_path": (p.beats_manifest, "BEATs checkpoint", "--beats-path", "*.pt"),
                "llm_path": (p.llm_manifest, "Vicuna", "--llm-path", None),
                "ckpt_path": (p.checkpoint_manifest, "SALMONN checkpoint", "--ckpt-path", "*.pth"),
            }
            for key, (manifest, what, option, pattern) in defaults.items():
                if paths[key] is None:
                    paths[key], self.checkpoints[key] = _component_path(p, manifest, what, option, pattern)
        self.paths = {k: Path(v) for k, v in paths.items()}
        if dtype not in DTYPES:  # no "auto": the reference's float16 is the default on every device
            raise AudioreproError(f"SALMONN dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
        self.dtype_name = dtype
        self.device = torch.device(resolve_device(device))
        self.lora_scaling = float(lora_scaling)
        self.hash_llm_files = hash_llm_files
        self._sha256: dict[str, str] = {}

        # lazy: transformers takes about a second to import (the package imports this module)
        from transformers import WhisperFeatureExtractor

        self.network, self.load_report = load_components(
            **self.paths,
            preset=self.preset,
            lora_scaling=self.lora_scaling,
            llm_dtype=torch_dtype(dtype),
            qformer_num_heads=qformer_num_heads,
            attn_implementation=attn_implementation,
            llm_load_kwargs=self.placement.from_pretrained_kwargs(str(self.device)),
        )
        if dtype != "float32":
            # the reference's mixed precision: fp32 encoder weights under half-precision autocast
            self.network.encoder_autocast_dtype = torch_dtype(dtype)
        if self.placement.dispatched:
            _move_all_but_llm(self.network, self.device)
            _align_lora_with_base_layers(self.network.llama_model)
        else:
            self.network.to(self.device)
        self.feature_extractor = WhisperFeatureExtractor.from_pretrained(self.paths["whisper_path"])
        self.tokenizer = self._load_tokenizer(self.paths["llm_path"])
        self.llm = self.network.llama_model.get_base_model()  # LlamaForCausalLM with LoRA layers injected

    @staticmethod
    def _load_tokenizer(llm_path: Path):
        # The reference uses the slow SentencePiece LlamaTokenizer, i.e. plain sentencepiece
        # encode/decode for text without special tokens; sentencepiece itself is used so that
        # no tokenizer conversion can change the ids.
        model_file = llm_path / "tokenizer.model"
        if not model_file.is_file():
            raise InputError(model_file, "Vicuna tokenizer.model not found")
        return sentencepiece.SentencePieceProcessor(model_file=str(model_file))

    # --- AudioLanguageModel -----------------------------------------------------------------

    def default_decoding(self) -> DecodingConfig:
        return DECODING_PRESETS[self.decoding_preset].merged(None)

    def prepare_waveform(self, request: GenerationRequest) -> np.ndarray:
        """16 kHz float64 mono, cut to 30 s (v1 cuts before resampling; identical for 16 kHz input)."""
        if request.audio is None:
            raise InputError(request.audio_path or request.id, "SALMONN needs audio input")
        wav = np.asarray(request.audio, dtype=np.float64)
        if wav.ndim != 1:
            raise InputError(
                request.audio_path or request.id, f"expected a mono waveform, got shape {wav.shape}"
            )
        if request.sample_rate != TARGET_SR:
            wav = resample(
                wav[: int(MAX_AUDIO_SECONDS * request.sample_rate)], request.sample_rate, TARGET_SR
            )
        wav = wav[: int(MAX_AUDIO_SECONDS * TARGET_SR)]
        if wav.size < MIN_SAMPLES:
            raise InputError(
                request.audio_path or request.id,
                f"audio has {wav.size} samples at 16 kHz; SALMONN's BEATs branch needs at least {MIN_SAMPLES} (0.175 s)",
            )
        return wav

    def encode_prompt(self, instruction: str) -> tuple[list[int], list[int]]:
        left, right = self.network.prompt_pieces(instruction)
        return self.tokenizer.encode(left), self.tokenizer.encode(right)

    def whisper_features(self, waveforms: list[np.ndarray]) -> torch.Tensor:
        """[B, 80, 3000] log-mel features on the CPU; each item is padded to 30 s on its own, so
        an item's features do not depend on its batch. One call per item: the same values as one
        call for the list, in less than half the time (the list call pads the batch first)."""
        return torch.cat(
            [
                self.feature_extractor([w.astype(np.float32)], sampling_rate=TARGET_SR, return_tensors="pt").input_features
                for w in waveforms
            ]
        )

    def _cpu_inputs(self, batch: list[GenerationRequest]) -> list[dict]:
        waveforms = [self.prepare_waveform(request) for request in batch]
        features = self.whisper_features(waveforms)
        return [{"waveform": w, "whisper": row} for w, row in zip(waveforms, features, strict=True)]

    def prepare_batch(self, batch: list[GenerationRequest], decoding: DecodingConfig) -> None:
        """The CPU half of `generate` (resampling, Whisper features), for a background thread."""
        for request, prepared in zip(batch, self._cpu_inputs(batch), strict=True):
            request.features = prepared

    def build_inputs(self, waveforms: list[np.ndarray], instructions: list[str], features: torch.Tensor | None = None):
        """(SpeechEncoding, inputs_embeds, attention_mask) for a batch; `features` are the
        waveforms' Whisper features when already computed."""
        if features is None:
            features = self.whisper_features(waveforms)
        features = features.to(self.device)
        beats_inputs = [torch.from_numpy(w).to(self.device) for w in waveforms]
        encoding = self.network.encode_speech(features, beats_inputs)
        prompt_ids = [self.encode_prompt(text) for text in instructions]
        inputs_embeds, attention_mask = self.network.build_inputs_embeds(
            encoding.speech_embeds, prompt_ids, self.tokenizer.bos_id(), self.llm.dtype
        )
        return encoding, inputs_embeds, attention_mask

    def _decode(self, token_ids: list[int]) -> tuple[str, str]:
        """(clean text, raw text with special tokens spelled out)."""
        pieces, raw, run = [], [], []
        for token in token_ids:
            if token in SPECIAL_TEXT:
                raw.append(self.tokenizer.decode(run))
                raw.append(SPECIAL_TEXT[token])
                run = []
            else:
                run.append(token)
                pieces.append(token)
        raw.append(self.tokenizer.decode(run))
        return self.tokenizer.decode(pieces), "".join(raw)

    def search_settings(self, decoding: DecodingConfig) -> SearchSettings:
        d = self.default_decoding().merged(decoding)
        return SearchSettings(
            max_new_tokens=d.max_new_tokens,
            num_beams=d.num_beams,
            length_penalty=d.length_penalty,
            min_new_tokens=d.min_new_tokens,
            repetition_penalty=d.repetition_penalty,
            bos_token_id=self.tokenizer.bos_id(),
            eos_token_id=self.tokenizer.eos_id(),
        )

    @torch.no_grad()
    def generate_ids(
        self, waveforms: list[np.ndarray], instructions: list[str], decoding: DecodingConfig, features=None
    ):
        """Best hypothesis per item (generation.Hypothesis)."""
        d = self.default_decoding().merged(decoding)
        _, inputs_embeds, attention_mask = self.build_inputs(waveforms, instructions, features)
        if d.do_sample:
            return self._sample(inputs_embeds, attention_mask, d)
        settings = self.search_settings(d)
        if settings.num_beams == 1:
            return greedy_search(self.llm, inputs_embeds, attention_mask, settings)
        return [best[0] for best in beam_search(self.llm, inputs_embeds, attention_mask, settings)]

    def _sample(self, inputs_embeds, attention_mask, d: DecodingConfig):
        """v1's beam-sample mode via transformers' own sampler: stochastic, so no parity is
        claimed and a batch does not give the one-by-one result (recorded as a deviation)."""
        if d.seed is not None:
            torch.manual_seed(d.seed)
        out = self.llm.generate(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            do_sample=True,
            num_beams=d.num_beams,
            max_new_tokens=d.max_new_tokens,
            min_new_tokens=d.min_new_tokens,
            temperature=d.temperature,
            top_p=d.top_p,
            top_k=d.top_k,
            repetition_penalty=d.repetition_penalty,
            length_penalty=d.length_penalty,
            bos_token_id=self.tokenizer.bos_id(),
            eos_token_id=self.tokenizer.eos_id(),
            pad_token_id=self.tokenizer.eos_id(),
        )
        eos = self.tokenizer.eos_id()
        results = []
        for row in out.tolist():
            ended = eos in row
            results.append(Hypothesis(row[: row.index(eos) + 1] if ended else row, 0.0, ended))
        return results

    def generate(self, batch: list[GenerationRequest], decoding: DecodingConfig) -> list[GenerationResult]:
        if not batch:
            return []
        prepared = [request.features for request in batch]
        if any(p is None for p in prepared):
            prepared = self._cpu_inputs(batch)
        waveforms = [p["waveform"] for p in prepared]
        features = torch.stack([p["whisper"] for p in prepared])
        hypotheses = self.generate_ids(waveforms, [r.prompt for r in batch], decoding, features)
        results = []
        for hyp in hypotheses:
            text, raw = self._decode(hyp.token_ids)
            results.append(
                GenerationResult(text, raw, hyp.token_ids, "eos" if hyp.ended_with_eos else "length")
            )
        return results

    # --- provenance -------------------------------------------------------------------------

    def _hash(self, key: str, path: Path) -> str:
        if key not in self._sha256:
            self._sha256[key] = sha256_file(path)
        return self._sha256[key]

    def _directory_summary(self, path: Path, hash_files: bool) -> dict[str, Any]:
        files = sorted(p for p in path.iterdir() if p.is_file())
        summary: dict[str, Any] = {
            "path": str(path),
            "files": {p.name: p.stat().st_size for p in files},
        }
        config = path / "config.json"
        if config.is_file():
            summary["config_sha256"] = self._hash(f"{path}/config.json", config)
        if hash_files:
            summary["sha256"] = {p.name: self._hash(str(p), p) for p in files}
        return summary

    def deviations(self, decoding: DecodingConfig | None = None) -> list[Deviation]:
        out = []
        if self.lora_scaling != REFERENCE_LORA_SCALING:
            out.append(
                Deviation(name="lora_scaling", value=str(self.lora_scaling), reference=str(REFERENCE_LORA_SCALING))
            )
        if self.dtype_name != REFERENCE_DTYPE:
            out.append(Deviation(name="dtype", value=self.dtype_name, reference="float16 LLM, float32 encoders"))
        if self.dtype_name != "float32":
            out.append(
                Deviation(
                    name="half_precision_prompt",
                    value="prompt embeddings cast to the LLM dtype",
                    reference="v1 concatenates fp32 speech with fp16 token embeddings (fp32 residual at the prompt step)",
                )
            )
        out += self.placement.deviations("float16 Vicuna (reference low_resource=False)")
        d = self.default_decoding().merged(decoding)
        searched = "greedy search (decoding=greedy)" if d.num_beams == 1 else "beam search (decode_config.yaml)"
        out.append(
            Deviation(
                name="decoding",
                value=searched if not d.do_sample else "beam sampling",
                reference="v1 model.py samples (do_sample=True, num_beams=4, top_p=0.9); the 2024 decode config uses beam search",
            )
        )
        return out

    def identity(self) -> dict[str, Any]:
        """describe() without where things lie or run: component paths, the device index and
        where Vicuna's layers were placed (device_map does not change the outputs; load_in_8bit
        stays, as a deviation). Moving the cache must not make a rerun refuse its predictions."""
        described = self.describe()
        described.pop("placement", None)
        components = {
            name: {k: v for k, v in component.items() if k != "path"}
            for name, component in described["components"].items()
        }
        return {**described, "components": components, "device": self.device.type, "output_version": self.output_version}

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "preset": self.preset.name if self.preset else None,
            "implementation": "audiorepro.models.salmonn (re-implementation of bytedance/SALMONN v1 @ 6a54390)",
            "components": {
                "salmonn_checkpoint": {
                    "path": str(self.paths["ckpt_path"]),
                    "sha256": self._hash("ckpt", self.paths["ckpt_path"]),
                    "load_report": self.load_report.to_dict(),
                },
                "beats": {
                    "path": str(self.paths["beats_path"]),
                    "sha256": self._hash("beats", self.paths["beats_path"]),
                },
                "whisper": self._directory_summary(self.paths["whisper_path"], self.hash_llm_files),
                "llm": self._directory_summary(self.paths["llm_path"], self.hash_llm_files),
            },
            "checkpoints": {key: pinned.provenance() for key, pinned in self.checkpoints.items()},
            "dtype": self.dtype_name,
            "device": str(self.device),
            "placement": self.placement.describe(self.llm),
            "lora_scaling": self.lora_scaling,
            "prompt_template": "USER: <Speech><SpeechHere></Speech> {instruction}\\nASSISTANT:",
            "decoding_preset": self.decoding_preset,
            "default_decoding": self.default_decoding().to_dict(),
            "deviations": [d.model_dump() for d in self.deviations()],
        }
