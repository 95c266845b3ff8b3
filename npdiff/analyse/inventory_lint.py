"""Warnings that need an inventory: W-07, a named port that no workload declares (semantics.md
§5.4), and, under --inventory-only, namespaces whose labels the inventory does not give."""

from __future__ import annotations

from collections.abc import Sequence

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
                found.append(Diagnostic(policy_set.file_of(span), span.line, Severity.WARNING, W_07, path,
                                        f"no workload of the inventory declares a {spec.protocol} port "
                                        f"named {spec.port!r}: on inventory pods this entry matches nothing"))
    return found


def namespace_object_warnings(inventory: Inventory) -> list[Diagnostic]:
    """Under --inventory-only, a namespace with workloads but no Namespace object has only
    its name label, so namespaceSelectors on other labels never match its pods: say so."""
    found = []
    for name in sorted({w.namespace for w in inventory.workloads}):
        if inventory.namespace(name) is not None:
            continue
        first = next(w for w in inventory.workloads if w.namespace == name)
        span = first.span or Span("", 0)
        found.append(Diagnostic(span.file, span.line, Severity.WARNING, "W-WL", "metadata.namespace",
                                f"namespace {name!r} has no Namespace object in the inventory: under "
                                f"--inventory-only its pods' namespace has no labels but its name"))
    return found


def inventory_warnings(sides: Sequence[tuple[PolicySet, Inventory]], inventory_only: bool) -> list[Diagnostic]:
    """Every side's warnings: each policy set checked against its own side's inventory."""
    found = []
    for policy_set, inventory in sides:
        found += named_port_warnings(policy_set, inventory)
        if inventory_only:
            found += namespace_object_warnings(inventory)
    return found
