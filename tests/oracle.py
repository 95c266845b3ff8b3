"""A plain, concrete evaluator of Kubernetes NetworkPolicy (networking.k8s.io/v1).

It decides one flow at a time, straight from the text of semantics.md (sections 1-3
and 6), so that tests can compare npdiff's symbolic answers with an independent one.
It shares no code with the `npdiff` package on purpose: never import npdiff here.

Input: raw policy dicts (as `yaml.safe_load` returns them) and one flow in the JSON
format of design.md §4.2:

    flow     = {"src": endpoint, "dst": endpoint, "protocol": "TCP"|"UDP"|"SCTP", "port": int}
    endpoint = {"namespace", "labels", "namespace_labels", "ports", "ip"?}   a pod
             | {"ip": str, "local_node"?: bool}                              not a pod

Input is assumed valid (semantics.md §5); the oracle does not validate it.
"""

from __future__ import annotations

import ipaddress

METADATA_NAME = "kubernetes.io/metadata.name"


# --- endpoints -------------------------------------------------------------------------


def is_pod(endpoint: dict) -> bool:
    """A pod endpoint has a namespace; an address endpoint only has an ip (§4.2)."""
    return "namespace" in endpoint


def pod_labels(pod: dict) -> dict:
    return dict(pod.get("labels") or {})


def namespace_labels(pod: dict) -> dict:
    """S1.1.2: the namespace always carries kubernetes.io/metadata.name=<name>."""
    labels = dict(pod.get("namespace_labels") or {})
    labels[METADATA_NAME] = pod["namespace"]
    return labels


# --- selectors (section 2) -------------------------------------------------------------


def requirement_holds(expression: dict, labels: dict) -> bool:
    """S2.3, including the absent-key column."""
    key = expression["key"]
    operator = expression["operator"]
    values = expression.get("values") or []
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return not present or labels[key] not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    raise ValueError(f"unknown operator {operator!r}")


def selector_matches(selector: dict, labels: dict) -> bool:
    """S2.1/S2.2: every requirement must hold; a selector without requirements matches all.

    The caller decides what an absent (None) selector means (S2.5); here it must be a dict.
    """
    for key, value in (selector.get("matchLabels") or {}).items():
        if key not in labels or labels[key] != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        if not requirement_holds(expression, labels):
            return False
    return True


# --- normalisation (S3.1) --------------------------------------------------------------


def policy_namespace(policy: dict, default_namespace: str) -> str:
    """S3.1.1: a policy without metadata.namespace lives in the default namespace."""
    return (policy.get("metadata") or {}).get("namespace") or default_namespace


def policy_types(spec: dict) -> set:
    """S3.1.2: absent or empty policyTypes means Ingress, plus Egress iff egress rules exist."""
    types = spec.get("policyTypes") or []
    if types:
        return set(types)
    if spec.get("egress"):
        return {"Ingress", "Egress"}
    return {"Ingress"}


def selects(policy: dict, pod: dict, default_namespace: str) -> bool:
    """S3.2.1: same namespace and spec.podSelector (absent/null = {}) matches the pod."""
    if pod["namespace"] != policy_namespace(policy, default_namespace):
        return False
    spec = policy.get("spec") or {}
    return selector_matches(spec.get("podSelector") or {}, pod_labels(pod))


# --- ports (S3.4.4-S3.4.6, S3.6, S6.7, S6.8) -------------------------------------------


def port_element_matches(element: dict, flow: dict, *, endport: str, sctp: str) -> bool:
    protocol = element.get("protocol") or "TCP"  # S3.1.3
    if protocol != flow["protocol"]:
        return False
    if protocol == "SCTP" and sctp == "unsupported":
        return False  # S6.8: SCTP elements match nothing
    port = element.get("port")
    if port is None:
        return True  # every port of this protocol
    if isinstance(port, str):
        return named_port_matches(port, protocol, flow)
    end = element.get("endPort")
    if end is None or endport == "first-port":
        return flow["port"] == port  # S6.7 first-port: the rule applies to `port` only
    return port <= flow["port"] <= end


def named_port_matches(name: str, protocol: str, flow: dict) -> bool:
    """S3.6: resolved on the flow's destination pod; name, protocol and number must agree."""
    dst = flow["dst"]
    if not is_pod(dst):
        return False  # S3.6.3
    for container_port in dst.get("ports") or []:
        if (
            container_port.get("name") == name
            and (container_port.get("protocol") or "TCP") == protocol
            and container_port.get("port") == flow["port"]
        ):
            return True
    return False


def ports_clause_matches(ports, flow: dict, *, endport: str, sctp: str) -> bool:
    if not ports:
        return True  # S3.4.4: empty or absent = every protocol and port
    return any(port_element_matches(p, flow, endport=endport, sctp=sctp) for p in ports)


