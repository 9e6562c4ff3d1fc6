# SALMONN Table 3: one target per task (a task fills one or more Table 3 cells), plus fetch-<manifest>.
#   make reproduce-table3 MODEL=salmonn-13b-v1        every Table 3 task in one `audiorepro run`
#                                                      (the model loads once), then compare + report
#   make table3-asr-librispeech-clean MODEL=cascade    one task (with its own compare + report)
#   make tasks SUITE=table3                            the task names (the task files of the suite)
#   make fetch-librispeech-test-clean                  download / verify one manifest
#   make reproduce-table3 JUDGE=api|local|matcher [JUDGE_MODEL=...] or VERDICTS=FILE   judge SQQA/SAC with the
#                                                      paper's GPT-3.5 prompts (without: "not computed: needs a judge")
#   NPROC=8 on any of them: 8 ranks (one per GPU) through torchrun (docs/scale_out.md)
# A task whose data is missing (gated, not yet placed) is reported as "not run" and the others go on;
# a task that fails (broken data, a model error) is reported as "failed", the others go on, and the
# run exits non-zero at the end. DECODING=greedy picks greedy decoding (a recorded deviation).
# Included by the top-level Makefile (include make/*.mk).

AUDIOREPRO ?= .venv/bin/audiorepro
MODEL ?= salmonn-13b-v1
TABLE3_RUN_FLAGS ?=

# The tasks are the task files of suite table3 (src/audiorepro/tasks/table3/, plus AUDIOREPRO_TASKS
# folders): `make tasks SUITE=table3` lists them; nothing here repeats the list.

.PHONY: reproduce-table3 tasks

# for the comma-separated MODELS lists of make/sakura.mk
comma := ,

reproduce-table3: ## every SALMONN Table 3 cell with MODEL= (default salmonn-13b-v1) in one run (one model load), then compare + report
	$(AUDIOREPRO) run --suite table3 --models $(MODEL) $(DECODING_FLAGS) $(JUDGE_FLAGS) $(TABLE3_RUN_FLAGS) $(NPROC_FLAG)

# table3-<task>, one per task file of the suite; an unknown name is refused by `run` (exit 2, naming it)
table3-%:
	$(AUDIOREPRO) run --suite table3 --tasks $* --models $(MODEL) $(DECODING_FLAGS) $(JUDGE_FLAGS) $(TABLE3_RUN_FLAGS) $(NPROC_FLAG)

tasks: ## the task names of SUITE= (table3, table4, sakura, sakura-text, demo), one a line
	@$(AUDIOREPRO) tasks --names $(if $(SUITE),--suite $(SUITE))

fetch-%: | $(STAMP)
	$(AUDIOREPRO) fetch $*
