"""Workload changes between two inventories, kept apart from policy changes.

Only what policies see counts: a workload's pod labels and container ports, and a
Namespace's labels. A changed image or replica count is not a workload change here.
"""

from __future__ import annotations

from npdiff.model.inventory import NAMESPACE_KIND, Inventory, Labels, Namespace, Workload, WorkloadChange
from npdiff.model.span import Span


def workload_changes(old: Inventory, new: Inventory) -> tuple[WorkloadChange, ...]:
    changes: list[WorkloadChange] = []
    before_ns = {n.name: n for n in old.namespaces}
    after_ns = {n.name: n for n in new.namespaces}
    for name in sorted(before_ns.keys() | after_ns.keys()):
        o, n = before_ns.get(name), after_ns.get(name)
        changes += _change(NAMESPACE_KIND, "", name, o, n, _namespace_fields)
    before = {w.key: w for w in old.workloads}
    after = {w.key: w for w in new.workloads}
    for key in sorted(before.keys() | after.keys()):
        namespace, name, kind = key
        changes += _change(kind, namespace, name, before.get(key), after.get(key), _workload_fields)
    return tuple(changes)


def _change(kind: str, namespace: str, name: str, o, n, fields) -> list[WorkloadChange]:
    span: Span = (n or o).span or Span("", 0)
    if o is None:
        return [WorkloadChange(kind, namespace, name, "added", span.file, span.line)]
    if n is None:
        return [WorkloadChange(kind, namespace, name, "removed", span.file, span.line)]
    changed = fields(o, n)
    if not changed:
        return []
    return [WorkloadChange(kind, namespace, name, "changed", span.file, span.line,
                           tuple(f for f, _ in changed), tuple(v for _, v in changed))]


Field = tuple[str, tuple[str | None, str | None]]


def _label_fields(before: Labels, after: Labels) -> list[Field]:
    o, n = dict(before), dict(after)
    return [(f"labels.{key}", (o.get(key), n.get(key))) for key in sorted(o.keys() | n.keys())
            if o.get(key) != n.get(key)]


def _namespace_fields(o: Namespace, n: Namespace) -> list[Field]:
    return _label_fields(o.labels, n.labels)


def _workload_fields(o: Workload, n: Workload) -> list[Field]:
    fields = _label_fields(o.labels, n.labels)
    if o.ports != n.ports:
        fields.append(("ports", (_ports(o), _ports(n))))
    return fields


def _ports(w: Workload) -> str | None:
    return ", ".join(str(p) for p in w.ports) or None
