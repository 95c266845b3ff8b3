"""Workload parts of the diff JSON: a class's workloads, the inventory and workload changes."""

from __future__ import annotations

from npdiff.model.inventory import (
    ClassWorkloads, ContainerPort, InventorySummary, ReachDelta, WorkloadChange, WorkloadMatch,
)


def container_port(p: ContainerPort) -> dict:
    return {"name": p.name, "port": p.port, "protocol": p.protocol}


def match(m: WorkloadMatch) -> dict:
    return {"workload": m.ref, "kind": m.kind, "namespace": m.namespace, "name": m.name,
            "ports": [container_port(p) for p in m.ports], "version": m.version or None}


def class_workloads(w: ClassWorkloads | None) -> dict:
    """The `workloads` key of a flow class; nothing without an inventory."""
    if w is None:
        return {}
    return {"workloads": {"src": [match(m) for m in w.src], "dst": [match(m) for m in w.dst],
                          "hypothetical": list(w.hypothetical)}}


def workload_change(c: WorkloadChange) -> dict:
    return {"kind": c.kind, "namespace": c.namespace, "name": c.name, "change": c.change,
            "file": c.file, "line": c.line, "fields": list(c.fields),
            "values": [{"old": before, "new": after} for before, after in c.values],
            **({"reach": [reach_delta(d) for d in c.reach], "reach_reason": c.reach_reason}
               if c.change == "changed" and c.namespace else {})}


def reach_delta(d: ReachDelta) -> dict:
    return {"direction": d.direction, "change": d.change, "workload": d.partner,
            "protocol": d.protocol, "port": d.port}


def inventory(summary: InventorySummary | None) -> dict:
    """The `inventory` and `workload_changes` keys of a diff; nothing without an inventory."""
    if summary is None:
        return {}
    return {
        "inventory": {"only": summary.only,
                      "old": {"workloads": summary.old_workloads, "namespaces": summary.old_namespaces},
                      "new": {"workloads": summary.new_workloads, "namespaces": summary.new_namespaces}},
        "workload_changes": [workload_change(c) for c in summary.changes],
    }
