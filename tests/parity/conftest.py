"""Fixtures shared by the parity tests: the tiny golden SALMONN fixture's folder and fixture.json."""

from __future__ import annotations

import pytest
from salmonn_helpers import read_fixture_info


@pytest.fixture(scope="module")
def root(fixtures_dir):
    return fixtures_dir / "salmonn_parity"


@pytest.fixture(scope="module")
def fixture_info(root):
    return read_fixture_info(root)
