"""The SAKURA Qwen2-Audio path on real small weights (offline_assets.md): the Whisper tiny.en
encoder as the audio tower and SmolLM2-135M-Instruct as a Qwen2 LLM. Slow: the first run
converts the GGUF (about 20-110 s on 2 cores), then about a minute."""

from __future__ import annotations

import pytest
import torch

from audiorepro.audio import load_audio
from audiorepro.models.base import GenerationRequest
from audiorepro.models.qwen2_audio import Qwen2AudioModel
from sakura_support import build_real_small_qwen2_audio

pytestmark = pytest.mark.slow

CAPTION_QUERY = (
    "Audio/Speech information: \nThe animal making the sound is cat.\n"
    "Based on the information, answer the following question:\n"
    "From the options provided, which animal do you believe is the source of the sound in the recording? "
    "(a) dog (b) cat (c) crow (d) cow"
)


def test_real_small_weights_run_the_sakura_path(tmp_path, fixtures_dir):
    folder, llama, n_real, tower_report = build_real_small_qwen2_audio(tmp_path / "real-small")
    assert tower_report.missing_keys == [] and tower_report.unexpected_keys == []  # real Whisper encoder
    model = Qwen2AudioModel(str(folder), decoding="greedy")
    decoding = model.default_decoding().merged({"max_new_tokens": 24})

    # text-only (the caption control): the composite model is exactly the LLM
    caption = GenerationRequest("text", CAPTION_QUERY, None)
    ids = model.processor.tokenizer(model.render_prompt(caption), return_tensors="pt")
    with torch.no_grad():
        composite = model.model(**ids).logits[..., :n_real]
        plain = llama(**ids).logits
    assert torch.equal(composite, plain)
    alone = model.generate([caption], decoding)[0]
    reference = llama.generate(**ids, do_sample=False, max_new_tokens=24)[
        0, ids["input_ids"].shape[1] :
    ].tolist()
    assert alone.token_ids == reference[: len(alone.token_ids)]
    assert alone.finish_reason == "eos" and reference[len(alone.token_ids)] == 2  # stopped at <|im_end|>

    # with a real clip: the audio tokens go through the real encoder and the batch equals one-by-one
    clip = fixtures_dir / "sakura" / "Animal" / "audio" / "cat57.wav"
    audio = GenerationRequest(
        "audio", "What animal made this sound? (a) dog (b) cat", load_audio(clip), audio_path=str(clip)
    )
    batched = model.generate([audio, caption], decoding)
    assert batched[1].token_ids == alone.token_ids
    assert batched[0].token_ids == model.generate([audio], decoding)[0].token_ids
    assert batched[0].text.strip() and all(t < len(model.processor.tokenizer) for t in batched[0].token_ids)
