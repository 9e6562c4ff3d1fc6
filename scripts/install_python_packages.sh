#!/usr/bin/env bash
# The Python environment: torch pinned first (so pip never pulls a CUDA build on a CPU machine;
# in the CUDA image the same pin is already satisfied by the base image's torch), then every
# other package from the hash-locked requirements/lock.txt without resolution, then audiorepro.
# `make setup` and the Dockerfile both run this script; `make setup-qwen-audio-chat` runs it with
# LOCK=requirements/qwen-audio-chat.lock.txt PROJECT=0 for the Qwen-Audio-Chat worker environment
# (its own transformers; the worker script needs no audiorepro install).
set -euo pipefail

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
VENV_FLAGS=${VENV_FLAGS:-}
LOCK=${LOCK:-requirements/lock.txt}
PROJECT=${PROJECT:-1}

if [[ ! -x "$VENV/bin/python" ]]; then
  # shellcheck disable=SC2086
  "$PYTHON" -m venv $VENV_FLAGS "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet "$TORCH_SPEC"
"$VENV/bin/python" -m pip install --quiet --no-deps --require-hashes -r "$LOCK"
if [[ "$PROJECT" == 1 ]]; then
  "$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
fi
"$VENV/bin/python" -c "import torch, transformers; print('python env ok: torch', torch.__version__, '| transformers', transformers.__version__)"