# --- peers (S3.5) ----------------------------------------------------------------------


def ip_block_matches(ip_block: dict, endpoint: dict, *, ipblock_matches_pods: bool) -> bool:
    """S3.5.4, S6.1: addresses of non-pod endpoints; pod IPs only with the flag."""
    if is_pod(endpoint) and not ipblock_matches_pods:
        return False
    if not endpoint.get("ip"):
        return False
    address = ipaddress.ip_address(endpoint["ip"])
    cidr = ipaddress.ip_network(ip_block["cidr"], strict=False)  # W-04: masked network
    if address.version != cidr.version or address not in cidr:
        return False
    for excepted in ip_block.get("except") or []:
        network = ipaddress.ip_network(excepted, strict=False)
        if address.version == network.version and address in network:
            return False
    return True


def peer_matches(peer: dict, endpoint: dict, policy_ns: str, *, ipblock_matches_pods: bool) -> bool:
    if peer.get("ipBlock") is not None:
        return ip_block_matches(peer["ipBlock"], endpoint, ipblock_matches_pods=ipblock_matches_pods)
    if not is_pod(endpoint):
        return False  # S3.5.6: selectors never match nodes or external addresses
    pod_selector = peer.get("podSelector")
    namespace_selector = peer.get("namespaceSelector")
    if pod_selector is None and namespace_selector is None:
        return False  # invalid peer (E-NP-04); matches nothing
    if namespace_selector is None:
        in_namespace = endpoint["namespace"] == policy_ns  # S3.5.1
    else:
        in_namespace = selector_matches(namespace_selector, namespace_labels(endpoint))
    if pod_selector is None:
        pod_ok = True  # S3.5.2: namespaceSelector only = every pod there
    else:
        pod_ok = selector_matches(pod_selector, pod_labels(endpoint))
    return in_namespace and pod_ok  # S3.5.3


def peers_clause_matches(peers, endpoint: dict, policy_ns: str, *, ipblock_matches_pods: bool) -> bool:
    if not peers:
        return True  # S3.4.2: empty or absent = every peer
    return any(
        peer_matches(p, endpoint, policy_ns, ipblock_matches_pods=ipblock_matches_pods) for p in peers
    )


# --- directions and the connection (S3.3, S3.7) ----------------------------------------


def direction_allows(policies, pod: dict, flow: dict, direction: str, opts: dict) -> bool:
    """Verdict for one direction of one pod: True when not isolated or some rule matches."""
    policy_type = "Ingress" if direction == "ingress" else "Egress"
    peer_key = "from" if direction == "ingress" else "to"
    peer_endpoint = flow["src"] if direction == "ingress" else flow["dst"]

    applying = [
        p
        for p in policies
        if selects(p, pod, opts["default_namespace"])
        and policy_type in policy_types(p.get("spec") or {})
    ]
    if not applying:
        return True  # S3.2.3: not isolated, no NP decision
    if direction == "ingress" and peer_endpoint.get("local_node") and opts["allow_from_local_node"]:
        return True  # S3.3.1 (a), S6.4
    for policy in applying:
        policy_ns = policy_namespace(policy, opts["default_namespace"])
        for rule in (policy.get("spec") or {}).get(direction) or []:
            rule = rule or {}
            if ports_clause_matches(
                rule.get("ports"), flow, endport=opts["endport"], sctp=opts["sctp"]
            ) and peers_clause_matches(
                rule.get(peer_key),
                peer_endpoint,
                policy_ns,
                ipblock_matches_pods=opts["ipblock_matches_pods"],
            ):
                return True
    return False


def allowed(
    policies,
    flow: dict,
    *,
    ipblock_matches_pods: bool = False,
    allow_from_local_node: bool = True,
    endport: str = "range",
    sctp: str = "supported",
    default_namespace: str = "default",
) -> bool:
    """S3.7.1: allowed = egress of the source pod AND ingress of the destination pod.

    The two ends are always two different pods (design.md §4.2), so the self-traffic
    exemption S3.7.2 never applies here.
    """
    policies = [p for p in policies if p and p.get("kind", "NetworkPolicy") == "NetworkPolicy"]
    opts = dict(
        ipblock_matches_pods=ipblock_matches_pods,
        allow_from_local_node=allow_from_local_node,
        endport=endport,
        sctp=sctp,
        default_namespace=default_namespace,
    )
    egress_ok = not is_pod(flow["src"]) or direction_allows(policies, flow["src"], flow, "egress", opts)
    ingress_ok = not is_pod(flow["dst"]) or direction_allows(policies, flow["dst"], flow, "ingress", opts)
    return egress_ok and ingress_ok
