"""`npdiff OLD NEW`: prove two policy sets equivalent, or list what the change opens and closes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from npdiff.analyse.changes import object_changes
from npdiff.analyse.evaluate import decide
from npdiff.analyse.locality import changed_scopes, reduce
from npdiff.analyse.regions import endpoint_region, ports_of, protocols_of
from npdiff.encode import Encoder, Undecided
from npdiff.encode.cube import readable_point, witness_flow
from npdiff.encode.search import ClassSearch, Found
from npdiff.model import Pod, PolicySet, Semantics
from npdiff.model.policy import Direction
from npdiff.model.result import DiffResult, FlowClass, Verdict

if TYPE_CHECKING:
    from npdiff.progress import Step

DEFAULT_MAX_CLASSES = 100


def diff(old: PolicySet, new: PolicySet, semantics: Semantics,
         max_classes: int = DEFAULT_MAX_CLASSES, local: bool = True,
         progress: Step | None = None, inventory_pods: tuple[Pod, ...] | None = None) -> DiffResult:
    """With `inventory_pods` (--inventory-only), pod ends range over those pods only.
    `local=False` skips the locality reduction (analyse/locality.py): the plain path that
    tests compare the reduced one against."""
    changes = object_changes(old, new)
    common = dict(changes=changes, semantics=semantics,
                  old_count=len(old.policies), new_count=len(new.policies))
    if old.policies == new.policies:
        return DiffResult(Verdict.EQUIVALENT, **common)
    # The inventory's pods are told apart by every value the policies mention, so under
    # --inventory-only the vocabulary is the whole sets', not only what the reduction keeps.
    vocabulary = [old, new]
    change = changed_scopes(old, new) if local else None
    if change is not None:
        if change.empty:
            return DiffResult(Verdict.EQUIVALENT, **common)
        old, new = reduce(old, change, semantics), reduce(new, change, semantics)
    encoder = Encoder.for_sets(vocabulary if inventory_pods is not None else [old, new], semantics, inventory_pods)
    within = None if change is None else \
        encoder.in_scopes(change.namespaces(Direction.EGRESS), change.namespaces(Direction.INGRESS))
    if max_classes == 0:
        return _verdict_alone(encoder, old, new, within, common)
    opened = ClassSearch.difference(encoder, new, old, "newly allowed flows", within)
    closed = ClassSearch.difference(encoder, old, new, "newly blocked flows", within)
    if progress is not None:
        progress("comparing the two policy sets", 0, None)
    try:
        any_opened, any_closed = opened.exists(), closed.exists()
    except Undecided as exc:
        return DiffResult(Verdict.UNDECIDED, reason=str(exc), **common)
    if not (any_opened or any_closed):
        return DiffResult(Verdict.EQUIVALENT, **common)

    reasons: list[str] = []
    newly_allowed = _classes(opened, encoder, old, new, max_classes, reasons, progress) if any_opened else ()
    newly_blocked = _classes(closed, encoder, old, new, max_classes, reasons, progress) if any_closed else ()
    return DiffResult(Verdict.DIFFERENT, newly_allowed=newly_allowed, newly_blocked=newly_blocked,
                      complete=not reasons, reason="; ".join(reasons), **common)


def _verdict_alone(encoder: Encoder, old: PolicySet, new: PolicySet, within, common: dict) -> DiffResult:
    """--max-classes 0: one check for a flow the two sides decide differently."""
    search = ClassSearch.disagreement(encoder, old, new, "differing flows", within)
    try:
        found = search.exists()
    except Undecided as exc:
        return DiffResult(Verdict.UNDECIDED, reason=str(exc), **common)
    if not found:
        return DiffResult(Verdict.EQUIVALENT, **common)
    return DiffResult(Verdict.DIFFERENT, complete=False, reason="flow classes not listed (--max-classes 0)", **common)


def _classes(search: ClassSearch, encoder: Encoder, old: PolicySet, new: PolicySet,
             max_classes: int, reasons: list[str], progress: Step | None) -> tuple[FlowClass, ...]:
    found, reason = search.cover(max_classes, progress)
    if reason:
        reasons.append(reason)
    classes = [_flow_class(item, encoder, old, new) for item in found]
    return tuple(sorted(classes, key=_sort_key))


def _flow_class(item: Found, encoder: Encoder, old: PolicySet, new: PolicySet) -> FlowClass:
    universe = encoder.universe
    # Pods carry addresses under --ipblock-matches-pods, with facts (distinct ends, pod
    # CIDRs) that a moved address could break: keep the solver's own point there.
    moved = () if encoder.semantics.ipblock_matches_pods else (readable_point(item.point, item.cube),)
    for point in (*moved, item.point):
        witness = witness_flow(point, universe, encoder.semantics)
        before, after = decide(encoder, old, witness), decide(encoder, new, witness)
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
