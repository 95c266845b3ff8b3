"""What the audit reads from the inventory (model/inventory.py): namespace labels for
`namespace-label-missing`, workload labels for `selects-nothing` and
`peer-namespace-scope`. None stands for "the input held no object of that sort", from
which nothing can be concluded.
"""

from __future__ import annotations

from dataclasses import dataclass

from npdiff.model.flow import METADATA_NAME
from npdiff.model.inventory import Inventory, Workload


@dataclass(frozen=True)
class AuditInventory:
    namespaces: dict[str, dict[str, str]] | None = None   # name -> labels (with the name label)
    workloads: tuple[Workload, ...] | None = None


def audit_inventory(inventory: Inventory) -> AuditInventory:
    namespaces = {n.name: {**dict(n.labels), METADATA_NAME: n.name} for n in inventory.namespaces}
    workloads = tuple(sorted(inventory.workloads, key=lambda w: (w.namespace, w.kind, w.name)))
    return AuditInventory(namespaces=dict(sorted(namespaces.items())) if namespaces else None,
                          workloads=workloads or None)
