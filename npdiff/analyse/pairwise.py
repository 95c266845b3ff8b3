"""The changed region of a diff, one pair of zones at a time (analyse/locality.py, "pairs").

Each pair is decided by two namespaces' policies only, so its questions stay small however
large the sets are. The pairs a change can touch are found first; then they are taken in
pieces of PAIRS_PER_PIECE, in order: a piece finds which of its pairs differ, and in
which direction, and lists each direction's classes there. Pieces are independent, each
with solver contexts of its own, so they may run in worker processes (analyse/workers.py)
and the answer does not depend on how many run at once.

The verdict alone (--max-classes 0) is found without pieces: each pair is probed as soon
as it is found, and the first difference proven ends the search.

Each pair also knows in which directions it can differ (newly allowed, newly blocked):
those in which a changed scope's own verdict differs towards the pair's other zone. A
pair is probed for those alone, and once both directions are done (listed to the end of
their pairs, or to the budget) the remaining pieces are not run.

The listing keeps the order and the `--max-classes` budget of one search after another:
classes are taken piece by piece, pair by pair, until the budget is spent. A piece is
given what remains of the budget when it starts; one started early, with more, finds the
same first classes (a search's classes come in the same order whatever its budget), and
the extra ones are dropped. Likewise what a piece started early finds in a direction
already done is not read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import z3

from npdiff.analyse.flow_classes import flow_class, listed_result
from npdiff.analyse.locality import FREE, Change, Cuts, Pair, PairPolicies
from npdiff.analyse.workers import in_order
from npdiff.encode import Encoder, Undecided
from npdiff.encode.search import ClassSearch, Found, UndecidedWidening, finish, stopped
from npdiff.encode.solver import Answer, check, make_solver
from npdiff.model import Flow, Pod, PolicySet
from npdiff.model.flow import METADATA_NAME
from npdiff.model.policy import Direction
from npdiff.model.result import DiffResult, FlowClass, Verdict

if TYPE_CHECKING:
    from npdiff.progress import Step

PAIRS_PER_PIECE = 16
WHAT = ("newly blocked flows", "newly allowed flows")   # by `allowing`: 1 when NEW allows
DIFFERING = "differing flows"


@dataclass(frozen=True)
class Listing:
    """One direction's classes in a piece: what each of its searches found, in order."""

    found: tuple[tuple[Found, ...], ...]
    more: bool = False    # the piece's budget ran out with more classes to find
    error: str = ""       # a check answered unknown: the listing stops there
    error_found_more: bool = False   # ... while widening a flow: one more class exists
    # The class of each cube as found, witness decided (flow_classes.py): most cubes come
    # out of `finish` as they went in, and their classes need not be made again here.
    classes: tuple[tuple[Found, FlowClass], ...] = ()


@dataclass(frozen=True)
class PieceResult:
    differing: bool                 # some pair of the piece differs
    undecided: tuple[tuple[int, str], ...]   # (pair's index in the piece, why it could not be probed)
    listings: tuple[Listing, ...]   # by `allowing`


# A pair of zones, and the directions (values of `allowing`) in which it may differ.
Candidate = tuple[Pair, frozenset[int]]


