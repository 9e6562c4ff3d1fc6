"""The local transformers judge (a named deviation) on a tiny random chat model: it renders the
benchmark's messages with the model's chat template, decodes greedily (deterministic), and its
id names the weights so the cache never mixes two local judges."""

from __future__ import annotations

import pytest
import torch

from audiorepro.errors import InputError
from audiorepro.judge.local import LocalTransformersJudge
from audiorepro.judge.sakura import parse_verdict, render_prompt
from sakura_support import byte_level_tokenizer

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    folder = tmp_path_factory.mktemp("tiny-judge")
    tokenizer = byte_level_tokenizer()
    tokenizer.chat_template = CHATML
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    Qwen2ForCausalLM(config).save_pretrained(folder)
    return folder


def test_local_judge_is_greedy_and_named_by_its_weights(judge_dir):
    judge = LocalTransformersJudge(str(judge_dir), max_new_tokens=8)
    messages = render_prompt("Q? (a) Female (b) Male", "(a) Female", "Female")
    first, second = judge.complete(messages), judge.complete(messages)
    assert first == second  # greedy: the same reply every time
    assert parse_verdict(first) == "invalid"  # a random model does not follow the reply format
    assert judge.judge_id.startswith(f"local:{judge_dir.name}:")
    assert len(judge.judge_id.rsplit(":", 1)[1]) == 12  # sha256 prefix of model.safetensors
    described = judge.describe()
    assert described["deviations"][0]["name"] == "judge"
    assert described["sampling"] == {"do_sample": False, "max_new_tokens": 8}
    # the prompt the model saw is the benchmark's messages in the model's chat template
    rendered = judge.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert rendered.startswith("<|im_start|>system\nYou are a good judge.")
    assert rendered.endswith('either "correct" or "incorrect">\n    <|im_end|>\n<|im_start|>assistant\n')


def test_missing_local_judge_folder_is_named(tmp_path):
    with pytest.raises(InputError, match="local judge model folder not found"):
        LocalTransformersJudge(str(tmp_path / "nope"))
