"""Shared test setup: helpers in tests/ importable under any import mode; no user result cache."""

import sys
from pathlib import Path

import pytest
import z3

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))  # `import oracle`, `from examples.catalogue import CASES`


@pytest.fixture(autouse=True)
def _no_result_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or fills the user's result cache; tests/test_cache.py opts back in."""
    monkeypatch.setenv("NPDIFF_NO_CACHE", "1")


@pytest.fixture
def every_check_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every solver check, wherever it is asked, answers unknown as on a timeout."""
    monkeypatch.setattr(z3.Solver, "check", lambda self, *assumptions: z3.unknown)
    # npdiff's checks call the C API directly (encode/solver.py).
    monkeypatch.setattr(z3, "Z3_solver_check_assumptions", lambda ctx, solver, count, assumptions: z3.Z3_L_UNDEF)
    monkeypatch.setattr(z3.Solver, "reason_unknown", lambda self: "timeout")
