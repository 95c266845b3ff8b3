"""The change as a graph, for `-o dot` and `-o mermaid`.

A node per endpoint region: regions of pods in one namespace sit in that namespace's
cluster; other regions (several namespaces, addresses, anything) stand alone. An edge per
(source, destination, kind) carries the ports of its classes. Node ids are hashes of what
the node is, so they are safe in every syntax and the same on every run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from npdiff.model.result import DiffResult, EndpointRegion
from npdiff.report import records
from npdiff.report.text import region_text, summary_line

ADDED, REMOVED = records.NEWLY_ALLOWED, records.NEWLY_BLOCKED
COLOURS = {ADDED: "#1a7f37", REMOVED: "#cf222e"}     # green, red
LEGEND = "green: newly allowed, red (dashed): newly blocked"


@dataclass(frozen=True, order=True)
class Node:
    label: str
    id: str


@dataclass(frozen=True)
class Cluster:
    namespace: str
    id: str
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Edge:
    kind: str                   # ADDED | REMOVED
    src: Node
    dst: Node
    label: str                  # the ports of the classes it stands for


@dataclass(frozen=True)
class Graph:
    title: str
    clusters: tuple[Cluster, ...]
    nodes: tuple[Node, ...]     # outside every cluster
    edges: tuple[Edge, ...]


def safe_id(prefix: str, identity: str) -> str:
    return f"{prefix}{hashlib.sha256(identity.encode()).hexdigest()[:12]}"


def cluster_of(region: EndpointRegion) -> str | None:
    """The one namespace that holds every pod of the region, if there is one."""
    ns = region.namespace
    if region.kind == "pod" and ns is not None and ns.op == "in" and len(ns.values) == 1:
        return ns.values[0]
    return None


def node_label(region: EndpointRegion, in_cluster: bool) -> str:
    if not in_cluster:
        return region_text(region)
    text = region_text(region, namespace=False)
    if text == "pods":
        return "all pods"
    return text.removeprefix("pods with ")


def build(result: DiffResult) -> Graph:
    members: dict[str, set[Node]] = {}
    loose: set[Node] = set()
    ports: dict[tuple[str, Node, Node], list[str]] = {}

    def node(region: EndpointRegion) -> Node:
        namespace = cluster_of(region)
        label = node_label(region, namespace is not None)
        made = Node(label, safe_id("n", f"{namespace}\0{label}"))
        (members.setdefault(namespace, set()) if namespace is not None else loose).add(made)
        return made

    for view in records.class_views(result):
        key = (view.kind, node(view.flow_class.src), node(view.flow_class.dst))
        if view.ports not in ports.setdefault(key, []):
            ports[key].append(view.ports)
    clusters = tuple(Cluster(ns, safe_id("ns", ns), tuple(sorted(nodes))) for ns, nodes in sorted(members.items()))
    edges = tuple(Edge(kind, src, dst, "; ".join(labels))
                  for (kind, src, dst), labels in sorted(ports.items(), key=lambda item: (
                      item[0][0] != ADDED, item[0][1].label, item[0][2].label)))
    return Graph(summary_line(result), clusters, tuple(sorted(loose)), edges)
