# SAKURA (Interspeech 2025): 4 tracks x single/multi-hop, scored by the benchmark's LLM judge, with
# averages, Wald 95% intervals (n = 500 per cell), the paper and prior-reproduction rows and CCC.
#   make sakura MODELS=qwen2-audio JUDGE=api                  GPT-4o-2024-11-20 (OPENAI_API_KEY)
#   make sakura MODELS=qwen2-audio JUDGE=api BASE_URL=http://127.0.0.1:8000/v1 JUDGE_MODEL=M
#   make sakura MODELS=qwen2-audio VERDICTS=shipped.jsonl     rescore from shipped verdicts, no API
#   make sakura MODELS=qwen2-audio JUDGE=matcher              deterministic matcher (a deviation)
#   make sakura MODELS=qwen2-audio JUDGE=local JUDGE_MODEL=DIR a local transformers judge (a deviation)
#   make sakura-fixture MODELS=... JUDGE=...                  the bundled 24-clip subset, offline
#   make sakura-text MODELS=qwen2-audio JUDGE=...             the caption (text-only) control
#   make sakura-judge MODELS=qwen2-audio JUDGE=api            judge existing predictions only
#   NPROC=N on sakura: N ranks (one per GPU) through torchrun (docs/scale_out.md)
# Decoding is each model's official default (sampling for both Qwen models); DECODING=greedy picks
# greedy decoding for every model (a recorded deviation). Without JUDGE or VERDICTS, every model's
# predictions are made, then the run says how to judge them (rerun with JUDGE=...: nothing is
# predicted twice). A model that fails is reported as failed and the others go on.
# Included by the top-level Makefile (include make/*.mk).

AUDIOREPRO ?= .venv/bin/audiorepro
MODELS ?= salmonn-7b,salmonn-13b-v1,qwen-audio-chat,qwen2-audio
SUBSET ?=
SAKURA_RUN_FLAGS ?=

.PHONY: sakura sakura-fixture sakura-text sakura-judge

sakura: ## the SAKURA table for MODELS= with JUDGE=api|local|matcher or VERDICTS=FILE (DECODING=greedy optional)
	$(AUDIOREPRO) run --suite sakura --models "$(MODELS)" $(if $(SUBSET),--subset $(SUBSET)) $(JUDGE_FLAGS) $(DECODING_FLAGS) $(SAKURA_RUN_FLAGS) $(NPROC_FLAG)

sakura-fixture: ## the same on the bundled 24-clip fixture subset (offline)
	$(MAKE) sakura SUBSET=fixture

sakura-text: ## the caption (text-only) control suite
	$(AUDIOREPRO) run --suite sakura-text --models "$(MODELS)" $(if $(SUBSET),--subset $(SUBSET)) $(JUDGE_FLAGS) $(DECODING_FLAGS) $(SAKURA_RUN_FLAGS) $(NPROC_FLAG)

# the run folders `run` wrote: with DECODING=, each model name carries the option (layout.run_name)
JUDGE_RUNS = $(if $(DECODING),$(subst $(comma),+decoding=$(DECODING)$(comma),$(MODELS))+decoding=$(DECODING),$(MODELS))

sakura-judge: ## judge existing SAKURA predictions of MODELS= (and DECODING=) with JUDGE= or VERDICTS= (no model is loaded)
	$(AUDIOREPRO) judge --suite sakura --models "$(JUDGE_RUNS)" $(JUDGE_FLAGS)
