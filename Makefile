# audiorepro: the front door. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
AUDIOREPRO ?= $(VENV)/bin/audiorepro
PYTEST ?= $(VENV)/bin/python -m pytest
MODEL ?= salmonn-13b-v1
MODELS ?= salmonn-7b,salmonn-13b-v1,qwen-audio-chat,qwen2-audio
# DECODING=greedy (or another preset a model names): `--model-arg decoding=...` for every model run
DECODING ?=
DECODING_FLAGS = $(if $(DECODING),--model-arg decoding=$(DECODING))
# JUDGE=api|local|matcher, VERDICTS=FILE, JUDGE_MODEL=, BASE_URL= (plain values, as in the README)
JUDGE ?=
VERDICTS ?=
JUDGE_MODEL ?=
BASE_URL ?=
JUDGE_FLAGS = $(if $(JUDGE),--judge $(JUDGE)) $(if $(VERDICTS),--verdicts $(VERDICTS)) \
	$(if $(JUDGE_MODEL),--judge-model $(JUDGE_MODEL)) $(if $(BASE_URL),--base-url $(BASE_URL))
STAMP := $(VENV)/.setup-done
# NPROC=N: N ranks through torchrun, one per GPU (docs/scale_out.md); 1 = one process
NPROC ?= 1
NPROC_FLAG = $(if $(filter-out 1,$(NPROC)),--nproc $(NPROC))

export PYTHONUNBUFFERED := 1

.PHONY: help setup test test-slow test-gpu lint demo compare clean distclean lock docker-build docker-lint bench

help: ## list targets
	@grep -hE '^[a-zA-Z0-9_%-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 24

setup: $(STAMP) ## create .venv (torch 2.13.0 first, then the hash-locked lock file) and Debian packages

$(STAMP): requirements/lock.txt pyproject.toml scripts/install_system_packages.sh scripts/install_python_packages.sh
	scripts/install_system_packages.sh
	VENV=$(VENV) PYTHON=$(PYTHON) scripts/install_python_packages.sh
	touch $@

test: setup ## the default test run (slow, network and GPU tests are skipped with a reason)
	$(PYTEST) -q

test-slow: setup ## also the slow tests
	$(PYTEST) -q --run-slow

test-gpu: setup ## the GPU tests (parity fixture on CUDA fp32, device_map, throughput); real checkpoints: see tests/gpu/
	@# without a GPU every test would skip and the target pass: say so and fail instead
	@$(VENV)/bin/python -c 'import sys, torch; torch.cuda.is_available() or sys.exit("make test-gpu: torch sees no CUDA GPU here (torch.cuda.is_available() is False); run it on a CUDA machine (make test runs the CPU tests)")'
	$(PYTEST) -q --run-gpu tests/gpu

lint: setup ## ruff + hadolint
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/hadolint Dockerfile

demo: setup ## offline demo: real Whisper tiny.en + SmolLM2 on bundled LibriVox + TTS audio (NPROC=N ranks)
	$(AUDIOREPRO) run --suite demo --models cascade $(DECODING_FLAGS) $(NPROC_FLAG)

compare: setup ## re-compare a suite's existing scores with expected/ (SUITE=table3)
	$(AUDIOREPRO) compare --suite $(or $(SUITE),table3)
	$(AUDIOREPRO) report --suite $(or $(SUITE),table3)

clean: ## remove runs/ and generated reports (keeps cache/ with downloads and converted weights)
	rm -rf runs
	find reports -mindepth 1 -maxdepth 1 ! -name example -exec rm -rf {} +
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## also remove .venv and cache/
	rm -rf $(VENV) cache

# the lock targets' one check: without it a missing uv is bash's 'command not found' and exit 127
UV = { command -v uv >/dev/null || { echo "make: the lock targets need uv (pip install uv)" >&2; exit 2; }; } && uv

lock: ## re-resolve requirements/lock.txt (needs uv; hashes for every pinned file)
	$(UV) pip compile requirements/base.in requirements/dev.in --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --generate-hashes --find-links /opt/wheels \
	  --override requirements/overrides.txt --no-emit-package torch -o requirements/lock.txt

bench: setup ## CPU bench (tiny fixture) without a GPU; DEVICE=cuda SIZE=13b|7b|qwen2-audio: random full-size weights on the GPU
	$(VENV)/bin/python -m audiorepro.bench --device $(or $(DEVICE),auto) --size $(or $(SIZE),13b) $(BENCH_FLAGS)

docker-lint: setup ## lint the Dockerfile (no Docker engine needed)
	$(VENV)/bin/hadolint Dockerfile

docker-build: ## build the CUDA image (needs a Docker engine)
	docker build -t audiorepro:latest .

include $(wildcard make/*.mk)

# Every target that runs audiorepro needs the environment first (a no-op once it exists).
compare-prior reproduce-table3 $(TABLE3_TARGETS) sakura sakura-fixture sakura-text sakura-judge: | $(STAMP)
