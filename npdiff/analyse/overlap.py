"""Cheap, sound "may these two overlap?" tests on policy elements, without the solver.

The audit asks the solver only about elements that may overlap the one it checks: an
element that provably matches none of its flows cannot cover it, and its literal may
be left free. Every test here answers True unless disjointness is certain.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from npdiff.model import LabelSelector, NetworkPolicy, Peer, PortSpec, Rule, Semantics
from npdiff.model.flow import METADATA_NAME
from npdiff.model.selector import Operator, Requirement


@lru_cache(maxsize=1 << 16)
def selectors_may_overlap(a: LabelSelector | None, b: LabelSelector | None) -> bool:
    """False only when no label set satisfies both selectors (S2.3)."""
    if a is None or b is None:
        return True
    reqs: dict[str, list[Requirement]] = {}
    for req in a.requirements + b.requirements:
        reqs.setdefault(req.key, []).append(req)
    for group in reqs.values():
        must_exist = any(r.operator in (Operator.IN, Operator.EXISTS) for r in group)
        must_lack = any(r.operator is Operator.DOES_NOT_EXIST for r in group)
        if must_exist and must_lack:
            return False
        allowed: set[str] | None = None
        for r in group:
            if r.operator is Operator.IN:
                allowed = set(r.values) if allowed is None else allowed & set(r.values)
        if allowed is not None:
            for r in group:
                if r.operator is Operator.NOT_IN:
                    allowed -= set(r.values)
            if not allowed:
                return False
    return True


def _namespaces(peer: Peer, home: str) -> set[str] | None:
    """The namespaces a selector peer can match, or None for "any"."""
    if peer.namespace_selector is None:
        return {home}
    pinned: set[str] | None = None
    for req in peer.namespace_selector.requirements:
        if req.key == METADATA_NAME and req.operator is Operator.IN:
            pinned = set(req.values) if pinned is None else pinned & set(req.values)
    return pinned


@lru_cache(maxsize=1 << 16)
def peers_may_overlap(a: Peer, a_home: str, b: Peer, b_home: str, semantics: Semantics) -> bool:
    if a.ip_block is not None and b.ip_block is not None:
        return ipaddress.ip_network(a.ip_block.cidr).overlaps(ipaddress.ip_network(b.ip_block.cidr))
    if a.ip_block is not None or b.ip_block is not None:
        return semantics.ipblock_matches_pods  # otherwise an ipBlock never matches a pod (S6.1)
    a_ns, b_ns = _namespaces(a, a_home), _namespaces(b, b_home)
    if a_ns is not None and b_ns is not None and not a_ns & b_ns:
        return False
    if not selectors_may_overlap(a.namespace_selector, b.namespace_selector):
        return False
    return selectors_may_overlap(a.pod_selector, b.pod_selector)


def _port_range(spec: PortSpec, semantics: Semantics) -> tuple[int, int] | None:
    if spec.port is None or isinstance(spec.port, str):
        return None  # every port, or a name that may resolve to any number
    end = spec.end_port if spec.end_port is not None and semantics.endport == "range" else spec.port
    return (spec.port, end)


@lru_cache(maxsize=1 << 16)
def ports_may_overlap(a: PortSpec, b: PortSpec, semantics: Semantics) -> bool:
    if a.protocol != b.protocol:
        return False
    ra, rb = _port_range(a, semantics), _port_range(b, semantics)
    if ra is None or rb is None:
        return True
    return ra[0] <= rb[1] and rb[0] <= ra[1]


def rules_may_overlap(p: NetworkPolicy, r: Rule, q: NetworkPolicy, s: Rule, semantics: Semantics,
                      peers: tuple[Peer, ...] | None = None, ports: tuple[PortSpec, ...] | None = None) -> bool:
    """Whether rule `s` of `q` may match a flow that `r` of `p` matches for a pod both
    policies select; `peers`/`ports` narrow `r` to some of its entries."""
    if p.namespace != q.namespace or not selectors_may_overlap(p.pod_selector, q.pod_selector):
        return False
    r_peers = r.peers if peers is None else peers
    r_ports = r.ports if ports is None else ports
    if r_ports and s.ports and not any(ports_may_overlap(a, b, semantics) for a in r_ports for b in s.ports):
        return False
    if r_peers and s.peers and not any(peers_may_overlap(a, p.namespace, b, q.namespace, semantics)
                                       for a in r_peers for b in s.peers):
        return False
    return True
