"""Warnings that need an inventory: W-07, a named port that no workload declares (semantics.md §5.4)."""

from __future__ import annotations

from npdiff.model import Diagnostic, PolicySet, Severity, Span
from npdiff.model.inventory import Inventory

W_07 = "W-07"


def named_port_warnings(policy_set: PolicySet, inventory: Inventory) -> list[Diagnostic]:
    """One warning per policy port entry whose name no workload of the inventory declares
    for that protocol; nothing without workloads (symbolic pods may declare any name)."""
    if not inventory.workloads:
        return []
    declared = {(p.name, p.protocol) for w in inventory.workloads for p in w.ports if p.name}
    found = []
    for policy in policy_set.policies:
        for rule in policy.ingress + policy.egress:
            for index, spec in enumerate(rule.ports):
                if not isinstance(spec.port, str) or (spec.port, spec.protocol) in declared:
                    continue
                span = spec.span or rule.span or policy.span or Span("", 0)
                path = f"spec.{rule.direction.value}[{rule.index}].ports[{index}].port"
                found.append(Diagnostic(span.file, span.line, Severity.WARNING, W_07, path,
                                        f"no workload of the inventory declares a {spec.protocol} port "
                                        f"named {spec.port!r}: on inventory pods this entry matches nothing"))
    return found
