"""The oracle (tests/oracle.py) against the NetworkPolicy examples E1-E43 of semantics.md §7."""

import pytest

import oracle
from examples.catalogue import CASES

ORACLE_OPTIONS = {"ipblock_matches_pods", "allow_from_local_node", "endport", "sctp"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_example(case):
    # self_traffic never matters to the oracle: §4.2 flows always join two different pods.
    options = {k: v for k, v in case.options.items() if k in ORACLE_OPTIONS}
    got = {text: oracle.allowed(case.policies, flow, **options) for flow, _, text in case.flows}
    want = {text: expected for _, expected, text in case.flows}
    assert got == want


def test_every_example_is_covered():
    ids = {c.id.split("-")[0].rstrip("b") for c in CASES}
    assert ids == {f"E{i}" for i in range(1, 44)}


# A few direct checks of rules the examples touch only lightly.

POD = {"namespace": "a", "labels": {}, "namespace_labels": {}, "ports": []}


def np(ns, spec, name="p"):
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def flow(src, dst, port=80, protocol="TCP"):
    return {"src": src, "dst": dst, "protocol": protocol, "port": port}


@pytest.mark.parametrize(
    "expression, labels, expected",
    [
        ({"key": "k", "operator": "In", "values": ["v"]}, {}, False),
        ({"key": "k", "operator": "NotIn", "values": ["v"]}, {}, True),
        ({"key": "k", "operator": "NotIn", "values": ["v"]}, {"k": "v"}, False),
        ({"key": "k", "operator": "Exists"}, {}, False),
        ({"key": "k", "operator": "Exists"}, {"k": ""}, True),
        ({"key": "k", "operator": "DoesNotExist"}, {}, True),
        ({"key": "k", "operator": "DoesNotExist"}, {"k": "v"}, False),
    ],
)
def test_requirement_table(expression, labels, expected):
    assert oracle.requirement_holds(expression, labels) is expected


def test_policy_without_namespace_uses_default_namespace():
    policy = {"kind": "NetworkPolicy", "metadata": {"name": "p"}, "spec": {}}
    dst = dict(POD, namespace="default")
    assert not oracle.allowed([policy], flow({"ip": "1.2.3.4"}, dst))
    assert oracle.allowed([policy], flow({"ip": "1.2.3.4"}, dst), default_namespace="other")


def test_metadata_name_label_is_forced():
    spec = {
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}}]}],
    }
    liar = dict(POD, namespace="c", namespace_labels={"kubernetes.io/metadata.name": "b"})
    assert oracle.allowed([np("a", spec)], flow(POD, dict(POD, namespace="b")))
    assert not oracle.allowed([np("a", spec)], flow(POD, liar))


def test_ipblock_except_and_families():
    spec = {
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}],
    }
    policies = [np("a", spec)]
    assert oracle.allowed(policies, flow(POD, {"ip": "10.2.0.1"}))
    assert not oracle.allowed(policies, flow(POD, {"ip": "10.1.0.1"}))
    assert not oracle.allowed(policies, flow(POD, {"ip": "::ffff:10.2.0.1"}))
    pod_with_ip = dict(POD, ip="10.2.0.1")
    assert not oracle.allowed(policies, flow(POD, pod_with_ip))
    assert oracle.allowed(policies, flow(POD, pod_with_ip), ipblock_matches_pods=True)
    assert not oracle.allowed(policies, flow(POD, dict(POD)), ipblock_matches_pods=True)


def test_ipblock_host_bits_are_masked():
    spec = {"policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.1/24"}}]}]}
    assert oracle.allowed([np("a", spec)], flow(POD, {"ip": "10.0.0.200"}))


def test_named_port_needs_matching_protocol_on_destination():
    spec = {"ingress": [{"ports": [{"port": "dns", "protocol": "UDP"}]}]}
    dst = dict(POD, ports=[{"name": "dns", "port": 53, "protocol": "UDP"}])
    x = {"ip": "1.2.3.4"}
    assert oracle.allowed([np("a", spec)], flow(x, dst, 53, "UDP"))
    assert not oracle.allowed([np("a", spec)], flow(x, dst, 53, "TCP"))
    assert not oracle.allowed([np("a", spec)], flow(x, dst, 54, "UDP"))


def test_local_node_only_exempts_ingress_of_isolated_pod():
    deny_both = np("a", {"policyTypes": ["Ingress", "Egress"]})
    node = {"ip": "192.168.0.1", "local_node": True}
    assert oracle.allowed([deny_both], flow(node, POD))
    assert not oracle.allowed([deny_both], flow(node, POD), allow_from_local_node=False)
    assert not oracle.allowed([deny_both], flow(POD, {"ip": "192.168.0.1"}))
