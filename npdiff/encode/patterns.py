"""Invariant terms: endpoint and port patterns over the symbolic flow, and for each
invariant the region of flows that violate it.

Patterns describe flows, not plugin behaviour: `--endport` and `--sctp` change what a
policy's port entry matches, never what an invariant's port entry means.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import z3

from npdiff.encode.encoder import Encoder
from npdiff.encode.universe import Vocabulary
from npdiff.encode.variables import POD, EndpointVars, address_in
from npdiff.model import Flow, PolicySet, PortSpec
from npdiff.model.invariant import EndpointPattern, FlowPattern, Invariant, InvariantKind, Scope
from npdiff.model.policy import PROTOCOLS


def vocabulary(invariants: Iterable[Invariant]) -> Vocabulary:
    """Everything the invariants mention, for `Universe.build`."""
    namespaces: set[str] = set()
    pod_selectors: set = set()
    namespace_selectors: set = set()
    cidrs: set[str] = set()
    names: set[str] = set()
    ranges: set[tuple[int, int]] = set()

    def add_endpoint(pattern: EndpointPattern) -> None:
        if pattern.namespace is not None:
            namespaces.add(pattern.namespace)
        if pattern.pod_selector is not None:
            pod_selectors.add(pattern.pod_selector)
        if pattern.namespace_selector is not None:
            namespace_selectors.add(pattern.namespace_selector)
        if pattern.ip_block is not None:
            cidrs.add(pattern.ip_block.cidr)
            cidrs.update(pattern.ip_block.excepts)

    def add_ports(ports: tuple[PortSpec, ...]) -> None:
        for spec in ports:
            if isinstance(spec.port, str):
                names.add(spec.port)
            elif isinstance(spec.port, int):
                ranges.add((spec.port, spec.end_port or spec.port))

    for invariant in invariants:
        for pattern in invariant.sources + invariant.destinations:
            add_endpoint(pattern)
        add_ports(invariant.ports)
        for exception in invariant.exceptions:
            for pattern in exception.sources + exception.destinations:
                add_endpoint(pattern)
            add_ports(exception.ports)
    return Vocabulary(
        namespaces=tuple(sorted(namespaces)),
        pod_selectors=tuple(sorted(pod_selectors)),
        namespace_selectors=tuple(sorted(namespace_selectors)),
        cidrs=tuple(sorted(cidrs)),
        port_names=tuple(sorted(names)),
        port_ranges=tuple(sorted(ranges)),
    )


def endpoint(encoder: Encoder, pattern: EndpointPattern, ep: EndpointVars) -> z3.BoolRef:
    if pattern.kind == "any":
        return encoder.all([])
    if pattern.kind == "address":
        block = pattern.ip_block
        assert block is not None
        v6 = encoder.vars.v6
        excluded = [address_in(ep, v6, ipaddress.ip_network(e)) for e in block.excepts]
        return z3.And(ep.kind != POD, address_in(ep, v6, ipaddress.ip_network(block.cidr)),
                      z3.Not(encoder.any(excluded)))
    terms = [ep.kind == POD]
    if pattern.namespace is not None:
        terms.append(ep.ns == encoder.universe.namespace_index(pattern.namespace))
    if pattern.namespace_selector is not None:
        terms.append(encoder.namespace_selector(pattern.namespace_selector, ep))
    if pattern.pod_selector is not None:
        terms.append(encoder.pod_selector(pattern.pod_selector, ep))
    return encoder.all(terms)


def endpoints(encoder: Encoder, patterns: tuple[EndpointPattern, ...], ep: EndpointVars) -> z3.BoolRef:
    """A union of patterns."""
    return encoder.any([endpoint(encoder, p, ep) for p in patterns])


def ports(encoder: Encoder, specs: tuple[PortSpec, ...]) -> z3.BoolRef:
    """As a NetworkPolicy `ports` list (S3.4.4-S3.4.6, S3.6): no entries, every port."""
    if not specs:
        return encoder.all([])
    v = encoder.vars
    terms = []
    for spec in specs:
        proto = v.proto == PROTOCOLS.index(spec.protocol)
        if spec.port is None:
            terms.append(proto)
        elif isinstance(spec.port, str):
            terms.append(z3.And(proto, v.dst.kind == POD, v.serves[spec.port]))
        else:
            terms.append(z3.And(proto, v.port >= spec.port, v.port <= (spec.end_port or spec.port)))
    return encoder.any(terms)


def flows(encoder: Encoder, pattern: FlowPattern) -> z3.BoolRef:
    v = encoder.vars
    return z3.And(endpoints(encoder, pattern.sources, v.src),
                  endpoints(encoder, pattern.destinations, v.dst),
                  ports(encoder, pattern.ports))


def _named(encoder: Encoder, ep: EndpointVars) -> z3.BoolRef:
    return z3.And(ep.kind == POD, ep.ns != encoder.universe.other_namespace)


def violation(encoder: Encoder, policy_set: PolicySet, invariant: Invariant) -> z3.BoolRef:
    """The well-formed flows that refute `invariant` under `policy_set`: empty iff it holds."""
    v = encoder.vars
    kind = invariant.kind
    if kind is InvariantKind.ISOLATED:
        return _not_isolated(encoder, policy_set, invariant)
    allowed = encoder.allowed(policy_set)
    src = endpoints(encoder, invariant.sources, v.src)
    dst = endpoints(encoder, invariant.destinations, v.dst)
    on_ports = ports(encoder, invariant.ports)
    if kind is InvariantKind.ONLY_FROM:
        term = z3.And(dst, allowed, z3.Not(z3.And(src, on_ports)))
    elif kind is InvariantKind.ONLY_TO:
        term = z3.And(src, allowed, z3.Not(z3.And(dst, on_ports)))
    elif kind is InvariantKind.ALLOW:
        term = z3.And(src, dst, on_ports, z3.Not(allowed))
    elif kind is InvariantKind.DENY:
        term = z3.And(src, dst, on_ports, allowed)
    else:
        # Two ends in namespaces no policy names share the "other" atom but may be two
        # different namespaces, so they count as crossing.
        crossing = z3.Or(v.src.ns != v.dst.ns, v.src.ns == encoder.universe.other_namespace)
        excepted = encoder.any([flows(encoder, e) for e in invariant.exceptions])
        term = z3.And(v.src.is_pod, v.dst.is_pod, crossing, allowed, z3.Not(excepted))
    if invariant.scope is Scope.NAMED_NAMESPACES:
        term = z3.And(term, z3.Or(_named(encoder, v.src), _named(encoder, v.dst)))
    return term


def _not_isolated(encoder: Encoder, policy_set: PolicySet, invariant: Invariant) -> z3.BoolRef:
    """A matching pod that no policy isolates in one of the directions (S3.2.3)."""
    terms = []
    for direction in sorted(invariant.directions, key=lambda d: d.value):
        subject = encoder.subject(direction)
        isolated = encoder.np_tier(policy_set.policies, direction).decided
        term = z3.And(endpoints(encoder, invariant.sources, subject), z3.Not(isolated))
        if invariant.scope is Scope.NAMED_NAMESPACES:
            term = z3.And(term, _named(encoder, subject))
        terms.append(term)
    return encoder.any(terms)


def holds_on(encoder: Encoder, term: z3.BoolRef, flow: Flow) -> bool:
    """Whether a concrete flow lies in `term`."""
    value = z3.simplify(z3.substitute(term, *encoder.assignment(flow)))
    if not (z3.is_true(value) or z3.is_false(value)):
        raise AssertionError(f"term not concrete under the flow: {value}")
    return z3.is_true(value)

