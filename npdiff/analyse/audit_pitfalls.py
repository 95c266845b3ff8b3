"""The audit's pitfalls that need no solver: dead rules outside policyTypes (W-01),
allow-everything rules and one-family catch-alls (W-06), the default-deny idiom, and,
when the input holds Namespace objects or workloads, namespace selectors on labels no
Namespace carries, policies that select no workload, and pod-selector peers that look
for pods in the wrong namespace.
"""

from __future__ import annotations

from collections.abc import Iterator

from npdiff.analyse.audit_refs import policy_ref, rule_ref
from npdiff.analyse.audit_inventory import AuditInventory
from npdiff.model import LabelSelector, NetworkPolicy, PolicySet, Rule
from npdiff.model.finding import ElementRef, Finding, FindingSeverity
from npdiff.model.flow import METADATA_NAME
from npdiff.model.policy import Direction
from npdiff.model.selector import Operator

INFO, WARNING, ERROR = FindingSeverity.INFO, FindingSeverity.WARNING, FindingSeverity.ERROR
_CATCH_ALL = {"0.0.0.0/0": ("IPv4", "::/0", "IPv6"), "::/0": ("IPv6", "0.0.0.0/0", "IPv4")}


def _ref(policy: NetworkPolicy, rule: Rule | None = None, peer: int | None = None) -> ElementRef:
    return policy_ref(policy) if rule is None else rule_ref(policy, rule, peer)


def pitfalls(policy_set: PolicySet, inventory: AuditInventory) -> list[Finding]:
    found: list[Finding] = []
    for policy in policy_set.policies:
        found.extend(_dead_rules(policy))
        found.extend(_default_deny(policy))
        for direction in sorted(policy.policy_types, key=lambda d: d.value):
            for rule in policy.rules(direction):
                found.extend(_allow_all(policy, rule))
                if inventory.namespaces is not None:
                    found.extend(_namespace_labels(policy, rule, inventory.namespaces))
        if inventory.workloads is not None:
            found.extend(_selects_nothing(policy, inventory))
            for direction in sorted(policy.policy_types, key=lambda d: d.value):
                for rule in policy.rules(direction):
                    found.extend(_namespace_scope(policy, rule, inventory))
    return found


def _dead_rules(policy: NetworkPolicy) -> Iterator[Finding]:
    types = ", ".join(sorted(d.policy_type for d in policy.policy_types))
    for direction in Direction:
        if policy.applies(direction):
            continue
        for rule in policy.rules(direction):
            yield Finding("dead-rule", WARNING, _ref(policy, rule),
                          f"never used: policyTypes [{types}] does not list {direction.policy_type} "
                          f"(W-01, S3.3.5); add {direction.policy_type} to policyTypes or delete the rule")


def _default_deny(policy: NetworkPolicy) -> Iterator[Finding]:
    empty = [d.value for d in sorted(policy.policy_types, key=lambda d: d.value) if not policy.rules(d)]
    if not empty:
        return
    who = "every pod of its namespace" if policy.pod_selector.matches_all else "the pods it selects"
    where = " and ".join(empty)
    yield Finding("default-deny", INFO, _ref(policy),
                  f"isolates {who} for {where} and allows nothing there: the default-deny idiom "
                  f"(S3.3.4); only other policies' rules allow {where} traffic of these pods")


def _allow_all(policy: NetworkPolicy, rule: Rule) -> Iterator[Finding]:
    remote = "source" if rule.direction is Direction.INGRESS else "destination"
    on = "on every port and protocol" if not rule.ports else "on its ports"
    if not rule.peers:
        key = "from" if rule.direction is Direction.INGRESS else "to"
        yield Finding("allow-all", INFO if rule.ports else WARNING, _ref(policy, rule),
                      f"no `{key}` peers: allows every {remote} (any pod, node or address) {on} (S3.4.2)")
        return
    cidrs = {p.ip_block.cidr for p in rule.peers if p.ip_block is not None and not p.ip_block.excepts}
    for index, peer in enumerate(rule.peers):
        if peer.ip_block is None or peer.ip_block.excepts or peer.ip_block.cidr not in _CATCH_ALL:
            continue
        family, other, other_family = _CATCH_ALL[peer.ip_block.cidr]
        gap = "" if other in cidrs else f"; {other_family} is not covered: add {other} if that was meant (W-06)"
        yield Finding("allow-all", WARNING, _ref(policy, rule, index),
                      f"{peer.ip_block.cidr} allows every {family} {remote} address {on}{gap}")


