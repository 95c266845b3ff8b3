"""Unit tests of the encode layer: atoms, terms on concrete flows, cubes and witnesses."""

from __future__ import annotations

from npdiff.encode import Encoder, Universe
from npdiff.encode.cube import witness_flow
from npdiff.encode.search import ClassSearch
from npdiff.model import (
    Address, Flow, IPBlock, LabelSelector, NamedPort, NetworkPolicy, Peer, Pod, PolicySet,
    PortSpec, Requirement, Rule, Semantics,
)
from npdiff.model.policy import Direction
from npdiff.model.selector import Operator

INGRESS = frozenset({Direction.INGRESS})


def sel(*reqs: Requirement) -> LabelSelector:
    return LabelSelector(tuple(sorted(reqs)))


def label(key: str, value: str) -> Requirement:
    return Requirement(key, Operator.IN, (value,))


def policy(ns: str, name: str, selector: LabelSelector, *ingress: Rule,
           types: frozenset = INGRESS) -> NetworkPolicy:
    return NetworkPolicy(ns, name, selector, types, ingress=ingress)


def rule(*peers: Peer, ports: tuple[PortSpec, ...] = ()) -> Rule:
    return Rule(Direction.INGRESS, 0, peers=peers, ports=ports)


def allowed(ps: PolicySet, flow: Flow, semantics: Semantics = Semantics()) -> bool:
    return Encoder.for_sets([ps], semantics).concrete(flow).allowed(ps)


def pod(ns: str, ports: tuple[NamedPort, ...] = (), **labels: str) -> Pod:
    return Pod(namespace=ns, labels=tuple(sorted(labels.items())), ports=ports)


def test_universe_collects_atoms_sorted() -> None:
    ps = PolicySet((policy("prod", "p", sel(label("app", "db")), rule(
        Peer(namespace_selector=sel(Requirement("kubernetes.io/metadata.name", Operator.IN, ("ops",)),
                                    label("env", "dev"))),
        Peer(ip_block=IPBlock("10.0.0.0/8", ("10.1.0.0/16",))),
        ports=(PortSpec("TCP", 80, 90), PortSpec("UDP", "dns")))),))
    u = Universe.build([ps], Semantics())
    assert u.namespaces == ("ops", "prod")
    assert u.pod_keys == (("app", ("db",)),)
    assert u.ns_keys == (("env", ("dev",)),)
    assert u.port_names == ("dns",)
    assert u.port_cuts == (1, 80, 91)
    assert u.v4_cuts == (0, 0x0A000000, 0x0A010000, 0x0A020000, 0x0B000000)


def test_not_in_matches_absent_key_but_in_does_not() -> None:
    not_in = PolicySet((policy("prod", "p", sel(Requirement("tier", Operator.NOT_IN, ("fe",)))),))
    is_in = PolicySet((policy("prod", "p", sel(Requirement("tier", Operator.IN, ("be",)))),))
    flow = Flow(Address("203.0.113.7"), pod("prod", app="cache"), "TCP", 6379)
    assert not allowed(not_in, flow)   # selected: isolated with no rules (E20)
    assert allowed(is_in, flow)        # not selected (E21)


def test_named_port_resolves_on_destination_and_protocol_must_agree() -> None:
    ps = PolicySet((policy("ops", "p", LabelSelector(), rule(ports=(PortSpec("TCP", "dns"),))),))
    dns_udp = pod("ops", ports=(NamedPort("dns", 53, "UDP"),))
    dns_tcp = pod("ops", ports=(NamedPort("dns", 53, "TCP"),))
    src = pod("prod")
    assert not allowed(ps, Flow(src, dns_udp, "UDP", 53))
    assert not allowed(ps, Flow(src, dns_udp, "TCP", 53))
    assert allowed(ps, Flow(src, dns_tcp, "TCP", 53))
    assert not allowed(ps, Flow(src, dns_tcp, "TCP", 54))


