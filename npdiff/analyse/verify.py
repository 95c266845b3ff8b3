"""`npdiff verify`: prove or refute invariants over every pod that could exist, and in a
review (`npdiff OLD NEW --invariants`), tell which invariants a change breaks or repairs.

An invariant holds iff its violation region (encode/patterns.py) is empty. A non-empty
region is listed as maximal flow classes, exactly as a diff lists its difference, each
with a witness that is decided concretely to name the rules behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from npdiff.analyse.evaluate import decide
from npdiff.analyse.regions import endpoint_region, ports_of, protocols_of
from npdiff.encode import Encoder, Undecided, Universe
from npdiff.encode.cube import Cube, readable_point, witness_flow
from npdiff.encode.patterns import holds_on, violation, vocabulary
from npdiff.encode.search import ClassSearch, Found
from npdiff.encode.universe import ABSENT
from npdiff.encode.variables import ADDRESS, POD
from npdiff.model import PolicySet, Semantics
from npdiff.model.invariant import (
    Invariant, InvariantChange, InvariantResult, InvariantReview, InvariantStatus, VerifyResult,
    ViolationClass,
)
from npdiff.model.result import DirectionStatus, FlowDecision, RuleRef

if TYPE_CHECKING:
    import z3

    from npdiff.progress import Step

DEFAULT_MAX_CLASSES = 100


def exempt(semantics: Semantics) -> tuple[tuple[str, str], ...]:
    """Traffic no invariant speaks about (semantics.md §6): symbolic flows never hold it,
    so it can neither violate nor support an invariant."""
    found = []
    if semantics.allow_from_local_node:
        found.append(("S6.4", "traffic from a pod's own node, always allowed"))
    if semantics.self_traffic == "allow":
        found.append(("S6.5", "a pod's traffic to itself, always allowed"))
    else:
        found.append(("S6.5", "a pod's traffic to itself, which npdiff does not model"))
    return tuple(found)


def encoder_for(policy_sets: Sequence[PolicySet], invariants: Sequence[Invariant],
                semantics: Semantics) -> Encoder:
    """One universe for the policies and the invariants, so that regions stay exact."""
    return Encoder(Universe.build(policy_sets, semantics, vocabulary(invariants)), semantics)


def verify(policy_set: PolicySet, invariants: Sequence[Invariant], semantics: Semantics,
           max_classes: int = DEFAULT_MAX_CLASSES, progress: Step | None = None) -> VerifyResult:
    encoder = encoder_for([policy_set], invariants, semantics)
    results = []
    for number, invariant in enumerate(invariants, 1):
        if progress is not None:
            progress("checking invariants", number, len(invariants))
        results.append(check(encoder, policy_set, invariant, max_classes))
    return VerifyResult(results=tuple(sorted(results, key=lambda r: r.invariant.name)),
                        semantics=semantics, exempt=exempt(semantics),
                        policy_count=len(policy_set.policies))


def review(old: PolicySet, new: PolicySet, invariants: Sequence[Invariant], semantics: Semantics,
           max_classes: int = DEFAULT_MAX_CLASSES) -> InvariantReview:
    """Each invariant on both sides; the side that violates a broken or repaired invariant
    is explained with classes, the others carry their status only."""
    encoder = encoder_for([old, new], invariants, semantics)
    changes = []
    for invariant in sorted(invariants, key=lambda i: i.name):
        change = InvariantChange(check(encoder, old, invariant, 0), check(encoder, new, invariant, 0))
        if change.change == "broken":
            change = InvariantChange(change.old, check(encoder, new, invariant, max_classes))
        elif change.change == "repaired":
            change = InvariantChange(check(encoder, old, invariant, max_classes), change.new)
        changes.append(change)
    return InvariantReview(changes=tuple(changes), exempt=exempt(semantics))


def check(encoder: Encoder, policy_set: PolicySet, invariant: Invariant,
          max_classes: int = DEFAULT_MAX_CLASSES) -> InvariantResult:
    """Prove or refute one invariant; with `max_classes` 0, only its status."""
    term = violation(encoder, policy_set, invariant)
    search = ClassSearch(encoder, term, f"invariant {invariant.name}")
    try:
        if not search.exists():
            return InvariantResult(invariant, InvariantStatus.PROVEN)
    except Undecided as exc:
        return InvariantResult(invariant, InvariantStatus.UNDECIDED, reason=str(exc))
    if max_classes == 0:
        return InvariantResult(invariant, InvariantStatus.VIOLATED)
    found, reason = search.cover(max_classes)
    classes = sorted((_violation_class(item, encoder, policy_set, term) for item in found), key=_sort_key)
    witness = classes[0].decision if classes else None
    return InvariantResult(invariant, InvariantStatus.VIOLATED, witness=witness,
                           decided_by=decided_by(witness) if witness else (),
                           classes=tuple(classes), complete=not reason, reason=reason)


def decided_by(decision: FlowDecision) -> tuple[RuleRef, ...]:
    """The rules that allow an allowed flow, or the policies that isolate and deny a
    blocked one. Empty when nothing isolates the ends: allowed by default."""
    if decision.allowed:
        refs = decision.egress.allowed_by + decision.ingress.allowed_by
    else:
        refs = tuple(ref for d in (decision.egress, decision.ingress)
                     if d.status is DirectionStatus.DENIED for ref in d.isolated_by)
    return tuple(sorted(set(refs)))


def _violation_class(item: Found, encoder: Encoder, policy_set: PolicySet, term: z3.BoolRef) -> ViolationClass:
    universe, semantics = encoder.universe, encoder.semantics
    # As in a diff: addresses move to readable ones only where pods carry none (S6.1).
    moved = () if semantics.ipblock_matches_pods else (readable_point(item.point, item.cube),)
    plain = tuple(_plain(p, item.cube, universe.other_namespace) for p in moved)
    for point in (*plain, *moved, item.point):
        witness = witness_flow(point, universe, semantics)
        if holds_on(encoder, term, witness):
            break
    else:
        raise AssertionError("witness flow does not violate the invariant")
    return ViolationClass(
        src=endpoint_region(item.cube, "src", universe, semantics),
        dst=endpoint_region(item.cube, "dst", universe, semantics),
        protocols=protocols_of(item.cube),
        ports=ports_of(item.cube),
        witness=witness,
        decision=decide(encoder, policy_set, witness),
    )


def _plain(point: dict[str, int | bool], cube: Cube, other_namespace: int) -> dict[str, int | bool]:
    """Drop what the class leaves free (labels, named ports, a pod where any end will do),
    so that a witness shows only what matters; every point of the cube violates, and the
    caller re-checks the result."""
    out = dict(point)
    for side in ("src", "dst"):
        if cube.get(f"{side}.kind") is None:
            out[f"{side}.kind"] = ADDRESS  # an end that may be anything: an address is simplest
    shared_namespace = (out["src.kind"] == POD and out["dst.kind"] == POD
                        and point["src.ns"] == point["dst.ns"] != other_namespace)
    for dim, value in point.items():
        if ".label[" not in dim and ".nslabel[" not in dim and ".serves[" not in dim:
            continue
        bare = False if ".serves[" in dim else ABSENT
        # Two pods of one namespace see the same namespace labels: change both or neither.
        dims = [dim]
        if ".nslabel[" in dim and shared_namespace:
            dims = [dim, ("dst" if dim.startswith("src") else "src") + dim[3:]]
        if value != bare and all(cube.get(d) is None or bare in cube.get(d) for d in dims):
            for d in dims:
                out[d] = bare
    return out


def _sort_key(violation_class: ViolationClass) -> tuple:
    return (repr(violation_class.dst), repr(violation_class.src), violation_class.protocols,
            violation_class.ports)
