"""The CTranslate2 model.bin reader and the CT2 -> HF Whisper mapping, on tiny files written here
byte by byte with struct (format: CTranslate2 src/models/model.cc, binary version >= 4)."""

import struct

import numpy as np
import pytest

from audiorepro.errors import AudioreproError, InputError
from audiorepro.models.whisper_ct2 import read_ct2_model, whisper_config_values, whisper_state_dict

DTYPE_IDS = {np.dtype("float32"): 0, np.dtype("int8"): 1, np.dtype("int16"): 2, np.dtype("float16"): 4}


def _string(s: str) -> bytes:
    data = s.encode() + b"\0"  # CT2 writes a trailing NUL, counted in the length
    return struct.pack("<H", len(data)) + data


def write_ct2(path, variables, aliases=(), version=6, spec="WhisperSpec", raw_dtype_ids=None):
    """variables: name -> numpy array (or (dtype_id, shape, raw bytes) for odd dtypes)."""
    out = (
        struct.pack("<I", version) + _string(spec) + struct.pack("<I", 3) + struct.pack("<I", len(variables))
    )
    for name, value in variables.items():
        if isinstance(value, tuple):
            dtype_id, shape, data = value
        else:
            dtype_id, shape, data = (
                DTYPE_IDS[value.dtype],
                value.shape,
                value.astype(value.dtype.newbyteorder("<")).tobytes(),
            )
        out += _string(name) + struct.pack("<B", len(shape)) + b"".join(struct.pack("<I", d) for d in shape)
        out += struct.pack("<B", dtype_id) + struct.pack("<I", len(data)) + data
    out += struct.pack("<I", len(aliases))
    for alias, target in aliases:
        out += _string(alias) + _string(target)
    path.write_bytes(out)
    return path


def test_reader_parses_header_shapes_dtypes_and_aliases(tmp_path):
    weight = np.arange(6, dtype=np.float16).reshape(2, 3)
    # bfloat16 bit patterns: 0x3F80 = 1.0, 0xC000 = -2.0, 0x4049 = 3.140625 (hand-computed)
    bf16 = struct.pack("<3H", 0x3F80, 0xC000, 0x4049)
    path = write_ct2(
        tmp_path / "model.bin",
        {
            "decoder/embeddings/weight": weight,
            "encoder/num_heads": np.array(6, dtype=np.int16),
            "x/bf16": (5, (3,), bf16),
        },
        aliases=[("decoder/projection/weight", "decoder/embeddings/weight")],
    )
    model = read_ct2_model(path)
    assert (model.binary_version, model.spec_name, model.spec_revision) == (6, "WhisperSpec", 3)
    assert model.variables["decoder/embeddings/weight"].dtype == np.float16
    assert model.variables["encoder/num_heads"].shape == () and int(model.variables["encoder/num_heads"]) == 6
    np.testing.assert_array_equal(model.get("x/bf16"), np.array([1.0, -2.0, 3.140625], dtype=np.float32))
    # the alias resolves to the same tensor, as float32
    aliased = model.get("decoder/projection/weight")
    assert aliased.dtype == np.float32
    np.testing.assert_array_equal(aliased, [[0, 1, 2], [3, 4, 5]])


def test_reader_errors_name_the_file(tmp_path):
    good = write_ct2(tmp_path / "model.bin", {"a": np.ones(4, dtype=np.float32)})
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(good.read_bytes()[:-10])
    with pytest.raises(InputError, match="truncated.bin: truncated CTranslate2 model"):
        read_ct2_model(truncated)
    with pytest.raises(InputError, match="unknown CTranslate2 dtype id 9"):
        read_ct2_model(write_ct2(tmp_path / "odd.bin", {"a": (9, (1,), b"\0")}))
    with pytest.raises(InputError, match="binary version 3"):
        read_ct2_model(write_ct2(tmp_path / "old.bin", {}, version=3))
    with pytest.raises(InputError, match="not found"):
        read_ct2_model(tmp_path / "missing.bin")
    quantized = read_ct2_model(write_ct2(tmp_path / "q.bin", {"w": np.ones(2, dtype=np.int8)}))
    with pytest.raises(AudioreproError, match="quantized"):
        quantized.get("w")


# A tiny Whisper: d_model 64 (so 1 head by the d_model // 64 rule), 4 mel bins, ffn 32, vocab 50,
# 1 encoder and 2 decoder layers, 10 source and 6 target positions.
D, MELS, FFN, VOCAB, ENC_LAYERS, DEC_LAYERS = 64, 4, 32, 50, 1, 2


def _tiny_whisper_variables(rng, k_bias=0.0):
    def r(*shape):
        return rng.standard_normal(shape).astype(np.float16)

    v = {
        "encoder/conv1/weight": r(D, MELS, 3),
        "encoder/conv1/bias": r(D),
        "encoder/conv2/weight": r(D, D, 3),
        "encoder/conv2/bias": r(D),
        "encoder/position_encodings/encodings": r(10, D),
        "decoder/position_encodings/encodings": r(6, D),
        "decoder/embeddings/weight": r(VOCAB, D),
    }
    for side, n in (("encoder", ENC_LAYERS), ("decoder", DEC_LAYERS)):
        v[f"{side}/layer_norm/gamma"], v[f"{side}/layer_norm/beta"] = r(D), r(D)
        for i in range(n):
            p = f"{side}/layer_{i}"
            qkv_bias = r(3 * D)
            qkv_bias[D : 2 * D] = k_bias
            for name, shape_w, bias in [
                ("self_attention/linear_0", (3 * D, D), qkv_bias),
                ("self_attention/linear_1", (D, D), r(D)),
                ("ffn/linear_0", (FFN, D), r(FFN)),
                ("ffn/linear_1", (D, FFN), r(D)),
            ]:
                v[f"{p}/{name}/weight"], v[f"{p}/{name}/bias"] = r(*shape_w), bias
            for norm in ("self_attention/layer_norm", "ffn/layer_norm"):
                v[f"{p}/{norm}/gamma"], v[f"{p}/{norm}/beta"] = r(D), r(D)
            if side == "decoder":
                kv_bias = r(2 * D)
                kv_bias[:D] = 0.0
                v[f"{p}/attention/linear_0/weight"], v[f"{p}/attention/linear_0/bias"] = r(D, D), r(D)
                v[f"{p}/attention/linear_1/weight"], v[f"{p}/attention/linear_1/bias"] = r(2 * D, D), kv_bias
                v[f"{p}/attention/linear_2/weight"], v[f"{p}/attention/linear_2/bias"] = r(D, D), r(D)
                v[f"{p}/attention/layer_norm/gamma"], v[f"{p}/attention/layer_norm/beta"] = r(D), r(D)
    return v


