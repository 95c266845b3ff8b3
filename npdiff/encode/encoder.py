"""Policy terms over the symbolic flow, memoised, and the connection verdict (semantics.md §3).

Each direction is decided by a chain of tiers (S4.2.1): today only the NetworkPolicy tier
exists; an AdminNetworkPolicy tier before it and a baseline tier after it slot into
`_direction_ok` as further (decided, allow) pairs without touching the NP terms.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import z3

from npdiff.encode.cube import Cube, DimValue, at_least, at_most, differs, dim_term, dimension_vars, equals
from npdiff.encode.inventory import inventory_constraint
from npdiff.encode.models import Model
from npdiff.encode.solver import Answer, assert_all, check, make_solver
from npdiff.encode.terms import conjunction, disjunction, negation
from npdiff.encode.universe import Universe
from npdiff.encode.variables import LOCAL_NODE, POD, EndpointVars, FlowVars, address_in
from npdiff.model import LabelSelector, NetworkPolicy, Peer, PolicySet, PortSpec, Rule, Semantics
from npdiff.model.flow import METADATA_NAME, Flow, Pod
from npdiff.model.policy import PROTOCOLS, Direction
from npdiff.model.selector import Operator, Requirement


@dataclass(frozen=True)
class TierVerdict:
    """One tier's say on a direction: whether it decides, and if so whether it allows."""

    decided: z3.BoolRef
    allow: z3.BoolRef


