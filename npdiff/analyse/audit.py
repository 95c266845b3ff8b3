"""`npdiff audit`: semantic findings, each proved by the solver over every pod that could exist.

- redundant / shadowed / duplicate policies, rules, peers and port entries: removing the
  element leaves its direction's verdict unchanged for every pod (design.md §6), and so
  the set's allowed flows; the minimal unsat core over the other elements' literals
  says what covers it;
- ineffective rules and egress isolation without DNS (`audit_effect.py`).

Locality (S3.2.1): a policy decides only for pods of its own namespace, so the checks of
one namespace use only its policies; one solver per namespace and direction answers all
of them through assumption literals. Syntactic pitfalls are in `audit_pitfalls.py`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass


from typing import TYPE_CHECKING

from npdiff.analyse.audit_effect import ineffective_rules, missing_dns
from npdiff.analyse.audit_inventory import AuditInventory
from npdiff.analyse.audit_pitfalls import pitfalls
from npdiff.analyse.audit_refs import cite, cite_all, policy_ref, ref_order, rule_ref
from npdiff.analyse.overlap import rules_may_overlap, selectors_may_overlap
from npdiff.encode import Encoder, Undecided
from npdiff.encode.assumptions import (
    AssumptionSolver, GuardedDirection, Literals, peer_key, policy_key, port_key, rule_key,
)
from npdiff.model import NetworkPolicy, PolicySet, Rule, Semantics
from npdiff.model.finding import AuditResult, ElementRef, Finding, FindingSeverity
from npdiff.model.finding import Undecided as UndecidedCheck
from npdiff.model.policy import Direction

if TYPE_CHECKING:
    import z3

WARNING = FindingSeverity.WARNING


def audit(policy_set: PolicySet, semantics: Semantics, inventory: AuditInventory | None = None) -> AuditResult:
    run = _Audit(policy_set, semantics)
    solvers = {namespace: run.namespace(namespace) for namespace in policy_set.namespaces()}
    # Once every namespace's removals are known, so that `blocked_by` names what stays.
    for namespace, by_direction in solvers.items():
        run.effect(namespace, by_direction)
    inv = inventory or AuditInventory()
    gone = {k[1] for k in run.removed if k[0] == "policy"}
    # Whatever is inside a redundant policy goes with it: no findings about its parts.
    findings = [f for f in run.findings + pitfalls(policy_set, inv)
                if f.element.policy not in gone or f.id in ("redundant-policy", "duplicate-policy")]
    return AuditResult(findings=tuple(sorted(set(findings), key=Finding.sort_key)),
                       undecided=tuple(sorted(set(run.undecided), key=lambda u: (u.element.sort_key(), u.check))),
                       semantics=semantics, policy_count=len(policy_set.policies),
                       namespace_objects=None if inv.namespaces is None else len(inv.namespaces),
                       workload_objects=None if inv.workloads is None else len(inv.workloads))


@dataclass(frozen=True)
class _Check:
    """One redundancy question: the region that removing `removed` would change."""

    kind: str                     # policy | rule | peer | port
    policy: NetworkPolicy
    rule: Rule | None
    index: int | None
    body: z3.BoolRef
    removed: Hashable
    fixed: tuple[Hashable, ...]
    candidates: tuple[Hashable, ...]

    @property
    def ref(self) -> ElementRef:
        if self.rule is None:
            return policy_ref(self.policy)
        return rule_ref(self.policy, self.rule, self.index if self.kind == "peer" else None,
                        self.index if self.kind == "port" else None)


class _Audit:
    def __init__(self, policy_set: PolicySet, semantics: Semantics):
        self.policy_set = policy_set
        self.encoder = Encoder.for_sets([policy_set], semantics)
        self.literals = Literals(self.encoder.ctx)
        self.by_key = {p.key: p for p in policy_set.policies}
        self.implicit_types = {f"{o.namespace}/{o.name}" for o in policy_set.objects
                               if o.kind == "NetworkPolicy" and not _spec(o.body).get("policyTypes")}
        self.by_namespace: dict[str, list[NetworkPolicy]] = {}
        for policy in policy_set.policies:
            self.by_namespace.setdefault(policy.namespace, []).append(policy)
        self._groups: dict[tuple[str, Direction], GuardedDirection] = {}
        self.findings: list[Finding] = []
        self.removed: set[Hashable] = set()   # elements found redundant so far, in order
        self.needed: set[Hashable] = set()    # entries a witness flow showed to be needed
        # policy -> other policies that isolate a flow only that policy's rule allows
        self.isolated_witness: dict[str, set[str]] = {}
        self.undecided: list[UndecidedCheck] = []

    def group(self, namespace: str, direction: Direction) -> GuardedDirection:
        key = (namespace, direction)
        if key not in self._groups:
            self._groups[key] = GuardedDirection(self.encoder, self.literals, direction,
                                                 self.by_namespace.get(namespace, ()))
        return self._groups[key]

    # -- one namespace ------------------------------------------------------------------

    def namespace(self, namespace: str) -> dict[Direction, AssumptionSolver]:
        """Redundancy in one namespace; returns its solvers for `effect`."""
        # Rules and entries first: their witness flows spare most policy checks. What
        # covers each redundant element is asked once all removals are known.
        solvers = {d: AssumptionSolver(self.encoder, self.literals) for d in Direction}
        found = [(solvers[d], checks, hits) for d in Direction
                 for checks, hits in self._elements(solvers[d], self.group(namespace, d))]
        redundant_policies = self._policies(solvers, namespace)
        for solver, checks, hits in found:
            self._explain(solver, checks, [c for c in hits if c.policy.key not in redundant_policies])
        return solvers

    def effect(self, namespace: str, solvers: dict[Direction, AssumptionSolver]) -> None:
        """Ineffective rules and DNS of one namespace's policies that stay."""
        for direction in Direction:
            group = self.group(namespace, direction)
            live = tuple(p for p in group.policies if policy_key(p) not in self.removed)
            ineffective_rules(self, solvers[direction], group, live)
        missing_dns(self, solvers[Direction.EGRESS], self.group(namespace, Direction.EGRESS))

    def note_undecided(self, ref: ElementRef, check: str, exc: Undecided) -> None:
        self.undecided.append(UndecidedCheck(ref, check, str(exc)))

    def _policies(self, solvers: dict[Direction, AssumptionSolver], namespace: str) -> set[str]:
        """Policies whose removal changes no direction verdict (isolation included), later
        ones first; each one found is removed before the next is checked. What covers
        them is then asked of the policies that stay."""
        found: list[NetworkPolicy] = []
        for policy in sorted(self.by_namespace[namespace], key=_policy_order, reverse=True):
            if any(("policy", q) not in self.removed for q in self.isolated_witness.get(policy.key, ())):
                continue  # a witness flow of one of its rules shows it is needed
            if self._policy_covered(solvers, policy, minimal=False) is not None and \
                    self._policy_covered(solvers, policy, minimal=False, alone=True) is not None:
                found.append(policy)
                self.removed.add(policy_key(policy))
        for policy in sorted(found, key=_policy_order):
            covering = self._policy_covered(solvers, policy) or ()
            refs = tuple(sorted((policy_ref(self.by_key[k]) for k in covering), key=ElementRef.sort_key))
            twin = next((self.by_key[k] for k in covering if _same_policy(self.by_key[k], policy)), None)
            if twin is not None:
                self.findings.append(Finding("duplicate-policy", WARNING, policy_ref(policy),
                                             f"duplicate of {cite(policy_ref(twin))}: remove one",
                                             (policy_ref(twin),)))
                continue
            message = "removing it changes no allowed flow" + (
                f": the pods it selects are isolated and allowed as before by {cite_all(refs)}" if refs else
                ": " + self._why_alone(solvers, policy))
            self.findings.append(Finding("redundant-policy", WARNING, policy_ref(policy), message, refs))
        return {p.key for p in found}

    def _why_alone(self, solvers: dict[Direction, AssumptionSolver], policy: NetworkPolicy) -> str:
        """Why a policy that no other policy covers is redundant all the same."""
        direction = min(policy.policy_types, key=lambda d: d.value)
        try:
            selects = solvers[direction].nonempty(self.group(policy.namespace, direction).selects(policy), (),
                                                  f"pods of {policy.key}")
        except Undecided:
            selects = True
        return ("it allows every flow of the pods only it isolates" if selects
                else "its podSelector matches no pod that could exist")

    def _policy_covered(self, solvers: dict[Direction, AssumptionSolver], policy: NetworkPolicy,
                        minimal: bool = True, alone: bool = False) -> tuple[str, ...] | None:
        """The other policies that make `policy` unnecessary, or None if it is needed.
        Policies that cannot select the same pods are left out (their literals stay free)."""
        covering: set[str] = set()
        for direction in sorted(policy.policy_types, key=lambda d: d.value):
            group = self.group(policy.namespace, direction)
            near = [q for q in group.policies if selectors_may_overlap(policy.pod_selector, q.pod_selector)]
            body = group.policy_decides(policy, near)
            others = tuple(k for q in near if q.key != policy.key for k in self.keys_of(q, direction))
            check = _Check("policy", policy, None, None, body, policy_key(policy), (), others)
            try:
                if alone:  # in the set as written: nothing else removed
                    core = solvers[direction].cover(body, (), others, (policy_key(policy),),
                                                    f"redundancy of {policy.key}", minimal=False)
                else:
                    core = self._cover(solvers[direction], check, minimal=minimal)
            except Undecided as exc:
                self.note_undecided(check.ref, "redundant-policy", exc)
                return None
            if core is None:
                return None
            covering.update(_owner(k) for k in core)
        return tuple(sorted(covering))

    @staticmethod
    def keys_of(policy: NetworkPolicy, direction: Direction) -> list[Hashable]:
        """The literals of a policy's part in one direction: it, its rules and their entries."""
        keys: list[Hashable] = [policy_key(policy)]
        for rule in policy.rules(direction):
            keys.append(rule_key(policy, rule))
            keys.extend(_entry_keys(policy, rule))
        return keys

    def _cover(self, solver: AssumptionSolver, check: _Check,
               candidates: tuple[Hashable, ...] | None = None, minimal: bool = True) -> tuple[Hashable, ...] | None:
        """`solver.cover` in the current state: elements found redundant so far are gone."""
        pool = check.candidates if candidates is None else candidates
        gone = tuple(k for k in (*check.fixed, *check.candidates) if k in self.removed)
        return solver.cover(check.body, tuple(k for k in check.fixed if k not in self.removed),
                            tuple(k for k in pool if k not in self.removed), (check.removed, *gone),
                            f"redundancy of {check.ref.label()}", minimal)

    def _redundant_now(self, solver: AssumptionSolver, check: _Check) -> bool:
        """Redundant both in the current state (so that all reported elements can go
        together) and in the set as written (so that each can go on its own)."""
        if self._cover(solver, check, minimal=False) is None:
            return False
        if not any(k in self.removed for k in (*check.fixed, *check.candidates)):
            return True  # the two states agree on everything this check looks at
        return solver.cover(check.body, check.fixed, check.candidates, (check.removed,),
                            f"redundancy of {check.ref.label()}", minimal=False) is not None

    # -- rules, peers and ports ------------------------------------------------------------

    def _elements(self, solver: AssumptionSolver, group: GuardedDirection) -> list[tuple[list[_Check], list[_Check]]]:
        """Rules, then the peers and ports of the rules that stay; the checks of each
        kind with the redundant ones among them."""
        live = group.policies
        semantics = self.encoder.semantics
        rules = [(p, r) for p in group.policies for r in p.rules(group.direction)]
        rule_checks = []
        nearby: dict[Hashable, list[tuple[NetworkPolicy, Rule]]] = {}
        for policy in live:
            for rule in policy.rules(group.direction):
                near = [(q, s) for q, s in rules if s is not rule and rules_may_overlap(policy, rule, q, s, semantics)]
                nearby[rule_key(policy, rule)] = near
                body = group.beyond(policy, group.rule(policy, rule), near)
                rule_checks.append(_Check("rule", policy, rule, None, body, rule_key(policy, rule),
                                          _context(policy, near), tuple(rule_key(q, s) for q, s in near)))
        rule_hits = self._find(solver, rule_checks)
        inner = []
        for policy in live:
            for rule in policy.rules(group.direction):
                if rule_key(policy, rule) in self.removed:
                    continue
                for kind, count, key_of in (("peer", len(rule.peers), peer_key), ("port", len(rule.ports), port_key)):
                    for i in range(count if count >= 2 else 0):
                        if key_of(policy, rule, i) not in self.needed:
                            inner.append(self._inner_check(group, policy, rule, kind, i,
                                                           nearby[rule_key(policy, rule)]))
        return [(rule_checks, rule_hits), (inner, self._find(solver, inner))]

    def _inner_check(self, group: GuardedDirection, policy: NetworkPolicy, rule: Rule, kind: str,
                     index: int, rules: list[tuple[NetworkPolicy, Rule]]) -> _Check:
        semantics = self.encoder.semantics
        region = group.entry_region(policy, rule, kind, index)
        if kind == "peer":
            narrow = dict(peers=(rule.peers[index],))
            siblings = [peer_key(policy, rule, i) for i in range(len(rule.peers))]
        else:
            narrow = dict(ports=(rule.ports[index],))
            siblings = [port_key(policy, rule, i) for i in range(len(rule.ports))]
        near = [(q, s) for q, s in rules if s is not rule and rules_may_overlap(policy, rule, q, s, semantics, **narrow)]
        removed = siblings[index]
        candidates = tuple(rule_key(q, s) for q, s in near) + tuple(k for k in siblings if k != removed)
        fixed = tuple(k for k in (*_context(policy, near), rule_key(policy, rule), *_entry_keys(policy, rule))
                      if k not in candidates and k != removed)
        body = group.beyond(policy, region, [*near, (policy, rule)])
        return _Check(kind, policy, rule, index, body, removed, fixed, candidates)

    def _find(self, solver: AssumptionSolver, checks: list[_Check]) -> list[_Check]:
        """Later elements first; each redundant one is removed before the next is checked,
        so that all reported elements can go together."""
        found = []
        for check in sorted(checks, key=lambda c: ref_order(c.ref), reverse=True):
            if check.removed in self.needed:
                continue
            if self._last_entry(check):
                continue  # removing it would change what the list, or the policy, means
            solver.keep_witness = check.kind == "rule"  # its witness flow is looked at below
            try:
                redundant = self._redundant_now(solver, check)
            except Undecided as exc:
                self.note_undecided(check.ref, f"redundant-{check.kind}", exc)
                continue
            finally:
                solver.keep_witness = False
            if redundant:
                found.append(check)
                self.removed.add(check.removed)
            elif check.kind == "rule" and solver.has_witness():
                self._needed_entries(solver, check)
        return found

    def _explain(self, solver: AssumptionSolver, checks: list[_Check], found: list[_Check]) -> None:
        """What covers each redundant element, asked of the elements that stay; one
        covered by a single element that it covers alone in turn is a duplicate."""
        for check in reversed(found):
            try:
                core = self._cover(solver, check)
            except Undecided:
                core = None
            if core is None:  # proved above; only the explanation ran out of budget
                self.findings.append(self._redundant(check, None))
                continue
            refs = tuple(self.ref_of(k) for k in core)
            if len(core) == 1 and self._covers_back(solver, checks, check, core[0]):
                self.findings.append(Finding(f"duplicate-{check.kind}", WARNING, check.ref,
                                             f"duplicate of {cite(refs[0])}: remove one", refs))
            else:
                self.findings.append(self._redundant(check, refs))

    def _needed_entries(self, solver: AssumptionSolver, check: _Check) -> None:
        """The flow that shows a rule is needed is allowed by nothing else. If only one of
        its peers (or ports) matches that flow, that entry is needed too, for good (later
        removals only shrink what else is allowed). If another policy isolates the flow's
        pod, the rule's policy is needed as long as that one stays: without it the flow
        would be denied."""
        assert check.rule is not None
        group = self.group(check.policy.namespace, check.rule.direction)
        for kind, count, term, key_of in (
                ("peer", len(check.rule.peers), lambda i: group.peer(check.policy, check.rule, i), peer_key),
                ("port", len(check.rule.ports), lambda i: group.port(check.rule, i), port_key)):
            if count < 2:
                continue
            holds = solver.witness_holds([term(i) for i in range(count)])
            if holds is not None and holds.count(True) == 1:
                self.needed.add(key_of(check.policy, check.rule, holds.index(True)))
        others = [q for q in group.policies if q.key != check.policy.key and policy_key(q) not in self.removed
                  and selectors_may_overlap(check.policy.pod_selector, q.pod_selector)]
        holds = solver.witness_holds([group.selects(q) for q in others])
        if holds:
            self.isolated_witness.setdefault(check.policy.key, set()).update(
                q.key for q, isolates in zip(others, holds) if isolates)

    def _last_entry(self, check: _Check) -> bool:
        """An empty peer or port list matches everything (S3.4.2, S3.4.4); a policy
        without policyTypes stops isolating egress with its last egress rule (S3.1.2)."""
        assert check.rule is not None
        if check.kind == "rule":
            if check.rule.direction is not Direction.EGRESS or check.policy.key not in self.implicit_types:
                return False
            left = [r for r in check.policy.egress if rule_key(check.policy, r) not in self.removed]
            return left == [check.rule]
        assert check.index is not None
        key_of = peer_key if check.kind == "peer" else port_key
        count = len(check.rule.peers if check.kind == "peer" else check.rule.ports)
        left = [i for i in range(count) if key_of(check.policy, check.rule, i) not in self.removed]
        return left == [check.index]

    def _covers_back(self, solver: AssumptionSolver, checks: list[_Check], check: _Check,
                     other_key: Hashable) -> bool:
        """Whether the element `other_key` is covered by `check`'s element alone."""
        other = next((c for c in checks if c.removed == other_key), None)
        if other is None:
            return False
        self.removed.discard(check.removed)
        try:
            return self._cover(solver, other, (check.removed,)) == (check.removed,)
        except Undecided:
            return False
        finally:
            self.removed.add(check.removed)

    def ref_of(self, key: Hashable) -> ElementRef:
        policy = self.by_key[key[1]]
        if key[0] == "policy":
            return policy_ref(policy)
        rule = policy.rules(Direction(key[2]))[key[3]]
        return rule_ref(policy, rule, key[4] if key[0] == "peer" else None, key[4] if key[0] == "port" else None)

    @staticmethod
    def _redundant(check: _Check, refs: tuple[ElementRef, ...] | None) -> Finding:
        what = {"rule": "rule", "peer": "peer", "port": "port entry"}[check.kind]
        kind_id = f"redundant-{check.kind}"
        if refs is None:
            refs = ()
            message = f"removing this {what} changes no allowed flow"
        elif not refs:
            message = (f"this {what} adds no allowed flow: it matches nothing for the pods "
                       f"{check.policy.key} selects")
        elif len(refs) == 1:
            message = f"shadowed by {cite(refs[0])}: every flow this {what} allows is allowed there too"
            if check.kind == "rule":
                kind_id = "shadowed-rule"
        else:
            message = f"covered by {cite_all(refs)} together: removing this {what} changes no allowed flow"
        return Finding(kind_id, WARNING, check.ref, message, refs)


