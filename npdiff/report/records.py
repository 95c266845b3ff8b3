"""Result records as plain JSON-ready values (design.md §4.2 flows, §4.3 diffs), and the
one worded view of a flow class (`ClassView`) that every other format renders."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

from npdiff.model import Address, Flow, Pod
from npdiff.model.diagnostic import Diagnostic
from npdiff.model.invariant import (
    Invariant, InvariantChange, InvariantResult, InvariantReview, ViolationClass,
)
from npdiff.model.result import (
    DiffResult, DirectionDecision, DirectionStatus, EndpointRegion, FlowClass, FlowDecision,
    ObjectChange, RuleRef, ValueConstraint,
)
from npdiff.report import inventory_records
from npdiff.report.text import decision_lines, flow_text, ports_text, ref_text, region_text
from npdiff.report.workloads_text import class_workload_lines


def endpoint(ep: Pod | Address) -> dict:
    if isinstance(ep, Address):
        out: dict = {"ip": ep.ip}
        if ep.local_node:
            out["local_node"] = True
        return out
    out = {
        "namespace": ep.namespace,
        "labels": dict(sorted(ep.labels)),
        "namespace_labels": dict(sorted(ep.namespace_labels)),
        "ports": [{"name": p.name, "port": p.port, "protocol": p.protocol} for p in ep.ports],
    }
    if ep.ip is not None:
        out["ip"] = ep.ip
    if ep.name is not None:
        out["name"] = ep.name
    if ep.workload is not None:
        out["workload"] = ep.workload
    return out


def flow(f: Flow) -> dict:
    return {"src": endpoint(f.src), "dst": endpoint(f.dst), "protocol": f.protocol, "port": f.port}


def rule_ref(ref: RuleRef) -> dict:
    return {"policy": ref.policy, "direction": ref.direction, "rule": ref.rule,
            "file": ref.file, "line": ref.line}


def direction(d: DirectionDecision) -> dict:
    return {"status": d.status.value,
            "isolated_by": [rule_ref(r) for r in d.isolated_by],
            "allowed_by": [rule_ref(r) for r in d.allowed_by]}


def decision(d: FlowDecision, with_flow: bool = False) -> dict:
    out: dict = {"flow": flow(d.flow)} if with_flow else {}
    out.update({"allowed": d.allowed, "egress": direction(d.egress), "ingress": direction(d.ingress)})
    return out


def constraint(c: ValueConstraint) -> dict:
    return {"key": c.key, "op": c.op, "values": list(c.values)}


def region(r: EndpointRegion) -> dict:
    return {
        "kind": r.kind,
        "namespace": None if r.namespace is None else {"op": r.namespace.op, "values": list(r.namespace.values)},
        "named_namespaces_in": list(r.named_namespaces_in),
        "labels": [constraint(c) for c in r.labels],
        "namespace_labels": [constraint(c) for c in r.namespace_labels],
        "named_ports": [{"name": n, "serves_port": s} for n, s in r.named_ports],
        "addresses": list(r.addresses),
        "family": r.family,
    }


def _class_region(c: FlowClass | ViolationClass) -> dict:
    """What every class record shares: its region and its witness."""
    return {
        "src": region(c.src),
        "dst": region(c.dst),
        "protocols": list(c.protocols),
        "ports": [list(p) for p in c.ports],
        "witness": flow(c.witness),
    }


def flow_class(c: FlowClass) -> dict:
    return {**_class_region(c), "old": decision(c.old), "new": decision(c.new),
            **inventory_records.class_workloads(c.workloads)}


def change(c: ObjectChange) -> dict:
    return {"kind": c.kind, "namespace": c.namespace, "name": c.name, "change": c.change,
            "file": c.file, "line": c.line, "fields": list(c.fields)}


def diagnostic(d: Diagnostic) -> dict:
    return {"severity": d.severity.value, "code": d.code, "file": d.file, "line": d.line,
            "path": d.path, "message": d.message}


# -- invariants (npdiff verify, and the invariants section of a diff) ------------------------

def exempt(items: tuple[tuple[str, str], ...]) -> list[dict]:
    return [{"rule": rule, "traffic": traffic} for rule, traffic in items]


def violation_class(c: ViolationClass) -> dict:
    return {**_class_region(c), "decision": decision(c.decision)}


def _invariant(i: Invariant) -> dict:
    return {"name": i.name, "kind": i.kind.value, "preset": i.preset, "scope": i.scope.value,
            "file": i.span.file if i.span else "", "line": i.span.line if i.span else 0}


def _explanation(r: InvariantResult | None) -> dict:
    """Witness, rules and classes of a violated result; empty values otherwise."""
    witness = r.witness if r is not None else None
    return {
        "complete": r.complete if r is not None else True,
        "reason": r.reason if r is not None else "",
        "witness": flow(witness.flow) if witness else None,
        "decision": decision(witness) if witness else None,
        "decided_by": [rule_ref(ref) for ref in r.decided_by] if r is not None else [],
        "classes": [violation_class(c) for c in r.classes] if r is not None else [],
    }


def invariant_result(r: InvariantResult) -> dict:
    return {**_invariant(r.invariant), "status": r.status.value, **_explanation(r)}


def invariant_change(c: InvariantChange) -> dict:
    """Both statuses; the side that violates a broken (new) or repaired (old) invariant
    explains itself."""
    explained = {"broken": c.new, "repaired": c.old}.get(c.change)
    return {**_invariant(c.new.invariant), "old": c.old.status.value, "new": c.new.status.value,
            "change": c.change, **_explanation(explained)}


def invariant_review(review: InvariantReview) -> dict:
    return {
        "summary": {change: review.count(change) for change in ("broken", "repaired", "unchanged")},
        "exempt": exempt(review.exempt),
        "results": [invariant_change(c) for c in review.changes],
    }


# -- the worded view of a flow class (markdown, sarif, github, brief, dot, mermaid) ----------

NEWLY_ALLOWED = "newly-allowed"
NEWLY_BLOCKED = "newly-blocked"
KIND_TITLES = {NEWLY_ALLOWED: "Newly allowed", NEWLY_BLOCKED: "Newly blocked"}


@dataclass(frozen=True)
class ClassView:
    """One flow class in words, the same in every format but text and json.

    Whatever a class gains (e.g. the workloads it affects) is added here once, in
    `class_view`, for markdown, sarif, github, brief, dot and mermaid alike.
    """

    kind: str                       # NEWLY_ALLOWED | NEWLY_BLOCKED
    number: int                     # 1-based, within its kind
    src: str
    dst: str
    ports: str
    witness: str
    old: tuple[str, ...]            # "blocked; ingress: ...", then one line per further direction
    new: tuple[str, ...]
    anchor: RuleRef | None          # the rule or policy that decides the class (see deciding_rule)
    anchor_side: str                # "new", "old" (NEW has none), or "" (no anchor)
    fingerprint: str                # stable across runs and line moves: a hash of kind and region
    flow_class: FlowClass
    workloads: tuple[str, ...] = () # with an inventory: "workloads from …", "to …"

    @property
    def anchor_text(self) -> str:
        if self.anchor is None:
            return "no policy decides it"
        return ref_text(self.anchor) + (" in OLD: NEW has no policy deciding it" if self.anchor_side == "old" else "")


def class_views(result: DiffResult) -> tuple[ClassView, ...]:
    """Every flow class of a diff, newly allowed first, in the result's order."""
    changed = {f"{c.namespace}/{c.name}": c.fields for c in result.changes
               if c.change != "removed" and c.kind == "NetworkPolicy"}
    return (*(class_view(c, NEWLY_ALLOWED, n, changed) for n, c in enumerate(result.newly_allowed, 1)),
            *(class_view(c, NEWLY_BLOCKED, n, changed) for n, c in enumerate(result.newly_blocked, 1)))


