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
from npdiff.encode.solver import Answer, Undecided, make_solver
from npdiff.encode.variables import LOCAL_NODE, POD
from npdiff.model import NetworkPolicy, Rule
from npdiff.model.policy import PROTOCOLS, Direction

DNS_PORT = 53


class Literals:
    """One z3 Bool per element key, created on first use; keys are any hashable tuple."""

    def __init__(self, ctx: z3.Context):
        self._ctx = ctx
        self._by_key: dict[Hashable, z3.BoolRef] = {}
        self._keys: dict[int, Hashable] = {}

    def __call__(self, key: Hashable) -> z3.BoolRef:
        lit = self._by_key.get(key)
        if lit is None:
            lit = z3.Bool(f"keep!{len(self._by_key)}", self._ctx)
            self._by_key[key] = lit
            self._keys[lit.get_id()] = key
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
    """The verdict of one direction for subjects in one namespace, with every element
    of the policies that apply there guarded by its literal, next to the plain verdict."""

    def __init__(self, encoder: Encoder, literals: Literals, direction: Direction,
                 policies: Sequence[NetworkPolicy]):
        self.encoder = encoder
        self.direction = direction
        self.policies = tuple(p for p in policies if p.applies(direction))
        self.subject = encoder.subject(direction)
        self.remote = encoder.vars.src if direction is Direction.INGRESS else encoder.vars.dst
        self.keys: list[Hashable] = []
        enc = encoder
        isolated, allows = [], []
        for policy in self.policies:
            keep = self._literal(literals, policy_key(policy))
            selects = enc.selects(policy, self.subject)
            isolated.append(z3.And(keep, selects))
            rules = [z3.And(self._literal(literals, rule_key(policy, r)), self._rule(literals, policy, r))
                     for r in policy.rules(direction)]
            if rules:
                allows.append(z3.And(keep, selects, enc.any(rules)))
        if direction is Direction.INGRESS and encoder.semantics.allow_from_local_node:
            allows.append(encoder.vars.src.kind == LOCAL_NODE)
        self.isolated = enc.any(isolated)
        self.allow = enc.any(allows)
        self.ok = z3.Or(self.subject.kind != POD, z3.If(self.isolated, self.allow, enc.all([])))
        plain = enc.np_tier(self.policies, direction)
        self.plain_ok = z3.Or(self.subject.kind != POD, z3.If(plain.decided, plain.allow, enc.all([])))

    def _literal(self, literals: Literals, key: Hashable) -> z3.BoolRef:
        self.keys.append(key)
        return literals(key)

    def _rule(self, literals: Literals, policy: NetworkPolicy, rule: Rule) -> z3.BoolRef:
        enc = self.encoder
        if len(rule.peers) >= 2:
            peers = enc.any([z3.And(self._literal(literals, peer_key(policy, rule, k)),
                                    enc.peer(p, policy.namespace, self.remote))
                             for k, p in enumerate(rule.peers)])
        else:
            peers = self.peers(policy, rule)
        if len(rule.ports) >= 2:
            ports = enc.any([z3.And(self._literal(literals, port_key(policy, rule, j)), enc.port(s))
                             for j, s in enumerate(rule.ports)])
        else:
            ports = self.ports(rule)
        return z3.And(peers, ports)

    # -- plain terms of single elements, for the regions the checks ask about ------------

    def selects(self, policy: NetworkPolicy) -> z3.BoolRef:
        return self.encoder.selects(policy, self.subject)

    def rule(self, policy: NetworkPolicy, rule: Rule) -> z3.BoolRef:
        return self.encoder.rule(policy, rule)

    def peer(self, policy: NetworkPolicy, rule: Rule, index: int) -> z3.BoolRef:
        return self.encoder.peer(rule.peers[index], policy.namespace, self.remote)

    def peers(self, policy: NetworkPolicy, rule: Rule) -> z3.BoolRef:
        enc = self.encoder
        if not rule.peers:
            return enc.all([])
        return enc.any([enc.peer(p, policy.namespace, self.remote) for p in rule.peers])

    def port(self, rule: Rule, index: int) -> z3.BoolRef:
        return self.encoder.port(rule.ports[index])

    def ports(self, rule: Rule) -> z3.BoolRef:
        enc = self.encoder
        return enc.any([enc.port(s) for s in rule.ports]) if rule.ports else enc.all([])

    def dns(self) -> z3.BoolRef:
        """A flow to UDP or TCP port 53 (W-11)."""
        v = self.encoder.vars
        return z3.And(z3.Or(v.proto == PROTOCOLS.index("UDP"), v.proto == PROTOCOLS.index("TCP")),
                      v.port == DNS_PORT)


class AssumptionSolver:
    """One solver for many questions: each question is asserted behind a fresh literal of
    its own, and elements are kept or removed by assuming their literals."""

    def __init__(self, encoder: Encoder, literals: Literals):
        self.encoder = encoder
        self.literals = literals
        self.solver = make_solver(encoder.ctx, encoder.semantics.timeout_ms)
        self.solver.add(encoder.well_formed())
        self._questions: dict[int, z3.BoolRef] = {}

    def _question(self, body: z3.BoolRef) -> z3.BoolRef:
        key = body.get_id()
        q = self._questions.get(key)
        if q is None:
            q = z3.Bool(f"ask!{len(self._questions)}", self.encoder.ctx)
            self.solver.add(z3.Implies(q, body))
            self._questions[key] = q
        return q

    def _check(self, q: z3.BoolRef, assumptions: list[z3.BoolRef], what: str) -> Answer:
        return check_with(self.solver, [q, *assumptions], what)

    def nonempty(self, body: z3.BoolRef, keep: Sequence[Hashable], what: str) -> bool:
        """Some well-formed flow lies in `body` with the `keep` elements present."""
        q = self._question(body)
        return self._check(q, [self.literals(k) for k in keep], what) is Answer.SAT

    def cover(self, body: z3.BoolRef, fixed: Sequence[Hashable], candidates: Sequence[Hashable],
              removed: Sequence[Hashable], what: str) -> tuple[Hashable, ...] | None:
        """None if `body` holds some flow with `removed` gone and everything else kept;
        else a minimal subset of `candidates` that, kept with `fixed` (and the remaining
        candidates removed), leaves `body` empty. Raises Undecided."""
        q = self._question(body)
        gone = [z3.Not(self.literals(k)) for k in removed]
        pinned = [self.literals(k) for k in fixed]
        if self._check(q, [*gone, *pinned, *(self.literals(k) for k in candidates)], what) is Answer.SAT:
            return None
        in_core = {c.get_id() for c in self.solver.unsat_core()}
        core = [k for k in candidates if self.literals(k).get_id() in in_core]
        for key in list(core):
            trial = [k for k in core if k != key]
            others = [z3.Not(self.literals(k)) for k in candidates if k not in trial]
            if self._check(q, [*gone, *pinned, *others, *(self.literals(k) for k in trial)],
                           what) is Answer.UNSAT:
                core = trial
        return tuple(core)


def check_with(solver: z3.Solver, assumptions: list[z3.BoolRef], what: str) -> Answer:
    """`check` of solver.py, under assumptions."""
    result = solver.check(*assumptions)
    if result == z3.sat:
        return Answer.SAT
    if result == z3.unsat:
        return Answer.UNSAT
    raise Undecided(f"{what}: solver answered unknown ({solver.reason_unknown()})")