def _spec(body: object) -> dict:
    spec = body.get("spec") if isinstance(body, dict) else None
    return spec if isinstance(spec, dict) else {}


def _entry_keys(policy: NetworkPolicy, rule: Rule) -> list[Hashable]:
    """Literals of a rule's peers and ports (only lists of two or more have them)."""
    keys: list[Hashable] = []
    if len(rule.peers) >= 2:
        keys.extend(peer_key(policy, rule, i) for i in range(len(rule.peers)))
    if len(rule.ports) >= 2:
        keys.extend(port_key(policy, rule, i) for i in range(len(rule.ports)))
    return keys


def _context(policy: NetworkPolicy, near: list[tuple[NetworkPolicy, Rule]]) -> tuple[Hashable, ...]:
    """Literals that stay kept while rules `near` are asked to cover an element of `policy`:
    the policies involved and the entries of the near rules."""
    keys: list[Hashable] = [policy_key(policy)]
    for q, s in near:
        keys.append(policy_key(q))
        keys.extend(_entry_keys(q, s))
    return tuple(dict.fromkeys(keys))


def _owner(key: Hashable) -> str:
    return key[1]


def _same_policy(a: NetworkPolicy, b: NetworkPolicy) -> bool:
    return (a.namespace, a.pod_selector, a.policy_types, a.ingress, a.egress) == \
        (b.namespace, b.pod_selector, b.policy_types, b.ingress, b.egress)


def _policy_order(policy: NetworkPolicy) -> tuple:
    return ref_order(policy_ref(policy))
