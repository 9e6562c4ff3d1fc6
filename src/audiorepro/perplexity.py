"""Output-sequence perplexity for SALMONN Table 4 ("Activation Tuning" row).

The paper prints the mean and standard deviation of "output sequence perplexity" per task and
does not define it further. The interpretation used here (stated in every result and in
docs/table4.md): the perplexity of each generated output under the model that generated it,
teacher-forced on the same inputs (audio and prompt),

    ppl(item) = exp( -(1/T) * sum_t log p(y_t | audio, prompt, y_<t) )

over the T generated ids, the final </s> included when the model emitted it; then the mean and
the sample standard deviation over items. Log-probabilities are the model's plain softmax (no
repetition penalty or length penalty, which only steer the search).

The predict stage calls `record_item_stats` for tasks with `record: [token_logprobs]`, right after
generating, so the ids scored are exactly the ids generated (predictions.jsonl keeps only text)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import AudioreproError
from .jsonl import append_jsonl, iter_jsonl
from .models.base import AudioLanguageModel, GenerationRequest, GenerationResult

DEFINITION = (
    "perplexity of each generated output under the model that generated it, teacher-forced on the same "
    "audio and prompt: exp(mean negative log-likelihood of the generated ids, </s> included when emitted); "
    "mean and sample sd over items (an interpretation: the paper does not define it)"
)


def teacher_forced_logprobs(model: AudioLanguageModel, request: GenerationRequest, token_ids: list[int]) -> list[float]:
    """log p(y_t | inputs, y_<t) for each generated id, from one forward pass over the prompt
    followed by the generated ids. Models expose this through `build_inputs` and `llm` (SALMONN);
    others cannot be scored yet."""
    if not (hasattr(model, "build_inputs") and hasattr(model, "llm") and hasattr(model, "prepare_waveform")):
        raise AudioreproError(
            f"model {model.name}: output perplexity needs teacher forcing, implemented for SALMONN only"
        )
    if not token_ids:
        return []
    import torch

    with torch.no_grad():
        _, prompt_embeds, prompt_mask = model.build_inputs([model.prepare_waveform(request)], [request.prompt])
        ids = torch.tensor([token_ids], dtype=torch.long, device=prompt_embeds.device)
        output_embeds = model.llm.get_input_embeddings()(ids).to(prompt_embeds.dtype)
        logits = model.llm(
            inputs_embeds=torch.cat([prompt_embeds, output_embeds], dim=1),
            attention_mask=torch.cat([prompt_mask, torch.ones_like(ids)], dim=1),
        ).logits[0]
        # the logits at position i predict token i + 1: the last prompt position predicts y_1
        start = prompt_embeds.shape[1] - 1
        logprobs = torch.log_softmax(logits[start : start + len(token_ids)].float(), dim=-1)
        return logprobs.gather(1, ids[0].unsqueeze(1)).squeeze(1).tolist()


def record_item_stats(
    model: AudioLanguageModel,
    batch: list[GenerationRequest],
    results: list[GenerationResult],
    what: list[str],
    path: Path,
) -> None:
    """Append one line per item: {"id", "token_ids", "token_logprobs"} (atomic per batch)."""
    unknown = sorted(set(what) - {"token_logprobs"})
    if unknown:
        raise AudioreproError(f"unknown item statistics {unknown}; known: token_logprobs")
    records = []
    for request, result in zip(batch, results, strict=True):
        records.append(
            {
                "id": request.id,
                "token_ids": list(result.token_ids),
                "token_logprobs": teacher_forced_logprobs(model, request, list(result.token_ids)),
            }
        )
    append_jsonl(path, records)


def read_item_stats(folder: Path) -> dict[str, dict]:
    """Every item_stats*.jsonl of a run folder; a later line for an id (a resumed batch) wins."""
    stats: dict[str, dict] = {}
    for path in sorted(folder.glob("item_stats*.jsonl")):
        for record in iter_jsonl(path, drop_torn_tail=True):
            stats[record["id"]] = record
    return stats


def perplexity(logprobs: list[float]) -> float:
    """exp(mean negative log-likelihood); NaN for an empty output."""
    if not logprobs:
        return float("nan")
    return float(np.exp(-np.mean(logprobs)))
