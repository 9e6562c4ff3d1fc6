"""The GPU tests (opt in with --run-gpu): they reuse the parity fixture's helpers and fixtures, and
skip with a reason when --run-gpu was given on a machine without CUDA."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "parity"))
from salmonn_helpers import fixture_info, root  # noqa: E402, F401  (pytest fixtures)


@pytest.fixture(scope="session", autouse=True)
def _needs_cuda():
    # a fixture, not a skipif mark: without --run-gpu the gpu marker's reason (how to run) is shown;
    # session scope, so it runs before the module-scoped models that would load onto CUDA
    if not torch.cuda.is_available():
        pytest.skip("--run-gpu was given but there is no CUDA device")
