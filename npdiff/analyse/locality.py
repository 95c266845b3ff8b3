"""Which scopes a change touches, and policy sets cut down to what can decide a flow in
them (design.md §6, "Locality").

A NetworkPolicy decides only for pods of its own namespace (S3.2.1), so a flow's verdict
is `egress(ns(src)) ∧ ingress(ns(dst))`, each decided by one namespace's policies. A
*scope* is a (namespace, direction) pair. Each scope has a canonical form: the pod
selectors that isolate (S3.3) and the (selector, peer, port) triples that allow (S3.4).
Equal forms mean equal verdicts for that scope, whatever the plugin options, because
the form is built from exactly what the verdict reads.

So two sets whose forms agree on every scope are equivalent with no solver call, and
otherwise every flow on which they differ has its source (a pod) in a scope whose
egress changed or its destination (a pod) in a scope whose ingress changed. Within that
region a peer that cannot match a pod of a changed remote namespace is false, and can be
dropped from unchanged scopes without changing any verdict there.

Finer still, the region splits into *pairs* of zones, one for each end: a zone is a
namespace that has policies, or FREE (addresses and pods of namespaces without
policies, which no policy restricts). Within a pair only the two namespaces' policies
decide, so each pair is a small problem of its own (`PairPolicies`).
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, replace
from functools import lru_cache

from npdiff.model import LabelSelector, NetworkPolicy, Peer, PolicySet, PortSpec, Rule, Semantics
from npdiff.model.flow import METADATA_NAME
from npdiff.model.policy import Direction
from npdiff.model.selector import Operator

Scope = tuple[str, Direction]
ANY = "*"
FREE = None  # the zone of ends that no policy restricts


@dataclass(frozen=True)
class Pair:
    """Flows from an end in zone `src` to an end in zone `dst` (a namespace, or FREE)."""

    src: str | None
    dst: str | None

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(sorted({ns for ns in (self.src, self.dst) if ns is not FREE}))


@dataclass(frozen=True)
class Change:
    """The scopes whose forms differ between two sets, by direction."""

    scopes: frozenset[Scope]

    @property
    def empty(self) -> bool:
        return not self.scopes

    def namespaces(self, direction: Direction) -> tuple[str, ...]:
        return tuple(sorted(ns for ns, d in self.scopes if d is direction))


def changed_scopes(old: PolicySet, new: PolicySet) -> Change:
    # Equal policies have equal forms: only namespaces whose policies differ need theirs.
    namespaces = set(old.namespaces()) | set(new.namespaces())
    differing = [ns for ns in sorted(namespaces) if old.in_namespace(ns) != new.in_namespace(ns)]
    before = forms(PolicySet(tuple(p for ns in differing for p in old.in_namespace(ns))))
    after = forms(PolicySet(tuple(p for ns in differing for p in new.in_namespace(ns))))
    return Change(frozenset(s for s in before.keys() | after.keys() if before.get(s) != after.get(s)))


def forms(policy_set: PolicySet) -> dict[Scope, tuple[frozenset, frozenset]]:
    """Scope -> (isolating selectors, allowing triples); scopes no policy applies to are absent."""
    isolating: dict[Scope, set] = defaultdict(set)
    allowing: dict[Scope, set] = defaultdict(set)
    for policy in policy_set.policies:
        selector = _selector(policy.pod_selector)
        for direction in policy.policy_types:
            scope = (policy.namespace, direction)
            isolating[scope].add(selector)
            for rule in policy.rules(direction):
                peers = [_peer(p) for p in rule.peers] or [ANY]
                ports = [_port(p) for p in rule.ports] or [ANY]
                allowing[scope].update((selector, peer, port) for peer in peers for port in ports)
    return {scope: (frozenset(isolating[scope]), frozenset(allowing[scope])) for scope in isolating}


@lru_cache(maxsize=65_536)
def _selector(selector: LabelSelector) -> Hashable:
    return tuple(sorted({(r.key, r.operator.value, tuple(sorted(set(r.values)))) for r in selector.requirements}))


def _peer(peer: Peer) -> Hashable:
    if peer.ip_block is not None:
        return ("ip", peer.ip_block.cidr, tuple(sorted(set(peer.ip_block.excepts))))
    # S3.5: an absent podSelector beside a namespaceSelector selects every pod.
    pods = _selector(peer.pod_selector) if peer.pod_selector is not None else ()
    namespaces = "same" if peer.namespace_selector is None else _selector(peer.namespace_selector)
    return ("pods", namespaces, pods)


def _port(spec: PortSpec) -> Hashable:
    end = None if spec.end_port == spec.port else spec.end_port
    return (spec.protocol, spec.port, end)


def reduce(policy_set: PolicySet, change: Change, semantics: Semantics,
           done: dict[int, tuple[NetworkPolicy, NetworkPolicy]] | None = None) -> PolicySet:
    """`policy_set` with the rules and peers that no flow of the changed region can match
    left out. Every policy stays (isolation and attribution need them); rules of a
    direction outside policyTypes go (S3.3: they are never read). `done`, shared by the
    two sides of a diff, gives a policy that both hold (load/sides.py) one reduced copy."""
    remote = {Direction.INGRESS: frozenset(change.namespaces(Direction.EGRESS)),
              Direction.EGRESS: frozenset(change.namespaces(Direction.INGRESS))}
    done = {} if done is None else done
    policies = []
    for policy in policy_set.policies:
        found = done.get(id(policy))
        if found is not None and found[0] is policy:
            policies.append(found[1])
            continue
        ingress, egress = (_rules_kept(policy, direction, change.scopes, remote[direction], semantics)
                           for direction in _DIRECTIONS)
        # Built directly: dataclasses.replace costs two and a half times as much, per policy.
        reduced = NetworkPolicy(policy.namespace, policy.name, policy.pod_selector, policy.policy_types,
                                ingress, egress, policy.span)
        done[id(policy)] = (policy, reduced)   # the policy is kept alive with its id
        policies.append(reduced)
    return replace(policy_set, policies=tuple(policies))


_DIRECTIONS = (Direction.INGRESS, Direction.EGRESS)


def _rules_kept(policy: NetworkPolicy, direction: Direction, changed: frozenset[Scope], remote: frozenset[str],
                semantics: Semantics) -> tuple[Rule, ...]:
    if direction not in policy.policy_types:
        return ()
    rules = policy.ingress if direction is Direction.INGRESS else policy.egress
    if not rules or (policy.namespace, direction) in changed:
        return rules
    return _rules_reaching(rules, policy.namespace, remote, semantics)


def _rules_reaching(rules: tuple[Rule, ...], namespace: str, remote: frozenset[str],
                    semantics: Semantics) -> tuple[Rule, ...]:
    if not remote:
        return ()
    kept = []
    for rule in rules:
        if not rule.peers:
            kept.append(rule)
            continue
        peers = tuple(p for p in rule.peers if _may_match(p, namespace, remote, semantics))
        if peers:
            kept.append(rule if len(peers) == len(rule.peers) else replace(rule, peers=peers))
    return tuple(kept)


def _may_match(peer: Peer, namespace: str, remote: frozenset[str], semantics: Semantics) -> bool:
    """Whether `peer` of a policy in `namespace` may match a pod of some `remote` namespace."""
    if peer.ip_block is not None:
        return semantics.ipblock_matches_pods
    if peer.namespace_selector is None:
        return namespace in remote
    return any(_name_allows(peer.namespace_selector, ns) for ns in remote)


def _name_allows(selector: LabelSelector, namespace: str) -> bool:
    """False only when the selector's name requirements rule `namespace` out (S1.1.2);
    other labels of a namespace are unknown, so they may match."""
    for req in selector.requirements:
        if req.key != METADATA_NAME:
            continue
        if req.operator is Operator.IN and namespace not in req.values:
            return False
        if req.operator is Operator.NOT_IN and namespace in req.values:
            return False
        if req.operator is Operator.DOES_NOT_EXIST:
            return False
    return True


# A namespace's policies in one direction towards one remote zone, as a side holds them,
# and their cut (`PairPolicies._side`), by (namespace, direction, remote zone).
Cuts = dict[tuple[str, Direction, "str | None"], tuple[tuple[NetworkPolicy, ...], tuple[NetworkPolicy, ...]]]


class PairPolicies:
    """One policy set cut down to the policies that decide the flows of a pair: the source
    namespace's egress policies and the destination namespace's ingress policies (S3.2.1),
    each with only the direction it decides there, and in an unchanged scope only the
    rules that may match a pod of the other end's namespace. Each cut is made once: the
    same policy cut the same way is the same object in every pair, so terms built for it
    are reused."""

    def __init__(self, policy_set: PolicySet, change: Change, semantics: Semantics, cuts: Cuts | None = None) -> None:
        """`cuts`, shared by the two sides of a diff, gives the policies of a namespace that
        both sides hold as the same objects (load/sides.py) one cut, and so one term."""
        self._set = policy_set
        self._change = change
        self._semantics = semantics
        self._sides: dict[tuple[str, Direction, str | None], tuple[NetworkPolicy, ...]] = {}
        self._within: dict[str, tuple[NetworkPolicy, ...]] = {}
        self._cuts = {} if cuts is None else cuts

    def __call__(self, pair: Pair) -> PolicySet:
        if pair.src == pair.dst and pair.src is not FREE:
            policies = self._both(pair.src)
        else:
            egress = self._side(pair.src, Direction.EGRESS, pair.dst) if pair.src is not FREE else ()
            ingress = self._side(pair.dst, Direction.INGRESS, pair.src) if pair.dst is not FREE else ()
            policies = egress + ingress
        return PolicySet(policies, aliases=self._aliases_of(policies))

    def _aliases_of(self, policies: tuple[NetworkPolicy, ...]) -> tuple[tuple[str, str], ...]:
        """The side's aliases (its reports name its own files) for these policies' files
        alone: a pair's set builds its own table of them, which is then small. Every span
        of a policy names the policy's file."""
        if not self._set.aliases:
            return ()
        named = {(policy.span.file, self._set.file_of(policy.span)) for policy in policies if policy.span is not None}
        return tuple(sorted((taken, own) for taken, own in named if taken != own))

    def _side(self, ns: str, direction: Direction, remote: str | None) -> tuple[NetworkPolicy, ...]:
        cut = remote is not FREE and (ns, direction) not in self._change.scopes
        key = (ns, direction, remote if cut else FREE)
        if key not in self._sides:
            policies = self._set.in_namespace(ns)
            shared = self._cuts.get(key)
            if shared is not None and len(shared[0]) == len(policies) and all(map(operator.is_, shared[0], policies)):
                self._sides[key] = shared[1]
                return shared[1]
            kept = []
            for policy in policies:
                if not policy.applies(direction):
                    continue
                rules = policy.rules(direction)
                if cut and rules:
                    rules = _rules_reaching(rules, ns, frozenset({remote}), self._semantics)
                kept.append(_only(policy, direction, rules))
            self._sides[key] = tuple(kept)
            self._cuts.setdefault(key, (policies, self._sides[key]))
        return self._sides[key]

    def _both(self, ns: str) -> tuple[NetworkPolicy, ...]:
        """Flows within one namespace: its policies decide both directions."""
        if ns not in self._within:
            kept = []
            for policy in self._set.in_namespace(ns):
                rules = {}
                for direction in policy.policy_types:
                    rules[direction] = policy.rules(direction)
                    if rules[direction] and (ns, direction) not in self._change.scopes:
                        rules[direction] = _rules_reaching(rules[direction], ns, frozenset({ns}), self._semantics)
                kept.append(replace(policy, ingress=rules.get(Direction.INGRESS, ()),
                                    egress=rules.get(Direction.EGRESS, ())))
            self._within[ns] = tuple(kept)
        return self._within[ns]


def _only(policy: NetworkPolicy, direction: Direction, rules: tuple[Rule, ...]) -> NetworkPolicy:
    """`policy` deciding `direction` alone, with `rules` (built directly, as in `reduce`)."""
    return NetworkPolicy(policy.namespace, policy.name, policy.pod_selector, _ALONE[direction],
                         rules if direction is Direction.INGRESS else (),
                         rules if direction is Direction.EGRESS else (), policy.span)


_ALONE = {direction: frozenset({direction}) for direction in Direction}
