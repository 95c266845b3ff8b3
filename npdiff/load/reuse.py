"""Parts of policies already read, found again by their content.

A repository repeats itself: the same selectors, peers and ports recur across thousands
of policies. A part that was read without a single diagnostic is kept under its content,
and the next part written the same way (the type of every scalar included, so `80`, `"80"`
and `80.0` differ) takes the same value without being validated again. Reading is a
function of the content alone; only the span and the field path differ, and those appear
only in diagnostics, of which such a part has none. A part with diagnostics is read every
time, so each finding keeps its own line and path.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Hashable, TypeVar

from npdiff.load.codes import Sink

T = TypeVar("T")


def content_key(value: Any) -> Hashable:
    """A hashable stand-in for a YAML value, equal only for values of equal content and types.

    A container becomes its type followed by its keys and values (or items), one element
    each, which is unambiguous; strings, the most common scalars, stand for themselves.
    """
    if isinstance(value, dict):
        parts: list[Any] = [type(value)]
        for k, v in value.items():
            parts.append(k if type(k) is str else (type(k), k))
            parts.append(v if type(v) is str else content_key(v))
        return tuple(parts)
    if isinstance(value, list):
        parts = [type(value)]
        for v in value:
            parts.append(v if type(v) is str else content_key(v))
        return tuple(parts)
    return value if type(value) is str else (type(value), value)


class Reuse:
    """Values of parts read without diagnostics, by kind of part and content."""

    def __init__(self) -> None:
        self._found: defaultdict[str, dict[Hashable, Any]] = defaultdict(dict)

    def read(self, kind: str, value: Any, sink: Sink, read: Callable[[], T | None]) -> T | None:
        """The value of `value` as a part of `kind`: kept, or `read()` (which reports to `sink`)."""
        found = self._found[kind]
        key = content_key(value)
        try:
            if key in found:
                return found[key]
        except TypeError:  # a scalar type that cannot be hashed: read it every time
            return read()
        reported = len(sink.out)
        result = read()
        if result is not None and len(sink.out) == reported:
            found[key] = result
        return result
