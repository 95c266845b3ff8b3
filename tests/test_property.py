"""Random valid policy sets and flows: npdiff must agree with the oracle (tests/oracle.py).

(a) `npdiff eval` agrees with the oracle on every flow, under random options;
(b) `npdiff diff A B`: an equivalent verdict is never contradicted by a sampled flow, and
    every class witness is allowed on exactly the side the report says;
    with --pod-cidr, witnesses also stay inside the documented universe;
(c) a set compared with itself, or with a rewrite that cannot change meaning, is equivalent.

About half of the random flows are aimed at a rule of the policies (subject pod in the
policy's namespace, port on the edges of a port entry) so that edge cases get hit.
Policy sets and flows are valid input and share one small vocabulary of labels,
namespaces, CIDRs and ports.
"""

from __future__ import annotations

import copy
import ipaddress
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

import oracle
from examples.runner import CLI_PATH, run_diff, run_eval

if not CLI_PATH.exists():
    pytest.skip("npdiff/cli.py does not exist yet", allow_module_level=True)

# NPDIFF_PROPERTY_SCALE=N runs N times as many examples, randomly seeded (bug hunting);
# the default is a fixed, derandomized run for CI.
SCALE = int(os.environ.get("NPDIFF_PROPERTY_SCALE", "1"))
SETTINGS = dict(
    deadline=None,
    derandomize=SCALE == 1,  # same examples on every run (CI determinism)
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- vocabulary ------------------------------------------------------------------------

POLICY_NAMESPACES = ["ns1", "ns2", "ns3"]
# "default" holds the policies written without metadata.namespace (S3.1.1);
# ns4 is a namespace no policy mentions.
FLOW_NAMESPACES = POLICY_NAMESPACES + ["default", "ns4"]
METADATA_NAME = "kubernetes.io/metadata.name"
POD_VALUES = {"app": ["a", "b", "c"], "tier": ["x", "y"]}
NS_VALUES = {"env": ["p", "d"], METADATA_NAME: POLICY_NAMESPACES}
OTHER = {"app": "z", "tier": "w", "env": "q"}  # values no selector mentions

IP_BLOCKS = [
    {"cidr": "10.0.0.0/8"},
    {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]},
    {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16", "10.2.0.0/24"]},
    {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "192.168.0.0/16"]},
    {"cidr": "192.168.0.0/16", "except": ["192.168.1.0/24"]},
    {"cidr": "203.0.113.7/32"},
    {"cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"]},
    {"cidr": "::/0", "except": ["fd00::/8"]},
    {"cidr": "0.0.0.0/0"},   # a whole family: classes must keep the family they hold
    {"cidr": "::/0"},
]
POD_IPS = {4: ["10.0.0.5", "10.1.2.3", "10.2.0.1", "192.168.1.1"], 6: ["2001:db8::5", "2001:db8:1::1", "fd00::1"]}
ADDRESS_IPS = {
    4: ["203.0.113.7", "8.8.8.8", "10.1.2.3", "10.2.0.9", "10.3.0.1", "192.168.1.1", "192.168.2.2"],
    6: ["2001:db8::7", "2001:db8:1::1", "fd00::1", "2002::1"],
}
PORT_NUMBERS = [53, 80, 443, 1000, 2000, 8080]
PORT_RANGES = [(80, 443), (1000, 2000), (53, 53), (443, 8080)]
FLOW_PORTS = [53, 80, 443, 1000, 1500, 8080, 9090]
CONTAINER_PORTS = [
    {"name": "http", "port": 80, "protocol": "TCP"},
    {"name": "http", "port": 8080, "protocol": "TCP"},
    {"name": "dns", "port": 53, "protocol": "UDP"},
    {"name": "dns", "port": 53, "protocol": "TCP"},
    {"name": "dns", "port": 1000, "protocol": "SCTP"},
    {"name": "metrics", "port": 9090, "protocol": "TCP"},
]
PROTOCOLS = ["TCP", "UDP", "SCTP"]

# --- policies --------------------------------------------------------------------------


