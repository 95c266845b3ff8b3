"""report/json_text.py writes what json.dumps(value, indent=2, ensure_ascii=False) writes."""

from __future__ import annotations

import json
from enum import Enum

from hypothesis import given, settings
from hypothesis import strategies as st

from npdiff.report.json_text import dumps


class Word(str, Enum):
    ONE = "one"


SCALARS = (st.none() | st.booleans() | st.integers() | st.floats() | st.text()
           | st.sampled_from([Word.ONE, True, 2**70, -0.0, float("nan"), float("inf"), "\u2028é\"\\\n\t%s"]))
KEYS = st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(KEYS, inner, max_size=4), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_the_text_of_json_dumps(value: object) -> None:
    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_the_shapes_of_a_report() -> None:
    warning = {"severity": "warning", "code": "W-09", "file": "a.yaml", "line": 3, "path": "", "message": "…"}
    value = {"schema": "npdiff/diff/v1", "complete": False, "summary": {"old": 1, "new": None},
             "newly_allowed": [], "labels": {}, "ports": [[80, 80], [443, 444]],
             "warnings": [warning, warning], "nested": [[], [{}], [[1]], {"a": {"b": []}}]}
    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=False)
