"""Test tiers: unit (fast, no weights), parity (tiny golden weights), pipeline (end to end on
bundled data), gpu (real checkpoints). Slow, network and GPU tests are skipped by default with a
reason that says how to run them."""

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"

_OPT_IN = {
    "slow": ("--run-slow", "AUDIOREPRO_RUN_SLOW", "slow test: run with --run-slow or AUDIOREPRO_RUN_SLOW=1"),
    "gpu": ("--run-gpu", "AUDIOREPRO_RUN_GPU", "needs a CUDA GPU (some tests also real checkpoints): run with --run-gpu or make test-gpu"),
    "network": ("--run-network", "AUDIOREPRO_RUN_NETWORK", "needs network downloads: run with --run-network"),
}


def pytest_addoption(parser):
    for flag, _env, help_text in _OPT_IN.values():
        parser.addoption(flag, action="store_true", default=False, help=help_text)


def pytest_collection_modifyitems(config, items):
    for marker, (flag, env, reason) in _OPT_IN.items():
        if config.getoption(flag) or os.environ.get(env) == "1":
            continue
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
