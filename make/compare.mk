# Compare-prior target (included by the top-level Makefile, which also has `compare`).
#   make compare-prior   the 2025 student reproduction vs the papers: prints the four SAKURA CCCs
#                        and the Table 3 verdicts, writes reports/prior/index.html
AUDIOREPRO ?= .venv/bin/audiorepro

.PHONY: compare-prior

compare-prior: ## the 2025 student reproduction vs the papers (SAKURA CCCs, Table 3 verdicts)
	$(AUDIOREPRO) compare-prior
