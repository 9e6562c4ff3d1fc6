# SALMONN Table 3: one target per task (a task fills one or more Table 3 cells), plus fetch-<manifest>.
#   make reproduce-table3 MODEL=salmonn-13b-v1        every Table 3 task, then one compare + report
#   make table3-asr-librispeech-clean MODEL=cascade    one task (with its own compare + report)
#   make fetch-librispeech-test-clean                  download / verify one manifest
#   make reproduce-table3 JUDGE=api|local|matcher [JUDGE_MODEL=...] or VERDICTS=FILE   judge SQQA/SAC with the
#                                                      paper's GPT-3.5 prompts (without: "not computed: needs a judge")
#   NPROC=8 on any of them: 8 ranks (one per GPU) through torchrun (docs/scale_out.md)
# A task whose data is missing (gated, not yet placed) is reported as "not run" and the others go on.
# Included by the top-level Makefile (include make/*.mk).

AUDIOREPRO ?= .venv/bin/audiorepro
MODEL ?= salmonn-13b-v1
TABLE3_RUN_FLAGS ?=

TABLE3_TASKS := \
	asr-librispeech-clean asr-librispeech-other asr-gigaspeech \
	en2zh-covost2 aac-audiocaps pr-librispeech-clean er-iemocap mc-musiccaps osr-librimix sv-voxceleb1 \
	en2de-covost2 en2ja-covost2 ke-inspec sqqa-wikiqa sf-slurp story-audiocaps sac-inhouse

TABLE3_TARGETS := $(addprefix table3-,$(TABLE3_TASKS))

.PHONY: reproduce-table3 $(TABLE3_TARGETS)

# The per-task runs skip the report (a target-specific variable, inherited by the prerequisites);
# the suite's compare and report are written once at the end.
reproduce-table3: TABLE3_RUN_FLAGS += --no-report
reproduce-table3: $(TABLE3_TARGETS) ## every SALMONN Table 3 cell with MODEL= (default salmonn-13b-v1), then compare + report
	$(AUDIOREPRO) compare --suite table3
	$(AUDIOREPRO) report --suite table3

$(TABLE3_TARGETS): table3-%:
	$(AUDIOREPRO) run --suite table3 --tasks $* --models $(MODEL) $(TABLE3_RUN_FLAGS)$(if $(JUDGE), --judge $(JUDGE))$(if $(JUDGE_MODEL), --judge-model $(JUDGE_MODEL))$(if $(VERDICTS), --verdicts $(VERDICTS)) $(NPROC_FLAG)

fetch-%: | $(STAMP)
	$(AUDIOREPRO) fetch $*
