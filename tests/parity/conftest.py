"""Fixtures shared by the parity tests: the tiny golden SALMONN fixture's folder and fixture.json."""

from salmonn_helpers import fixture_info, root  # noqa: F401  (pytest fixtures)
