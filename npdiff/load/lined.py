"""Plain YAML values that remember where they were written.

`LinedMap` and `LinedList` are ordinary dicts and lists that also carry the 1-based line
of the node itself and of every key or item, so validators can point at any field.
They compare equal to the builtin values they hold, so bodies are kept as read.
"""

from __future__ import annotations

from typing import Any


class LinedMap(dict):
    """A mapping node: `line` of the node, `key_lines[key]` of each key."""

    __slots__ = ("line", "key_lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}

    def key_line(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LinedList(list):
    """A sequence node: `line` of the node, `item_lines[i]` of each item."""

    __slots__ = ("line", "item_lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []

    def item_line(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


def line_of(value: Any, default: int) -> int:
    """The line of a node, or `default` for a scalar (scalars do not carry one)."""
    return value.line if isinstance(value, (LinedMap, LinedList)) else default