def pairwise(encoder: Encoder, old: PolicySet, new: PolicySet, change: Change, max_classes: int,
             progress: Step | None, common: dict, jobs: int = 1,
             meanwhile: Callable[[], None] | None = None) -> DiffResult:
    """`meanwhile()` (work the pairs do not need) runs while workers list the first pieces;
    it may not run at all if no piece is listed."""
    semantics = encoder.semantics
    policed = tuple(sorted(set(old.namespaces()) | set(new.namespaces())))
    cuts: Cuts = {}   # policies both sides hold are cut once
    cut_old, cut_new = PairPolicies(old, change, semantics, cuts), PairPolicies(new, change, semantics, cuts)
    restricted: dict[Pair, tuple[PolicySet, PolicySet]] = {}

    def sides_of(pair: Pair) -> tuple[PolicySet, PolicySet]:
        if pair not in restricted:
            restricted[pair] = cut_old(pair), cut_new(pair)
        return restricted[pair]

    if max_classes == 0:
        return _verdict(encoder, old, new, change, policed, sides_of, progress, common)
    try:
        candidates = _pairs(encoder, old, new, change, policed)
    except Undecided as exc:
        return DiffResult(Verdict.UNDECIDED, reason=str(exc), **common)
    pieces = [tuple(candidates[i:i + PAIRS_PER_PIECE]) for i in range(0, len(candidates), PAIRS_PER_PIECE)]
    last_piece = [max((i for i, p in enumerate(pieces) if any(a in d for _, d in p)), default=-1) for a in (0, 1)]
    remaining = [max_classes, max_classes]   # by `allowing`; a piece is given them when it starts
    reasons = ["", ""]    # by `allowing`: why its listing is over ("" while it goes on)

    def relevant(directions: frozenset[int]) -> bool:
        """Whether a pair differing only in `directions` may still change the answer."""
        return any(not reasons[a] for a in directions)

    def piece(index: int) -> tuple[tuple[Candidate, ...], tuple[int, int]]:
        if not any(relevant(directions) for _, directions in pieces[index]):
            return (), (0, 0)   # every direction it could list is done: nothing to run
        return pieces[index], (remaining[0], remaining[1])

    def run(piece: tuple[tuple[Candidate, ...], tuple[int, int]]) -> PieceResult:
        pairs, budgets = piece
        if not pairs:
            return PieceResult(False, (), (Listing(()), Listing(())))
        return _piece(pairs, Encoder(encoder.universe, semantics, encoder.inventory_pods), sides_of, policed,
                      budgets)

    lists: tuple[list[list[Found]], list[list[Found]]] = ([], [])
    made: dict[tuple, FlowClass] = {}
    differing, undecided = False, ""
    for index, result in enumerate(in_order(len(pieces), piece, run, jobs, meanwhile)):
        if progress is not None:
            progress("comparing the two policy sets", min((index + 1) * PAIRS_PER_PIECE, len(candidates)),
                     len(candidates))
        differing = differing or result.differing
        # A piece started before a direction was done probed pairs that one started later
        # skips: what they could not decide is read only where it still matters.
        undecided = undecided or next((why for i, why in result.undecided if relevant(pieces[index][i][1])), "")
        for allowing in (1, 0):
            made.update((_key(item), made_class) for item, made_class in result.listings[allowing].classes)
            if not reasons[allowing]:
                reasons[allowing] = _take(result.listings[allowing], lists[allowing], remaining, allowing,
                                          max_classes)
            if progress is not None and max_classes > remaining[allowing]:
                progress(f"listing {WHAT[allowing]}, classes found:", max_classes - remaining[allowing], None)
        if all(reasons[a] or last_piece[a] <= index for a in (0, 1)):
            break
    if not differing:
        if undecided:
            return DiffResult(Verdict.UNDECIDED, reason=undecided, **common)
        return DiffResult(Verdict.EQUIVALENT, **common)
    found: list[list[Found]] = [[], []]
    for allowing in (1, 0):
        try:
            found[allowing] = finish(encoder, lists[allowing], WHAT[allowing])
        except Undecided as exc:
            found[allowing] = [f for listed in lists[allowing] for f in listed]
            reasons[allowing] = f"listing incomplete: {exc}"
    notes = [r for r in (reasons[1], reasons[0]) if r]
    if undecided:
        notes.append(f"listing incomplete: {undecided}")

    def witness_sides(witness: Flow) -> tuple[PolicySet, PolicySet]:
        return sides_of(Pair(_zone(witness.src, policed), _zone(witness.dst, policed)))

    classes = [[made.get(_key(item)) or flow_class(item, encoder, witness_sides) for item in items]
               for items in found]
    return listed_result(classes[1], classes[0], notes, common)


def _key(item: Found) -> tuple:
    return tuple(sorted(item.point.items())), item.cube


def _take(listing: Listing, lists: list[list[Found]], remaining: list[int], allowing: int,
          max_classes: int) -> str:
    """Take a piece's classes of one direction within the budget left; why this direction's
    listing is over ("" while it goes on)."""
    for found in listing.found:
        taken = list(found[:remaining[allowing]])
        lists.append(taken)
        remaining[allowing] -= len(taken)
        if len(taken) < len(found):
            return stopped(WHAT[allowing], max_classes)
    if listing.more:
        return stopped(WHAT[allowing], max_classes)
    if listing.error_found_more and remaining[allowing] == 0:
        # Given no more budget than this, the piece would have stopped at the flow it
        # failed to widen, as a piece started later does: the listing just stopped there.
        return stopped(WHAT[allowing], max_classes)
    if listing.error:
        return f"listing incomplete: {listing.error}"
    return ""


