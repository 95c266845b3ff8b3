"""Collect the Namespaces and workloads of one input into an `Inventory`.

Two objects of one kind with the same namespace and name are an error (E-DUP). Workloads
whose pods use the host network are nodes to policies (S1.1.4, S6.3) and are left out
with a note (N-INV). So is a workload that a controller owns (a Pod of a ReplicaSet, a
ReplicaSet of a Deployment, a Job of a CronJob, as `kubectl get` dumps list them) when a
workload of its namespace that no controller owns has pod labels it carries: that one
stands for it.
"""

from __future__ import annotations

from npdiff.load.codes import E_DUP, N_INV, Sink
from npdiff.load.objects import RawObject
from npdiff.load.workloads import ReadWorkload, read_namespace, read_workload
from npdiff.model import Diagnostic, Semantics, Severity, Span
from npdiff.model.inventory import NAMESPACE_KIND, Inventory, Namespace, Workload


class InventoryBuilder:
    def __init__(self, semantics: Semantics) -> None:
        self.semantics = semantics
        self.namespaces: list[Namespace] = []
        self.workloads: list[ReadWorkload] = []

    def add(self, obj: RawObject, sink: Sink) -> None:
        if obj.kind == NAMESPACE_KIND:
            namespace = read_namespace(obj, sink)
            if namespace is not None:
                self.namespaces.append(namespace)
            return
        read = read_workload(obj, sink, self.semantics)
        if read is not None:
            self.workloads.append(read)

    def duplicates(self, found: list[Diagnostic]) -> None:
        first: dict[tuple, Span | None] = {}
        keyed = [((NAMESPACE_KIND, n.name), n.span, f"Namespace {n.name}") for n in self.namespaces]
        keyed += [(r.workload.key, r.workload.span, r.workload.ref) for r in self.workloads]
        for key, span, what in keyed:
            if key in first:
                where = span or Span("", 0)
                found.append(Diagnostic(where.file, where.line, Severity.ERROR, E_DUP, "metadata.name",
                                        f"{what} is defined twice: here and at {first[key]}"))
            else:
                first[key] = span

    def inventory(self, found: list[Diagnostic]) -> Inventory:
        owners: dict[str, list[frozenset]] = {}
        for r in self.workloads:
            if not r.controlled and not r.host_network and r.workload.labels:
                owners.setdefault(r.workload.namespace, []).append(frozenset(r.workload.labels))
        kept: list[Workload] = []
        owned: list[Workload] = []
        for read in self.workloads:
            workload, span = read.workload, read.workload.span or Span("", 0)
            if read.host_network:
                found.append(_note(span, f"{workload.ref} uses the host network: its pods are "
                                         "their node's addresses to policies (S1.1.4), not inventory pods"))
            elif read.controlled and any(labels <= set(workload.labels)
                                         for labels in owners.get(workload.namespace, ())):
                owned.append(workload)
            else:
                kept.append(workload)
        if owned:
            first = min(owned, key=lambda w: (w.span or Span("", 0), w.key))
            others, them, their = ((f" and {len(owned) - 1} more", "them", "their") if len(owned) > 1
                                   else ("", "it", "its"))
            found.append(_note(first.span or Span("", 0),
                               f"left out {first.ref}{others}: a controller owns {them}, and a workload "
                               f"of the inventory that no controller owns has {their} labels"))
        return Inventory.of(self.namespaces, kept)


def _note(span: Span, message: str) -> Diagnostic:
    return Diagnostic(span.file, span.line, Severity.NOTE, N_INV, "", message)
