"""Kubernetes objects in YAML documents: kind and apiVersion checks and list unwrapping.

`kind: List` (what `kubectl get -o yaml` writes) and typed lists such as
`NetworkPolicyList` (what the API returns, with kind and apiVersion left out of items)
are flattened into their items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from npdiff.load.codes import E_OBJ, Sink
from npdiff.load.fields import describe, item
from npdiff.load.lined import LinedList, LinedMap
from npdiff.load.yaml_reader import Document


@dataclass(frozen=True)
class RawObject:
    kind: str
    api_version: str
    body: LinedMap

    @property
    def line(self) -> int:
        return self.body.line

    def metadata_text(self, key: str) -> str:
        meta = self.body.get("metadata")
        value = meta.get(key) if isinstance(meta, dict) else None
        return value if isinstance(value, str) else ""


def _header(body: LinedMap, key: str, path: str, sink: Sink) -> str | None:
    value = body.get(key)
    if isinstance(value, str) and value:
        return value
    where = f"{path}.{key}" if path else key
    if value is None:
        sink.error(body.line, E_OBJ, where, f"not a Kubernetes object: {key} is missing")
    else:
        sink.error(body.key_line(key), E_OBJ, where,
                   f"{key} must be a non-empty string, not {describe(value)}")
    return None


def _is_list(kind: str, body: LinedMap) -> bool:
    return kind == "List" or (kind.endswith("List") and "items" in body)


def _objects(body: LinedMap, path: str, sink: Sink,
             inherited: tuple[str, str] | None) -> Iterator[RawObject]:
    if inherited is not None and "kind" not in body and "apiVersion" not in body:
        kind, api_version = inherited
    else:
        found_kind = _header(body, "kind", path, sink)
        found_version = _header(body, "apiVersion", path, sink)
        if found_kind is None or found_version is None:
            return
        kind, api_version = found_kind, found_version
    if not _is_list(kind, body):
        yield RawObject(kind, api_version, body)
        return
    items_path = f"{path}.items" if path else "items"
    items = body.get("items")
    if items is None:
        return
    if not isinstance(items, LinedList):
        sink.error(body.key_line("items"), E_OBJ, items_path,
                   f"must be a list of objects, not {describe(items)}")
        return
    # Items of a typed list (NetworkPolicyList) omit their kind and apiVersion.
    item_kind = (kind[: -len("List")], api_version) if kind != "List" else None
    for index, value in enumerate(items):
        if not isinstance(value, LinedMap):
            sink.error(items.item_line(index), E_OBJ, item(items_path, index),
                       f"a list item must be an object (a mapping), not {describe(value)}")
            continue
        yield from _objects(value, item(items_path, index), sink, item_kind)


def objects_of(documents: list[Document], sink: Sink) -> list[RawObject]:
    found: list[RawObject] = []
    for document in documents:
        if not isinstance(document.value, LinedMap):
            sink.error(document.line, E_OBJ, "",
                       f"a document must be a Kubernetes object (a mapping), "
                       f"not {describe(document.value)}")
            continue
        found.extend(_objects(document.value, "", sink, None))
    return found

