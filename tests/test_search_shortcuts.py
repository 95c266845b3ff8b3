"""The class search's answers taken without a check (encode/search.py) are the checks' own.

Widening skips two kinds of check: a wider cube that the minimal core of its flow already
shows to leave the target (`ClassSearch._inside`), and the vacuity check of values that
the flow at hand can move to (`ClassSearch._vacuous`, `Encoder.free_at`). Here each
skipped answer is compared with the solver's, on the samples and on generated sets, and
the dimensions said to be free with the well-formedness facts themselves.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import z3
from hypothesis import given, settings

from examples.runner import write_policies
from npdiff.encode import Encoder
from npdiff.encode.cube import Cube, domain, one_of, point_of
from npdiff.encode.models import Model
from npdiff.encode.search import ClassSearch, _Origin
from npdiff.encode.solver import Answer, assert_all, check
from npdiff.encode.variables import POD
from npdiff.load import load_policy_set
from npdiff.model import Pod, PolicySet, Semantics
from test_property import SETTINGS, related_sets

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(p for p in (ROOT / "samples").iterdir() if (p / "old").is_dir())


class CheckedSearch(ClassSearch):
    """A search that asks the solver too wherever it answered without a check; each such
    answer is noted in `answered`."""

    def __init__(self, encoder: Encoder, target: z3.BoolRef, answered: list[str]):
        super().__init__(encoder, target, "test")
        self.answered = answered
        self.asked = False

    def _inside(self, cube: Cube, origin: _Origin) -> bool:
        self.asked = False
        answer = super()._inside(cube, origin)
        if not self.asked:   # the core answered
            assert not answer and not self.inside(cube), f"the core called {cube} outside, the solver inside"
            self.answered.append("core")
        return answer

    def inside(self, cube: Cube) -> bool:
        self.asked = True
        return super().inside(cube)

    def _vacuous(self, dim: str, rest: list, origin: _Origin) -> bool:
        answer = super()._vacuous(dim, rest, origin)
        if self.encoder.free_at(dim, origin.point):   # answered without a check
            self.checker.push()
            assert_all(self.checker, one_of(self.encoder.dimensions[dim], rest))
            held = check(self.checker, "test") is Answer.SAT
            self.checker.pop()
            assert not answer and held, f"{dim}: {rest} called not vacuous, the solver finds no flow there"
            self.answered.append("vacuity")
        return answer


def _shortcuts(old: PolicySet, new: PolicySet, semantics: Semantics = Semantics()) -> Counter[str]:
    """Every class of both directions found with the answers taken without a check
    checked; how many of each kind there were."""
    encoder = Encoder.for_sets([old, new], semantics)
    answered: list[str] = []
    for allowed_by, denied_by in ((new, old), (old, new)):
        search = CheckedSearch(encoder, encoder.only_allowed_by(allowed_by, denied_by), answered)
        assert len(list(search.classes())) < 200
    return Counter(answered)


def test_answers_without_a_check_are_the_solvers_on_the_samples() -> None:
    semantics = Semantics()
    taken = sum((_shortcuts(*(load_policy_set([str(sample / side)], semantics).policy_set
                              for side in ("old", "new")), semantics) for sample in SAMPLES), Counter())
    assert taken["core"] > 10 and taken["vacuity"] > 10   # both are taken at all


@settings(max_examples=15, **SETTINGS)
@given(pair=related_sets())
def test_answers_without_a_check_are_the_solvers_on_generated_sets(pair) -> None:
    with tempfile.TemporaryDirectory() as directory:
        sets = [load_policy_set([str(write_policies(Path(directory) / f"{name}.yaml", policies))],
                                Semantics()).policy_set
                for name, policies in zip(("old", "new"), pair)]
    _shortcuts(*sets)


def _free_dimensions_hold(encoder: Encoder) -> int:
    """For well-formed flows, each dimension said to be free at the flow takes every value
    of its domain with every other variable as it is; how many such dimensions were tried.
    The flows: any one, and one between two pods of one named namespace (S1.1.2)."""
    v = encoder.vars
    tried = 0
    for facts in ([], [v.src.is_pod, v.dst.is_pod, v.src.ns == v.dst.ns, v.src.ns != encoder.universe.other_namespace]):
        solver = z3.Solver(ctx=encoder.ctx)
        solver.add(encoder.well_formed(), *facts)
        assert solver.check() == z3.sat
        point = point_of(Model.of(solver), encoder.dimensions, encoder.boolean_dimensions)
        model = solver.model()
        for dim, var in encoder.dimensions.items():
            if not encoder.free_at(dim, point):
                continue
            tried += 1
            fixed = [other == model.eval(other, model_completion=True)
                     for name, other in encoder.dimensions.items() if name != dim]
            for value in domain(dim, encoder.universe):
                assert solver.check(*fixed, var == value) == z3.sat, (dim, value)
    return tried


def test_free_dimensions_take_every_value() -> None:
    tried = 0
    for sample in SAMPLES:
        for side in ("old", "new"):
            for semantics in (Semantics(), Semantics(ipblock_matches_pods=True, pod_cidrs=("10.0.0.0/8",))):
                policy_set = load_policy_set([str(sample / side)], semantics).policy_set
                tried += _free_dimensions_hold(Encoder.for_sets([policy_set], semantics))
    assert tried > 8 * len(SAMPLES)   # pod labels too, not the protocol alone


def test_pods_of_one_namespace_and_inventory_pods_do_not_move_freely() -> None:
    """Two pods of one named namespace share its labels, and an inventory's pods have
    their own labels: there, no such dimension may take any value whatever the others say."""
    policy_set = load_policy_set([str(ROOT / "samples" / "textbook-namespace-admit" / "new")],
                                 Semantics()).policy_set
    encoder = Encoder.for_sets([policy_set], Semantics())
    assert encoder.universe.ns_keys and encoder.universe.pod_keys
    point = {"src.kind": POD, "dst.kind": POD, "src.ns": 0, "dst.ns": 0}
    assert not any(encoder.free_at(dim, point) for dim in encoder.dimensions if ".nslabel[" in dim)
    assert all(encoder.free_at(dim, {**point, "dst.ns": 1}) for dim in encoder.dimensions if ".nslabel[" in dim)
    inventory = Encoder(encoder.universe, Semantics(), (Pod(namespace=policy_set.policies[0].namespace),))
    assert not any(inventory.free_at(dim, point) for dim in inventory.dimensions)