def _namespace_labels(policy: NetworkPolicy, rule: Rule, namespaces: dict[str, dict[str, str]]) -> Iterator[Finding]:
    for index, peer in enumerate(rule.peers):
        selector = peer.namespace_selector
        if selector is None:
            continue
        for req in selector.requirements:
            if req.key == METADATA_NAME or req.operator not in (Operator.IN, Operator.EXISTS):
                continue
            carried = sorted({labels[req.key] for labels in namespaces.values() if req.key in labels})
            if req.operator is Operator.EXISTS and carried:
                continue
            if req.operator is Operator.IN and set(req.values) & set(carried):
                continue
            wanted = req.key if req.operator is Operator.EXISTS else (
                f"{req.key}={req.values[0]}" if len(req.values) == 1 else f"{req.key} in ({', '.join(req.values)})")
            hint = ""
            if req.key == "name" and req.operator is Operator.IN:
                hint = f"; did you mean {METADATA_NAME}: {req.values[0]}?"
            elif carried:
                hint = f"; Namespaces carry {req.key} in ({', '.join(carried)})"
            yield Finding("namespace-label-missing", ERROR, _ref(policy, rule, index),
                          f"namespaceSelector needs {wanted}, which no Namespace object of the input "
                          f"carries ({len(namespaces)} given): this peer matches no namespace of the "
                          f"input{hint}")


def matches(selector: LabelSelector, labels: dict[str, str]) -> bool:
    """A concrete label selector match (S2.3)."""
    for req in selector.requirements:
        value = labels.get(req.key)
        if req.operator is Operator.IN and value not in req.values:
            return False
        if req.operator is Operator.NOT_IN and value is not None and value in req.values:
            return False
        if req.operator is Operator.EXISTS and value is None:
            return False
        if req.operator is Operator.DOES_NOT_EXIST and value is not None:
            return False
    return True


def _selects_nothing(policy: NetworkPolicy, inventory: AuditInventory) -> Iterator[Finding]:
    assert inventory.workloads is not None
    local = [w for w in inventory.workloads if w.namespace == policy.namespace]
    if any(matches(policy.pod_selector, dict(w.labels)) for w in local):
        return
    yield Finding("selects-nothing", WARNING, _ref(policy),
                  f"podSelector matches none of the {len(local)} workload(s) of namespace "
                  f"{policy.namespace!r} in the input ({len(inventory.workloads)} in all): the "
                  "policy has no effect on them")


def _namespace_scope(policy: NetworkPolicy, rule: Rule, inventory: AuditInventory) -> Iterator[Finding]:
    """A `podSelector`-only peer matches pods of the policy's own namespace (S3.5.1):
    when none there matches but workloads of other namespaces do, a namespaceSelector
    was probably forgotten."""
    assert inventory.workloads is not None
    for index, peer in enumerate(rule.peers):
        if peer.pod_selector is None or peer.namespace_selector is not None or peer.pod_selector.matches_all:
            continue
        matching = [w for w in inventory.workloads if matches(peer.pod_selector, dict(w.labels))]
        if not matching or any(w.namespace == policy.namespace for w in matching):
            continue
        elsewhere = sorted({w.namespace for w in matching})
        shown = ", ".join(elsewhere[:3]) + (", ..." if len(elsewhere) > 3 else "")
        yield Finding("peer-namespace-scope", WARNING, _ref(policy, rule, index),
                      f"this podSelector peer matches pods of namespace {policy.namespace!r} only "
                      f"(S3.5.1), where no workload of the input matches it; matching workloads are "
                      f"in {shown}: add a namespaceSelector to the same peer if they were meant")
