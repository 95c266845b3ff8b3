"""Pickling frozen values by their constructor.

Pickle rebuilds a slotted dataclass by setting each slot in turn; calling the class with
its fields in order is two and a half times as fast to read back, which is what counts
when a worker process sends thousands of policies to its parent (load/parallel.py).
"""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter as _attrgetter
from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def by_constructor(cls: T) -> T:
    """Pickle instances of the dataclass `cls` as `cls(*fields)`; every field must be an
    init field (checked here)."""
    names = [f.name for f in fields(cls)]
    if any(not f.init for f in fields(cls)):
        raise TypeError(f"{cls.__name__} has fields its constructor does not take")
    get = _attrgetter(*names)
    if len(names) == 1:
        def reduce(self: Any) -> tuple:
            return cls, (get(self),)
    else:
        def reduce(self: Any) -> tuple:
            return cls, get(self)
    cls.__reduce__ = reduce  # type: ignore[method-assign, assignment]
    return cls