def _piece(pairs: tuple[Candidate, ...], encoder: Encoder, sides_of, policed: tuple[str, ...],
           budgets: tuple[int, int]) -> PieceResult:
    """Probe each pair of a piece in the directions it may differ in, then list the classes
    of each direction in the pairs that have some. Every pair is probed, whatever the
    budgets, so that the probe's context is the same in any run. The first direction
    listed reuses that context; the second gets a fresh one, so neither depends on how
    far the other went."""
    probe = make_solver(encoder.ctx, encoder.semantics.timeout_ms)
    probe.add(encoder.well_formed())
    differing: list[tuple[Pair, frozenset[int]]] = []
    proved, undecided = False, []
    for index, (pair, directions) in enumerate(pairs):
        sides = sides_of(pair)
        probe.push()
        try:
            if len(directions) == 1:
                (allowing,) = directions
                target = encoder.only_allowed_by(sides[allowing], sides[1 - allowing])
            else:
                target = encoder.disagree(*sides)
            probe.add(encoder.within_pair(target, pair.src, pair.dst, policed))
            if check(probe, DIFFERING) is Answer.UNSAT:
                continue
            proved = True
            # No search is set up for a direction without a single flow.
            differing.append((pair, directions if len(directions) == 1
                              else encoder.differing_directions(probe, *sides, DIFFERING)))
        except Undecided as exc:
            undecided.append((index, str(exc)))
        finally:
            probe.pop()
    listings: list[Listing] = [Listing(()), Listing(())]
    fresh = False
    for allowing in (1, 0):
        chosen = [pair for pair, directions in differing if allowing in directions]
        if not chosen:
            continue
        if fresh:
            encoder = Encoder(encoder.universe, encoder.semantics, encoder.inventory_pods)
        fresh = True
        listings[allowing] = _list(encoder, chosen, sides_of, policed, allowing, budgets[allowing])
    return PieceResult(proved, tuple(undecided), tuple(listings))


def _list(encoder: Encoder, pairs: list[Pair], sides_of, policed: tuple[str, ...], allowing: int,
          budget: int) -> Listing:
    found: list[tuple[Found, ...]] = []
    classes: list[tuple[Found, FlowClass]] = []
    more, error, found_more = False, "", False
    for pair in pairs:
        sides = sides_of(pair)
        target = encoder.within_pair(encoder.only_allowed_by(sides[allowing], sides[1 - allowing]),
                                     pair.src, pair.dst, policed)
        pinned = frozenset(f"{side}.ns" for side, zone in (("src", pair.src), ("dst", pair.dst)) if zone is not FREE)
        search = ClassSearch(encoder, target, WHAT[allowing], pinned)
        items: list[Found] = []
        try:
            more = search.list_into(items, budget - sum(len(f) for f in found))
        except Undecided as exc:
            error, found_more = str(exc), isinstance(exc, UndecidedWidening)
        found.append(tuple(items))
        # Every witness of the pair's cubes lies in the pair.
        classes.extend((item, flow_class(item, encoder, lambda _: sides)) for item in items)
        if more or error:
            break
    return Listing(tuple(found), more, error, found_more, tuple(classes))


def _pairs(encoder: Encoder, old: PolicySet, new: PolicySet, change: Change,
           policed: tuple[str, ...]) -> list[Candidate]:
    """The pairs a change can touch, and in which directions (`_touched`), sorted."""
    found: dict[Pair, set[int]] = {}
    for pair, allowing in _touched(encoder, old, new, change, policed):
        found.setdefault(pair, set()).add(allowing)
    return [(pair, frozenset(found[pair])) for pair in sorted(found, key=lambda p: (p.dst or "", p.src or ""))]


