"""`npdiff OLD NEW`: prove two policy sets equivalent, or list what the change opens and closes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from npdiff.analyse.changes import object_changes
from npdiff.analyse.evaluate import decide
from npdiff.analyse.locality import FREE, Change, Pair, PairPolicies, changed_scopes, reduce
from npdiff.analyse.regions import endpoint_region, ports_of, protocols_of
from npdiff.encode import Encoder, Undecided
from npdiff.encode.cube import readable_point, witness_flow
from npdiff.encode.search import ClassSearch, Found, cover_union
from npdiff.encode.solver import Answer, check, make_solver
from npdiff.model import Flow, Pod, PolicySet, Semantics
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
    if change is not None:
        return _pairwise(encoder, old, new, change, max_classes, progress, common)
    if max_classes == 0:
        return _verdict_alone(encoder, old, new, common)
    opened = ClassSearch.difference(encoder, new, old, "newly allowed flows")
    closed = ClassSearch.difference(encoder, old, new, "newly blocked flows")
    if progress is not None:
        progress("comparing the two policy sets", 0, None)
    try:
        any_opened, any_closed = opened.exists(), closed.exists()
    except Undecided as exc:
        return DiffResult(Verdict.UNDECIDED, reason=str(exc), **common)
    if not (any_opened or any_closed):
        return DiffResult(Verdict.EQUIVALENT, **common)
    return _listed([opened] if any_opened else [], [closed] if any_closed else [],
                   encoder, lambda _: (old, new), max_classes, progress, common)


def _pairwise(encoder: Encoder, old: PolicySet, new: PolicySet, change: Change, max_classes: int,
              progress: Step | None, common: dict) -> DiffResult:
    """The changed region, one pair of zones at a time (analyse/locality.py): each pair is
    decided by two namespaces' policies only, so its questions stay small however large
    the sets are."""
    semantics = encoder.semantics
    policed = tuple(sorted(set(old.namespaces()) | set(new.namespaces())))
    probe = make_solver(encoder.ctx, semantics.timeout_ms)
    probe.add(encoder.well_formed())
    differing: list[tuple[Pair, PolicySet, PolicySet]] = []
    restricted: dict[Pair, tuple[PolicySet, PolicySet]] = {}
    cut_old, cut_new = PairPolicies(old, change, semantics), PairPolicies(new, change, semantics)

    def sides_of(pair: Pair) -> tuple[PolicySet, PolicySet]:
        if pair not in restricted:
            restricted[pair] = cut_old(pair), cut_new(pair)
        return restricted[pair]

    try:
        candidates = _pairs(encoder, old, new, change, policed)
        for number, pair in enumerate(candidates, 1):
            if progress is not None:
                progress("comparing the two policy sets", number, len(candidates))
            a, b = sides_of(pair)
            probe.push()
            probe.add(encoder.in_pair(pair.src, pair.dst, policed), encoder.disagree(a, b))
            answer = check(probe, "differing flows")
            probe.pop()
            if answer is Answer.SAT:
                differing.append((pair, a, b))
                if max_classes == 0:
                    break
    except Undecided as exc:
        return DiffResult(Verdict.UNDECIDED, reason=str(exc), **common)
    if not differing:
        return DiffResult(Verdict.EQUIVALENT, **common)
    if max_classes == 0:
        return DiffResult(Verdict.DIFFERENT, complete=False, reason="flow classes not listed (--max-classes 0)",
                          **common)

    def searches(what: str, allowing: int) -> Iterator[ClassSearch]:
        for pair, *sides in differing:
            region = encoder.in_pair(pair.src, pair.dst, policed)
            pinned = frozenset(f"{side}.ns" for side, zone in (("src", pair.src), ("dst", pair.dst)) if zone is not FREE)
            yield ClassSearch.difference(encoder, sides[allowing], sides[1 - allowing], what, region, pinned)

    def witness_sides(witness: Flow) -> tuple[PolicySet, PolicySet]:
        return sides_of(Pair(_zone(witness.src, policed), _zone(witness.dst, policed)))

    return _listed(searches("newly allowed flows", 1), searches("newly blocked flows", 0),
                   encoder, witness_sides, max_classes, progress, common)


def _pairs(encoder: Encoder, old: PolicySet, new: PolicySet, change: Change,
           policed: tuple[str, ...]) -> list[Pair]:
    """The pairs a change can touch: for each changed scope, the zones of the other end
    where the scope's own verdict differs (whatever the other end's policies say). A flow
    decided differently differs in its source's egress or its destination's ingress, so
    these pairs hold every such flow."""
    found: set[Pair] = set()
    for direction, other in ((Direction.INGRESS, "src"), (Direction.EGRESS, "dst")):
        for ns in change.namespaces(direction):
            subject = "dst" if direction is Direction.INGRESS else "src"
            local = encoder.all([encoder.in_zone(subject, ns, policed),
                                 encoder.disagree_on(PolicySet(old.in_namespace(ns)), PolicySet(new.in_namespace(ns)),
                                                     direction)])
            for zone in encoder.zones(local, other, policed, "differing flows"):
                found.add(Pair(zone, ns) if direction is Direction.INGRESS else Pair(ns, zone))
    return sorted(found, key=lambda p: (p.dst or "", p.src or ""))


def _zone(endpoint, policed: tuple[str, ...]) -> str | None:
    return endpoint.namespace if isinstance(endpoint, Pod) and endpoint.namespace in policed else FREE


def _listed(opened: Iterable[ClassSearch], closed: Iterable[ClassSearch], encoder: Encoder,
            sides_of: Callable[[Flow], tuple[PolicySet, PolicySet]], max_classes: int,
            progress: Step | None, common: dict) -> DiffResult:
    reasons: list[str] = []
    listed = []
    for searches, what in ((opened, "newly allowed flows"), (closed, "newly blocked flows")):
        found, reason = cover_union(searches, max_classes, what, progress)
        if reason:
            reasons.append(reason)
        classes = [_flow_class(item, encoder, sides_of) for item in found]
        listed.append(tuple(sorted(classes, key=_sort_key)))
    return DiffResult(Verdict.DIFFERENT, newly_allowed=listed[0], newly_blocked=listed[1],
                      complete=not reasons, reason="; ".join(reasons), **common)


def _verdict_alone(encoder: Encoder, old: PolicySet, new: PolicySet, common: dict) -> DiffResult:
    """--max-classes 0: one check for a flow the two sides decide differently."""
    search = ClassSearch.disagreement(encoder, old, new, "differing flows")
    try:
        found = search.exists()
    except Undecided as exc:
        return DiffResult(Verdict.UNDECIDED, reason=str(exc), **common)
    if not found:
        return DiffResult(Verdict.EQUIVALENT, **common)
    return DiffResult(Verdict.DIFFERENT, complete=False, reason="flow classes not listed (--max-classes 0)", **common)


def _flow_class(item: Found, encoder: Encoder,
                sides_of: Callable[[Flow], tuple[PolicySet, PolicySet]]) -> FlowClass:
    universe = encoder.universe
    # Pods carry addresses under --ipblock-matches-pods, with facts (distinct ends, pod
    # CIDRs) that a moved address could break: keep the solver's own point there.
    moved = () if encoder.semantics.ipblock_matches_pods else (readable_point(item.point, item.cube),)
    for point in (*moved, item.point):
        witness = witness_flow(point, universe, encoder.semantics)
        old, new = sides_of(witness)
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
