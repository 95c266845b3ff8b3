"""The symbolic flow: z3 variables for both endpoints, protocol, port and address family.

An endpoint is a pod, an address, or (as a source only) the destination pod's own node.
A pod has a namespace atom, one Int per pod-label key (0 absent, 1..n mentioned values,
n+1 any other value) and one Int per namespace-label key in the same coding. The
destination also has one Bool per port name: "a container port of that name serves this
flow's protocol and port", which is exact because a symbolic pod may declare any names.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import z3

from npdiff.encode.terms import conjunction, negation
from npdiff.encode.universe import Universe
from npdiff.model import Address, Flow, Pod, Semantics
from npdiff.model.policy import PROTOCOLS

POD, ADDRESS, LOCAL_NODE = 0, 1, 2


@dataclass(frozen=True)
class EndpointVars:
    side: str
    kind: z3.ArithRef
    ns: z3.ArithRef
    labels: dict[str, z3.ArithRef]
    ns_labels: dict[str, z3.ArithRef]
    has_ip: z3.BoolRef
    ip4: z3.BitVecRef
    ip6: z3.BitVecRef

    @property
    def is_pod(self) -> z3.BoolRef:
        return self.kind == POD


@dataclass(frozen=True)
class FlowVars:
    src: EndpointVars
    dst: EndpointVars
    proto: z3.ArithRef
    port: z3.ArithRef
    v6: z3.BoolRef
    serves: dict[str, z3.BoolRef]   # destination named ports

    @classmethod
    def declare(cls, universe: Universe, ctx: z3.Context) -> FlowVars:
        def endpoint(side: str) -> EndpointVars:
            return EndpointVars(
                side=side,
                kind=z3.Int(f"{side}.kind", ctx),
                ns=z3.Int(f"{side}.ns", ctx),
                labels={k: z3.Int(f"{side}.label[{k}]", ctx) for k, _ in universe.pod_keys},
                ns_labels={k: z3.Int(f"{side}.nslabel[{k}]", ctx) for k, _ in universe.ns_keys},
                has_ip=z3.Bool(f"{side}.has_ip", ctx),
                ip4=z3.BitVec(f"{side}.ip4", 32, ctx),
                ip6=z3.BitVec(f"{side}.ip6", 128, ctx),
            )

        return cls(
            src=endpoint("src"),
            dst=endpoint("dst"),
            proto=z3.Int("proto", ctx),
            port=z3.Int("port", ctx),
            v6=z3.Bool("v6", ctx),
            serves={n: z3.Bool(f"dst.serves[{n}]", ctx) for n in universe.port_names},
        )

    @property
    def ctx(self) -> z3.Context:
        return self.proto.ctx

    @staticmethod
    def free_at(dim: str, point: Mapping[str, int | bool], universe: Universe) -> bool:
        """Whether the well-formed flow `point` (encode/cube.py's dimensions) stays well
        formed whatever value of its domain `dim` takes: `well_formed` bounds the protocol
        and pods' labels by their ranges alone, and ties namespace labels only between two
        pods of one named namespace."""
        if dim == "proto" or dim.startswith(("src.label[", "dst.label[")):
            return True
        if ".nslabel[" in dim:
            return not (point["src.kind"] == POD and point["dst.kind"] == POD
                        and point["src.ns"] == point["dst.ns"] != universe.other_namespace)
        return False

    def well_formed(self, universe: Universe, semantics: Semantics) -> z3.BoolRef:
        """Ranges and the facts that tie variables together (S1.1.2)."""
        facts: list[z3.BoolRef] = [
            z3.And(self.proto >= 0, self.proto < len(PROTOCOLS)),
            z3.And(self.port >= 1, self.port <= 65535),
            # The own-node source only matters to the local-node exemption; symbolic
            # flows model other nodes as addresses (S6.4).
            z3.Or(self.src.kind == POD, self.src.kind == ADDRESS),
            z3.Or(self.dst.kind == POD, self.dst.kind == ADDRESS),
        ]
        for ep in (self.src, self.dst):
            facts.append(z3.And(ep.ns >= 0, ep.ns <= universe.other_namespace))
            facts.append(ep.has_ip)
            for key, values in universe.pod_keys:
                facts.append(z3.And(ep.labels[key] >= 0, ep.labels[key] <= len(values) + 1))
            for key, values in universe.ns_keys:
                facts.append(z3.And(ep.ns_labels[key] >= 0, ep.ns_labels[key] <= len(values) + 1))
        same_named_ns = z3.And(self.src.is_pod, self.dst.is_pod, self.src.ns == self.dst.ns,
                               self.src.ns != universe.other_namespace)
        if universe.ns_keys:
            facts.append(z3.Implies(same_named_ns, z3.And(
                [self.src.ns_labels[k] == self.dst.ns_labels[k] for k, _ in universe.ns_keys])))
        if semantics.ipblock_matches_pods:
            facts.extend(self._pod_address_facts(semantics))
        return z3.And(facts)

    def _pod_address_facts(self, semantics: Semantics) -> list[z3.BoolRef]:
        """When ipBlocks see pod addresses, the two ends of a flow have different addresses,
        and with --pod-cidr pods live inside the pod CIDRs of the flow's family and other
        endpoints outside them; a family without a pod CIDR leaves pods anywhere in it."""
        facts = [z3.If(self.v6, self.src.ip6 != self.dst.ip6, self.src.ip4 != self.dst.ip4)]
        for version, family in ((4, z3.Not(self.v6)), (6, self.v6)):
            nets = [ipaddress.ip_network(c) for c in semantics.pod_cidrs]
            nets = [n for n in nets if n.version == version]
            if not nets:
                continue
            for ep in (self.src, self.dst):
                inside = z3.Or([address_in(ep, self.v6, n) for n in nets])
                facts.append(z3.Implies(family, z3.If(ep.is_pod, inside, z3.Not(inside))))
        return facts

    def assignment(self, flow: Flow, universe: Universe, semantics: Semantics) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
        """Pairs that pin every variable to the concrete flow.

        The family comes from the addresses that can matter: those of non-pod ends, and
        pods' only when ipBlocks see pod addresses (S6.1)."""
        ips = [ipaddress.ip_address(ep.ip) for ep in (flow.dst, flow.src) if isinstance(ep, Address)]
        if semantics.ipblock_matches_pods:
            ips += [ipaddress.ip_address(ep.ip) for ep in (flow.dst, flow.src) if isinstance(ep, Pod) and ep.ip]
        v6 = bool(ips) and ips[0].version == 6
        ctx = self.ctx
        pairs: list[tuple[z3.ExprRef, z3.ExprRef]] = [
            (self.proto, z3.IntVal(PROTOCOLS.index(flow.protocol), ctx)),
            (self.port, z3.IntVal(flow.port, ctx)),
            (self.v6, z3.BoolVal(v6, ctx)),
        ]
        for ep_vars, ep in ((self.src, flow.src), (self.dst, flow.dst)):
            pairs.extend(_endpoint_assignment(ep_vars, ep, universe, v6))
        dst_ports = flow.dst.ports if isinstance(flow.dst, Pod) else ()
        for name, var in self.serves.items():
            serves = any(p.name == name and p.protocol == flow.protocol and p.port == flow.port
                         for p in dst_ports)
            pairs.append((var, z3.BoolVal(serves, ctx)))
        return pairs


def _endpoint_assignment(ep_vars: EndpointVars, ep: Pod | Address, universe: Universe,
                         v6: bool) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
    ctx = ep_vars.kind.ctx
    if isinstance(ep, Pod):
        kind = POD
        ns = universe.namespace_index(ep.namespace)
        labels, ns_labels = ep.label_map, ep.namespace_label_map
    else:
        kind = LOCAL_NODE if ep.local_node else ADDRESS
        ns, labels, ns_labels = universe.other_namespace, {}, {}
    pairs: list[tuple[z3.ExprRef, z3.ExprRef]] = [
        (ep_vars.kind, z3.IntVal(kind, ctx)),
        (ep_vars.ns, z3.IntVal(ns, ctx)),
    ]
    for key, values in universe.pod_keys:
        pairs.append((ep_vars.labels[key], z3.IntVal(Universe.value_index(values, labels.get(key)), ctx)))
    for key, values in universe.ns_keys:
        pairs.append((ep_vars.ns_labels[key], z3.IntVal(Universe.value_index(values, ns_labels.get(key)), ctx)))
    ip = ipaddress.ip_address(ep.ip) if ep.ip else None
    matching_family = ip is not None and (ip.version == 6) == v6
    pairs.append((ep_vars.has_ip, z3.BoolVal(matching_family, ctx)))
    pairs.append((ep_vars.ip4, z3.BitVecVal(int(ip) if matching_family and not v6 else 0, 32, ctx)))
    pairs.append((ep_vars.ip6, z3.BitVecVal(int(ip) if matching_family and v6 else 0, 128, ctx)))
    return pairs


def address_in(ep: EndpointVars, v6: z3.BoolRef, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> z3.BoolRef:
    """The endpoint's address of the flow's family lies in `net` (built through the C API:
    policies of a large set hold thousands of blocks)."""
    if net.version == 4:
        bits, var, family = 32, ep.ip4, negation(v6)
    else:
        bits, var, family = 128, ep.ip6, v6
    ctx = var.ctx
    if net.prefixlen == 0:
        return conjunction([ep.has_ip, family], ctx)
    mask = ((1 << net.prefixlen) - 1) << (bits - net.prefixlen)
    ref = ctx.ref()
    sort = z3.Z3_get_sort(ref, var.as_ast())   # lives with `var`
    masked = z3.BitVecRef(z3.Z3_mk_bvand(ref, var.as_ast(), z3.Z3_mk_numeral(ref, str(mask), sort)), ctx)
    network = z3.Z3_mk_numeral(ref, str(int(net.network_address)), sort)
    # The network first, as `==` wrote it (the numeral's type is the more specific one).
    return conjunction([ep.has_ip, family, z3.BoolRef(z3.Z3_mk_eq(ref, network, masked.as_ast()), ctx)], ctx)
