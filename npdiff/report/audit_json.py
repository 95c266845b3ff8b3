"""`npdiff audit -o json`: schema `npdiff/audit/v1`, sorted and byte-for-byte stable."""

from __future__ import annotations

import json

from npdiff.model.finding import AuditResult, ElementRef, Finding, FindingSeverity
from npdiff.report import records

AUDIT_SCHEMA = "npdiff/audit/v1"


def _ref(ref: ElementRef) -> dict:
    out: dict = {"policy": ref.policy, "direction": ref.direction, "rule": ref.rule}
    if ref.peer is not None:
        out["peer"] = ref.peer
    if ref.port is not None:
        out["port"] = ref.port
    out.update(file=ref.file, line=ref.line)
    return out


def finding(f: Finding) -> dict:
    e = f.element
    out: dict = {"id": f.id, "severity": f.severity.value, "policy": e.policy,
                 "direction": e.direction, "rule": e.rule}
    if e.peer is not None:
        out["peer"] = e.peer
    if e.port is not None:
        out["port"] = e.port
    out.update(file=e.file, line=e.line, covered_by=[_ref(r) for r in f.covered_by])
    if f.blocked_by:
        out["blocked_by"] = [_ref(r) for r in f.blocked_by]
    out["message"] = f.message
    return out


def render(result: AuditResult) -> str:
    return json.dumps({
        "schema": AUDIT_SCHEMA,
        "universe": "symbolic",
        "semantics": result.semantics.flags(),
        "summary": {"policies": result.policy_count, "findings": len(result.findings),
                    **{s.value: result.count(s) for s in reversed(FindingSeverity)},
                    "undecided": len(result.undecided),
                    "namespace_objects": result.namespace_objects,
                    "workload_objects": result.workload_objects},
        "findings": [finding(f) for f in result.findings],
        "undecided": [{**_ref(u.element), "check": u.check, "reason": u.reason} for u in result.undecided],
        "warnings": [records.diagnostic(d) for d in result.warnings],
    }, indent=2, ensure_ascii=False) + "\n"
