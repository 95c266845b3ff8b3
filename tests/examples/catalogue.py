"""The §7.0 fixture of semantics.md and the example cases E1-E43 built on it.

`CASES` holds one `Case` per entry of np_examples.yaml: full NetworkPolicy objects and
flows in the JSON format of design.md §4.2, each with its expected verdict.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

NAMESPACE_LABELS = {"prod": {"env": "prod"}, "dev": {"env": "dev"}, "ops": {}}
NODES = {"n1": "192.168.0.10", "n2": "192.168.0.11"}
EXTERNAL = {"X": "203.0.113.7", "X6": "2001:db8::7"}

# ns/name: labels, named ports "name=port/proto", ip, node
PODS = {
    "prod/web": ({"app": "web", "tier": "fe"}, ["http=8080/TCP"], "10.0.1.5", "n1"),
    "prod/db": ({"app": "db"}, ["pg=5432/TCP"], "10.0.1.6", "n1"),
    "prod/cache": ({"app": "cache"}, ["redis=6379/TCP", "metrics=9090/TCP"], "10.0.2.7", "n2"),
    "dev/web": ({"app": "web"}, ["http=80/TCP"], "10.0.2.8", "n2"),
    "dev/tool": ({"app": "tool"}, [], "10.0.2.9", "n2"),
    "ops/dns": ({"app": "dns"}, ["dns=53/UDP", "dns-tcp=53/TCP"], "10.0.3.2", "n2"),
}
# hostNetwork pods are their node (S1.1.4, S6.3): address endpoints.
HOST_NETWORK_PODS = {"ops/agent": "n2"}


@dataclass
class Case:
    id: str
    policies: list
    flows: list  # [(flow, expected_allowed, text)]
    options: dict = field(default_factory=dict)


def _pod_endpoint(ref: str, pods: dict) -> dict:
    namespace, name = ref.split("/")
    labels, ports, ip, _node = pods[ref]
    named_ports = []
    for entry in ports:
        port_name, rest = entry.split("=")
        number, protocol = rest.split("/")
        named_ports.append({"name": port_name, "port": int(number), "protocol": protocol})
    return {
        "namespace": namespace,
        "name": name,
        "labels": dict(labels),
        "namespace_labels": dict(NAMESPACE_LABELS.get(namespace, {})),
        "ports": named_ports,
        "ip": ip,
    }


def _address_endpoint(ref: str, dst_node: str | None, is_src: bool) -> dict:
    if ref in EXTERNAL:
        return {"ip": EXTERNAL[ref]}
    node = HOST_NETWORK_PODS.get(ref, ref)
    endpoint = {"ip": NODES[node]}
    if is_src and dst_node == node:
        endpoint["local_node"] = True  # S6.4: the destination pod's own node
    return endpoint


FLOW_RE = re.compile(r"^(\S+) -> (\S+):(\d+)(?:/(TCP|UDP|SCTP))? ([AD])$")


def parse_flow(text: str, pods: dict) -> tuple[dict, bool]:
    """`"dev/web -> prod/db:5432/TCP A"` -> (flow dict, expected allowed)."""
    match = FLOW_RE.match(text.strip())
    if not match:
        raise ValueError(f"bad flow {text!r}")
    src_ref, dst_ref, port, protocol, verdict = match.groups()
    dst_node = pods[dst_ref][3] if dst_ref in pods else None

    def endpoint(ref: str, is_src: bool) -> dict:
        if ref in pods:
            return _pod_endpoint(ref, pods)
        return _address_endpoint(ref, dst_node, is_src)

    flow = {
        "src": endpoint(src_ref, True),
        "dst": endpoint(dst_ref, False),
        "protocol": protocol or "TCP",
        "port": int(port),
    }
    return flow, verdict == "A"


def network_policy(ns: str, name: str, spec: dict) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": copy.deepcopy(spec),
    }


def load_cases() -> list[Case]:
    raw = yaml.safe_load((Path(__file__).parent / "np_examples.yaml").read_text())
    cases = []
    for entry in raw:
        pods = dict(PODS)
        for ref, extra in (entry.get("pods") or {}).items():
            pods[ref] = (extra.get("labels", {}), extra.get("ports", []), extra["ip"], extra["node"])
        policies = [network_policy(p["ns"], p["name"], p["spec"]) for p in entry["policies"]]
        flows = [(*parse_flow(text, pods), text) for text in entry["flows"]]
        cases.append(Case(entry["id"], policies, flows, dict(entry.get("options") or {})))
    return cases


CASES = load_cases()
