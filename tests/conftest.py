"""Shared test setup: helpers in tests/ importable under any import mode; no user result cache."""

import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))  # `import oracle`, `from examples.catalogue import CASES`


@pytest.fixture(autouse=True)
def _no_result_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or fills the user's result cache; tests/test_cache.py opts back in."""
    monkeypatch.setenv("NPDIFF_NO_CACHE", "1")