def test_ipblock_except_and_pod_addresses() -> None:
    ps = PolicySet((policy("prod", "p", LabelSelector(), rule(
        Peer(ip_block=IPBlock("10.0.0.0/8", ("10.0.2.0/24",))))),))
    dst = pod("prod")
    assert allowed(ps, Flow(Address("10.0.1.1"), dst, "TCP", 1))
    assert not allowed(ps, Flow(Address("10.0.2.1"), dst, "TCP", 1))
    assert not allowed(ps, Flow(Address("2001:db8::1"), dst, "TCP", 1))
    in_block_pod = Pod(namespace="dev", ip="10.0.1.9")
    assert not allowed(ps, Flow(in_block_pod, dst, "TCP", 1))
    assert allowed(ps, Flow(in_block_pod, dst, "TCP", 1), Semantics(ipblock_matches_pods=True))


def test_local_node_exemption_follows_flag() -> None:
    ps = PolicySet((policy("prod", "p", LabelSelector()),))
    flow = Flow(Address("192.168.0.10", local_node=True), pod("prod"), "TCP", 80)
    assert allowed(ps, flow)
    assert not allowed(ps, flow, Semantics(allow_from_local_node=False))


def test_search_covers_a_single_port_opening_with_one_class() -> None:
    deny = policy("prod", "deny", LabelSelector())
    opened = policy("prod", "web", sel(label("app", "web")), rule(ports=(PortSpec("TCP", 8443),)))
    old, new = PolicySet((deny,)), PolicySet((deny, opened))
    encoder = Encoder.for_sets([old, new], Semantics())
    found = list(ClassSearch.difference(encoder, new, old, "opened").classes())
    assert len(found) == 1
    cube = dict(found[0].cube.dims)
    assert cube["port"] == (8443, 8443)
    assert cube["proto"] == frozenset({0})
    assert "src.kind" not in cube  # any source at all
    witness = witness_flow(found[0].point, encoder.universe, encoder.semantics)
    assert allowed(new, witness) and not allowed(old, witness)
    assert list(ClassSearch.difference(encoder, old, new, "closed").classes()) == []


def test_witness_uses_fresh_values_for_other_atoms() -> None:
    ps = PolicySet((policy("prod", "p", sel(Requirement("app", Operator.NOT_IN, ("web",))),
                           types=INGRESS),))
    encoder = Encoder.for_sets([ps], Semantics())
    found = next(ClassSearch.difference(encoder, PolicySet(), ps, "closed").classes())
    witness = witness_flow(found.point, encoder.universe, encoder.semantics)
    assert isinstance(witness.dst, Pod) and witness.dst.namespace == "prod"
    assert dict(witness.dst.labels).get("app") != "web"


def test_terms_built_through_the_c_api_are_those_of_z3s_operators() -> None:
    """Witnesses depend on the terms a context holds: the C API builders must make exactly
    the terms z3's operators make (argument order included)."""
    import ipaddress

    import z3

    from npdiff.encode.cube import at_least, at_most, differs, equals
    from npdiff.encode.terms import implication, negation
    from npdiff.encode.variables import address_in

    encoder = Encoder.for_sets([PolicySet((policy("a", "p", sel(label("app", "x"))),))], Semantics())
    v = encoder.vars
    same = [
        (equals(v.port, 80), v.port == 80), (equals(v.v6, True), v.v6 == True),  # noqa: E712
        (differs(v.src.kind, 0), v.src.kind != 0),
        (at_least(v.port, 8), v.port >= 8), (at_most(v.port, 9), v.port <= 9),
        (negation(v.v6), z3.Not(v.v6)), (implication(v.v6, v.src.has_ip), z3.Implies(v.v6, v.src.has_ip)),
    ]
    for net in ("10.1.0.0/16", "0.0.0.0/0", "2001:db8::/32"):
        network = ipaddress.ip_network(net)
        bits, var, family = (32, v.src.ip4, z3.Not(v.v6)) if network.version == 4 else (128, v.src.ip6, v.v6)
        mask = ((1 << network.prefixlen) - 1) << (bits - network.prefixlen)
        written = z3.And(v.src.has_ip, family) if not network.prefixlen else z3.And(
            v.src.has_ip, family,
            var & z3.BitVecVal(mask, bits, encoder.ctx) == z3.BitVecVal(int(network.network_address), bits, encoder.ctx))
        same.append((address_in(v.src, v.v6, network), written))
    for built, written in same:
        assert built.eq(written), (built, written)