def class_view(c: FlowClass, kind: str, number: int,
               changed: Mapping[str, tuple[str, ...]] = MappingProxyType({})) -> ClassView:
    anchor, side = deciding_rule(c, changed)
    return ClassView(kind=kind, number=number, src=region_text(c.src), dst=region_text(c.dst),
                     ports=ports_text(c.protocols, c.ports), witness=flow_text(c.witness),
                     old=_decision_summary(c.old), new=_decision_summary(c.new),
                     anchor=anchor, anchor_side=side, fingerprint=class_fingerprint(c, kind), flow_class=c,
                     workloads=tuple(" ".join(line.split()) for line in class_workload_lines(c)))


def _decision_summary(d: FlowDecision) -> tuple[str, ...]:
    first, *rest = decision_lines(d)
    return (f"{'allowed' if d.allowed else 'blocked'}; {first}", *rest)


def deciding_rule(c: FlowClass, changed: Mapping[str, tuple[str, ...]] = MappingProxyType({})
                  ) -> tuple[RuleRef | None, str]:
    """The NEW rule that now admits the witness, or the NEW policy that now isolates it;
    the OLD policy that isolated it when NEW has none (deleted, or no longer selecting).

    Only directions whose outcome flipped count; a policy the change touched is preferred,
    and within a rule the matching peer or port entry the change touched (`changed` maps
    each changed policy to its changed field paths), so the anchor lands on a changed line.
    """
    new_refs: list[RuleRef] = []
    old_refs: list[RuleRef] = []
    for before, after in ((c.old.ingress, c.new.ingress), (c.old.egress, c.new.egress)):
        if before.status.allows == after.status.allows:
            continue
        if after.status is DirectionStatus.ALLOWED:
            new_refs += after.allowed_by
        elif after.status is DirectionStatus.DENIED:
            new_refs += after.isolated_by
        else:
            old_refs += before.isolated_by
    for refs, side in ((new_refs, "new"), (old_refs, "old")):
        if refs:
            ref = sorted(refs, key=lambda r: r.policy not in changed)[0]
            return (_changed_part(ref, changed.get(ref.policy, ())) if side == "new" else ref), side
    return None, ""


def _changed_part(ref: RuleRef, fields: tuple[str, ...]) -> RuleRef:
    """`ref` pointing at the line of its matching peer or port entry that a change touched."""
    for part, line in ref.parts:
        path = f"spec.{ref.direction}[{ref.rule}].{part}"
        if any(f == path or f.startswith((path + ".", path + "[")) for f in fields):
            return replace(ref, line=line)
    return ref


def class_fingerprint(c: FlowClass, kind: str) -> str:
    """A hash of what the class is (its kind and region), never of where its rules are."""
    identity = {"kind": kind, "src": region(c.src), "dst": region(c.dst),
                "protocols": list(c.protocols), "ports": [list(p) for p in c.ports]}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]
