#!/usr/bin/env bash
# The GPU measurements of docs/performance.md in one go, on one CUDA card (random full-size
# weights: no checkpoint is needed):
#   1. the SALMONN parity fixture on CUDA in float32 against the CPU goldens (tests/gpu/);
#   2. SALMONN-13B, Qwen2-Audio-7B-Instruct and SALMONN-7B throughput, memory and batched-vs-single
#      ids (python -m audiorepro.bench), in that order, each under its own time limit.
# Usage, from the repository root (a .venv made by `make setup-gpu`, or any python3 with torch,
# transformers, peft, accelerate and the project's requirements):
#   OUT=reports/gpu bash scripts/gpu_checks.sh
# Writes $OUT/log.txt and $OUT/bench_gpu_{13b,qwen2-audio,7b}.{json,md}.
set -u
OUT=${OUT:-reports/gpu}
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
mkdir -p "$OUT"
LOG=$OUT/log.txt
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"

step() {  # step SECONDS command...: runs it under a time limit, logs its output and exit status
  local limit=$1
  shift
  echo "== $(date -u +%H:%M:%S) $*" | tee -a "$LOG"
  timeout "$limit" "$@" 2>&1 | tee -a "$LOG"
  echo "== exit ${PIPESTATUS[0]}" | tee -a "$LOG"
}

{
  echo "== machine"
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv 2>&1
  "$PYTHON" -c 'import platform, torch, transformers, peft, accelerate
print("python", platform.python_version(), "torch", torch.__version__, "cuda", torch.version.cuda,
      "transformers", transformers.__version__, "peft", peft.__version__, "accelerate", accelerate.__version__)'
} 2>&1 | tee -a "$LOG"

step "${PARITY_LIMIT:-90}" "$PYTHON" -m pytest -q -p no:cacheprovider --run-gpu -rA \
  tests/gpu/test_parity_cuda.py tests/gpu/test_placement_gpu.py -k "not 8bit"
step "${LIMIT_13B:-200}" "$PYTHON" -m audiorepro.bench --device cuda --size 13b \
  --batch-sizes 1,8,16,32 --items 32 --reference-items 6 --new-tokens 200 --out "$OUT"
step "${LIMIT_QWEN:-170}" "$PYTHON" -m audiorepro.bench --device cuda --size qwen2-audio \
  --batch-sizes 1,8,16,32 --items 32 --reference-items 6 --new-tokens 256 --out "$OUT"
step "${LIMIT_7B:-110}" "$PYTHON" -m audiorepro.bench --device cuda --size 7b \
  --batch-sizes 1,8,16,32 --items 32 --reference-items 4 --new-tokens 200 --out "$OUT"
echo "== $(date -u +%H:%M:%S) done" | tee -a "$LOG"
