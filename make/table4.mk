# SALMONN Table 4, "Activation Tuning" row: output-sequence perplexity (mean and sd over items) for
# ASR, AAC, PR and Story (SAC runs only on a reader's own SAC data, docs/salmonn_judge.md), each
# output scored by the model that generated it, teacher-forced (docs/table4.md), then compared with
# the paper's values and reported.
#   make table4 MODEL=salmonn-13b-v1
# Included by the top-level Makefile (include make/*.mk).

AUDIOREPRO ?= .venv/bin/audiorepro
MODEL ?= salmonn-13b-v1
TABLE4_RUN_FLAGS ?=

.PHONY: table4

table4: | $(STAMP)
table4: ## SALMONN Table 4 perplexity row (ASR, AAC, PR, Story; SAC not run) with MODEL=, compared + reported
	$(AUDIOREPRO) run --suite table4 --models $(MODEL) $(TABLE4_RUN_FLAGS) $(NPROC_FLAG)