class Encoder:
    """Builds terms for one universe; every term is cached, so shared rules cost nothing twice."""

    def __init__(self, universe: Universe, semantics: Semantics,
                 inventory_pods: tuple[Pod, ...] | None = None):
        self.universe = universe
        self.semantics = semantics
        self.inventory_pods = inventory_pods   # --inventory-only: pod ends are these pods
        self.ctx = z3.Context()
        self.vars = FlowVars.declare(universe, self.ctx)
        self._cache: dict[tuple, z3.BoolRef] = {}
        self._allowed: dict[int, tuple[PolicySet, z3.BoolRef]] = {}
        self._by_policy: dict[tuple[int, Direction], tuple[NetworkPolicy, z3.BoolRef, z3.BoolRef | None]] = {}
        self._by_rule: dict[tuple[int, str], tuple[Rule, z3.BoolRef]] = {}
        self.dimensions = dimension_vars(self.vars)
        self.boolean_dimensions = frozenset(d for d, var in self.dimensions.items() if z3.is_bool(var))
        # Keyed by identities; each entry keeps its policies alive with it.
        self._tiers: dict[tuple, tuple[list[NetworkPolicy], TierVerdict]] = {}

    @classmethod
    def for_sets(cls, policy_sets: Iterable[PolicySet], semantics: Semantics,
                 inventory_pods: tuple[Pod, ...] | None = None) -> Encoder:
        sets = list(policy_sets)
        return cls(Universe.build(sets, semantics), semantics, inventory_pods)

    def _memo(self, key: tuple, build) -> z3.BoolRef:
        term = self._cache.get(key)
        if term is None:
            term = build()
            self._cache[key] = term
        return term

    def all(self, terms: list[z3.BoolRef]) -> z3.BoolRef:
        """Conjunction in this encoder's context; true when empty."""
        return conjunction(terms, self.ctx)

    def any(self, terms: list[z3.BoolRef]) -> z3.BoolRef:
        """Disjunction in this encoder's context; false when empty."""
        return disjunction(terms, self.ctx)

    # -- well-formedness and concrete flows ---------------------------------------------

    def well_formed(self) -> z3.BoolRef:
        """The flows reasoned about: all well-formed ones, or with an inventory restriction,
        those whose pod ends are inventory pods (every search and check starts from here)."""
        def build() -> z3.BoolRef:
            facts = self.vars.well_formed(self.universe, self.semantics)
            if self.inventory_pods is None:
                return facts
            return z3.And(facts, inventory_constraint(self.vars, self.universe, self.inventory_pods))
        return self._memo(("wf",), build)

    def free_at(self, dim: str, point: Mapping[str, int | bool]) -> bool:
        """Whether `point`, one of the flows reasoned about, stays one whatever value
        dimension `dim` takes (never under an inventory, whose pods have their own labels)."""
        return self.inventory_pods is None and FlowVars.free_at(dim, point, self.universe)

    def assignment(self, flow: Flow) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
        return self.vars.assignment(flow, self.universe, self.semantics)

    # -- cubes (encode/cube.py) --------------------------------------------------------------

    def cube(self, cube: Cube) -> z3.BoolRef:
        """The flows inside `cube`; class search asks about the same values many times."""
        return self.all([self.dimension(dim, value) for dim, value in cube.dims])

    def dimension(self, dim: str, value: DimValue) -> z3.BoolRef:
        """Dimension `dim` lies in `value` (a value set or an interval)."""
        return self._memo(("dim", dim, value), lambda: dim_term(self.dimensions[dim], value))

    # -- selectors ------------------------------------------------------------------------

    def pod_selector(self, selector: LabelSelector, ep: EndpointVars) -> z3.BoolRef:
        return self._memo(("podsel", selector, ep.side), lambda: self.all(
            [self._requirement(r, ep.labels[r.key], dict(self.universe.pod_keys)[r.key])
             for r in selector.requirements]))

    def namespace_selector(self, selector: LabelSelector, ep: EndpointVars) -> z3.BoolRef:
        def build() -> z3.BoolRef:
            terms = []
            ns_values = dict(self.universe.ns_keys)
            for req in selector.requirements:
                if req.key == METADATA_NAME:
                    terms.append(self._namespace_name_requirement(req, ep))
                else:
                    terms.append(self._requirement(req, ep.ns_labels[req.key], ns_values[req.key]))
            return self.all(terms)
        return self._memo(("nssel", selector, ep.side), build)

    @staticmethod
    def _requirement(req: Requirement, var: z3.ArithRef, values: tuple[str, ...]) -> z3.BoolRef:
        indices = [Universe.value_index(values, v) for v in req.values]
        if req.operator is Operator.IN:
            return disjunction([equals(var, i) for i in indices], var.ctx)
        if req.operator is Operator.NOT_IN:
            # absent (0) is never in `indices` (S2.7)
            return conjunction([negation(equals(var, i)) for i in indices], var.ctx)
        if req.operator is Operator.EXISTS:
            return negation(equals(var, 0))
        return equals(var, 0)

    def _namespace_name_requirement(self, req: Requirement, ep: EndpointVars) -> z3.BoolRef:
        """The name label always exists and equals the namespace (S1.1.2); a value that is
        not a valid namespace name (W-10) is the name of no namespace."""
        indices = [self.universe.namespaces.index(v) for v in req.values if v in self.universe.namespaces]
        if req.operator is Operator.IN:
            return self.any([equals(ep.ns, i) for i in indices])
        if req.operator is Operator.NOT_IN:
            return self.all([differs(ep.ns, i) for i in indices])
        return z3.BoolVal(req.operator is Operator.EXISTS, self.ctx)

    # -- policies, rules, peers, ports ------------------------------------------------------

    def selects(self, policy: NetworkPolicy, ep: EndpointVars) -> z3.BoolRef:
        """S3.2.1: a pod of the policy's namespace whose labels match spec.podSelector."""
        return self._memo(("selects", policy.namespace, policy.pod_selector, ep.side), lambda: self.all([
            equals(ep.kind, POD),
            equals(ep.ns, self.universe.namespace_index(policy.namespace)),
            self.pod_selector(policy.pod_selector, ep)]))

    def peer(self, peer: Peer, namespace: str, ep: EndpointVars) -> z3.BoolRef:
        """S3.5: `ep` is the remote end (source for ingress, destination for egress)."""
        def build() -> z3.BoolRef:
            if peer.ip_block is not None:
                return self._ip_block(peer, ep)
            terms = [equals(ep.kind, POD)]
            if peer.namespace_selector is None:
                terms.append(equals(ep.ns, self.universe.namespace_index(namespace)))
            else:
                terms.append(self.namespace_selector(peer.namespace_selector, ep))
            if peer.pod_selector is not None:
                terms.append(self.pod_selector(peer.pod_selector, ep))
            return self.all(terms)
        return self._memo(("peer", peer, namespace, ep.side), build)

    def _ip_block(self, peer: Peer, ep: EndpointVars) -> z3.BoolRef:
        block = peer.ip_block
        assert block is not None
        v6 = self.vars.v6
        inside = address_in(ep, v6, ipaddress.ip_network(block.cidr))
        excluded = [address_in(ep, v6, ipaddress.ip_network(e)) for e in block.excepts]
        eligible = self.all([]) if self.semantics.ipblock_matches_pods else differs(ep.kind, POD)
        return self.all([eligible, inside, negation(self.any(excluded))])

    def port(self, spec: PortSpec) -> z3.BoolRef:
        """S3.4.5 and S3.6; named ports resolve on the destination pod."""
        def build() -> z3.BoolRef:
            v = self.vars
            if spec.protocol == "SCTP" and self.semantics.sctp == "unsupported":
                return self.any([])
            proto = equals(v.proto, PROTOCOLS.index(spec.protocol))
            if spec.port is None:
                return proto
            if isinstance(spec.port, str):
                return self.all([proto, equals(v.dst.kind, POD), v.serves[spec.port]])
            if spec.end_port is None or self.semantics.endport == "first-port":
                return self.all([proto, equals(v.port, spec.port)])
            return self.all([proto, at_least(v.port, spec.port), at_most(v.port, spec.end_port)])
        return self._memo(("port", spec), build)

    def rule(self, policy: NetworkPolicy, rule: Rule) -> z3.BoolRef:
        """S3.4.1: ports clause AND peers clause; empty lists match everything. Equal rules
        (the two sides' copies of a file, say) share a term; the same rule object finds
        it by identity, without hashing the rule's every peer and selector again."""
        found = self._by_rule.get((id(rule), policy.namespace))
        if found is not None:
            return found[1]

        def build() -> z3.BoolRef:
            remote = self.vars.src if rule.direction is Direction.INGRESS else self.vars.dst
            peers = self.any([self.peer(p, policy.namespace, remote) for p in rule.peers]) if rule.peers else self.all([])
            ports = self.any([self.port(s) for s in rule.ports]) if rule.ports else self.all([])
            return self.all([peers, ports])
        term = self._memo(("rule", policy.namespace, rule), build)
        self._by_rule[(id(rule), policy.namespace)] = (rule, term)
        return term

    def subject(self, direction: Direction) -> EndpointVars:
        return self.vars.dst if direction is Direction.INGRESS else self.vars.src

    # -- verdicts ---------------------------------------------------------------------------

    def np_tier(self, policies: tuple[NetworkPolicy, ...], direction: Direction) -> TierVerdict:
        """S3.3: isolated iff some policy applies; then allowed iff some of its rules match.
        Pairs of zones (analyse/locality.py) share one side's policies: the verdict is kept
        under their identities."""
        applying = [p for p in policies if p.applies(direction)]
        key = (direction, *map(id, applying))
        found = self._tiers.get(key)
        if found is None:
            found = self._tiers[key] = (applying, self._np_tier(applying, direction))
        return found[1]

    def _np_tier(self, applying: list[NetworkPolicy], direction: Direction) -> TierVerdict:
        terms = [self.policy_terms(p, direction) for p in applying]
        isolated = self.any([selects for selects, _ in terms])
        allows = [allow for _, allow in terms if allow is not None]
        if direction is Direction.INGRESS and self.semantics.allow_from_local_node:
            allows.append(self.vars.src.kind == LOCAL_NODE)
        return TierVerdict(decided=isolated, allow=self.any(allows))

    def policy_terms(self, policy: NetworkPolicy, direction: Direction) -> tuple[z3.BoolRef, z3.BoolRef | None]:
        """(selects the subject, selects it and some rule matches), or None for no rules.
        Keyed by identity: hashing a policy costs more than building these from cached parts."""
        found = self._by_policy.get((id(policy), direction))
        if found is None:
            selects = self.selects(policy, self.subject(direction))
            rules = policy.rules(direction)
            allow = self.all([selects, self.any([self.rule(policy, r) for r in rules])]) if rules else None
            found = self._by_policy[(id(policy), direction)] = (policy, selects, allow)
        return found[1], found[2]

    def direction_ok(self, policy_set: PolicySet, direction: Direction) -> z3.BoolRef:
        """Tiers in order; the first that decides wins; a non-pod end is never restricted."""
        tiers = [self.np_tier(policy_set.policies, direction)]
        verdict: z3.BoolRef = self.all([])
        for tier in reversed(tiers):
            verdict = z3.If(tier.decided, tier.allow, verdict)
        return self.any([differs(self.subject(direction).kind, POD), verdict])

    def allowed(self, policy_set: PolicySet) -> z3.BoolRef:
        """S3.7.1: the connection needs the source's egress and the destination's ingress."""
        cached = self._allowed.get(id(policy_set))
        if cached is None:
            term = z3.And(self.direction_ok(policy_set, Direction.EGRESS),
                          self.direction_ok(policy_set, Direction.INGRESS))
            # Keyed by identity (hashing a large set is costly); the set is kept alive with it.
            cached = self._allowed[id(policy_set)] = (policy_set, term)
        return cached[1]

    def disagree(self, a: PolicySet, b: PolicySet) -> z3.BoolRef:
        """The flows one set allows and the other does not."""
        return z3.Xor(self.allowed(a), self.allowed(b))

    def differing_directions(self, solver: z3.Solver, a: PolicySet, b: PolicySet, what: str) -> frozenset[int]:
        """After `solver`, holding `disagree(a, b)`, answered SAT: 1 if some flow there is
        allowed by `b` only, 0 if some flow is allowed by `a` only. The model shows one;
        one more check (left asserted: pop it with the caller's scope) settles the other."""
        shown = int(z3.is_true(solver.model().eval(self.allowed(b), model_completion=True)))
        solver.add(self.allowed((a, b)[1 - shown]))
        return frozenset({shown, 1 - shown} if check(solver, what) is Answer.SAT else {shown})

    def only_allowed_by(self, allowed_by: PolicySet, denied_by: PolicySet) -> z3.BoolRef:
        """The flows `allowed_by` allows and `denied_by` does not."""
        return self.all([self.allowed(allowed_by), z3.Not(self.allowed(denied_by))])

    def within_pair(self, term: z3.BoolRef, src: str | None, dst: str | None,
                    policed: tuple[str, ...]) -> z3.BoolRef:
        """`term` restricted to the pair of zones `src` to `dst`: the pair's region, and the
        term with the kind and namespace of each end a zone pins written in, so that every
        check about the pair meets only the atoms that can still vary there."""
        pins = []
        for ep, zone in ((self.vars.src, src), (self.vars.dst, dst)):
            if zone is not None:
                pins += [(ep.kind, z3.IntVal(POD, self.ctx)),
                         (ep.ns, z3.IntVal(self.universe.namespace_index(zone), self.ctx))]
        return self.all([self.in_pair(src, dst, policed), z3.substitute(term, *pins) if pins else term])

    def in_pair(self, src: str | None, dst: str | None, policed: tuple[str, ...]) -> z3.BoolRef:
        """Flows from zone `src` to zone `dst` (analyse/locality.py, "pairs"): a zone is the
        pods of one namespace, or (None) every end that is not a pod of a `policed` one."""
        return self.all([self.in_zone("src", src, policed), self.in_zone("dst", dst, policed)])

    def in_zone(self, side: str, namespace: str | None, policed: tuple[str, ...]) -> z3.BoolRef:
        """End `side` ("src" or "dst") is in the zone of `namespace` (None: FREE)."""
        return self._zone(self.vars.src if side == "src" else self.vars.dst, namespace, policed)

    def zones(self, term: z3.BoolRef, side: str, policed: tuple[str, ...], what: str,
              alike: frozenset[str] = frozenset()) -> Iterator[str | None]:
        """The zones of end `side` ("src" or "dst") that hold some well-formed flow of `term`,
        as they are found: one check per zone, and one more to end. `alike` names
        namespaces that `term` cannot tell apart (it never compares that end's namespace
        with theirs, and the flows are not restricted to an inventory): one of them found
        is all of them found."""
        ep = self.vars.src if side == "src" else self.vars.dst
        solver = make_solver(self.ctx, self.semantics.timeout_ms)
        assert_all(solver, self.well_formed(), term)
        while check(solver, what) is Answer.SAT:
            model = Model.of(solver)
            index = model.number(ep.ns)
            is_pod = model.number(ep.kind) == POD
            name = self.universe.namespaces[index] if index < len(self.universe.namespaces) else None
            zone = name if is_pod and name in policed else None
            group = sorted(alike) if zone in alike else [zone]
            assert_all(solver, *(negation(self._zone(ep, z, policed)) for z in group))
            yield from group

    def _zone(self, ep: EndpointVars, namespace: str | None, policed: tuple[str, ...]) -> z3.BoolRef:
        def build() -> z3.BoolRef:
            if namespace is not None:
                return self.all([equals(ep.kind, POD), equals(ep.ns, self.universe.namespace_index(namespace))])
            indices = sorted({self.universe.namespace_index(ns) for ns in policed})
            return negation(self.all([equals(ep.kind, POD), self.any([equals(ep.ns, i) for i in indices])]))
        return self._memo(("zone", ep.side, namespace, policed if namespace is None else ()), build)

    # -- concrete flows ---------------------------------------------------------------------

    def concrete(self, flow: Flow) -> ConcreteFlow:
        return ConcreteFlow(self, self.assignment(flow))


