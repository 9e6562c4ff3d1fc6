#!/usr/bin/env bash
# The Python environment: torch pinned first (so pip never pulls a CUDA build on a CPU machine;
# in the CUDA image the same pin is already satisfied by the base image's torch), then every
# other package from the hash-locked requirements/lock.txt without resolution, then audiorepro.
# `make setup` and the Dockerfile both run this script.
set -euo pipefail

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
VENV_FLAGS=${VENV_FLAGS:-}

if [[ ! -x "$VENV/bin/python" ]]; then
  # shellcheck disable=SC2086
  "$PYTHON" -m venv $VENV_FLAGS "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet "$TORCH_SPEC"
"$VENV/bin/python" -m pip install --quiet --no-deps --require-hashes -r requirements/lock.txt
"$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
"$VENV/bin/python" -c "import torch, transformers; print('python env ok: torch', torch.__version__, '| transformers', transformers.__version__)"
