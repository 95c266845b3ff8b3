"""Cubes found by class search, turned into the flow classes a diff reports: a witness flow
decided on both sides (with the rules behind each verdict) and readable regions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from npdiff.analyse.evaluate import decide_both
from npdiff.analyse.regions import endpoint_region, ports_of, protocols_of
from npdiff.encode import Encoder
from npdiff.encode.cube import readable_point, witness_flow
from npdiff.encode.search import Found
from npdiff.model import Flow, PolicySet
from npdiff.model.result import DiffResult, FlowClass, Verdict

SidesOf = Callable[[Flow], tuple[PolicySet, PolicySet]]


def listed_result(allowed: Iterable[FlowClass], blocked: Iterable[FlowClass], reasons: Sequence[str],
                  common: dict) -> DiffResult:
    """A "different" verdict with the classes of both directions, sorted; partial if any
    reason is given."""
    return DiffResult(Verdict.DIFFERENT, newly_allowed=tuple(sorted(allowed, key=_sort_key)),
                      newly_blocked=tuple(sorted(blocked, key=_sort_key)),
                      complete=not reasons, reason="; ".join(reasons), **common)


def flow_class(item: Found, encoder: Encoder, sides_of: SidesOf) -> FlowClass:
    """The class of a cube, with a witness flow decided on both sides (`sides_of` names the
    policy sets that decide it). Only terms are evaluated, no solver runs: the class is
    the same in any encoder of the same universe."""
    universe = encoder.universe
    # Pods carry addresses under --ipblock-matches-pods, with facts (distinct ends, pod
    # CIDRs) that a moved address could break: keep the solver's own point there.
    moved = () if encoder.semantics.ipblock_matches_pods else (readable_point(item.point, item.cube),)
    for point in (*moved, item.point):
        witness = witness_flow(point, universe, encoder.semantics)
        old, new = sides_of(witness)
        before, after = decide_both(encoder, old, new, witness)
        if before.allowed != after.allowed:
            break
    else:
        raise AssertionError("witness flow does not differ between the two sides")
    return FlowClass(
        src=endpoint_region(item.cube, "src", universe, encoder.semantics),
        dst=endpoint_region(item.cube, "dst", universe, encoder.semantics),
        protocols=protocols_of(item.cube),
        ports=ports_of(item.cube),
        witness=witness,
        old=before,
        new=after,
    )


def _sort_key(flow_class: FlowClass) -> tuple:
    return (repr(flow_class.dst), repr(flow_class.src), flow_class.protocols, flow_class.ports)
