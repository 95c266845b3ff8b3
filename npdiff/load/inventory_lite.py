"""Namespace labels and workload pod-template labels, read from the objects a policy set
skips (N-SKIP), for the audit's `namespace-label-missing` and `selects-nothing` findings.

Deliberately small and self-contained: only labels and where they were written. Objects
whose labels are malformed are left out (they are not NetworkPolicies, so not validated).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from npdiff.model import PolicySet, Span
from npdiff.model.flow import METADATA_NAME

# kind -> path from the object to the pod template's metadata
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


@dataclass(frozen=True)
class Workload:
    kind: str
    namespace: str
    name: str
    labels: tuple[tuple[str, str], ...]
    span: Span


@dataclass(frozen=True)
class Inventory:
    """None: the input held no object of that sort, so nothing can be concluded from it."""

    namespaces: dict[str, dict[str, str]] | None = None   # name -> labels (with the name label)
    workloads: tuple[Workload, ...] | None = None


def _labels(metadata: Any) -> dict[str, str] | None:
    if not isinstance(metadata, dict):
        return {}
    labels = metadata.get("labels") or {}
    if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                               for k, v in labels.items()):
        return None
    return dict(labels)


def _walk(body: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def inventory_of(policy_set: PolicySet, default_namespace: str) -> Inventory:
    namespaces: dict[str, dict[str, str]] = {}
    workloads: list[Workload] = []
    for obj in policy_set.objects:
        body = obj.body if isinstance(obj.body, dict) else {}
        if obj.kind == "Namespace" and obj.name:
            labels = _labels(body.get("metadata"))
            if labels is not None:
                labels[METADATA_NAME] = obj.name
                namespaces[obj.name] = labels
        elif obj.kind in _TEMPLATES:
            template = _walk(body, _TEMPLATES[obj.kind])
            labels = _labels(template.get("metadata") if isinstance(template, dict) else None)
            if labels is not None:
                workloads.append(Workload(obj.kind, obj.namespace or default_namespace, obj.name,
                                          tuple(sorted(labels.items())), obj.span))
    return Inventory(namespaces=dict(sorted(namespaces.items())) if namespaces else None,
                     workloads=tuple(sorted(workloads, key=lambda w: (w.namespace, w.kind, w.name)))
                     if workloads else None)