@st.composite
def requirements(draw, values: dict):
    key = draw(st.sampled_from(sorted(values)))
    operator = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
    if operator in ("Exists", "DoesNotExist"):
        return {"key": key, "operator": operator}
    chosen = draw(st.lists(st.sampled_from(values[key]), min_size=1, max_size=2, unique=True))
    return {"key": key, "operator": operator, "values": chosen}


@st.composite
def selectors(draw, values: dict):
    selector = {}
    keys = draw(st.lists(st.sampled_from(sorted(values)), max_size=2, unique=True))
    if keys or draw(st.booleans()):
        selector["matchLabels"] = {k: draw(st.sampled_from(values[k])) for k in keys}
    expressions = draw(st.lists(requirements(values), max_size=2))
    if expressions or draw(st.booleans()):
        selector["matchExpressions"] = expressions
    return selector


pod_selectors = selectors(POD_VALUES)
namespace_selectors = selectors(NS_VALUES)

peers = st.one_of(
    st.builds(lambda s: {"podSelector": s}, pod_selectors),
    st.builds(lambda s: {"namespaceSelector": s}, namespace_selectors),
    st.builds(lambda p, n: {"podSelector": p, "namespaceSelector": n}, pod_selectors, namespace_selectors),
    st.builds(lambda b: {"ipBlock": copy.deepcopy(b)}, st.sampled_from(IP_BLOCKS)),
)


@st.composite
def port_entries(draw):
    entry = {}
    protocol = draw(st.sampled_from([None, *PROTOCOLS]))
    if protocol:
        entry["protocol"] = protocol
    kind = draw(st.sampled_from(["none", "number", "range", "named"]))
    if kind == "number":
        entry["port"] = draw(st.sampled_from(PORT_NUMBERS))
    elif kind == "range":
        entry["port"], entry["endPort"] = draw(st.sampled_from(PORT_RANGES))
    elif kind == "named":
        entry["port"] = draw(st.sampled_from(["http", "dns"]))
    return entry


def optional_list(draw, element, sizes=(None, 0, 1, 1, 1, 2, 2)):
    """An absent (None), empty or short list; weights fixed so that lists are seldom empty."""
    size = draw(st.sampled_from(sizes))
    return None if size is None else [draw(element) for _ in range(size)]


@st.composite
def rules(draw, peer_key: str):
    rule = {}
    peer_list = optional_list(draw, peers)
    if peer_list is not None:
        rule[peer_key] = peer_list
    port_list = optional_list(draw, port_entries())
    if port_list is not None:
        rule["ports"] = port_list
    return rule


@st.composite
def policy_specs(draw):
    spec = {}
    selector = draw(st.sampled_from(["absent", None, {}, "draw", "draw"]))
    if selector == "draw":
        selector = draw(pod_selectors)
    if selector != "absent":
        spec["podSelector"] = selector
    types = draw(st.sampled_from([None, [], ["Ingress"], ["Egress"], ["Ingress", "Egress"], ["Egress", "Ingress"]]))
    if types is not None:
        spec["policyTypes"] = types
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        rule_list = optional_list(draw, rules(peer_key))
        if rule_list is not None:
            spec[direction] = rule_list
    return spec


@st.composite
def policy_sets(draw, prefix="p"):
    namespaces = POLICY_NAMESPACES[: draw(st.integers(2, 3))]
    specs = draw(st.lists(policy_specs(), min_size=1, max_size=4))
    policies = []
    for i, spec in enumerate(specs):
        metadata = {"name": f"{prefix}{i}"}
        namespace = draw(st.sampled_from([*namespaces] * 4 + [None]))
        if namespace:
            metadata["namespace"] = namespace
        policies.append(
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": metadata, "spec": spec}
        )
    return policies


# --- flows -----------------------------------------------------------------------------


def labels_from(draw, values: dict) -> dict:
    labels = {}
    for key, choices in values.items():
        value = draw(st.sampled_from([None, *choices, *choices, OTHER.get(key, "other")]))
        if value is not None:
            labels[key] = value
    return labels