class ConcreteFlow:
    """Questions about one concrete flow, answered by the same terms the proofs use."""

    def __init__(self, encoder: Encoder, assignment: list[tuple[z3.ExprRef, z3.ExprRef]]):
        self._encoder = encoder
        # A model that pins every variable evaluates any term in one pass over it, which is
        # far cheaper than substituting the assignment into each term.
        if len({var.ast.value for var, _ in assignment}) != len(assignment):
            raise AssertionError("a concrete flow's assignment pins a variable twice")
        self._model = Model.pinning(assignment, encoder.ctx)
        self._known: dict[int, bool] = {}
        self._terms: list[z3.BoolRef] = []

    def _holds(self, term: z3.BoolRef) -> bool:
        # Policies of a namespace often share a selector, and so one term (hash-consed).
        known = self._known.get(term.ast.value)
        if known is not None:
            return known
        known = self._model.truth(term)
        self._known[term.ast.value] = known
        self._terms.append(term)  # keeps the AST, and so its address, alive
        return known

    def is_pod(self, direction: Direction) -> bool:
        return self._holds(self._encoder.subject(direction).kind == POD)

    def local_node_exempt(self) -> bool:
        """Ingress from the destination's own node, exempt under S6.4."""
        return self._encoder.semantics.allow_from_local_node and \
            self._holds(self._encoder.vars.src.kind == LOCAL_NODE)

    def selects(self, policy: NetworkPolicy, direction: Direction) -> bool:
        return self._holds(self._encoder.policy_terms(policy, direction)[0])

    def rule_matches(self, policy: NetworkPolicy, rule: Rule) -> bool:
        return self._holds(self._encoder.rule(policy, rule))

    def peer_matches(self, policy: NetworkPolicy, rule: Rule, peer: Peer) -> bool:
        remote = self._encoder.vars.src if rule.direction is Direction.INGRESS else self._encoder.vars.dst
        return self._holds(self._encoder.peer(peer, policy.namespace, remote))

    def port_matches(self, spec: PortSpec) -> bool:
        return self._holds(self._encoder.port(spec))

    def allowed(self, policy_set: PolicySet) -> bool:
        return self._holds(self._encoder.allowed(policy_set))

