"""`npdiff OLD NEW`: prove two policy sets equivalent, or list what the change opens and closes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from npdiff.analyse.changes import object_changes
from npdiff.analyse.flow_classes import flow_class, listed_result
from npdiff.analyse.locality import changed_scopes, reduce
from npdiff.analyse.pairwise import pairwise
from npdiff.encode import Encoder, Undecided
from npdiff.encode.search import ClassSearch
from npdiff.model import Pod, PolicySet, Semantics
from npdiff.model.result import DiffResult, ObjectChange, Verdict

if TYPE_CHECKING:
    from npdiff.progress import Step

DEFAULT_MAX_CLASSES = 100


def diff(old: PolicySet, new: PolicySet, semantics: Semantics,
         max_classes: int = DEFAULT_MAX_CLASSES, local: bool = True,
         progress: Step | None = None, inventory_pods: tuple[Pod, ...] | None = None,
         jobs: int = 1) -> DiffResult:
    """With `inventory_pods` (--inventory-only), pod ends range over those pods only.
    `jobs` worker processes share the pairs of the changed region (analyse/pairwise.py);
    the answer is the same for any number.
    `local=False` skips the locality reduction (analyse/locality.py): the plain path that
    tests compare the reduced one against."""
    structural: list[tuple[ObjectChange, ...]] = []

    def changes() -> None:
        # The structural side needs nothing the semantic side finds: it is made while
        # workers list classes, if any do.
        if not structural:
            structural.append(object_changes(old, new))

    result = _semantic(old, new, semantics, max_classes, local, progress, inventory_pods, jobs, changes)
    changes()
    return replace(result, changes=structural[0])


def _semantic(old: PolicySet, new: PolicySet, semantics: Semantics, max_classes: int, local: bool,
              progress: Step | None, inventory_pods: tuple[Pod, ...] | None, jobs: int,
              meanwhile: Callable[[], None]) -> DiffResult:
    common = dict(semantics=semantics, old_count=len(old.policies), new_count=len(new.policies))
    if old.policies == new.policies:
        return DiffResult(Verdict.EQUIVALENT, **common)
    # The inventory's pods are told apart by every value the policies mention, so under
    # --inventory-only the vocabulary is the whole sets', not only what the reduction keeps.
    vocabulary = [old, new]
    change = changed_scopes(old, new) if local else None
    if change is not None:
        if change.empty:
            return DiffResult(Verdict.EQUIVALENT, **common)
        done: dict = {}   # policies both sides hold are reduced once
        old, new = reduce(old, change, semantics, done), reduce(new, change, semantics, done)
    encoder = Encoder.for_sets(vocabulary if inventory_pods is not None else [old, new], semantics, inventory_pods)
    if change is not None:
        return pairwise(encoder, old, new, change, max_classes, progress, common, jobs, meanwhile)
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
    reasons, found = [], []
    for search, any_found in ((opened, any_opened), (closed, any_closed)):
        classes, reason = search.cover(max_classes, progress) if any_found else ([], "")
        found.append(classes)
        if reason:
            reasons.append(reason)
    allowed, blocked = ([flow_class(item, encoder, lambda _: (old, new)) for item in items] for items in found)
    return listed_result(allowed, blocked, reasons, common)


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
