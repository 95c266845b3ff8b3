"""Enumerating a difference as maximal cubes (design.md §6, "Flow classes").

One solver finds a flow of the target region outside every cube found so far; a second
solver, holding the complement of the target, proves each widening step by UNSAT. Each
cube is blocked as a whole, so the cubes together cover the target exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import z3

from npdiff.encode.cube import (
    Cube, cube_term, cuts_for, dimension_vars, domain, endpoint_dims, point_of,
)
from npdiff.encode.encoder import Encoder
from npdiff.encode.solver import Answer, Undecided, check, make_solver
from npdiff.model import PolicySet

if TYPE_CHECKING:
    from npdiff.progress import Step


@dataclass(frozen=True)
class Found:
    point: dict[str, int | bool]
    cube: Cube


class ClassSearch:
    def __init__(self, encoder: Encoder, target: z3.BoolRef, what: str):
        """Cover `target`, a region of well-formed flows; `what` names it in messages."""
        self.encoder = encoder
        self.what = what
        timeout = encoder.semantics.timeout_ms
        wf = encoder.well_formed()
        self.finder = make_solver(encoder.ctx, timeout)
        self.finder.add(wf, target)
        self.checker = make_solver(encoder.ctx, timeout)
        self.checker.add(wf, z3.Not(target))

    @classmethod
    def difference(cls, encoder: Encoder, allowed_by: PolicySet, denied_by: PolicySet, what: str) -> ClassSearch:
        """The flows `allowed_by` allows and `denied_by` does not."""
        return cls(encoder, z3.And(encoder.allowed(allowed_by), z3.Not(encoder.allowed(denied_by))), what)

    def exists(self) -> bool:
        return check(self.finder, self.what) is Answer.SAT

    def classes(self) -> Iterator[Found]:
        """Yield cubes until the target is covered; raises Undecided on an unknown check."""
        while check(self.finder, self.what) is Answer.SAT:
            point = point_of(self.finder.model(), self.encoder.vars)
            cube = self.widen(point)
            self.finder.add(z3.Not(cube_term(cube, self.encoder.vars)))
            yield Found(point, cube)

    def cover(self, max_classes: int, progress: Step | None = None) -> tuple[list[Found], str]:
        """Up to `max_classes` simplified cubes, and why the cover is partial ("" if it is whole)."""
        found: list[Found] = []
        reason = ""
        try:
            for item in self.classes():
                if progress is not None:
                    progress(f"listing {self.what}, classes found:", len(found) + 1, None)
                if len(found) == max_classes:
                    reason = f"{self.what}: listing stopped at --max-classes {max_classes}; more classes exist"
                    break
                found.append(item)
            found = self.simplify(found)
        except Undecided as exc:
            reason = f"listing incomplete: {exc}"
        return found, reason

    def simplify(self, found: list[Found]) -> list[Found]:
        """Merge cubes that differ in one dimension, then drop the ones the rest cover."""
        return self.irredundant(merge(found, self.encoder.universe))

    def irredundant(self, found: list[Found]) -> list[Found]:
        """Drop cubes that the others already cover; the union, and so exactness, is unchanged.

        Later cubes tend to be slivers left between earlier ones, so they are tried first.
        """
        solver = make_solver(self.encoder.ctx, self.encoder.semantics.timeout_ms)
        solver.add(self.encoder.well_formed())
        terms = [cube_term(f.cube, self.encoder.vars) for f in found]
        kept = list(range(len(found)))
        for i in reversed(range(len(found))):
            others = [terms[j] for j in kept if j != i]
            if not others:
                continue
            solver.push()
            solver.add(terms[i], z3.Not(z3.Or(others)))
            covered = check(solver, self.what) is Answer.UNSAT
            solver.pop()
            if covered:
                kept.remove(i)
        return [found[i] for i in kept]

    def inside(self, cube: Cube) -> bool:
        self.checker.push()
        try:
            self.checker.add(cube_term(cube, self.encoder.vars))
            return check(self.checker, self.what) is Answer.UNSAT
        finally:
            self.checker.pop()

    def widen(self, point: dict[str, int | bool]) -> Cube:
        universe, semantics = self.encoder.universe, self.encoder.semantics
        dims = [*endpoint_dims("src", point, universe, semantics),
                *endpoint_dims("dst", point, universe, semantics), "proto", "port", "v6"]
        cube = Cube(())
        for dim in dims:
            cube = cube.replace(dim, self._atom(dim, point))
        if not self.inside(cube):
            raise AssertionError(f"{self.what}: the cube around a model is not inside the difference")
        for side in ("src", "dst"):
            cube = self._widen_endpoint(cube, side)
        for dim in dims:
            if cube.get(dim) is None or dim.endswith(".kind"):
                continue
            if dim == "v6" and any(d.endswith((".ip4", ".ip6")) for d, _ in cube.dims):
                continue  # an address range belongs to one family: keep the family with it
            cube = self._widen_dim(cube, dim)
        return cube

    def _atom(self, dim: str, point: dict[str, int | bool]):
        value = point[dim]
        if dim.endswith((".ip4", ".ip6")) or dim == "port":
            cuts, top = cuts_for(dim, self.encoder.universe)
            i = _atom_index(cuts, int(value))
            return (cuts[i], cuts[i + 1] - 1 if i + 1 < len(cuts) else top)
        return frozenset({value})

    def _widen_endpoint(self, cube: Cube, side: str) -> Cube:
        """First try: this end may be anything at all."""
        wider = cube
        for dim, _ in cube.dims:
            if dim.startswith(side + "."):
                wider = wider.replace(dim, None)
        return wider if self.inside(wider) else cube

    def _widen_dim(self, cube: Cube, dim: str) -> Cube:
        if isinstance(cube.get(dim), tuple):
            unconstrained = cube.replace(dim, None)
            return unconstrained if self.inside(unconstrained) else self._widen_interval(cube, dim)
        return self._widen_set(cube, dim)

    def _widen_set(self, cube: Cube, dim: str) -> Cube:
        """The cube is a product, so a value may join iff the cube with that value alone is
        inside; ask the solver for values that are not (one check per bad value), rather
        than trying every value of the domain."""
        var = dimension_vars(self.encoder.vars)[dim]
        others = cube_term(cube.replace(dim, None), self.encoder.vars)
        bad: set = set()
        self.checker.push()
        try:
            self.checker.add(others)
            while check(self.checker, self.what) is Answer.SAT:
                value = self.checker.model().eval(var, model_completion=True)
                value = z3.is_true(value) if z3.is_bool(value) else value.as_long()
                bad.add(value)
                self.checker.add(var != value)
        finally:
            self.checker.pop()
        if not bad:
            return cube.replace(dim, None)
        return cube.replace(dim, frozenset(v for v in domain(dim, self.encoder.universe) if v not in bad))

    def _widen_interval(self, cube: Cube, dim: str) -> Cube:
        """Binary search over atom boundaries: inclusion is monotone in each bound."""
        cuts, top = cuts_for(dim, self.encoder.universe)
        lo, hi = cube.get(dim)
        starts = list(cuts)
        ends = [c - 1 for c in cuts[1:]] + [top]
        first, last = starts.index(lo), ends.index(hi)

        low, high = 0, first  # smallest start index that keeps the cube inside
        while low < high:
            mid = (low + high) // 2
            if self.inside(cube.replace(dim, (starts[mid], hi))):
                high = mid
            else:
                low = mid + 1
        lo = starts[low]
        low, high = last, len(ends) - 1  # largest end index that keeps the cube inside
        while low < high:
            mid = (low + high + 1) // 2
            if self.inside(cube.replace(dim, (lo, ends[mid]))):
                low = mid
            else:
                high = mid - 1
        return cube.replace(dim, (lo, ends[low]))


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
    any two value sets, or two intervals that touch or overlap."""
    items = list(found)
    merged = True
    while merged:
        merged = False
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                joined = _join(items[i].cube, items[j].cube, universe)
                if joined is not None:
                    items[i] = Found(items[i].point, joined)
                    del items[j]
                    merged = True
                    break
            if merged:
                break
    return items


def _join(a: Cube, b: Cube, universe) -> Cube | None:
    da, db = dict(a.dims), dict(b.dims)
    if da.keys() != db.keys():
        return None
    differing = [d for d in da if da[d] != db[d]]
    if len(differing) != 1:
        return None
    dim = differing[0]
    if dim.endswith(".kind"):
        return None  # a region is of pods or of addresses; "any" only when nothing else is said
    x, y = da[dim], db[dim]
    if isinstance(x, tuple):
        if max(x[0], y[0]) > min(x[1], y[1]) + 1:
            return None
        cuts, top = cuts_for(dim, universe)
        lo, hi = min(x[0], y[0]), max(x[1], y[1])
        return a.replace(dim, None if (lo, hi) == (cuts[0], top) else (lo, hi))
    values = x | y
    return a.replace(dim, None if values >= set(domain(dim, universe)) else values)
