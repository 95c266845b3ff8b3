"""`--inventory-only`: every pod end of a flow is a pod of one of the inventory's workloads.

A pod is seen through the universe's atoms: its namespace atom, one value index per
label key and namespace-label key policies mention, and (as a destination) for each port
name policies mention, the protocol and port numbers its containers declare under that
name (S3.6.5: inventory mode uses the concrete table). Many workloads share one such
profile, so the constraint is a disjunction over distinct profiles, grouped by namespace.
Ends that are not pods (addresses, other nodes) stay symbolic.
"""

from __future__ import annotations

from collections.abc import Iterable

import z3

from npdiff.encode.universe import Universe
from npdiff.encode.variables import POD, EndpointVars, FlowVars
from npdiff.model import Pod
from npdiff.model.policy import PROTOCOLS

# (label value indices, namespace-label value indices)
LabelProfile = tuple[tuple[int, ...], tuple[int, ...]]
# per universe port name: the (protocol index, port) pairs the pod declares under it
ServesProfile = tuple[tuple[tuple[int, int], ...], ...]


def label_profile(pod: Pod, universe: Universe) -> tuple[int, LabelProfile]:
    labels, ns_labels = pod.label_map, pod.namespace_label_map
    return (universe.namespace_index(pod.namespace),
            (tuple(Universe.value_index(values, labels.get(key)) for key, values in universe.pod_keys),
             tuple(Universe.value_index(values, ns_labels.get(key)) for key, values in universe.ns_keys)))


def serves_profile(pod: Pod, universe: Universe) -> ServesProfile:
    return tuple(tuple(sorted({(PROTOCOLS.index(p.protocol), p.port) for p in pod.ports if p.name == name}))
                 for name in universe.port_names)


def inventory_constraint(v: FlowVars, universe: Universe, pods: Iterable[Pod]) -> z3.BoolRef:
    pods = list(pods)
    return z3.And(end_constraint(v, universe, pods, "src"), end_constraint(v, universe, pods, "dst"))


def end_constraint(v: FlowVars, universe: Universe, pods: Iterable[Pod], side: str) -> z3.BoolRef:
    """One end of the flow is an address or one of the pods."""
    by_namespace: dict[int, set] = {}
    for pod in pods:
        ns, labels = label_profile(pod, universe)
        by_namespace.setdefault(ns, set()).add((labels, serves_profile(pod, universe) if side == "dst" else ()))
    ep = v.src if side == "src" else v.dst
    # Many profiles share their label part or their port part: build each part once.
    labels_terms: dict[LabelProfile, z3.BoolRef] = {}
    serves_terms: dict[ServesProfile, z3.BoolRef] = {}

    def term(ep: EndpointVars, profile: tuple[LabelProfile, ServesProfile]) -> z3.BoolRef:
        labels, serves = profile
        if labels not in labels_terms:
            labels_terms[labels] = _labels(ep, labels, universe)
        if side == "src":
            return labels_terms[labels]
        if serves not in serves_terms:
            serves_terms[serves] = _serves(v, serves, universe)
        return z3.And(labels_terms[labels], serves_terms[serves])

    return _end(ep, by_namespace, term)


def _end(ep: EndpointVars, by_namespace: dict[int, set], term) -> z3.BoolRef:
    ctx = ep.kind.ctx
    groups = [z3.And(ep.ns == ns, z3.Or([term(ep, p) for p in sorted(profiles)], ctx))
              for ns, profiles in sorted(by_namespace.items())]
    return z3.Or(ep.kind != POD, z3.Or(groups, ctx) if groups else z3.BoolVal(False, ctx))


def _labels(ep: EndpointVars, profile: LabelProfile, universe: Universe) -> z3.BoolRef:
    labels, ns_labels = profile
    terms = [ep.labels[key] == i for (key, _), i in zip(universe.pod_keys, labels)]
    terms += [ep.ns_labels[key] == i for (key, _), i in zip(universe.ns_keys, ns_labels)]
    return z3.And(terms, ep.kind.ctx) if terms else z3.BoolVal(True, ep.kind.ctx)


def _serves(v: FlowVars, profile: ServesProfile, universe: Universe) -> z3.BoolRef:
    ctx = v.ctx
    terms = []
    for name, declared in zip(universe.port_names, profile):
        on = [z3.And(v.proto == proto, v.port == port) for proto, port in declared]
        terms.append(v.serves[name] == (z3.Or(on, ctx) if on else z3.BoolVal(False, ctx)))
    return z3.And(terms, ctx) if terms else z3.BoolVal(True, ctx)
