"""Qwen-Audio-Chat's real remote code through the worker: a tiny random model built at test time
from that code (scripts/make_tiny_qwen_audio_chat.py) must give, through
`audiorepro.models.qwen_audio_chat`, exactly the texts its own `model.chat` gives when called
directly in its environment (greedy, and sampling with the model card's seed).

The remote code is the model's, not audiorepro's, and is not in this repository: point
AUDIOREPRO_QWEN_AUDIO_CHAT_CODE at a folder holding it (the files of github.com/QwenLM/Qwen-Audio
or huggingface.co/Qwen/Qwen-Audio-Chat: configuration_qwen.py, modeling_qwen.py,
tokenization_qwen.py, qwen_generation_utils.py, audio.py, qwen.tiktoken, mel_filters.npz,
tokenizer_config.json, config.json, a generation config). Also needs `make setup-qwen-audio-chat`
and ffmpeg; skipped with the reason otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from audiorepro.models.base import GenerationRequest

ROOT = Path(__file__).resolve().parents[2]
CODE_ENV = "AUDIOREPRO_QWEN_AUDIO_CHAT_CODE"
MAX_NEW_TOKENS = 12
QUESTIONS = ["What is the speaker's gender? (a) male (b) female", "Describe the sound."]

# Called directly in the worker environment: the model card's loading and chat call, nothing of audiorepro.
REFERENCE = """
import json, sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
path, items, kwargs, seed = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=True)
model = AutoModelForCausalLM.from_pretrained(path, trust_remote_code=True, fp32=True, device_map="cpu").eval()
out = []
for wav, question in items:
    query = tokenizer.from_list_format([{"audio": wav}, {"text": question}])
    torch.manual_seed(seed)
    response, _ = model.chat(tokenizer, query=query, history=None, **kwargs)
    out.append(response)
print("RESULT" + json.dumps(out))
"""


def _environment_python() -> Path:
    from audiorepro.errors import AudioreproError
    from audiorepro.models.qwen_audio_chat import worker_python

    try:
        return worker_python()
    except AudioreproError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    code = os.environ.get(CODE_ENV)
    if not code or not (Path(code) / "modeling_qwen.py").is_file():
        pytest.skip(f"Qwen-Audio-Chat's remote code is not here: set {CODE_ENV} to a folder with it (see this file)")
    if shutil.which("ffmpeg") is None:
        pytest.skip("the remote code reads audio with ffmpeg, which is not on PATH")
    python = _environment_python()
    out = tmp_path_factory.mktemp("tiny-qwen-audio-chat")
    subprocess.run(
        [str(python), str(ROOT / "scripts" / "make_tiny_qwen_audio_chat.py"), "--code", code, "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return python, out


def reference_texts(python, model_dir, items, kwargs, seed):
    proc = subprocess.run(
        [str(python), "-c", REFERENCE, str(model_dir), json.dumps(items), json.dumps(kwargs), str(seed)],
        check=True,
        capture_output=True,
        text=True,
    )
    line = next(li for li in proc.stdout.splitlines() if li.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])


@pytest.mark.parametrize("preset", ["greedy", "official"])
def test_texts_equal_the_models_own_chat(tiny_model, fixtures_dir, preset):
    from audiorepro.models.qwen_audio_chat import QwenAudioChatModel, chat_kwargs

    python, model_dir = tiny_model
    wavs = [str(fixtures_dir / "salmonn_parity" / "inputs" / f"{n}.wav") for n in ("speech_16k", "synth_16k")]
    items = list(zip(wavs, QUESTIONS, strict=True))
    model = QwenAudioChatModel(str(model_dir), decoding=preset)
    try:
        decoding = model.default_decoding().merged({"max_new_tokens": MAX_NEW_TOKENS})
        requests = [GenerationRequest(str(i), q, None, audio_path=w) for i, (w, q) in enumerate(items)]
        ours = model.generate(requests, decoding)
        described = model.describe()
    finally:
        model.close()
    theirs = reference_texts(python, model_dir, items, chat_kwargs(decoding), decoding.seed)
    assert [r.raw_text for r in ours] == theirs
    assert all(len(t) > 0 for t in theirs)  # a random model still says something
    assert described["environment"]["transformers"] == "4.32.0"


def test_offloading_is_refused_with_the_reason(tiny_model, tmp_path):
    """With layers offloaded to CPU or disk the remote audio encoder fails deep inside (it moves its
    inputs to its own weights' device, 'meta' when offloaded): the worker says so at load time."""
    from audiorepro.models.qwen_audio_chat import QwenAudioChatModel, WorkerError

    _python, model_dir = tiny_model
    # 40 MB: the embeddings and the first block fit in RAM, the rest goes to disk
    with pytest.raises(WorkerError, match="cannot run with layers offloaded to CPU or disk"):
        QwenAudioChatModel(
            str(model_dir), device_map="auto", max_memory="cpu=40MB", offload_folder=str(tmp_path / "offload")
        )


def test_a_checkpoint_missing_a_tensor_is_refused(tiny_model, tmp_path):
    """transformers 4.32 would fill the missing tensor with random values; the load report
    travels back from the worker and the run stops."""
    import shutil

    from safetensors.torch import load_file, save_file

    from audiorepro.errors import InputError
    from audiorepro.models.qwen_audio_chat import QwenAudioChatModel

    _python, model_dir = tiny_model
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    tensors = load_file(broken / "model.safetensors")
    dropped = next(k for k in tensors if k.endswith("attn.c_attn.weight"))
    del tensors[dropped]
    save_file(tensors, broken / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(InputError, match=f"does not fill the model.*{dropped}"):
        QwenAudioChatModel(str(broken))
