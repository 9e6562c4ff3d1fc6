"""Greedy and beam search over `inputs_embeds`, with the semantics of transformers 4.28.

Why not the stock `generate`: SALMONN's released code ran transformers 4.28, whose `generate`
seeds an `<s>` in front of the generated ids when only `inputs_embeds` is given. That seeded token
is counted in beam-search length normalisation: a hypothesis ending in `</s>` is scored
sum(logprobs) / (1 + tokens before `</s>`), one cut at the length limit sum / (1 + max_new_tokens).
Current transformers divides the latter by max_new_tokens, which can re-rank finished against
truncated hypotheses. The search below follows the 4.28 `BeamSearchScorer`/`BeamHypotheses`
rules step for step (2*num_beams candidates, `</s>` only from the top num_beams ranks, the
"early_stopping=False" done test, finalisation, tie order), and is batched with left padding so
that each row's result is the one it gets alone (per-row `</s>` handling, per-row done flags).

The model is any transformers causal LM (here the LoRA-wrapped LLaMA); the KV cache is the
model's own (`DynamicCache`, reordered between beam steps with its `reorder_cache`)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class SearchSettings:
    max_new_tokens: int
    num_beams: int = 1
    length_penalty: float = 1.0
    min_new_tokens: int = 0  # the reference's min_length=1 counts the seeded <s>: 0 new tokens
    repetition_penalty: float = 1.0
    num_return_sequences: int = 1
    bos_token_id: int = 1
    eos_token_id: int = 2


@dataclass
class Hypothesis:
    token_ids: list[int]  # generated ids, without the seeded <s>; ends with </s> when produced
    score: float  # beam: length-normalised log-probability; greedy: sum of raw logits is not kept (0.0)
    ended_with_eos: bool


class _DecoderState:
    """Runs the causal LM one step at a time over a left-padded batch, keeping the KV cache."""

    def __init__(self, lm, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor):
        self.lm = lm
        self.attention_mask = attention_mask.long()
        self.cache = None
        self.inputs_embeds = inputs_embeds

    def _positions(self, length: int) -> torch.Tensor:
        # 4.28's rule: position = (number of real tokens so far) - 1; padding positions get 1
        positions = self.attention_mask.cumsum(-1) - 1
        positions = positions.masked_fill(self.attention_mask == 0, 1)
        return positions[:, -length:]

    def first_logits(self) -> torch.Tensor:
        out = self.lm(
            inputs_embeds=self.inputs_embeds,
            attention_mask=self.attention_mask,
            position_ids=self._positions(self.inputs_embeds.shape[1]),
            use_cache=True,
            logits_to_keep=1,  # only the last position is needed: saves a [rows, prompt, vocab] tensor
        )
        self.cache = out.past_key_values
        self.inputs_embeds = None
        return out.logits[:, -1, :].float()

    def next_logits(self, next_tokens: torch.Tensor) -> torch.Tensor:
        ones = self.attention_mask.new_ones((self.attention_mask.shape[0], 1))
        self.attention_mask = torch.cat([self.attention_mask, ones], dim=1)
        out = self.lm(
            input_ids=next_tokens.view(-1, 1),
            attention_mask=self.attention_mask,
            position_ids=self._positions(1),
            past_key_values=self.cache,
            use_cache=True,
            logits_to_keep=1,
        )
        self.cache = out.past_key_values
        return out.logits[:, -1, :].float()

    def reorder(self, row_indices: torch.Tensor) -> None:
        self.cache.reorder_cache(row_indices)


def _apply_processors(scores: torch.Tensor, history: torch.Tensor, settings: SearchSettings) -> torch.Tensor:
    """The two logits processors the reference can activate: repetition penalty over the ids
    generated so far (with the seeded <s>, as 4.28 sees them), and the minimum length."""
    if settings.repetition_penalty != 1.0:
        previous = torch.gather(scores, 1, history)
        previous = torch.where(
            previous < 0, previous * settings.repetition_penalty, previous / settings.repetition_penalty
        )
        scores = scores.scatter(1, history, previous)
    if history.shape[1] - 1 < settings.min_new_tokens:
        scores = scores.clone()
        scores[:, settings.eos_token_id] = -float("inf")
    return scores


@torch.no_grad()
def greedy_search(lm, inputs_embeds, attention_mask, settings: SearchSettings) -> list[Hypothesis]:
    batch = inputs_embeds.shape[0]
    state = _DecoderState(lm, inputs_embeds, attention_mask)
    history = torch.full((batch, 1), settings.bos_token_id, dtype=torch.long, device=inputs_embeds.device)
    finished = torch.zeros(batch, dtype=torch.bool, device=inputs_embeds.device)
    logits = state.first_logits()
    for step in range(settings.max_new_tokens):
        if step > 0:
            logits = state.next_logits(history[:, -1])
        next_tokens = _apply_processors(logits, history, settings).argmax(dim=-1)
        # finished rows keep emitting </s> (a valid id) that is cut off below
        next_tokens = torch.where(finished, torch.full_like(next_tokens, settings.eos_token_id), next_tokens)
        history = torch.cat([history, next_tokens[:, None]], dim=1)
        finished |= next_tokens == settings.eos_token_id
        if bool(finished.all()):
            break
    results = []
    for row in history[:, 1:].tolist():
        if settings.eos_token_id in row:
            row = row[: row.index(settings.eos_token_id) + 1]
            results.append(Hypothesis(row, 0.0, True))
        else:
            results.append(Hypothesis(row, 0.0, False))
    return results


class _BeamHypotheses:
    """The finished hypotheses of one batch item, as transformers 4.28 `BeamHypotheses` keeps them."""

    def __init__(self, num_beams: int, length_penalty: float, eos_token_id: int):
        self.num_beams = num_beams
        self.eos_token_id = eos_token_id
        self.length_penalty = length_penalty
        self.beams: list[tuple[float, list[int], bool]] = []
        self.worst_score = 1e9

    def add(self, tokens: list[int], sum_logprobs: float, ended_with_eos: bool) -> None:
        # `tokens` holds the seeded <s> and no </s>: its length is the normaliser
        score = sum_logprobs / (len(tokens) ** self.length_penalty)
        if len(self.beams) < self.num_beams or score > self.worst_score:
            self.beams.append((score, tokens, ended_with_eos))
            if len(self.beams) > self.num_beams:
                ranked = sorted((s, i) for i, (s, _, _) in enumerate(self.beams))
                del self.beams[ranked[0][1]]
                self.worst_score = ranked[1][0]
            else:
                self.worst_score = min(score, self.worst_score)

    def is_done(self, best_sum_logprobs: float, cur_len: int) -> bool:
        if len(self.beams) < self.num_beams:
            return False
        return self.worst_score >= best_sum_logprobs / cur_len**self.length_penalty

    def best(self, n: int) -> list[Hypothesis]:
        ranked = sorted(self.beams, key=lambda beam: beam[0])
        out = []
        for _ in range(n):
            score, tokens, eos = ranked.pop()
            out.append(Hypothesis(tokens[1:] + ([self.eos_token_id] if eos else []), score, eos))
        return out


@torch.no_grad()
def beam_search(lm, inputs_embeds, attention_mask, settings: SearchSettings) -> list[list[Hypothesis]]:
    """Returns, per batch row, the best `num_return_sequences` hypotheses, best first.

    The step is tensor work over all rows and beams at once: the next beams are the first
    num_beams non-</s> candidates of each row (a row has at most num_beams </s> candidates, one
    per beam, so there are always enough), and the done test reads per-row tensors. Python only
    touches the rare candidates that end with </s> (they join the row's finished hypotheses), so
    the per-step Python work does not grow with the batch."""
    batch, _, _ = inputs_embeds.shape
    beams = settings.num_beams
    device = inputs_embeds.device
    eos = settings.eos_token_id
    # every beam starts from the same prompt (4.28 expands the inputs num_beams times)
    state = _DecoderState(
        lm, inputs_embeds.repeat_interleave(beams, dim=0), attention_mask.repeat_interleave(beams, dim=0)
    )
    history = torch.full((batch * beams, 1), settings.bos_token_id, dtype=torch.long, device=device)
    beam_scores = torch.zeros(batch, beams, dtype=torch.float32, device=device)
    beam_scores[:, 1:] = -1e9  # only the first beam is live at the start: no duplicate candidates
    beam_scores = beam_scores.view(-1)
    finished = [_BeamHypotheses(beams, settings.length_penalty, eos) for _ in range(batch)]
    # mirrors of each row's finished hypotheses for the done test (float64, as Python's floats)
    worst_finished = torch.full((batch,), 1e9, dtype=torch.float64, device=device)
    full = torch.zeros(batch, dtype=torch.bool, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    first_row = torch.arange(batch, device=device) * beams

    logits = state.first_logits()
    while True:
        log_probs = _apply_processors(F.log_softmax(logits, dim=-1), history, settings)
        vocab = log_probs.shape[-1]
        candidates = (log_probs + beam_scores[:, None]).view(batch, beams * vocab)
        top_scores, top_ids = torch.topk(candidates, 2 * beams, dim=1, largest=True, sorted=True)
        top_rows = first_row[:, None] + top_ids // vocab
        top_tokens = top_ids % vocab
        cur_len = history.shape[1]

        # </s> among the top num_beams ranks of a live row finishes a hypothesis (lower ranks are
        # dropped); in rank order, as the reference adds them
        is_eos = top_tokens == eos
        ended = is_eos & ~done[:, None]
        ended[:, beams:] = False
        if bool(ended.any()):
            rows_b, ranks = ended.nonzero(as_tuple=True)
            ended_rows = top_rows[rows_b, ranks]
            for b, tokens, score in zip(
                rows_b.tolist(), history[ended_rows].tolist(), top_scores[rows_b, ranks].tolist(), strict=True
            ):
                finished[b].add(tokens, score, ended_with_eos=True)
            touched = sorted(set(rows_b.tolist()))
            worst_finished[touched] = torch.tensor(
                [finished[b].worst_score for b in touched], dtype=torch.float64, device=device
            )
            full[touched] = torch.tensor(
                [len(finished[b].beams) >= beams for b in touched], dtype=torch.bool, device=device
            )

        # the next beams: the first num_beams candidates of each row that are not </s>
        keep = ~is_eos
        order = keep.cumsum(dim=1) - 1
        chosen = keep & (order < beams)
        picked = chosen.nonzero(as_tuple=True)[1].view(batch, beams)
        next_scores = top_scores.gather(1, picked)
        next_tokens = top_tokens.gather(1, picked)
        next_rows = top_rows.gather(1, picked)
        # a finished item idles on valid ids (score 0, </s>, its own first row); its rows are ignored
        idle = done[:, None].expand(batch, beams)
        next_scores = next_scores.masked_fill(idle, 0.0)
        next_tokens = next_tokens.masked_fill(idle, eos)
        next_rows = torch.where(idle, first_row[:, None].expand(batch, beams), next_rows)

        best = top_scores.max(dim=1).values.double() / cur_len**settings.length_penalty
        done = done | (full & (worst_finished >= best))

        beam_scores = next_scores.reshape(-1)
        next_rows = next_rows.reshape(-1)
        next_tokens = next_tokens.reshape(-1)
        history = torch.cat([history[next_rows], next_tokens.view(-1, 1)], dim=1)
        if bool(done.all()) or history.shape[1] >= settings.max_new_tokens + 1:
            break
        state.reorder(next_rows)
        logits = state.next_logits(next_tokens)

    history_rows = history.tolist()
    scores_list = beam_scores.tolist()
    done_list = done.tolist()
    results = []
    for b in range(batch):
        if not done_list[b]:  # hypotheses cut by the length limit join the finished ones
            for k in range(beams):
                finished[b].add(history_rows[b * beams + k], scores_list[b * beams + k], ended_with_eos=False)
        results.append(finished[b].best(settings.num_return_sequences))
    return results