def _touched(encoder: Encoder, old: PolicySet, new: PolicySet, change: Change,
             policed: tuple[str, ...]) -> Iterator[tuple[Pair, int]]:
    """The pairs a change can touch, and in which direction, as they are found: for each
    changed scope and direction, the zones of the other end where the scope's own verdict
    newly allows (or newly denies), whatever the other end's policies say. A newly allowed
    flow is newly allowed by its source's egress or by its destination's ingress (a
    conjunction of two verdicts grows only where one of them does), and likewise for a
    newly blocked one, so these pairs hold every such flow, in those directions. A pair
    may come more than once."""
    for direction, other in ((Direction.INGRESS, "src"), (Direction.EGRESS, "dst")):
        for ns in change.namespaces(direction):
            subject = "dst" if direction is Direction.INGRESS else "src"
            sides = PolicySet(old.in_namespace(ns)), PolicySet(new.in_namespace(ns))
            alike = _alike(encoder, sides, direction, policed)
            for allowing in (1, 0):
                local = encoder.all([encoder.in_zone(subject, ns, policed),
                                     encoder.direction_ok(sides[allowing], direction),
                                     z3.Not(encoder.direction_ok(sides[1 - allowing], direction))])
                for zone in encoder.zones(local, other, policed, DIFFERING, alike):
                    yield (Pair(zone, ns) if direction is Direction.INGRESS else Pair(ns, zone)), allowing


def _verdict(encoder: Encoder, old: PolicySet, new: PolicySet, change: Change, policed: tuple[str, ...],
             sides_of: Callable[[Pair], tuple[PolicySet, PolicySet]], progress: Step | None,
             common: dict) -> DiffResult:
    """The verdict alone (--max-classes 0): each pair probed in each direction as soon as
    `_touched` names it, so that the first flow proven to differ ends the search (sets
    that differ everywhere need not have all their pairs found). Only proving the sets
    equivalent takes every pair. A check that answers unknown leaves the verdict
    undecided unless a difference is proven after all."""
    probe = make_solver(encoder.ctx, encoder.semantics.timeout_ms)
    probe.add(encoder.well_formed())
    probed: set[tuple[Pair, int]] = set()
    undecided = ""
    try:
        for pair, allowing in _touched(encoder, old, new, change, policed):
            if (pair, allowing) in probed:
                continue
            probed.add((pair, allowing))
            if progress is not None:
                progress("comparing the two policy sets, pairs of zones probed:", len(probed), None)
            sides = sides_of(pair)
            probe.push()
            try:
                probe.add(encoder.within_pair(encoder.only_allowed_by(sides[allowing], sides[1 - allowing]),
                                              pair.src, pair.dst, policed))
                if check(probe, DIFFERING) is Answer.SAT:
                    return DiffResult(Verdict.DIFFERENT, complete=False,
                                      reason="flow classes not listed (--max-classes 0)", **common)
            except Undecided as exc:
                undecided = undecided or str(exc)
            finally:
                probe.pop()
    except Undecided as exc:   # finding the pairs themselves
        undecided = undecided or str(exc)
    if undecided:
        return DiffResult(Verdict.UNDECIDED, reason=undecided, **common)
    return DiffResult(Verdict.EQUIVALENT, **common)


def _alike(encoder: Encoder, sides: tuple[PolicySet, PolicySet], direction: Direction,
           policed: tuple[str, ...]) -> frozenset[str]:
    """The namespaces with policies that a scope's verdict cannot tell apart at the other
    end: it compares that end's namespace only with the names its policies give (their own
    namespace, and those of metadata.name requirements, S1.1.2), and every namespace may
    carry any other label. Under an inventory, pods are those of the inventory: none."""
    if encoder.inventory_pods is not None:
        return frozenset()
    named = {p.namespace for side in sides for p in side.policies}
    for policy in sides[0].policies + sides[1].policies:
        for rule in policy.rules(direction):
            for peer in rule.peers:
                if peer.namespace_selector is not None:
                    named.update(v for r in peer.namespace_selector.requirements if r.key == METADATA_NAME
                                 for v in r.values)
    return frozenset(policed) - named


def _zone(endpoint, policed: tuple[str, ...]) -> str | None:
    return endpoint.namespace if isinstance(endpoint, Pod) and endpoint.namespace in policed else FREE
