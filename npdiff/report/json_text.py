"""JSON text exactly as `json.dumps(value, indent=2, ensure_ascii=False)` writes it, in a
fraction of the time.

With `indent`, the standard library encodes in Python, value by value: 0.1 s for the
4 MB report of a large diff, most of it its 10,000 warnings. Here every container whose
values are all plain scalars (a warning, a list of label values) is encoded in one call
of the C encoder, whose item separator carries the newline and the indentation of its
depth; only containers that hold containers are walked in Python.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from json.encoder import c_make_encoder, encode_basestring    # type: ignore[attr-defined]

INDENT = "  "
_SCALARS = frozenset({str, int, float, bool, type(None)})
_STRINGS = frozenset({str})


def dumps(value: object) -> str:
    """`json.dumps(value, indent=2, ensure_ascii=False)`."""
    chunks: list[str] = []
    _encode(value, 0, chunks)
    return "".join(chunks)


def _no_default(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


@lru_cache(maxsize=None)
def _flat(depth: int) -> Callable[[object], str]:
    """Encodes a container of scalars at `depth` as json.dumps would, but for its brackets'
    line breaks: its items are separated by a newline and the indentation of depth + 1."""
    separator = ",\n" + INDENT * (depth + 1)
    if c_make_encoder is None:   # a Python without the C accelerator
        return json.JSONEncoder(ensure_ascii=False, separators=(separator, ": ")).encode
    # What JSONEncoder.encode makes on every call, made once: a warning's record costs
    # two thirds as much. No markers: the values are plain scalars, never a cycle.
    encoder = c_make_encoder(None, _no_default, encode_basestring, None, ": ", separator,
                             False, False, True)
    return lambda value: "".join(encoder(value, 0))


def _encode(value: object, depth: int, chunks: list[str]) -> None:
    kind = type(value)
    if kind is str:
        chunks.append(encode_basestring(value))
    elif kind is dict or kind is list or kind is tuple:
        if not value:
            chunks.append("{}" if kind is dict else "[]")
        elif not _container(value, depth, chunks):
            _nested(value, depth, chunks)
    elif kind in _SCALARS:
        chunks.append(_flat(0)(value))
    else:   # anything else (a str or int subclass, another mapping): as json.dumps writes it
        chunks.append(json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + INDENT * depth))


def _nested(value: dict | list | tuple, depth: int, chunks: list[str]) -> None:
    """A container that holds containers, item by item."""
    first, later = "\n" + INDENT * (depth + 1), ",\n" + INDENT * (depth + 1)
    if type(value) is dict:
        chunks.append("{")
        for number, (key, item) in enumerate(value.items()):
            chunks.append("%s%s: " % (later if number else first, _key(key)))
            _encode(item, depth + 1, chunks)
        chunks.append("\n" + INDENT * depth + "}")
        return
    chunks.append("[")
    for number, item in enumerate(value):
        chunks.append(later if number else first)
        _encode(item, depth + 1, chunks)
    chunks.append("\n" + INDENT * depth + "]")


def _container(value: dict | list | tuple, depth: int, chunks: list[str]) -> bool:
    """A non-empty container of scalars at `depth` into `chunks`, in one call of the C
    encoder; False (nothing written) when it holds anything else."""
    if type(value) is dict:
        if not (_SCALARS.issuperset(map(type, value.values())) and _STRINGS.issuperset(map(type, value))):
            return False
    elif not _SCALARS.issuperset(map(type, value)):
        return False
    text = _flat(depth)(value)
    chunks.append("%s\n%s%s\n%s%s" % (text[0], INDENT * (depth + 1), text[1:-1], INDENT * depth, text[-1]))
    return True


def _key(key: object) -> str:
    """A dict key as json.dumps writes it (a number, a boolean or null as a string)."""
    if type(key) is str:
        return encode_basestring(key)
    return json.dumps({key: 0}, ensure_ascii=False)[1:-4]
