"""Namespaces and workloads: the concrete inventory that results are mapped onto (design.md §1).

A workload stands for the pods it runs: their labels (the pod template's), their container
ports (which resolve named ports, S1.1.3) and their namespace, whose labels come from a
Namespace object when the inventory has one (always with `kubernetes.io/metadata.name`,
S1.1.2). Also the records that map flow classes onto workloads and list workload changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from npdiff.model.flow import METADATA_NAME, NamedPort, Pod
from npdiff.model.span import Span

NAMESPACE_KIND = "Namespace"
WORKLOAD_KINDS: tuple[str, ...] = (
    "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
)
INVENTORY_KINDS: frozenset[str] = frozenset((NAMESPACE_KIND, *WORKLOAD_KINDS))

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, order=True)
class ContainerPort:
    """One `containers[*].ports[*]` entry; only a named one can resolve a named port."""

    port: int
    protocol: str = "TCP"
    name: str = ""

    def __str__(self) -> str:
        text = f"{self.port}/{self.protocol}"
        return f"{self.name} {text}" if self.name else text


@dataclass(frozen=True)
class Namespace:
    name: str
    labels: Labels = ()           # as declared, with kubernetes.io/metadata.name set to the name
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Workload:
    """A Pod, or a controller's pod template (CronJob: spec.jobTemplate.spec.template)."""

    kind: str
    namespace: str
    name: str
    labels: Labels = ()
    ports: tuple[ContainerPort, ...] = ()
    span: Span | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.namespace, self.name, self.kind)

    @property
    def ref(self) -> str:
        """How reports name it: `deployment prod/web`."""
        return f"{self.kind.lower()} {self.namespace}/{self.name}"

    @property
    def named_ports(self) -> tuple[NamedPort, ...]:
        return tuple(sorted({NamedPort(p.name, p.port, p.protocol) for p in self.ports if p.name}))


@dataclass(frozen=True)
class Inventory:
    """What exists on one side: namespaces sorted by name, workloads by (namespace, name, kind)."""

    namespaces: tuple[Namespace, ...] = ()
    workloads: tuple[Workload, ...] = ()

    @classmethod
    def of(cls, namespaces, workloads) -> Inventory:
        return cls(tuple(sorted(namespaces, key=lambda n: n.name)),
                   tuple(sorted(workloads, key=lambda w: w.key)))

    @cached_property
    def _by_name(self) -> dict[str, Namespace]:
        return {n.name: n for n in self.namespaces}

    def namespace(self, name: str) -> Namespace | None:
        return self._by_name.get(name)

    def namespace_labels(self, name: str) -> Labels:
        """The namespace's labels but the implied name label (S1.1.2): its Namespace
        object's, or none without one."""
        namespace = self.namespace(name)
        labels = namespace.labels if namespace is not None else ()
        return tuple((k, v) for k, v in labels if k != METADATA_NAME)

    def pod(self, workload: Workload, ip: str | None = None) -> Pod:
        """A pod of the workload, as a flow endpoint (design.md §4.2)."""
        return Pod(namespace=workload.namespace, labels=workload.labels,
                   namespace_labels=self.namespace_labels(workload.namespace),
                   ports=workload.named_ports, ip=ip,
                   name=workload.name if workload.kind == "Pod" else None, workload=workload.ref)

    def overlay(self, top: Inventory) -> Inventory:
        """This inventory with `top`'s objects added, replacing those of the same kind and name."""
        namespaces = {n.name: n for n in self.namespaces} | {n.name: n for n in top.namespaces}
        workloads = {w.key: w for w in self.workloads} | {w.key: w for w in top.workloads}
        return Inventory.of(namespaces.values(), workloads.values())


@dataclass(frozen=True, order=True)
class WorkloadMatch:
    """A workload whose pods are an end of some flow of a class.

    `version` is "" when the workload is the same on both sides (or only one side has
    workloads at all), else the side whose version of it matches: "old" or "new".
    """

    namespace: str
    name: str
    kind: str
    ports: tuple[ContainerPort, ...] = ()
    version: str = ""

    @property
    def ref(self) -> str:
        return f"{self.kind.lower()} {self.namespace}/{self.name}"


@dataclass(frozen=True)
class ClassWorkloads:
    """The workloads a flow class affects on each end; an empty pod end is hypothetical."""

    src: tuple[WorkloadMatch, ...] = ()
    dst: tuple[WorkloadMatch, ...] = ()
    hypothetical: tuple[str, ...] = ()   # "src" and/or "dst": pod ends no workload provides


@dataclass(frozen=True, order=True)
class WorkloadChange:
    """A Namespace or workload added, removed or changed in what policies see."""

    kind: str
    namespace: str                      # "" for a Namespace
    name: str
    change: str                         # "added" | "removed" | "changed"
    file: str
    line: int
    fields: tuple[str, ...] = ()        # e.g. "labels.app", "ports"
    values: tuple[tuple[str | None, str | None], ...] = ()   # (old, new) per field; None: absent
    reach: tuple[ReachDelta, ...] = ()   # what the change does under NEW's policies ("changed" only)
    reach_reason: str = ""              # why `reach` is not known (a solver check ran out), else ""


@dataclass(frozen=True, order=True)
class ReachDelta:
    """A changed workload's flows with one partner workload, its old version against its
    new one, both in NEW's cluster under NEW's policies."""

    direction: str          # "to": the workload is the source; "from": the destination
    change: str             # "opened" | "closed"
    partner: str            # "statefulset prod/db"
    protocol: str           # one protocol and port where it happens
    port: int


@dataclass(frozen=True)
class InventorySummary:
    """What a diff knew about workloads: counts per side, the mode, and the changes."""

    only: bool                          # --inventory-only
    old_workloads: int
    new_workloads: int
    old_namespaces: int
    new_namespaces: int
    changes: tuple[WorkloadChange, ...] = ()
