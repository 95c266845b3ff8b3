"""Flow classes told in workloads: which workloads each end of a class affects, and a
witness flow between real workloads where the class has them; and the diff's inventory
summary (workload changes, analyse.workload_changes and analyse.workload_effects).

A class's regions are exact descriptions of its cube (analyse.regions), so a workload's
pod lies in a region iff its namespace, labels and namespace labels satisfy the region's
constraints; a destination also needs a protocol and port of the class on which its
container ports declare exactly the named ports the region asks for. No solver call is
needed. Pod addresses are not part of a workload, so address constraints on pods (only
with --ipblock-matches-pods) are taken as satisfiable.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

from npdiff.analyse.evaluate import decide_both
from npdiff.analyse.workload_changes import workload_changes
from npdiff.analyse.workload_effects import with_reach
from npdiff.encode import Encoder
from npdiff.model import Flow, Pod, PolicySet, Semantics
from npdiff.model.inventory import (
    ClassWorkloads, Inventory, InventorySummary, Workload, WorkloadMatch,
)
from npdiff.model.result import DiffResult, EndpointRegion, FlowClass, ValueConstraint


class Candidate(NamedTuple):
    """A workload as one side has it, or as both sides have it alike (version "")."""

    workload: Workload
    inventory: Inventory
    version: str                            # "" | "old" | "new"

    def pod(self, ip: str | None = None) -> Pod:
        return self.inventory.pod(self.workload, ip)


class _Source(NamedTuple):
    candidate: Candidate
    pod: Pod


class _Destination(NamedTuple):
    candidate: Candidate
    pod: Pod
    protocol: str                           # a protocol and port of the class it serves
    port: int


def value_holds(c: ValueConstraint, value: str | None) -> bool:
    if c.op == "in":
        return value in c.values
    if c.op == "not-in":
        return value is None or value not in c.values
    if c.op == "exists":
        return value is not None
    if c.op == "absent":
        return value is None
    return value is None or value in c.values   # absent-or-in


def pod_in_region(region: EndpointRegion, pod: Pod) -> bool:
    """The pod satisfies every constraint of the region but its named ports."""
    if region.kind == "address":
        return False
    if region.kind == "any":
        return True
    if region.namespace is not None and (pod.namespace in region.namespace.values) != (region.namespace.op == "in"):
        return False
    labels, ns_labels = pod.label_map, pod.namespace_label_map
    return (all(value_holds(c, labels.get(c.key)) for c in region.labels)
            and all(value_holds(c, ns_labels.get(c.key)) for c in region.namespace_labels))


def port_fits(flow_class: FlowClass, pod: Pod, protocol: str, port: int) -> bool:
    """The flow's protocol and port are the class's, and on them the pod declares exactly
    the named ports the class's destination asks for."""
    if protocol not in flow_class.protocols or not any(lo <= port <= hi for lo, hi in flow_class.ports):
        return False
    return all(any(p.name == name and p.protocol == protocol and p.port == port for p in pod.ports) == serves
               for name, serves in flow_class.dst.named_ports)


def declared_ports(flow_class: FlowClass, pods: list[Pod]) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]] | None:
    """Under --inventory-only, the protocols and ports a class can have when its destination
    must declare a named port: those the destination workloads declare under that name (a
    narrower class with the same flows between inventory pods). None when not finite."""
    required = [name for name, serves in flow_class.dst.named_ports if serves]
    if flow_class.dst.kind != "pod" or not required or not pods:
        return None
    feasible = {(p.protocol, p.port) for pod in pods for p in pod.ports
                if p.name == required[0] and port_fits(flow_class, pod, p.protocol, p.port)}
    protocols = tuple(proto for proto in flow_class.protocols if any(f[0] == proto for f in feasible))
    return protocols, tuple((port, port) for port in sorted({f[1] for f in feasible}))


def destination_port(flow_class: FlowClass, pod: Pod, declared: tuple[tuple[str, int], ...]) -> tuple[str, int] | None:
    """A protocol and port of the class on which the pod, as destination, is in the class:
    one its containers declare if possible, else the witness's, else the first that fits."""
    if not pod_in_region(flow_class.dst, pod):
        return None

    def fits(protocol: str, port: int) -> bool:
        return port_fits(flow_class, pod, protocol, port)

    witness = (flow_class.witness.protocol, flow_class.witness.port)
    for protocol, port in (*declared, witness):
        if fits(protocol, port):
            return protocol, port
    # Named ports that must be declared are among `declared`; otherwise only the finitely
    # many declared ports can be excluded, so one more port than that per range suffices.
    for protocol in flow_class.protocols:
        for lo, hi in flow_class.ports:
            for port in range(lo, min(hi, lo + len(pod.ports)) + 1):
                if fits(protocol, port):
                    return protocol, port
    return None


