"""Typed reads of fields with their paths and lines; wrong types and unknown fields are errors.

Every read takes the field path (`spec.ingress[0].ports[1].port`) and the line to blame,
reports a type mismatch with the given code (E-NP-16 for policies) and returns None, so a
validator can carry on and find the next problem. Null is read as absent throughout,
as the API server's decoder does for every field npdiff reads (semantics.md S3.1.4).
"""

from __future__ import annotations

from typing import Any, Collection

from npdiff.load.codes import Sink
from npdiff.load.lined import LinedList, LinedMap


def child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def item(path: str, index: int) -> str:
    return f"{path}[{index}]"


def entry(path: str, key: str) -> str:
    """The path of a map entry whose key is data (a label key), as Kubernetes writes it."""
    return f"{path}[{key}]"


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Fields:
    def __init__(self, sink: Sink, code: str) -> None:
        self.sink = sink
        self.code = code

    def wrong(self, line: int, path: str, message: str) -> None:
        self.sink.error(line, self.code, path, message)

    def mapping(self, value: Any, path: str, line: int,
                allowed: Collection[str] | None = None) -> LinedMap | None:
        """A mapping with string keys; with `allowed`, any other key is an unknown field."""
        if value is None:
            return None
        if not isinstance(value, LinedMap):
            self.wrong(line, path, f"must be a mapping, not {describe(value)}")
            return None
        for key in value:
            if not isinstance(key, str):
                self.wrong(value.key_line(key), path, f"keys must be strings, not {describe(key)}")
            elif allowed is not None and key not in allowed:
                self.wrong(value.key_line(key), child(path, key), f"unknown field {key!r}")
        return value

    def sequence(self, value: Any, path: str, line: int) -> LinedList | None:
        if value is None:
            return None
        if not isinstance(value, LinedList):
            self.wrong(line, path, f"must be a list, not {describe(value)}")
            return None
        return value

    def string(self, value: Any, path: str, line: int) -> str | None:
        if value is None or isinstance(value, str):
            return value
        self.wrong(line, path, f"must be a string, not {describe(value)}")
        return None

    def integer(self, value: Any, path: str, line: int) -> int | None:
        if value is None or is_int(value):
            return value
        self.wrong(line, path, f"must be an integer, not {describe(value)}")
        return None

    def boolean(self, value: Any, path: str, line: int) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        self.wrong(line, path, f"must be true or false, not {describe(value)}")
        return None

    def string_map(self, value: Any, path: str, line: int) -> list[tuple[str, str, int]]:
        """Entries (key, value, line) of a map of strings; a null value reads as ''."""
        mapping = self.mapping(value, path, line)
        if mapping is None:
            return []
        entries = []
        for key, val in mapping.items():
            if not isinstance(key, str):
                continue
            key_line = mapping.key_line(key)
            if val is None:
                val = ""
            if not isinstance(val, str):
                self.wrong(key_line, entry(path, key), f"must be a string, not {describe(val)}")
                continue
            entries.append((key, val, key_line))
        return entries

    def strings(self, value: Any, path: str, line: int) -> list[tuple[str, int, int]]:
        """Items (text, index, line) of a list of strings."""
        sequence = self.sequence(value, path, line)
        if sequence is None:
            return []
        items = []
        for index, val in enumerate(sequence):
            item_line = sequence.item_line(index)
            if not isinstance(val, str):
                self.wrong(item_line, item(path, index), f"must be a string, not {describe(val)}")
                continue
            items.append((val, index, item_line))
        return items
