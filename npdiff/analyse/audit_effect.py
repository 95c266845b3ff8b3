"""The audit's findings about effect rather than redundancy: ineffective rules (the other
end's direction denies every flow the rule admits) and egress isolation without DNS
(W-11, decided per pod). Both ask the namespace's solver of `audit.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from npdiff.analyse.audit_refs import cite_all, policy_ref, rule_ref
from npdiff.analyse.overlap import selectors_may_overlap
from npdiff.encode import Undecided
from npdiff.encode.assumptions import AssumptionSolver, GuardedDirection, rule_key
from npdiff.model import NetworkPolicy, Peer, Rule
from npdiff.model.dns import rule_may_allow_dns
from npdiff.model.finding import ElementRef, Finding, FindingSeverity
from npdiff.model.flow import METADATA_NAME
from npdiff.model.policy import Direction

if TYPE_CHECKING:
    from npdiff.analyse.audit import _Audit

WARNING, ERROR = FindingSeverity.WARNING, FindingSeverity.ERROR
_OTHER = {Direction.INGRESS: Direction.EGRESS, Direction.EGRESS: Direction.INGRESS}


def ineffective_rules(run: _Audit, solver: AssumptionSolver, group: GuardedDirection,
                      live: tuple[NetworkPolicy, ...]) -> None:
    """Rules that match flows of which the other end's direction denies every one."""
    other = _OTHER[group.direction]
    for policy in live:
        for rule in policy.rules(group.direction):
            if rule_key(policy, rule) in run.removed:
                continue
            namespaces = _remote_namespaces(policy, rule, run.encoder.universe.namespaces)
            if namespaces is None:
                continue
            sides = [run.group(ns, other) for ns in namespaces]
            if not all(side.policies for side in sides):
                continue  # some admitted end is not isolated on its side
            # Only policies that may select an admitted end can block it.
            blockers = [q for side in sides for q in side.policies
                        if any(q.namespace in _peer_namespaces(peer, policy.namespace)
                               and selectors_may_overlap(peer.pod_selector, q.pod_selector)
                               for peer in rule.peers)]
            body = group.admitted_but_blocked(policy, rule, [
                side.ok_by([q for q in blockers if q.namespace == side.policies[0].namespace]) for side in sides])
            keys = [k for q in blockers for k in run.keys_of(q, other)]
            gone = tuple(k for k in keys if k in run.removed)
            candidates = tuple(k for k in keys if k[0] == "policy" and k not in run.removed)
            fixed = tuple(k for k in keys if k[0] != "policy" and k not in run.removed)
            ref = rule_ref(policy, rule)
            try:
                core = solver.cover(body, fixed, candidates, gone, f"effect of {ref.label()}", minimal=False)
                if core is not None and len(core) > 1:  # one blocker is minimal already
                    core = solver.cover(body, fixed, candidates, gone, f"effect of {ref.label()}")
            except Undecided as exc:
                run.note_undecided(ref, "ineffective-rule", exc)
                continue
            if not core:
                continue  # admits something, or nothing at all (then it is redundant)
            blockers = tuple(sorted((run.ref_of(k) for k in core), key=ElementRef.sort_key))
            remote = "source" if group.direction is Direction.INGRESS else "destination"
            message = (f"matches flows but decides none: every {remote} it admits is "
                       f"{other.value}-isolated and no {other.value} rule allows the flow "
                       f"(blocking side: {other.value}; isolated by {cite_all(blockers)})")
            run.findings.append(Finding("ineffective-rule", WARNING, ref, message, (), blockers))


def missing_dns(run: _Audit, solver: AssumptionSolver, group: GuardedDirection) -> None:
    """W-11, per pod: some pod is egress-isolated and no rule of a policy selecting it
    allows UDP or TCP 53 to any destination."""
    if not group.policies:
        return
    namespace = group.policies[0].namespace
    try:
        with_dns = [p for p in group.policies
                    if any(rule_may_allow_dns(r, run.encoder.semantics)
                           and solver.nonempty(group.allows_dns(p, r), (), f"DNS in {p.key}")
                           for r in p.egress)]
        lacking = [p for p in group.policies
                   if solver.nonempty(group.selected_outside(p, with_dns), (), f"DNS of {p.key}")]
    except Undecided as exc:
        run.note_undecided(policy_ref(group.policies[0]), "missing-dns-egress", exc)
        return
    if not lacking:
        return
    shown = ", ".join(p.name for p in lacking[:3]) + (", ..." if len(lacking) > 3 else "")
    message = (f"namespace {namespace!r}: pods selected by {shown} are egress-isolated and no "
               "egress rule of a policy selecting them allows UDP or TCP port 53 to any "
               "destination: their DNS lookups fail (W-11)")
    run.findings.append(Finding("missing-dns-egress", ERROR, policy_ref(lacking[0]), message))


def _remote_namespaces(policy: NetworkPolicy, rule: Rule, named: tuple[str, ...]) -> tuple[str, ...] | None:
    """The namespaces the rule's far end can be in, when every peer pins them to named
    ones; None when it may be an address or a pod of any namespace."""
    if not rule.peers:
        return None
    found: set[str] = set()
    for peer in rule.peers:
        if peer.ip_block is not None:
            return None
        if peer.namespace_selector is None:
            found.add(policy.namespace)
            continue
        pinned = [r for r in peer.namespace_selector.requirements
                  if r.key == METADATA_NAME and r.operator.value == "In"]
        if not pinned:
            return None
        values = set(pinned[0].values)
        for r in pinned[1:]:
            values &= set(r.values)
        found.update(v for v in values if v in named)
    return tuple(sorted(found))


def _peer_namespaces(peer: Peer, home: str) -> set[str]:
    """The named namespaces a selector peer is pinned to (the rule's own by default)."""
    if peer.namespace_selector is None:
        return {home}
    values: set[str] | None = None
    for r in peer.namespace_selector.requirements:
        if r.key == METADATA_NAME and r.operator.value == "In":
            values = set(r.values) if values is None else values & set(r.values)
    return values or set()
