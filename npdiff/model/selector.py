"""Label selectors as requirements (semantics.md §2)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from npdiff.model.pickling import by_constructor


class Operator(str, Enum):
    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


@by_constructor
@dataclass(frozen=True, order=True, slots=True)
class Requirement:
    """One requirement; `matchLabels: {k: v}` becomes `Requirement(k, IN, (v,))` (S2.2)."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()


@by_constructor
@dataclass(frozen=True, order=True, slots=True)
class LabelSelector:
    """All requirements must hold (S2.1). No requirements: matches everything (S2.5)."""

    requirements: tuple[Requirement, ...] = ()

    @property
    def matches_all(self) -> bool:
        return not self.requirements

    def keys(self) -> set[str]:
        return {r.key for r in self.requirements}
