"""What each changed workload's own change does: its flows with the other workloads, its
old version against its new one, both in NEW's cluster under NEW's policies.

Policy classes compare two policy sets on the same pods; a relabelled workload meets
other policies without any policy changing, and this is where a review sees it.
"""

from __future__ import annotations

from dataclasses import replace

from npdiff.encode import Encoder, Undecided
from npdiff.encode.reach import Partners, ReachChange
from npdiff.model import PolicySet, Semantics
from npdiff.model.inventory import Inventory, ReachDelta, WorkloadChange


def with_reach(changes: tuple[WorkloadChange, ...], old: Inventory, new: Inventory, new_set: PolicySet,
               semantics: Semantics) -> tuple[WorkloadChange, ...]:
    changed = [c for c in changes if c.change == "changed" and c.namespace]
    if not changed:
        return changes
    encoder = Encoder.for_sets([new_set], semantics)
    # Every workload of NEW, itself included: the partners of each change are checked one
    # by one afterwards, this only rules out changes that meet no workload at all.
    partners = Partners(encoder, [new.pod(w) for w in new.workloads])
    before = {w.key: w for w in old.workloads}
    after = {w.key: w for w in new.workloads}
    out = []
    for c in changes:
        key = (c.namespace, c.name, c.kind)
        if c not in changed or key not in before or key not in after:
            out.append(c)
            continue
        try:
            out.append(replace(c, reach=_deltas(encoder, new_set, new, partners, before[key], after[key])))
        except Undecided as exc:
            out.append(replace(c, reach_reason=str(exc)))
    return tuple(out)


def _deltas(encoder: Encoder, new_set: PolicySet, new: Inventory, partners: Partners,
            old_version, new_version) -> tuple[ReachDelta, ...]:
    # The old version is placed in NEW's namespace, so that only the workload's own change counts.
    was, now = new.pod(old_version), new.pod(new_version)
    if was == now:
        return ()
    others = [(w, new.pod(w)) for w in new.workloads if w.key != new_version.key]
    if not others:
        return ()
    found = []
    for end, direction in (("src", "to"), ("dst", "from")):
        reach = ReachChange(encoder, new_set, end, was, now, partners)
        for partner, pod in others:
            for change, example in reach.with_partner(pod).items():
                if example is not None:
                    found.append(ReachDelta(direction, change, partner.ref, *example))
    return tuple(sorted(found))