def test_config_is_derived_from_the_tensors(tmp_path):
    variables = _tiny_whisper_variables(np.random.default_rng(0))
    model = read_ct2_model(write_ct2(tmp_path / "model.bin", variables))
    values = whisper_config_values(model, {"suppress_ids": [1, 2], "suppress_ids_begin": [220, 50256]})
    assert values["d_model"] == D and values["num_mel_bins"] == MELS
    assert (values["encoder_layers"], values["decoder_layers"]) == (ENC_LAYERS, DEC_LAYERS)
    assert values["encoder_attention_heads"] == values["decoder_attention_heads"] == 1  # 64 // 64
    assert (values["encoder_ffn_dim"], values["decoder_ffn_dim"]) == (FFN, FFN)
    assert (values["max_source_positions"], values["max_target_positions"]) == (10, 6)
    assert values["vocab_size"] == VOCAB
    # English-only special tokens (vocab < 51865): start of transcript 50257, end of text 50256
    assert values["decoder_start_token_id"] == 50257 and values["eos_token_id"] == 50256
    assert values["suppress_tokens"] == [1, 2] and values["begin_suppress_tokens"] == [220, 50256]
    # stored head counts win over the d_model // 64 rule
    variables["encoder/num_heads"] = np.array(4, dtype=np.int16)
    model = read_ct2_model(write_ct2(tmp_path / "heads.bin", variables))
    assert whisper_config_values(model, {})["encoder_attention_heads"] == 4


def test_mapping_fills_every_hf_parameter_and_splits_fused_projections(tmp_path):
    torch = pytest.importorskip("torch")
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    variables = _tiny_whisper_variables(np.random.default_rng(1))
    model = read_ct2_model(write_ct2(tmp_path / "model.bin", variables))
    values = whisper_config_values(model, {})
    state = whisper_state_dict(model, values["encoder_layers"], values["decoder_layers"])

    # the real special-token ids (50256, 50257) do not fit this 50-token vocabulary
    small_ids = {"pad_token_id": 0, "bos_token_id": 0, "eos_token_id": 0, "decoder_start_token_id": 1}
    hf = WhisperForConditionalGeneration(WhisperConfig(**{**values, **small_ids}))
    result = hf.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)
    assert result.missing_keys == ["proj_out.weight"] and result.unexpected_keys == []
    hf.tie_weights()

    def f32(name):
        return variables[name].astype(np.float32)

    qkv = f32("decoder/layer_1/self_attention/linear_0/weight")
    sd = {k: v.numpy() for k, v in hf.state_dict().items()}
    np.testing.assert_array_equal(sd["model.decoder.layers.1.self_attn.q_proj.weight"], qkv[:D])
    np.testing.assert_array_equal(sd["model.decoder.layers.1.self_attn.k_proj.weight"], qkv[D : 2 * D])
    np.testing.assert_array_equal(sd["model.decoder.layers.1.self_attn.v_proj.weight"], qkv[2 * D :])
    np.testing.assert_array_equal(
        sd["model.decoder.layers.1.self_attn.v_proj.bias"],
        f32("decoder/layer_1/self_attention/linear_0/bias")[2 * D :],
    )
    kv = f32("decoder/layer_0/attention/linear_1/weight")
    np.testing.assert_array_equal(sd["model.decoder.layers.0.encoder_attn.k_proj.weight"], kv[:D])
    np.testing.assert_array_equal(sd["model.decoder.layers.0.encoder_attn.v_proj.weight"], kv[D:])
    np.testing.assert_array_equal(
        sd["model.decoder.layers.0.encoder_attn.out_proj.weight"],
        f32("decoder/layer_0/attention/linear_2/weight"),
    )
    np.testing.assert_array_equal(
        sd["model.encoder.layers.0.final_layer_norm.weight"], f32("encoder/layer_0/ffn/layer_norm/gamma")
    )
    np.testing.assert_array_equal(
        sd["model.encoder.layers.0.fc2.bias"], f32("encoder/layer_0/ffn/linear_1/bias")
    )
    np.testing.assert_array_equal(sd["model.encoder.conv1.weight"], f32("encoder/conv1/weight"))
    # the output projection is tied to the token embedding (CT2 stores it only as an alias)
    np.testing.assert_array_equal(sd["proj_out.weight"], f32("decoder/embeddings/weight"))


def test_non_zero_key_bias_is_refused(tmp_path):
    variables = _tiny_whisper_variables(np.random.default_rng(2), k_bias=0.5)
    model = read_ct2_model(write_ct2(tmp_path / "model.bin", variables))
    with pytest.raises(AudioreproError, match="non-zero key bias"):
        whisper_state_dict(model, ENC_LAYERS, DEC_LAYERS)
