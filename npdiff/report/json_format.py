"""`-o json`: versioned, sorted, byte-for-byte stable JSON documents."""

from __future__ import annotations

import json
from collections.abc import Sequence

from npdiff.model.result import DiffResult, FlowDecision
from npdiff.report import records

DIFF_SCHEMA = "npdiff/diff/v1"


def _dump(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def render_diff(result: DiffResult) -> str:
    return _dump({
        "schema": DIFF_SCHEMA,
        "verdict": result.verdict.value,
        "complete": result.complete,
        "reason": result.reason,
        "universe": "symbolic",
        "semantics": result.semantics.flags(),
        "summary": {
            "old_policies": result.old_count,
            "new_policies": result.new_count,
            "newly_allowed": len(result.newly_allowed),
            "newly_blocked": len(result.newly_blocked),
            "changed_objects": len(result.changes),
        },
        "newly_allowed": [records.flow_class(c) for c in result.newly_allowed],
        "newly_blocked": [records.flow_class(c) for c in result.newly_blocked],
        "changes": [records.change(c) for c in result.changes],
        "warnings": [records.diagnostic(d) for d in result.warnings],
    })


def render_decisions(decisions: Sequence[FlowDecision]) -> str:
    return _dump([records.decision(d, with_flow=True) for d in decisions])