def candidates(old: Inventory, new: Inventory) -> list[Candidate]:
    """Every workload version: once if it is the same on both sides, else per side. When
    only one side has workloads, there is nothing to tell apart: they are unqualified."""
    if not old.workloads or not new.workloads:
        side = new if new.workloads else old
        return [Candidate(w, side, "") for w in side.workloads]
    before = {w.key: w for w in old.workloads}
    after = {w.key: w for w in new.workloads}
    out: list[Candidate] = []
    for key in sorted(before.keys() | after.keys()):
        o, n = before.get(key), after.get(key)
        if o is not None and n is not None and _same(o, old, n, new):
            out.append(Candidate(n, new, ""))
            continue
        if o is not None:
            out.append(Candidate(o, old, "old"))
        if n is not None:
            out.append(Candidate(n, new, "new"))
    return out


def _same(o: Workload, old: Inventory, n: Workload, new: Inventory) -> bool:
    return o.ports == n.ports and old.pod(o) == new.pod(n)


def _matches(found: list[tuple[Workload, str]]) -> tuple[WorkloadMatch, ...]:
    """One entry per workload; both versions matching make it unqualified."""
    versions: dict[tuple, list[tuple[Workload, str]]] = {}
    for workload, version in found:
        versions.setdefault(workload.key, []).append((workload, version))
    out = []
    for entries in versions.values():
        workload, version = entries[-1]
        out.append(WorkloadMatch(workload.namespace, workload.name, workload.kind, workload.ports,
                                 "" if len(entries) > 1 else version))
    return tuple(sorted(out))


def consistent(a: Pod, b: Pod) -> bool:
    """Two pods of one namespace see the same namespace labels."""
    return a.namespace != b.namespace or a.namespace_label_map == b.namespace_label_map


def symbolic_partner(region: EndpointRegion, pod: Pod) -> bool:
    """Some endpoint of `region` can face `pod` in one flow: anything but a pod of the same
    namespace whose namespace labels the region excludes."""
    if region.kind != "pod" or region.namespace is None or region.namespace.op == "not-in":
        return True
    if any(name != pod.namespace for name in region.namespace.values):
        return True
    labels = pod.namespace_label_map
    return all(value_holds(c, labels.get(c.key)) for c in region.namespace_labels)


class _Ends:
    """Workload pods in each end of one class, each with a partner on the other end."""

    def __init__(self, flow_class: FlowClass, pool: list[tuple[Candidate, Pod]], inventory_only: bool):
        self.flow_class = flow_class
        src = [_Source(c, pod) for c, pod in pool if pod_in_region(flow_class.src, pod)]
        dst = []
        for c, pod in pool:
            found = destination_port(flow_class, pod, tuple((p.protocol, p.port) for p in c.workload.ports))
            if found is not None:
                dst.append(_Destination(c, pod, *found))
        if inventory_only:
            # Pod ends are inventory pods: a partner is one of the other end's, or an address.
            any_src = flow_class.dst.kind != "pod"
            any_dst = flow_class.src.kind != "pod"
            src, dst = ([s for s in src if any_src or any(consistent(s.pod, d.pod) for d in dst)],
                        [d for d in dst if any_dst or any(consistent(s.pod, d.pod) for s in src)])
        else:
            src = [s for s in src if symbolic_partner(flow_class.dst, s.pod)]
            dst = [d for d in dst if symbolic_partner(flow_class.src, d.pod)]
        self.src, self.dst = src, dst
        self.record = ClassWorkloads(
            src=_matches([(e.candidate.workload, e.candidate.version) for e in src]),
            dst=_matches([(e.candidate.workload, e.candidate.version) for e in dst]),
            hypothetical=tuple(side for side, region, found in (("src", flow_class.src, src),
                                                                 ("dst", flow_class.dst, dst))
                               if region.kind == "pod" and not found))

    def witnesses(self, original: Flow) -> list[Flow]:
        """Flows of the class between workloads (both ends, else one), best first; a pair
        comes from one side's inventory so that it is a state the cluster can be in."""
        src_ip = original.src.ip if isinstance(original.src, Pod) else None
        dst_ip = original.dst.ip if isinstance(original.dst, Pod) else None
        if isinstance(original.src, Pod) and isinstance(original.dst, Pod):
            for side in ("new", "old"):
                for s in self.src:
                    for d in self.dst:
                        if s.candidate.version in ("", side) and d.candidate.version in ("", side) \
                                and consistent(s.pod, d.pod):
                            return [Flow(s.candidate.pod(src_ip), d.candidate.pod(dst_ip), d.protocol, d.port)]
        out = []
        if isinstance(original.dst, Pod):
            for d in _newest(self.dst)[:1]:
                source = _align(original.src, d.pod, self.flow_class.src)
                if source is not None:
                    out.append(Flow(source, d.candidate.pod(dst_ip), d.protocol, d.port))
        if isinstance(original.src, Pod):
            for s in _newest(self.src)[:1]:
                destination = _align(original.dst, s.pod, self.flow_class.dst)
                if destination is not None:
                    out.append(Flow(s.candidate.pod(src_ip), destination, original.protocol, original.port))
        return out


