"""Shared test setup: make the helpers in tests/ importable under any import mode."""

import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))  # `import oracle`, `from examples.catalogue import CASES`