def port_candidates(entry: dict) -> list[int]:
    """Destination ports on and next to the edges of one `ports` entry."""
    port, end = entry.get("port"), entry.get("endPort")
    if isinstance(port, str):
        return sorted({p["port"] for p in CONTAINER_PORTS if p["name"] == port})
    if port is None:
        return FLOW_PORTS
    edges = {port - 1, port, port + 1}
    if end is not None:
        edges |= {(port + end) // 2, end - 1, end, end + 1}
    return sorted(edges)


@st.composite
def flow_batches(draw, policy_lists=(), min_size=15, max_size=30):
    """Flows over the vocabulary; about half are aimed at a random rule of the policies.

    All flows of a batch share one view of the namespaces (their labels never contradict).
    """
    ns_labels = {ns: labels_from(draw, {"env": NS_VALUES["env"]}) for ns in FLOW_NAMESPACES}
    policies = [p for policy_list in policy_lists for p in policy_list]

    @st.composite
    def pods(draw, family, namespace=None):
        namespace = namespace or draw(st.sampled_from(FLOW_NAMESPACES))
        unique_names = st.lists(st.sampled_from(CONTAINER_PORTS), max_size=3, unique_by=lambda p: p["name"])
        return {
            "namespace": namespace,
            "labels": labels_from(draw, POD_VALUES),
            "namespace_labels": dict(ns_labels[namespace]),
            "ports": [dict(p) for p in draw(unique_names)],
            "ip": draw(st.sampled_from(POD_IPS[family])),
        }

    def address(family):
        return st.builds(lambda ip: {"ip": ip}, st.sampled_from(ADDRESS_IPS[family]))

    @st.composite
    def random_flows(draw):
        family = draw(st.sampled_from([4, 4, 6]))
        kinds = draw(st.sampled_from([("pod", "pod"), ("pod", "pod"), ("pod", "ip"), ("ip", "pod")]))
        src = draw(pods(family) if kinds[0] == "pod" else address(family))
        dst = draw(pods(family) if kinds[1] == "pod" else address(family))
        if kinds[0] == "ip" and draw(st.integers(0, 3)) == 0:
            src["local_node"] = True
        return {
            "src": src,
            "dst": dst,
            "protocol": draw(st.sampled_from(["TCP", "TCP", "UDP", "SCTP"])),
            "port": draw(st.sampled_from(FLOW_PORTS)),
        }

    @st.composite
    def aimed_flows(draw):
        """A flow whose subject pod is in the namespace of a policy, on the edges of a rule."""
        policy = draw(st.sampled_from(policies))
        family = draw(st.sampled_from([4, 4, 6]))
        direction = draw(st.sampled_from(["ingress", "egress"]))
        rule = draw(st.sampled_from(policy["spec"].get(direction) or [{}]))
        subject = draw(pods(family, policy["metadata"].get("namespace", "default")))
        peer = draw(st.one_of(pods(family), address(family)))
        if direction == "ingress" and "namespace" not in peer and draw(st.booleans()):
            peer["local_node"] = True
        entry = draw(st.sampled_from(rule.get("ports") or [{}]))
        protocol = entry.get("protocol") or "TCP"
        return {
            "src": peer if direction == "ingress" else subject,
            "dst": subject if direction == "ingress" else peer,
            "protocol": draw(st.sampled_from([protocol, protocol, protocol, *PROTOCOLS])),
            "port": draw(st.sampled_from(port_candidates(entry))),
        }

    def distinct_addresses(flow: dict) -> dict:
        """Two endpoints never share an address."""
        src, dst = flow["src"], flow["dst"]
        if src.get("ip") and src.get("ip") == dst.get("ip"):
            family = ipaddress.ip_address(dst["ip"]).version
            choices = (POD_IPS if "namespace" in dst else ADDRESS_IPS)[family]
            dst["ip"] = choices[(choices.index(dst["ip"]) + 1) % len(choices)]
        return flow

    flows = st.one_of(random_flows(), aimed_flows()) if policies else random_flows()
    return draw(st.lists(flows.map(distinct_addresses), min_size=min_size, max_size=max_size))


eval_options = st.fixed_dictionaries(
    {
        "default_namespace": st.sampled_from(["default", "default", "ns1"]),
        "ipblock_matches_pods": st.booleans(),
        "allow_from_local_node": st.booleans(),
        "endport": st.sampled_from(["range", "first-port"]),
        "sctp": st.sampled_from(["supported", "unsupported"]),
    }
)


def oracle_verdicts(policies, flows, options):
    return [oracle.allowed(policies, f, **options) for f in flows]


# --- (a) eval agrees with the oracle ---------------------------------------------------


@settings(max_examples=40 * SCALE, **SETTINGS)
@given(data=st.data(), policies=policy_sets(), options=eval_options)
def test_eval_agrees_with_oracle(data, policies, options):
    flows = data.draw(flow_batches([policies], min_size=30, max_size=60), label="flows")
    with tempfile.TemporaryDirectory() as directory:
        result, verdicts = run_eval(Path(directory), policies, flows, options)
    assert result.exit_code == 0, result.stderr
    assert len(verdicts) == len(flows)
    expected = oracle_verdicts(policies, flows, options)
    event(f"share of allowed flows: {round(sum(expected) / len(expected), 1)}")
    mismatches = [
        (flow, want, got["allowed"]) for flow, want, got in zip(flows, expected, verdicts) if want != got["allowed"]
    ]
    for flow, want, got in mismatches[:3]:
        note(f"flow {flow}: oracle {want}, npdiff {got}")
    assert not mismatches


# --- (b) diff verdicts and witnesses ---------------------------------------------------


@st.composite
def related_sets(draw):
    """A second set: independent, or the first with one rule or policy changed."""
    old = draw(policy_sets("p"))
    how = draw(st.sampled_from(["independent", "replace-rule", "drop-policy", "add-policy"]))
    new = copy.deepcopy(old)
    if how == "independent":
        new = draw(policy_sets("q"))
    elif how == "replace-rule":
        policy = draw(st.sampled_from(new))
        direction, peer_key = draw(st.sampled_from([("ingress", "from"), ("egress", "to")]))
        rule_list = policy["spec"].setdefault(direction, [])
        if rule_list:
            rule_list[draw(st.integers(0, len(rule_list) - 1))] = draw(rules(peer_key))
        else:
            rule_list.append(draw(rules(peer_key)))
    elif how == "drop-policy" and len(new) > 1:
        new.pop(draw(st.integers(0, len(new) - 1)))
    else:
        extra = draw(policy_sets("q"))[0]
        new.append(extra)
    note(f"second set: {how}")
    return old, new


diff_options = st.one_of(
    st.just({}),
    st.fixed_dictionaries(
        {},
        optional={
            "allow_from_local_node": st.booleans(),
            "endport": st.sampled_from(["range", "first-port"]),
            "sctp": st.sampled_from(["supported", "unsupported"]),
        },
    ),
)


POD_CIDRS = [None, None, ["10.0.0.0/8", "fd00::/8"], ["10.0.0.0/16", "2001:db8::/32"]]


def in_universe(flow: dict, pod_cidrs) -> bool:
    """With --pod-cidr, pods have addresses inside the ranges and other endpoints outside."""
    if not pod_cidrs:
        return True
    networks = [ipaddress.ip_network(c) for c in pod_cidrs]
    for endpoint in (flow["src"], flow["dst"]):
        if "ip" not in endpoint:
            return False
        address = ipaddress.ip_address(endpoint["ip"])
        inside = any(address.version == n.version and address in n for n in networks)
        if inside != ("namespace" in endpoint):
            return False
    return True


@settings(max_examples=20 * SCALE, **SETTINGS)
@given(
    data=st.data(),
    pair=related_sets(),
    options=diff_options,
    pod_ips=st.booleans(),
    pod_cidrs=st.sampled_from(POD_CIDRS),
)
def test_diff_witnesses_agree_with_oracle(data, pair, options, pod_ips, pod_cidrs):
    old, new = pair
    options = {**options, "ipblock_matches_pods": pod_ips}
    cli_options = {**options, "pod_cidr": pod_cidrs if pod_ips else None}
    flows = data.draw(flow_batches([old, new], min_size=20, max_size=40), label="flows")
    if pod_ips:
        flows = [f for f in flows if in_universe(f, pod_cidrs)]
    with tempfile.TemporaryDirectory() as directory:
        result, report = run_diff(Path(directory), old, new, cli_options)
    assert result.exit_code in (0, 1, 3), result.stderr
    assert "Traceback" not in result.stderr
    verdict = report["verdict"]
    event(f"verdict: {verdict}")
    assert {"equivalent": 0, "different": 1, "undecided": 3}[verdict] == result.exit_code
    assume(verdict != "undecided")

    before = oracle_verdicts(old, flows, options)
    after = oracle_verdicts(new, flows, options)
    opened = [f for f, a, b in zip(flows, before, after) if b and not a]
    closed = [f for f, a, b in zip(flows, before, after) if a and not b]
    if verdict == "equivalent":
        assert not report["newly_allowed"] and not report["newly_blocked"]
        assert not opened, f"npdiff says equivalent, oracle: newly allowed {opened[0]}"
        assert not closed, f"npdiff says equivalent, oracle: newly blocked {closed[0]}"
        return

    assert report["newly_allowed"] or report["newly_blocked"]
    for key, want_old, want_new in (("newly_allowed", False, True), ("newly_blocked", True, False)):
        for flow_class in report[key]:
            witness = flow_class["witness"]
            got = (oracle.allowed(old, witness, **options), oracle.allowed(new, witness, **options))
            assert got == (want_old, want_new), f"{key} witness {witness}: oracle old/new = {got}"
            assert flow_class["old"]["allowed"] is want_old
            assert flow_class["new"]["allowed"] is want_new
    if report.get("complete", True):
        # a difference the oracle sees on a sampled flow must have been reported
        assert not opened or report["newly_allowed"], f"unreported newly allowed flow {opened[0]}"
        assert not closed or report["newly_blocked"], f"unreported newly blocked flow {closed[0]}"


@settings(max_examples=20 * SCALE, **SETTINGS)
@given(pair=related_sets(), pod_cidrs=st.sampled_from(POD_CIDRS[2:]))
def test_diff_witnesses_respect_pod_cidr(pair, pod_cidrs):
    """S6.1/README: with --pod-cidr, symbolic pods take addresses from the ranges and
    non-pod addresses lie outside them, so every witness must too."""
    old, new = pair
    options = {"ipblock_matches_pods": True, "pod_cidr": pod_cidrs}
    with tempfile.TemporaryDirectory() as directory:
        result, report = run_diff(Path(directory), old, new, options)
    assert result.exit_code in (0, 1, 3), result.stderr
    for key in ("newly_allowed", "newly_blocked"):
        for flow_class in report[key]:
            witness = flow_class["witness"]
            assert in_universe(witness, pod_cidrs), f"{key} witness outside --pod-cidr {pod_cidrs}: {witness}"


# --- (c) equivalences ------------------------------------------------------------------


@st.composite
def rewrites(draw):
    """A set and a rewrite of it that cannot change what it allows."""
    policies = draw(policy_sets())
    rewritten = copy.deepcopy(policies)
    how = draw(st.sampled_from(["self", "reverse", "rename", "duplicate-rule", "split-peers"]))
    if how == "reverse":
        rewritten.reverse()
    elif how == "rename":
        for policy in rewritten:
            policy["metadata"]["name"] = "renamed-" + policy["metadata"]["name"]
    elif how == "duplicate-rule":
        for policy in rewritten:
            for direction in ("ingress", "egress"):
                if policy["spec"].get(direction):
                    policy["spec"][direction].append(copy.deepcopy(policy["spec"][direction][0]))
    elif how == "split-peers":
        # {from: [p1, p2], ports} == {from: [p1], ports}, {from: [p2], ports}
        for policy in rewritten:
            for direction, key in (("ingress", "from"), ("egress", "to")):
                split = []
                for rule in policy["spec"].get(direction) or []:
                    if len(rule.get(key) or []) > 1:
                        split += [{**copy.deepcopy(rule), key: [peer]} for peer in rule[key]]
                    else:
                        split.append(rule)
                if direction in policy["spec"]:
                    policy["spec"][direction] = split
    note(f"rewrite: {how}")
    return policies, rewritten


@settings(max_examples=40 * SCALE, **SETTINGS)
@given(pair=rewrites(), options=eval_options)
def test_equivalent_rewrites(pair, options):
    policies, rewritten = pair
    with tempfile.TemporaryDirectory() as directory:
        result, report = run_diff(Path(directory), policies, rewritten, options)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert report["verdict"] == "equivalent"
    assert report["newly_allowed"] == [] and report["newly_blocked"] == []
