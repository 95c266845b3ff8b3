"""`-o json`: versioned, sorted, byte-for-byte stable JSON documents."""

from __future__ import annotations

from collections.abc import Sequence

from npdiff.model.invariant import InvariantStatus, VerifyResult
from npdiff.model.result import DiffResult, FlowDecision
from npdiff.report import inventory_records, json_text, records

DIFF_SCHEMA = "npdiff/diff/v1"
VERIFY_SCHEMA = "npdiff/verify/v1"


def _dump(value: object) -> str:
    return json_text.dumps(value) + "\n"


def render_diff(result: DiffResult) -> str:
    return _dump({
        "schema": DIFF_SCHEMA,
        "verdict": result.verdict.value,
        "complete": result.complete,
        "reason": result.reason,
        "universe": "inventory" if result.inventory is not None and result.inventory.only else "symbolic",
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
        **inventory_records.inventory(result.inventory),
        "warnings": [records.diagnostic(d) for d in result.warnings],
        **({"invariants": records.invariant_review(result.invariants)} if result.invariants is not None else {}),
    })


def render_decisions(decisions: Sequence[FlowDecision]) -> str:
    return _dump([records.decision(d, with_flow=True) for d in decisions])


def render_verify(result: VerifyResult) -> str:
    return _dump({
        "schema": VERIFY_SCHEMA,
        "verdict": result.verdict.value,
        "universe": "symbolic",
        "semantics": result.semantics.flags(),
        "summary": {"policies": result.policy_count, "invariants": len(result.results),
                    **{s.value: result.count(s) for s in InvariantStatus}},
        "exempt": records.exempt(result.exempt),
        "invariants": [records.invariant_result(r) for r in result.results],
        "warnings": [records.diagnostic(d) for d in result.warnings],
    })
