"""Cubes found by the solver, told in the user's vocabulary: namespaces, labels, CIDRs, ports."""

from __future__ import annotations

import ipaddress

from npdiff.encode.cube import Cube
from npdiff.encode.universe import ABSENT, Universe
from npdiff.encode.variables import POD
from npdiff.model import Semantics
from npdiff.model.policy import PROTOCOLS
from npdiff.model.result import EndpointRegion, ValueConstraint


def protocols_of(cube: Cube) -> tuple[str, ...]:
    chosen = cube.get("proto")
    indices = range(len(PROTOCOLS)) if chosen is None else sorted(chosen)
    return tuple(PROTOCOLS[i] for i in indices)


def ports_of(cube: Cube) -> tuple[tuple[int, int], ...]:
    chosen = cube.get("port")
    return ((1, 65535),) if chosen is None else (tuple(chosen),)


def endpoint_region(cube: Cube, side: str, universe: Universe, semantics: Semantics) -> EndpointRegion:
    kind = cube.get(f"{side}.kind")
    family = _family(cube)
    if kind is None:
        return EndpointRegion(kind="any")
    if POD not in kind:
        return EndpointRegion(kind="address", addresses=_addresses(cube, side, ()), family=family)
    addresses = _addresses(cube, side, semantics.pod_cidrs)
    labels = tuple(c for key, values in universe.pod_keys
                   for c in _label_constraints(key, cube.get(f"{side}.label[{key}]"), values))
    ns_labels = tuple(c for key, values in universe.ns_keys
                      for c in _label_constraints(key, cube.get(f"{side}.nslabel[{key}]"), values))
    named_ports = tuple((name, True in chosen) for name in universe.port_names
                        if (chosen := cube.get(f"{side}.serves[{name}]")) is not None and len(chosen) == 1)
    namespace = _namespace(cube.get(f"{side}.ns"), universe)
    named_in = tuple(n for n in universe.namespaces if n not in namespace.values) \
        if namespace is not None and namespace.op == "not-in" else ()
    return EndpointRegion(kind="pod", namespace=namespace, named_namespaces_in=named_in,
                          labels=labels, namespace_labels=ns_labels, named_ports=named_ports,
                          addresses=addresses, family=family if semantics.ipblock_matches_pods else None)


def _family(cube: Cube) -> str | None:
    chosen = cube.get("v6")
    if chosen is None or len(chosen) == 2:
        return None
    return "IPv6" if True in chosen else "IPv4"


def _addresses(cube: Cube, side: str, within: tuple[str, ...]) -> tuple[str, ...]:
    """The address range of one end as CIDRs, cut to `within` (pod CIDRs) where given."""
    for dim, make in ((f"{side}.ip4", ipaddress.IPv4Address), (f"{side}.ip6", ipaddress.IPv6Address)):
        chosen = cube.get(dim)
        if chosen is None:
            continue
        lo, hi = chosen
        spans = [(lo, hi)]
        nets = [ipaddress.ip_network(c) for c in within]
        nets = [n for n in nets if n.version == make(0).version]
        if nets:
            spans = [(max(lo, int(n.network_address)), min(hi, int(n.broadcast_address))) for n in nets]
            spans = [(a, b) for a, b in spans if a <= b]
        return tuple(str(n) for a, b in spans for n in ipaddress.summarize_address_range(make(a), make(b)))
    return ()


def _namespace(chosen: frozenset | None, universe: Universe) -> ValueConstraint | None:
    if chosen is None or len(chosen) == universe.other_namespace + 1:
        return None
    named = tuple(universe.namespaces[i] for i in range(universe.other_namespace) if i in chosen)
    if universe.other_namespace not in chosen:
        return ValueConstraint("namespace", "in", named)
    return ValueConstraint("namespace", "not-in", tuple(n for n in universe.namespaces if n not in named))


def _label_constraints(key: str, chosen: frozenset | None, values: tuple[str, ...]) -> tuple[ValueConstraint, ...]:
    """A set of value indices as selector-like requirements (0 absent, n+1 other values)."""
    if chosen is None:
        return ()
    absent, other = ABSENT in chosen, len(values) + 1 in chosen
    inside = tuple(v for i, v in enumerate(values, 1) if i in chosen)
    outside = tuple(v for i, v in enumerate(values, 1) if i not in chosen)
    if absent and other:
        return (ValueConstraint(key, "not-in", outside),) if outside else ()
    if other:
        return (ValueConstraint(key, "exists"),) + ((ValueConstraint(key, "not-in", outside),) if outside else ())
    if absent:
        return (ValueConstraint(key, "absent-or-in", inside),) if inside else (ValueConstraint(key, "absent"),)
    return (ValueConstraint(key, "in", inside),)
