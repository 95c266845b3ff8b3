"""Enumerating a difference as maximal cubes (design.md §6, "Flow classes").

One solver finds a flow of the target region outside every cube found so far; a second
solver, holding the complement of the target, proves each widening step by UNSAT. Each
cube is blocked as a whole, so the cubes together cover the target exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

import z3

from npdiff.encode.cube import (
    Cube, cuts_for, domain, endpoint_dims, equals, one_of, point_of,
)
from npdiff.encode.encoder import Encoder
from npdiff.encode.models import Model
from npdiff.encode.solver import Answer, Undecided, assert_all, check, core_of, make_solver, preprocessed
from npdiff.encode.terms import implication, negation
from npdiff.encode.variables import POD
from npdiff.model import PolicySet

if TYPE_CHECKING:
    from npdiff.progress import Step


class UndecidedWidening(Undecided):
    """A check answered unknown while widening a flow of the target into a cube: another
    class exists, whatever its extent."""


@dataclass(frozen=True)
class Found:
    point: dict[str, int | bool]
    cube: Cube


class _Origin(NamedTuple):
    """What a widening starts from: the flow, and the dimensions of its minimal core."""

    point: dict[str, int | bool]
    core: frozenset[str]


class ClassSearch:
    def __init__(self, encoder: Encoder, target: z3.BoolRef, what: str, pinned: frozenset[str] = frozenset()):
        """Cover `target`, a region of well-formed flows; `what` names it in messages.
        The solvers that widen are made when the first flow is found: many targets of a
        pair-by-pair diff are empty.
        `pinned` dimensions hold one value across the whole target (a pair's namespace):
        widening them, or the end they belong to, could only fail."""
        self.encoder = encoder
        self.what = what
        self.pinned = pinned
        self.target = target
        # The finder and the seeker start from the same constraints: simplified once.
        self._region = preprocessed(encoder.ctx, encoder.well_formed(), target)
        self.finder = make_solver(encoder.ctx, encoder.semantics.timeout_ms)
        assert_all(self.finder, *self._region)

    @cached_property
    def checker(self) -> z3.Solver:
        """The complement of the target: a cube is inside iff checking it here is UNSAT."""
        checker = make_solver(self.encoder.ctx, self.encoder.semantics.timeout_ms)
        checker.set("core.minimize", True)  # small cores give wide cubes (see _needed)
        assert_all(checker, *preprocessed(self.encoder.ctx, self.encoder.well_formed(), negation(self.target)))
        return checker

    @cached_property
    def seeker(self) -> z3.Solver:
        """The target itself, for candidate values (cubes may overlap)."""
        seeker = make_solver(self.encoder.ctx, self.encoder.semantics.timeout_ms)
        assert_all(seeker, *self._region)
        return seeker

    @classmethod
    def disagreement(cls, encoder: Encoder, a: PolicySet, b: PolicySet, what: str) -> ClassSearch:
        """The flows `a` and `b` decide differently, for `exists` only."""
        return cls(encoder, encoder.disagree(a, b), what)

    @classmethod
    def difference(cls, encoder: Encoder, allowed_by: PolicySet, denied_by: PolicySet, what: str) -> ClassSearch:
        """The flows `allowed_by` allows and `denied_by` does not."""
        return cls(encoder, encoder.only_allowed_by(allowed_by, denied_by), what)

    def exists(self) -> bool:
        return check(self.finder, self.what) is Answer.SAT

    def classes(self) -> Iterator[Found]:
        """Yield cubes until the target is covered; raises Undecided on an unknown check."""
        while check(self.finder, self.what) is Answer.SAT:
            yield self._next()

    def _next(self) -> Found:
        """Widen the finder's model into a cube and block it (after a SAT check)."""
        point = point_of(Model.of(self.finder), self.encoder.dimensions, self.encoder.boolean_dimensions)
        cube = self.widen(point)
        assert_all(self.finder, negation(self.encoder.cube(cube)))
        return Found(point, cube)

    def cover(self, max_classes: int, progress: Step | None = None) -> tuple[list[Found], str]:
        """Up to `max_classes` simplified cubes, and why the cover is partial ("" if it is whole)."""
        found: list[Found] = []

        def report() -> None:
            if progress is not None:
                progress(f"listing {self.what}, classes found:", len(found), None)
        try:
            reason = stopped(self.what, max_classes) if self.list_into(found, max_classes, report) else ""
            return finish(self.encoder, [found], self.what), reason
        except Undecided as exc:
            return found, f"listing incomplete: {exc}"

    def list_into(self, found: list[Found], budget: int, on_found: Callable[[], None] | None = None) -> bool:
        """Append up to `budget` cubes of the target to `found`, in the order found; whether
        more exist. A flow outside the cubes is enough to know that: it is never widened.
        Raises Undecided with `found` holding what was found before. A larger budget finds
        the same first cubes."""
        for _ in range(budget):
            if check(self.finder, self.what) is not Answer.SAT:
                return False
            try:
                found.append(self._next())
            except Undecided as exc:
                raise UndecidedWidening(str(exc)) from exc
            if on_found is not None:
                on_found()
        return check(self.finder, self.what) is Answer.SAT

    def inside(self, cube: Cube) -> bool:
        self.checker.push()
        try:
            assert_all(self.checker, self.encoder.cube(cube))
            return check(self.checker, self.what) is Answer.UNSAT
        finally:
            self.checker.pop()

    def widen(self, point: dict[str, int | bool]) -> Cube:
        """The cube around `point`: its atoms, cut to the core, then widened dimension by
        dimension. Widening only ever adds values, so every cube on the way holds the
        point and the core's atoms (which `_inside` and `_vacuous` rely on)."""
        universe, semantics = self.encoder.universe, self.encoder.semantics
        dims = [*endpoint_dims("src", point, universe, semantics),
                *endpoint_dims("dst", point, universe, semantics), "proto", "port", "v6"]
        cube = Cube(())
        for dim in dims:
            cube = cube.replace(dim, self._atom(dim, point))
        cube, core = self._needed(cube)
        origin = _Origin(point, core)
        for side in ("src", "dst"):
            if f"{side}.ns" not in self.pinned:
                cube = self._widen_endpoint(cube, side, origin)
        for dim in dims:
            if cube.get(dim) is None or dim.endswith(".kind") or dim in self.pinned:
                continue
            if dim == "v6" and any(d.endswith((".ip4", ".ip6")) for d, _ in cube.dims):
                continue  # an address range belongs to one family: keep the family with it
            cube = self._widen_dim(cube, dim, origin)
        return cube

    def _needed(self, cube: Cube) -> tuple[Cube, frozenset[str]]:
        """The dimensions an unsatisfiable core of `cube ∧ ¬target` names, and the cube of
        those alone: every other one is dropped at once (the core alone keeps the cube
        inside), sparing a check per dimension. A kind or address family stays while any
        dimension it qualifies does, and both kinds stay while the family does.
        The core is minimal (core.minimize, z3's deletion-based MUS): without any one of
        its dimensions, some flow of the atoms of the rest leaves the target (`_inside`)."""
        literals: dict[int, tuple[z3.BoolRef, str]] = {}   # by the address of each literal's AST
        self.checker.push()
        try:
            for i, (dim, value) in enumerate(cube.dims):
                literal = z3.Bool(f"npdiff!dim!{i}", self.encoder.ctx)
                assert_all(self.checker, implication(literal, self.encoder.dimension(dim, value)))
                literals[literal.ast.value] = (literal, dim)
            if check(self.checker, self.what, [literal for literal, _ in literals.values()]) is not Answer.UNSAT:
                raise AssertionError(f"{self.what}: the cube around a model is not inside the difference")
            core = frozenset(literals[c][1] for c in core_of(self.checker))
        finally:
            self.checker.pop()
        needed = set(core)
        for side in ("src", "dst"):
            if any(d.startswith(side + ".") for d in needed):
                needed.add(f"{side}.kind")
        if any(d.endswith((".ip4", ".ip6")) for d in needed):
            needed.add("v6")
        if "v6" in needed:
            # A family without a kind would read as "anything" of either family (_any_end).
            needed.update(("src.kind", "dst.kind"))
        return Cube(tuple((d, v) for d, v in cube.dims if d in needed)), core

    def _inside(self, cube: Cube, origin: _Origin) -> bool:
        """`inside(cube)`, a wider cube than the widening started from; answered without a
        check when the minimal core shows it leaves the target: it says nothing that the
        core does not and leaves out part of it, so it holds the flow outside the target
        that the core's atoms without that part hold. (A core left unminimised, should z3
        fail to decide a check of its minimisation, would only keep the cube narrower.)"""
        dims = frozenset(d for d, _ in cube.dims)
        if dims <= origin.core and not origin.core <= dims:
            return False
        return self.inside(cube)

    def _atom(self, dim: str, point: dict[str, int | bool]):
        value = point[dim]
        if dim.endswith((".ip4", ".ip6")) or dim == "port":
            cuts, top = cuts_for(dim, self.encoder.universe)
            i = _atom_index(cuts, int(value))
            return (cuts[i], cuts[i + 1] - 1 if i + 1 < len(cuts) else top)
        return frozenset({value})

    def _widen_endpoint(self, cube: Cube, side: str, origin: _Origin) -> Cube:
        """First try: this end may be anything at all, over either address family (an end
        of any kind has no family to be shown with; see `_any_end`)."""
        wider = cube.replace("v6", None)
        for dim, _ in cube.dims:
            if dim.startswith(side + "."):
                wider = wider.replace(dim, None)
        return wider if self._inside(wider, origin) else cube

    def _widen_dim(self, cube: Cube, dim: str, origin: _Origin) -> Cube:
        if isinstance(cube.get(dim), tuple):
            unconstrained = cube.replace(dim, None)
            return unconstrained if self._inside(unconstrained, origin) else self._widen_interval(cube, dim)
        return self._widen_set(cube, dim, origin)

    def _widen_set(self, cube: Cube, dim: str, origin: _Origin) -> Cube:
        """The cube is a product, so a value may join iff the cube with that value alone is
        inside. Two enumerations run in turn and the first to finish decides: the seeker
        names candidates, values with some flow of the target (one check each), and the
        checker names values that are not inside (one check per bad value). Large domains
        with few good values (namespaces) thus cost little, and a dimension that keeps
        its one value, or takes every value, costs two checks.

        When the seeker finishes first, the candidates are proved inside together (each
        bad one found on the way is dropped), and the values neither named, which have no
        flow of the target, join only if they have no flow at all (`_vacuous`)."""
        var = self.encoder.dimensions[dim]
        boolean = dim in self.encoder.boolean_dimensions
        values = domain(dim, self.encoder.universe)
        if len(values) == 2:  # a named port served or not: the other value joins iff inside
            wider = cube.replace(dim, None)
            return wider if self._inside(wider, origin) else cube
        others = self.encoder.cube(cube.replace(dim, None))
        good: set = set(cube.get(dim) or ())
        bad: set = set()
        candidates: set = set()
        self.checker.push()
        self.seeker.push()
        try:
            assert_all(self.checker, others)
            assert_all(self.seeker, others)
            for value in good:
                assert_all(self.seeker, negation(equals(var, value)))
            while check(self.seeker, self.what) is Answer.SAT:
                value = Model.of(self.seeker).value(var, boolean)
                candidates.add(value)
                assert_all(self.seeker, negation(equals(var, value)))
                if check(self.checker, self.what) is not Answer.SAT:
                    return _with_values(cube, dim, [v for v in values if v not in bad], values)
                value = Model.of(self.checker).value(var, boolean)
                bad.add(value)
                candidates.discard(value)
                assert_all(self.checker, negation(equals(var, value)))
                assert_all(self.seeker, negation(equals(var, value)))
            rest = [v for v in values if v not in bad and v not in good and v not in candidates]
            while candidates:
                self.checker.push()
                assert_all(self.checker, one_of(var, candidates))
                found = check(self.checker, self.what) is Answer.SAT
                value = Model.of(self.checker).value(var, boolean) if found else None
                self.checker.pop()
                if value is None:
                    good |= candidates
                    break
                candidates.discard(value)
                assert_all(self.checker, negation(equals(var, value)))
            if rest and self._vacuous(dim, rest, origin):
                good.update(rest)
        finally:
            self.checker.pop()
            self.seeker.pop()
        return _with_values(cube, dim, [v for v in values if v in good], values)

    def _vacuous(self, dim: str, rest: list, origin: _Origin) -> bool:
        """Whether `rest`, values of `dim` that hold no flow of the target (the checker
        holding the cube's other dimensions), hold no flow at all. They hold one where the
        widening's flow can move to them: it lies in every cube widened from it."""
        if self.encoder.free_at(dim, origin.point):
            return False
        assert_all(self.checker, one_of(self.encoder.dimensions[dim], rest))
        return check(self.checker, self.what) is Answer.UNSAT

    def _widen_interval(self, cube: Cube, dim: str) -> Cube:
        """Binary search over atom boundaries: inclusion is monotone in each bound. Most
        intervals cannot grow at all, so the next atom on each side is tried first."""
        cuts, top = cuts_for(dim, self.encoder.universe)
        lo, hi = cube.get(dim)
        starts = list(cuts)
        ends = [c - 1 for c in cuts[1:]] + [top]
        first, last = starts.index(lo), ends.index(hi)

        low, high = 0, first  # smallest start index that keeps the cube inside
        if first > 0 and not self.inside(cube.replace(dim, (starts[first - 1], hi))):
            low = first
        while low < high:
            mid = (low + high) // 2
            if self.inside(cube.replace(dim, (starts[mid], hi))):
                high = mid
            else:
                low = mid + 1
        lo = starts[low]
        low, high = last, len(ends) - 1  # largest end index that keeps the cube inside
        if last < high and not self.inside(cube.replace(dim, (lo, ends[last + 1]))):
            high = last
        while low < high:
            mid = (low + high + 1) // 2
            if self.inside(cube.replace(dim, (lo, ends[mid]))):
                low = mid
            else:
                high = mid - 1
        return cube.replace(dim, (lo, ends[low]))


def stopped(what: str, max_classes: int) -> str:
    """Why a listing that reached its budget is partial."""
    return (f"{what}: listing stopped at --max-classes {max_classes}; more classes exist"
            if max_classes else f"{what}: not listed (--max-classes 0)")


def finish(encoder: Encoder, lists: list[list[Found]], what: str) -> list[Found]:
    """The cubes of several searches' listings (in order), simplified together: rejoined
    across zones when more than one search contributed, merged, and made irredundant."""
    found = [f for listed in lists for f in listed]
    if sum(1 for listed in lists if listed) > 1:
        found = rejoin(encoder, merge(found, encoder.universe), what)
    return irredundant(encoder, merge(found, encoder.universe), what)


def rejoin(encoder: Encoder, found: list[Found], what: str) -> list[Found]:
    """Widen each cube's namespace and kind as far as the union of all the cubes allows.
    Cubes found zone by zone (analyse/locality.py, pairs) stop at their zone; a cube whose
    continuation beyond it is covered by its neighbours may extend over them, and
    `irredundant` then drops what it made redundant. The union is unchanged."""
    solver = make_solver(encoder.ctx, encoder.semantics.timeout_ms)
    assert_all(solver, encoder.well_formed(), negation(z3.Or([encoder.cube(f.cube) for f in found])))
    held = {side: _namespaces_held(found, side) for side in ("src", "dst")}
    widened = []
    for item in found:
        cube = item.cube
        for dim in ("src.ns", "src.kind", "dst.ns", "dst.kind"):
            if cube.get(dim) is None or (dim.endswith(".kind") and not _any_end(cube, dim)):
                continue
            if dim.endswith(".ns") and _beyond(encoder, item.point, dim, held[dim[:3]]):
                continue   # the check would find that flow outside every cube
            wider = cube.replace(dim, None)
            solver.push()
            assert_all(solver, encoder.cube(wider))
            if check(solver, what) is Answer.UNSAT:
                cube = wider
            solver.pop()
        widened.append(Found(item.point, cube))
    return widened


def _namespaces_held(found: list[Found], side: str) -> frozenset[int] | None:
    """The namespaces of the pods at end `side` that some cube holds; None for all of them."""
    held: set[int] = set()
    for item in found:
        kinds, namespaces = item.cube.get(f"{side}.kind"), item.cube.get(f"{side}.ns")
        if kinds is not None and POD not in kinds:
            continue
        if namespaces is None:
            return None
        held.update(namespaces)
    return frozenset(held)


def _beyond(encoder: Encoder, point: dict[str, int | bool], dim: str, held: frozenset[int] | None) -> bool:
    """Whether the point moved to a namespace (at end `dim`) that no cube holds is still a
    well-formed flow: then the cube without `dim` is not covered, and no check is needed.
    The point is a pod there (its cube names the namespace); moved, it keeps its labels,
    and only a move onto the other end's named namespace could break a fact (S1.1.2: the
    two ends then share the namespace's labels). Pods of an inventory cannot be moved."""
    if held is None or encoder.inventory_pods is not None:
        return False
    other = encoder.universe.other_namespace
    facing = point["dst.ns" if dim == "src.ns" else "src.ns"]
    return any(v not in held and (v == other or v != facing) for v in domain(dim, encoder.universe))


def irredundant(encoder: Encoder, found: list[Found], what: str) -> list[Found]:
    """Drop cubes that the others already cover; the union, and so exactness, is unchanged.

    Later cubes tend to be slivers left between earlier ones, so they are tried first.
    Each cube is asserted once, behind a literal of its own: a question names the cube it
    tries and the cubes still kept as assumptions.
    """
    if len(found) < 2:
        return list(found)
    solver = make_solver(encoder.ctx, encoder.semantics.timeout_ms)
    assert_all(solver, encoder.well_formed())
    inside, outside = [], []   # by cube: a literal implying the flow is in it, and one that it is not
    for i, item in enumerate(found):
        inside.append(z3.Bool(f"npdiff!in!{i}", encoder.ctx))
        outside.append(z3.Bool(f"npdiff!out!{i}", encoder.ctx))
        term = encoder.cube(item.cube)
        assert_all(solver, implication(inside[i], term), implication(outside[i], negation(term)))
    kept = list(range(len(found)))
    for i in reversed(range(len(found))):
        others = [outside[j] for j in kept if j != i]
        if others and check(solver, what, [inside[i], *others]) is Answer.UNSAT:
            kept.remove(i)
    return [found[i] for i in kept]


def _any_end(cube: Cube, kind_dim: str) -> bool:
    """Whether dropping `kind_dim` leaves an end that is simply anything: a region is of
    pods or of addresses, and "any" only when nothing else is said of that end, nor of the
    flow's address family (which an end of any kind would not show)."""
    side = kind_dim.split(".")[0] + "."
    return cube.get("v6") is None and not any(d.startswith(side) and d != kind_dim for d, _ in cube.dims)


def _with_values(cube: Cube, dim: str, chosen: list, values: tuple) -> Cube:
    return cube.replace(dim, None if len(chosen) == len(values) else frozenset(chosen))


def _atom_index(cuts: tuple[int, ...], value: int) -> int:
    low, high = 0, len(cuts) - 1
    while low < high:
        mid = (low + high + 1) // 2
        if cuts[mid] <= value:
            low = mid
        else:
            high = mid - 1
    return low


def merge(found: list[Found], universe) -> list[Found]:
    """Join two cubes that agree on every dimension but one, where their union is a cube:
    any two value sets, or two intervals that touch or overlap. The first two cubes that
    join (in order) are joined, and the cubes are looked over again."""
    items = list(found)
    # Looking over again asks mostly about the same two cubes: each answer is kept (by
    # identity; `made` keeps every cube alive, so no identity is reused).
    joins: dict[tuple[int, int], Cube | None] = {}
    made = [item.cube for item in items]
    merged = True
    while merged:
        merged = False
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                a, b = items[i].cube, items[j].cube
                key = (id(a), id(b))
                if key not in joins:
                    joins[key] = _join(a, b, universe)
                joined = joins[key]
                if joined is not None:
                    items[i] = Found(items[i].point, joined)
                    made.append(joined)
                    del items[j]
                    merged = True
                    break
            if merged:
                break
    return items


def _join(a: Cube, b: Cube, universe) -> Cube | None:
    if len(a.dims) != len(b.dims):
        return None
    da, db = dict(a.dims), dict(b.dims)
    if da.keys() != db.keys():
        return None
    differing = [d for d in da if da[d] != db[d]]
    if len(differing) != 1:
        return None
    dim = differing[0]
    x, y = da[dim], db[dim]
    if dim.endswith(".kind") and not _any_end(a, dim):
        return None
    if isinstance(x, tuple):
        if max(x[0], y[0]) > min(x[1], y[1]) + 1:
            return None
        cuts, top = cuts_for(dim, universe)
        lo, hi = min(x[0], y[0]), max(x[1], y[1])
        return a.replace(dim, None if (lo, hi) == (cuts[0], top) else (lo, hi))
    values = x | y
    return a.replace(dim, None if values >= set(domain(dim, universe)) else values)
