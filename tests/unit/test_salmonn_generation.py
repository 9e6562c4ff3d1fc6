"""Beam/greedy search semantics on a hand-made language model whose next-token probabilities
are a fixed table, so that every expected score is computed by hand from that table."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from audiorepro.models.salmonn.generation import SearchSettings, beam_search, greedy_search

UNK, BOS, EOS, A, B = 0, 1, 2, 3, 4
VOCAB = 5

# next-token probabilities given the tokens generated so far (the prompt is ignored)
TABLE = {
    (): {A: 0.5, B: 0.4, EOS: 0.05, BOS: 0.02},
    (A,): {EOS: 0.7357, B: 0.2, A: 0.04, BOS: 0.01},
    (B,): {B: 0.6427, A: 0.2, EOS: 0.1, BOS: 0.02},
}
DEFAULT = {B: 0.6427, A: 0.2, EOS: 0.1, BOS: 0.02}


def log_probs(history: tuple[int, ...]) -> torch.Tensor:
    table = TABLE.get(history, DEFAULT)
    probs = torch.zeros(VOCAB, dtype=torch.float64)
    for token, p in table.items():
        probs[token] = p
    probs[UNK] = 1.0 - probs.sum()  # the rest, so that the row is a distribution
    return probs.log().float()


class TableCache:
    """Stands in for the KV cache: remembers each row's generated tokens, reorders with beams."""

    def __init__(self, rows: int):
        self.histories = [() for _ in range(rows)]

    def reorder_cache(self, index: torch.Tensor) -> None:
        self.histories = [self.histories[i] for i in index.tolist()]


class TableLM:
    def __call__(
        self, inputs_embeds=None, input_ids=None, attention_mask=None, past_key_values=None, **_options
    ):
        if inputs_embeds is not None:
            cache = TableCache(inputs_embeds.shape[0])
        else:
            cache = past_key_values
            cache.histories = [
                h + (t,) for h, t in zip(cache.histories, input_ids[:, -1].tolist(), strict=True)
            ]
        logits = torch.stack([log_probs(h) for h in cache.histories]).unsqueeze(1)
        return SimpleNamespace(logits=logits, past_key_values=cache)


def prompt(batch=1, length=3):
    return torch.zeros(batch, length, 8), torch.ones(batch, length, dtype=torch.long)


def test_length_cut_hypothesis_counts_the_seeded_bos():
    """transformers 4.28: a hypothesis cut at max_new_tokens=3 is divided by 1 + 3 = 4; one ending
    in </s> by its token count including </s>. Here [B, B, B] wins by that rule:
    (ln .4 + 2 ln .6427) / 4 = -0.4500 > (ln .5 + ln .7357) / 2 = -0.4999,
    whereas dividing the cut one by 3 (current transformers) would make [A, </s>] win (-0.6000)."""
    settings = SearchSettings(max_new_tokens=3, num_beams=2, num_return_sequences=2, eos_token_id=EOS)
    [hyps] = beam_search(TableLM(), *prompt(), settings)
    assert hyps[0].token_ids == [B, B, B]
    assert not hyps[0].ended_with_eos
    assert hyps[0].score == pytest.approx((math.log(0.4) + 2 * math.log(0.6427)) / 4, abs=1e-6)
    assert hyps[1].token_ids == [A, EOS]
    assert hyps[1].ended_with_eos
    assert hyps[1].score == pytest.approx((math.log(0.5) + math.log(0.7357)) / 2, abs=1e-6)


def test_search_stops_when_no_running_beam_can_win():
    """One beam: A (.5), then </s> (.7357) finishes [A, </s>] with -0.4999. The 4.28 done test
    (worst finished score >= best candidate's sum / current length = -1.0 / 2) then stops the
    search long before max_new_tokens=5."""
    settings = SearchSettings(max_new_tokens=5, num_beams=1, num_return_sequences=1, eos_token_id=EOS)
    [[hyp]] = beam_search(TableLM(), *prompt(), settings)
    assert hyp.token_ids == [A, EOS]
    assert hyp.score == pytest.approx((math.log(0.5) + math.log(0.7357)) / 2, abs=1e-6)


def test_greedy_stops_each_row_at_its_own_eos():
    settings = SearchSettings(max_new_tokens=4, num_beams=1, eos_token_id=EOS)
    hyps = greedy_search(TableLM(), *prompt(batch=2), settings)
    assert [h.token_ids for h in hyps] == [[A, EOS], [A, EOS]]
    assert all(h.ended_with_eos for h in hyps)


def test_min_new_tokens_blocks_eos():
    # with </s> banned at steps 0 and 1: A, then B (.2 beats A .04), then B (.6427)
    settings = SearchSettings(max_new_tokens=3, num_beams=1, min_new_tokens=2, eos_token_id=EOS)
    [hyp] = greedy_search(TableLM(), *prompt(), settings)
    assert hyp.token_ids == [A, B, B]
    assert not hyp.ended_with_eos


def test_batch_rows_are_independent_in_beam_search():
    settings = SearchSettings(max_new_tokens=3, num_beams=2, num_return_sequences=2, eos_token_id=EOS)
    [alone] = beam_search(TableLM(), *prompt(), settings)
    batched = beam_search(TableLM(), *prompt(batch=3), settings)
    for hyps in batched:
        assert [h.token_ids for h in hyps] == [h.token_ids for h in alone]
        assert [h.score for h in hyps] == pytest.approx([h.score for h in alone])
