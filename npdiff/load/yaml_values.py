"""What both YAML readers share: the `Document` record, the limits, and how a scalar's
text becomes a value.

Scalars follow YAML 1.1 as PyYAML resolves them (kubectl does the same): plain text may
become a bool, int, float or null; any tag outside the core schema is refused. Only the
resolver and the core scalar constructors are borrowed from PyYAML, never its object
construction.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

try:  # libyaml is an order of magnitude faster; the pure-Python parser is equivalent.
    from yaml import CSafeLoader as Loader

    BYTE_POSITIONS = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

    BYTE_POSITIONS = False

MAX_DEPTH = 128

_T = "tag:yaml.org,2002:"
STR, NULL, BOOL, INT, FLOAT = _T + "str", _T + "null", _T + "bool", _T + "int", _T + "float"
MERGE, SEQ, MAP = _T + "merge", _T + "seq", _T + "map"
# Kept as the text written: Kubernetes turns timestamps into strings, and bodies must
# stay plain, comparable scalars.
_AS_TEXT = {_T + "timestamp", _T + "value", _T + "binary"}
_PLAIN_IMPLICIT = (True, False)
_CACHE_SIZE = 65_536
_YAML_PLAIN: dict[str, tuple[str, Any]] = {}   # plain scalar text -> (tag, value)
_JSON_PLAIN: dict[str, tuple[str, Any]] = {}
_JSON_LITERAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null")
# The resolver and the scalar constructors keep no state of their own: one instance,
# made on empty input, serves every file.
_RESOLVER = Loader("")


@dataclass(frozen=True)
class Document:
    value: Any
    line: int


class ScalarError(Exception):
    """A scalar that its tag cannot construct, or a tag outside the core schema."""


def short_tag(tag: str) -> str:
    return "!!" + tag[len(_T):] if tag.startswith(_T) else tag


def plain_scalar(text: str, json_mode: bool) -> tuple[str, Any]:
    """The (tag, value) of an untagged plain scalar."""
    # Plain scalars repeat a lot (keys, protocols, selectors): resolve each text once.
    cache = _JSON_PLAIN if json_mode else _YAML_PLAIN
    found = cache.get(text)
    if found is None:
        if json_mode and _JSON_LITERAL.fullmatch(text):
            found = STR, json.loads(text)
        else:
            found = construct(text, _RESOLVER.resolve(yaml.ScalarNode, text, _PLAIN_IMPLICIT),
                              _PLAIN_IMPLICIT)
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[text] = found
    return found


def construct(text: str, tag: str | None, implicit: tuple[bool, bool]) -> tuple[str, Any]:
    """The (tag, value) of a scalar written with `tag` (None or "!" when not tagged)."""
    if tag is None or tag == "!":
        tag = _RESOLVER.resolve(yaml.ScalarNode, text, implicit)
    if tag == STR:
        return tag, text
    if tag == NULL:
        return tag, None
    if tag == MERGE or tag in _AS_TEXT:
        return tag, text
    node = yaml.ScalarNode(tag, text)
    try:
        if tag == BOOL:
            return tag, _RESOLVER.bool_values[text.lower()]
        if tag == INT:
            return tag, _RESOLVER.construct_yaml_int(node)
        if tag == FLOAT:
            return tag, _RESOLVER.construct_yaml_float(node)
    except (KeyError, ValueError, TypeError):
        raise ScalarError(f"{text!r} is not a valid value for tag {short_tag(tag)}") from None
    raise ScalarError(f"unsupported YAML tag {short_tag(tag)}")
