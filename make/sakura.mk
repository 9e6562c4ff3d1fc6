# SAKURA (Interspeech 2025): 4 tracks x single/multi-hop, scored by the benchmark's LLM judge, with
# averages, Wald 95% intervals (n = 500 per cell), the paper and prior-reproduction rows and CCC.
#   make sakura MODELS=qwen2-audio JUDGE="--judge api"                 GPT-4o-2024-11-20 (OPENAI_API_KEY)
#   make sakura MODELS=qwen2-audio JUDGE="--judge api --base-url http://127.0.0.1:8000/v1 --judge-model M"
#   make sakura MODELS=qwen2-audio JUDGE="--verdicts shipped.jsonl"    rescore from shipped verdicts, no API
#   make sakura MODELS=qwen2-audio JUDGE="--judge matcher"             deterministic matcher (a deviation)
#   make sakura-fixture MODELS=... JUDGE=...                            the bundled 24-clip subset, offline
#   make sakura-text MODELS=qwen2-audio JUDGE=...                       the caption (text-only) control
#   make sakura-judge MODELS=qwen2-audio JUDGE="--judge api"           judge existing predictions only
#   NPROC=N on sakura: N ranks (one per GPU) through torchrun (docs/scale_out.md)
# Decoding is each model's official default (sampling for both Qwen models); greedy with
#   SAKURA_RUN_FLAGS="--model-arg decoding=greedy". Without JUDGE, scoring stops and names the options.
# Included by the top-level Makefile (include make/*.mk).

AUDIOREPRO ?= .venv/bin/audiorepro
MODELS ?= salmonn-7b,salmonn-13b-v1,qwen-audio-chat,qwen2-audio
JUDGE ?=
SUBSET ?=
SAKURA_RUN_FLAGS ?=

.PHONY: sakura sakura-fixture sakura-text sakura-judge

sakura: ## the SAKURA table for MODELS= with JUDGE="--judge api|local|matcher" or JUDGE="--verdicts FILE"
	$(AUDIOREPRO) run --suite sakura --models "$(MODELS)" $(if $(SUBSET),--subset $(SUBSET)) $(JUDGE) $(SAKURA_RUN_FLAGS) $(NPROC_FLAG)

sakura-fixture: ## the same on the bundled 24-clip fixture subset (offline)
	$(MAKE) sakura SUBSET=fixture

sakura-text: ## the caption (text-only) control suite
	$(AUDIOREPRO) run --suite sakura-text --models "$(MODELS)" $(if $(SUBSET),--subset $(SUBSET)) $(JUDGE) $(SAKURA_RUN_FLAGS) $(NPROC_FLAG)

sakura-judge:
	$(AUDIOREPRO) judge --suite sakura --models "$(MODELS)" $(JUDGE)
