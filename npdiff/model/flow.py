"""Concrete flows and endpoints (design.md §4.2)."""

from __future__ import annotations

from dataclasses import dataclass, field

METADATA_NAME = "kubernetes.io/metadata.name"


@dataclass(frozen=True, order=True)
class NamedPort:
    name: str
    port: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class Pod:
    """A pod endpoint. Labels are sorted (key, value) pairs so the value is hashable."""

    namespace: str
    labels: tuple[tuple[str, str], ...] = ()
    namespace_labels: tuple[tuple[str, str], ...] = ()
    ports: tuple[NamedPort, ...] = ()
    ip: str | None = None
    name: str | None = field(default=None, compare=False)
    workload: str | None = field(default=None, compare=False)

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def namespace_label_map(self) -> dict[str, str]:
        """Namespace labels with `kubernetes.io/metadata.name` forced to the name (S1.1.2)."""
        labels = dict(self.namespace_labels)
        labels[METADATA_NAME] = self.namespace
        return labels


@dataclass(frozen=True)
class Address:
    """A non-pod endpoint: an external address or a node that is not the peer's own node.

    `local_node` marks the destination pod's own node (semantics.md S6.4); only a source
    can be one.
    """

    ip: str
    local_node: bool = False


Endpoint = Pod | Address


@dataclass(frozen=True)
class Flow:
    src: Endpoint
    dst: Endpoint
    protocol: str
    port: int
