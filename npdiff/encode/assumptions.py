"""Assumption literals for the audit: one Bool per policy, rule, peer and port entry, the
direction verdicts of one namespace guarded by them, and a solver that answers "is this
region empty while these elements are kept?" with a minimal set of elements that keep it
empty (an unsat core over the literals, shrunk by deletion).

Setting a literal false removes its element: a policy stops isolating and allowing, a
rule stops matching, a peer or port entry drops out of its list. Only lists of two or
more peers or ports get literals: removing the last entry of a list would empty it, and
an empty list matches everything (S3.1.4, S3.4.2, S3.4.4).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import z3

from npdiff.encode.encoder import Encoder
from npdiff.encode.terms import conjunction, disjunction
from npdiff.encode.solver import Answer, check, make_solver
from npdiff.encode.variables import LOCAL_NODE, POD
from npdiff.model import NetworkPolicy, Rule
from npdiff.model.dns import DNS_PORT
from npdiff.model.policy import PROTOCOLS, Direction


class Literals:
    """One z3 Bool per element key, created on first use; keys are any hashable tuple."""

    def __init__(self, ctx: z3.Context):
        self._ctx = ctx
        self._by_key: dict[Hashable, z3.BoolRef] = {}
        self._keys: dict[int, Hashable] = {}
        self._negated: dict[Hashable, z3.BoolRef] = {}

    def __call__(self, key: Hashable) -> z3.BoolRef:
        lit = self._by_key.get(key)
        if lit is None:
            lit = z3.Bool(f"keep!{len(self._by_key)}", self._ctx)
            self._by_key[key] = lit
            self._keys[lit.get_id()] = key
        return lit

    def off(self, key: Hashable) -> z3.BoolRef:
        """The assumption that removes the element."""
        lit = self._negated.get(key)
        if lit is None:
            lit = self._negated[key] = z3.Not(self(key))
        return lit

    def key_of(self, lit: z3.ExprRef) -> Hashable:
        return self._keys[lit.get_id()]


def policy_key(policy: NetworkPolicy) -> tuple:
    return ("policy", policy.key)


def rule_key(policy: NetworkPolicy, rule: Rule) -> tuple:
    return ("rule", policy.key, rule.direction.value, rule.index)


def peer_key(policy: NetworkPolicy, rule: Rule, index: int) -> tuple:
    return ("peer", policy.key, rule.direction.value, rule.index, index)


def port_key(policy: NetworkPolicy, rule: Rule, index: int) -> tuple:
    return ("port", policy.key, rule.direction.value, rule.index, index)


class GuardedDirection:
    """The terms of one direction for subjects in one namespace, with every element of
    the policies that apply there guarded by its literal; verdicts over any subset of
    those policies (with and without literals) and rule terms for the questions."""

    def __init__(self, encoder: Encoder, literals: Literals, direction: Direction,
                 policies: Sequence[NetworkPolicy]):
        self.encoder = encoder
        self.direction = direction
        self.policies = tuple(p for p in policies if p.applies(direction))
        self.subject = encoder.subject(direction)
        self.remote = encoder.vars.src if direction is Direction.INGRESS else encoder.vars.dst
        enc = encoder
        # Per policy: (isolates, allows); per rule: its guarded term with its policy's.
        self._parts: dict[str, tuple[z3.BoolRef, z3.BoolRef]] = {}
        self._rules: dict[tuple[str, int], z3.BoolRef] = {}
        ctx = enc.ctx
        for policy in self.policies:
            keep = self._literal(literals, policy_key(policy))
            selects = enc.selects(policy, self.subject)
            rules = []
            for r in policy.rules(direction):
                term = conjunction([self._literal(literals, rule_key(policy, r)), self._rule(literals, policy, r)], ctx)
                rules.append(term)
                self._rules[(policy.key, r.index)] = conjunction([keep, selects, term], ctx)
            self._parts[policy.key] = (conjunction([keep, selects], ctx), conjunction([keep, selects, disjunction(rules, ctx)], ctx))

    def allow_by(self, rules: Sequence[tuple[NetworkPolicy, Rule]]) -> z3.BoolRef:
        """What these rules allow (with the local-node exemption), all literals honoured:
        exact for flows that only these rules may match."""
        terms = [self._rules[(p.key, r.index)] for p, r in rules]
        if self.direction is Direction.INGRESS and self.encoder.semantics.allow_from_local_node:
            terms.append(self.encoder.vars.src.kind == LOCAL_NODE)
        return disjunction(terms, self.encoder.ctx)

    def ok_by(self, policies: Sequence[NetworkPolicy]) -> z3.BoolRef:
        """The direction verdict if only these policies existed, all literals honoured:
        exact for subjects that no other policy may select."""
        enc = self.encoder
        allows = [self._parts[p.key][1] for p in policies]
        if self.direction is Direction.INGRESS and enc.semantics.allow_from_local_node:
            allows.append(enc.vars.src.kind == LOCAL_NODE)
        isolated = disjunction([self._parts[p.key][0] for p in policies], enc.ctx)
        return z3.Or(self.subject.kind != POD, z3.If(isolated, disjunction(allows, enc.ctx), enc.all([])))

    def plain_ok_by(self, policies: Sequence[NetworkPolicy]) -> z3.BoolRef:
        """`ok_by` without literals: the verdict of the policies as written."""
        enc = self.encoder
        plain = enc.np_tier(tuple(policies), self.direction)
        return z3.Or(self.subject.kind != POD, z3.If(plain.decided, plain.allow, enc.all([])))

    @staticmethod
    def _literal(literals: Literals, key: Hashable) -> z3.BoolRef:
        return literals(key)

    def _rule(self, literals: Literals, policy: NetworkPolicy, rule: Rule) -> z3.BoolRef:
        enc, ctx = self.encoder, self.encoder.ctx
        if len(rule.peers) >= 2:
            peers = disjunction([conjunction([self._literal(literals, peer_key(policy, rule, k)),
                                enc.peer(p, policy.namespace, self.remote)], ctx)
                          for k, p in enumerate(rule.peers)], ctx)
        else:
            peers = self.peers(policy, rule)
        if len(rule.ports) >= 2:
            ports = disjunction([conjunction([self._literal(literals, port_key(policy, rule, j)), enc.port(s)], ctx)
                          for j, s in enumerate(rule.ports)], ctx)
        else:
            ports = self.ports(rule)
        return conjunction([peers, ports], ctx)

    # -- plain terms of single elements, for the regions the checks ask about ------------

    def selects(self, policy: NetworkPolicy) -> z3.BoolRef:
        return self.encoder.selects(policy, self.subject)

    def rule(self, policy: NetworkPolicy, rule: Rule) -> z3.BoolRef:
        return self.encoder.rule(policy, rule)

    def peer(self, policy: NetworkPolicy, rule: Rule, index: int) -> z3.BoolRef:
        return self.encoder.peer(rule.peers[index], policy.namespace, self.remote)

    def peers(self, policy: NetworkPolicy, rule: Rule) -> z3.BoolRef:
        enc = self.encoder
        return disjunction([enc.peer(p, policy.namespace, self.remote) for p in rule.peers], enc.ctx) \
            if rule.peers else enc.all([])

    def port(self, rule: Rule, index: int) -> z3.BoolRef:
        return self.encoder.port(rule.ports[index])

    def ports(self, rule: Rule) -> z3.BoolRef:
        enc = self.encoder
        return disjunction([enc.port(s) for s in rule.ports], enc.ctx) if rule.ports else enc.all([])

    # -- the regions the audit asks about -------------------------------------------------

    def policy_decides(self, policy: NetworkPolicy, near: Sequence[NetworkPolicy]) -> z3.BoolRef:
        """Flows to pods `policy` selects whose verdict with the guarded policies `near`
        differs from their verdict as written."""
        return conjunction([self.selects(policy), z3.Xor(self.ok_by(near), self.plain_ok_by(near))],
                           self.encoder.ctx)

    def beyond(self, policy: NetworkPolicy, region: z3.BoolRef,
               near: Sequence[tuple[NetworkPolicy, Rule]]) -> z3.BoolRef:
        """Flows of pods `policy` selects, in `region`, that none of the rules `near` allows."""
        return conjunction([self.selects(policy), region, z3.Not(self.allow_by(near))], self.encoder.ctx)

    def entry_region(self, policy: NetworkPolicy, rule: Rule, kind: str, index: int) -> z3.BoolRef:
        """What one peer (`kind` "peer") or port entry ("port") of `rule` admits, with the
        rest of the rule."""
        parts = [self.peer(policy, rule, index), self.ports(rule)] if kind == "peer" else \
            [self.peers(policy, rule), self.port(rule, index)]
        return conjunction(parts, self.encoder.ctx)

    def admitted_but_blocked(self, policy: NetworkPolicy, rule: Rule,
                             blocked: Sequence[z3.BoolRef]) -> z3.BoolRef:
        """Flows `rule` of `policy` admits on which every term of `blocked` holds."""
        return conjunction([self.selects(policy), self.rule(policy, rule), *blocked], self.encoder.ctx)

    def allows_dns(self, policy: NetworkPolicy, rule: Rule) -> z3.BoolRef:
        return conjunction([self.rule(policy, rule), self.dns()], self.encoder.ctx)

    def selected_outside(self, policy: NetworkPolicy, served: Sequence[NetworkPolicy]) -> z3.BoolRef:
        """Pods `policy` selects that none of `served` selects."""
        return conjunction([self.selects(policy), z3.Not(disjunction([self.selects(p) for p in served],
                                                                         self.encoder.ctx))], self.encoder.ctx)

    def dns(self) -> z3.BoolRef:
        """A flow to UDP or TCP port 53 (W-11)."""
        v = self.encoder.vars
        return z3.And(z3.Or(v.proto == PROTOCOLS.index("UDP"), v.proto == PROTOCOLS.index("TCP")),
                      v.port == DNS_PORT)


class AssumptionSolver:
    """One solver for many questions: each question is asserted in a scope of its own,
    and elements are kept or removed by assuming their literals."""

    def __init__(self, encoder: Encoder, literals: Literals):
        self.encoder = encoder
        self.literals = literals
        self.solver = make_solver(encoder.ctx, encoder.semantics.timeout_ms)
        self.solver.add(encoder.well_formed())
        self._asked = 0
        self.keep_witness = False           # keep the model of a check that finds a flow
        self._model: z3.ModelRef | None = None

    def _question(self, body: z3.BoolRef) -> z3.BoolRef:
        # Each question lives in its own scope, popped once it is answered: measured
        # twice as fast as keeping retired questions behind literals set false.
        self._asked += 1
        q = z3.Bool(f"ask!{self._asked}", self.encoder.ctx)
        self.solver.push()
        self.solver.add(z3.Implies(q, body))
        return q

    def _retire(self, q: z3.BoolRef) -> None:
        self.solver.pop()

    def has_witness(self) -> bool:
        return self._model is not None

    def witness_holds(self, terms: Sequence[z3.BoolRef]) -> list[bool] | None:
        """Each term evaluated on the flow the last `cover` found (with `keep_witness`)."""
        if self._model is None:
            return None
        return [z3.is_true(self._model.eval(t, model_completion=True)) for t in terms]

    def _check(self, q: z3.BoolRef, assumptions: list[z3.BoolRef], what: str) -> Answer:
        return check_with(self.solver, [q, *assumptions], what)

    def nonempty(self, body: z3.BoolRef, keep: Sequence[Hashable], what: str) -> bool:
        """Some well-formed flow lies in `body` with the `keep` elements present."""
        q = self._question(body)
        try:
            return self._check(q, [self.literals(k) for k in keep], what) is Answer.SAT
        finally:
            self._retire(q)

    def cover(self, body: z3.BoolRef, fixed: Sequence[Hashable], candidates: Sequence[Hashable],
              removed: Sequence[Hashable], what: str, minimal: bool = True) -> tuple[Hashable, ...] | None:
        """None if `body` holds some flow with `removed` gone and everything else kept;
        else a minimal subset of `candidates` that, kept with `fixed` (and the remaining
        candidates removed), leaves `body` empty. Raises Undecided."""
        q = self._question(body)
        try:
            return self._minimal_core(q, fixed, candidates, removed, what, minimal)
        finally:
            self._retire(q)

    def _minimal_core(self, q: z3.BoolRef, fixed: Sequence[Hashable], candidates: Sequence[Hashable],
                      removed: Sequence[Hashable], what: str, minimal: bool) -> tuple[Hashable, ...] | None:
        gone = [self.literals.off(k) for k in removed]
        pinned = [self.literals(k) for k in fixed]
        self._model = None
        if self._check(q, [*gone, *pinned, *(self.literals(k) for k in candidates)], what) is Answer.SAT:
            self._model = self.solver.model() if self.keep_witness else None
            return None
        in_core = {c.get_id() for c in self.solver.unsat_core()}
        core = [k for k in candidates if self.literals(k).get_id() in in_core]
        for key in reversed(core) if minimal else ():  # the first candidates are kept by preference
            trial = [k for k in core if k != key]
            others = [self.literals.off(k) for k in candidates if k not in trial]
            if self._check(q, [*gone, *pinned, *others, *(self.literals(k) for k in trial)],
                           what) is Answer.UNSAT:
                core = trial
        return tuple(core)


def check_with(solver: z3.Solver, assumptions: list[z3.BoolRef], what: str) -> Answer:
    """`check` of solver.py, under assumptions."""
    return check(solver, what, assumptions)
