"""Walking documents as read (dicts and lists), for tests that pick or change one node."""

from __future__ import annotations

from typing import Any


def places(value: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every node of a document, the root's `()` first."""
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += places(inner, path + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += places(inner, path + (index,))
    return found