def _newest(ends: list) -> list:
    """Ends with the workloads as they are in NEW first."""
    return sorted(ends, key=lambda e: e.candidate.version == "old")


def _align(end, workload_pod: Pod, region: EndpointRegion):
    """The solver's end of a flow, given the namespace labels of a workload pod of its
    namespace on the other end (one namespace has one set of labels), if it stays in its
    region; an address stays as it is."""
    if not isinstance(end, Pod):
        return end
    if consistent(end, workload_pod):
        return end
    aligned = replace(end, namespace_labels=workload_pod.namespace_labels)
    return aligned if pod_in_region(region, aligned) else None


def map_classes(result: DiffResult, old: Inventory, new: Inventory, old_set: PolicySet, new_set: PolicySet,
                semantics: Semantics, inventory_only: bool = False) -> DiffResult:
    """Every class of the diff with its workloads, and a witness between workloads where it
    has them (decided again on both sides; the solver's witness stays if none differs)."""
    pool = [(c, c.pod()) for c in candidates(old, new)]
    encoder = Encoder.for_sets([old_set, new_set], semantics)

    def mapped(flow_class: FlowClass) -> FlowClass:
        ends = _Ends(flow_class, pool, inventory_only)
        flow_class = replace(flow_class, workloads=ends.record)
        narrowed = declared_ports(flow_class, [d.pod for d in ends.dst]) if inventory_only else None
        if narrowed is not None:
            flow_class = replace(flow_class, protocols=narrowed[0], ports=narrowed[1])
        for witness in ends.witnesses(flow_class.witness):
            before, after = decide_both(encoder, old_set, new_set, witness)
            if before.allowed != after.allowed:
                return replace(flow_class, witness=witness, old=before, new=after)
        return flow_class

    return replace(result, newly_allowed=tuple(mapped(c) for c in result.newly_allowed),
                   newly_blocked=tuple(mapped(c) for c in result.newly_blocked))


def inventory_pods(*inventories: Inventory) -> tuple[Pod, ...]:
    """The distinct pods of every workload of the inventories (--inventory-only)."""
    return tuple(sorted({inv.pod(w) for inv in inventories for w in inv.workloads},
                        key=lambda p: (p.namespace, p.labels, p.namespace_labels, p.ports)))


def with_inventory(result: DiffResult, old: Inventory, new: Inventory, old_set: PolicySet,
                   new_set: PolicySet, semantics: Semantics, inventory_only: bool = False) -> DiffResult:
    """The diff with its workload changes and, when there are workloads, its classes mapped."""
    summary = InventorySummary(only=inventory_only, old_workloads=len(old.workloads),
                               new_workloads=len(new.workloads), old_namespaces=len(old.namespaces),
                               new_namespaces=len(new.namespaces),
                               changes=with_reach(workload_changes(old, new), old, new, new_set, semantics))
    result = replace(result, inventory=summary)
    if old.workloads or new.workloads:
        result = map_classes(result, old, new, old_set, new_set, semantics, inventory_only)
    return result
