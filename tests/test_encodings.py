"""Every SMT-LIB example in encodings/examples/ gives the answer its header promises.

Each `encodings/examples/*.smt2` file is a hand-written instance of npdiff's encoding
(encodings/README.md) with exactly one header line `; expect: sat` or `; expect: unsat`.
The file's assertions are loaded into a fresh z3 solver and checked; `unknown` fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import z3

ENCODINGS = Path(__file__).resolve().parent.parent / "encodings"
EXAMPLES = ENCODINGS / "examples"
EXPECT = re.compile(r"^; expect: (sat|unsat)[ \t]*$", re.MULTILINE)
TIMEOUT_MS = 30_000


def example_files() -> list[Path]:
    return sorted(EXAMPLES.glob("*.smt2"))


def expected_answer(path: Path) -> str:
    found = EXPECT.findall(path.read_text(encoding="utf-8"))
    assert len(found) == 1, f"{path.name}: need exactly one '; expect: sat|unsat' line, found {len(found)}"
    return found[0]


def test_examples_exist():
    assert len(example_files()) >= 5, f"expected at least 5 SMT-LIB examples in {EXAMPLES}"


def test_encodings_is_not_a_python_package():
    # The name would shadow the standard library's `encodings` (design.md §2).
    python_files = sorted(p.name for p in ENCODINGS.rglob("*.py"))
    assert python_files == [], f"encodings/ must hold no Python files: {python_files}"


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_example_answer(path: Path):
    expected = expected_answer(path)
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    solver.from_file(str(path))
    assert solver.assertions(), f"{path.name}: no assertions were loaded"
    answer = solver.check()
    assert answer != z3.unknown, f"{path.name}: z3 answered unknown ({solver.reason_unknown()})"
    assert str(answer) == expected, f"{path.name}: z3 says {answer}, header expects {expected}"
