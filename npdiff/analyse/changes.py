"""The structural side of a diff: which objects were added, removed or modified, and where."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Any

from npdiff.analyse.authored import authored
from npdiff.model import PolicySet, SourceObject
from npdiff.model.result import ObjectChange

_KEY = re.compile(r"\['((?:[^'\\]|\\.)*)'\]")


def object_changes(old: PolicySet, new: PolicySet) -> tuple[ObjectChange, ...]:
    before = {o.key: o for o in old.objects}
    after = {o.key: o for o in new.objects}
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if key not in before:
            changes.append(_change(after[key], "added"))
        elif key not in after:
            changes.append(_change(before[key], "removed"))
        # The same body as read (a file both sides hold), or equal bodies: equal as
        # authored, the common case.
        elif before[key].as_read is not after[key].as_read and before[key].body != after[key].body:
            fields = changed_fields(authored(before[key].body), authored(after[key].body))
            if fields:
                changes.append(_change(after[key], "modified", fields))
    return tuple(changes)


def changed_fields(old_body: object, new_body: object) -> tuple[str, ...]:
    """Field paths such as `spec.ingress[0].ports[1].port` that differ between two objects:
    those DeepDiff's `affected_paths` names."""
    if old_body == new_body and type(old_body) is type(new_body):
        return ()
    found: list[str] = []
    try:
        _differences(old_body, new_body, "", found)
    except _Unsure:
        # Imported here: deepdiff (with pydantic) takes a quarter of a second to import,
        # and the walk above finds the same paths in the bodies policies have.
        from deepdiff import DeepDiff
        found = [_field_path(p) for p in DeepDiff(old_body, new_body).affected_paths]
    return tuple(sorted(set(found)))


class _Unsure(Exception):
    """A difference whose paths DeepDiff finds by heuristics of its own (a list of plain
    values, compared as sequences; floating-point numbers; keys it quotes otherwise)."""


_SCALARS = (str, int, bool, type(None))
_BASIC = _SCALARS + (float,)   # what DeepDiff compares a list of as a sequence (difflib)
_DIFF_DEEPER = 0.33   # DeepDiff's threshold_to_diff_deeper


def _differences(old: Any, new: Any, path: str, found: list[str]) -> None:
    """Adds the paths DeepDiff (default options) reports between `old` and `new`, which
    are builtin dicts, lists and scalars, or raises _Unsure."""
    kind = type(old)
    if kind is not type(new):
        found.append(path)   # type_changes
    elif kind is dict:
        keys, other = old.keys(), new.keys()
        common = keys & other
        union = len(keys | other)
        for key in keys | other:
            if type(key) is not str or repr(key)[1:-1] != key or repr(key)[0] != "'":
                raise _Unsure
        if union > 1 and len(common) / union < _DIFF_DEEPER:
            found.append(path)   # too different to look inside: values_changed
            return
        found.extend(f"{path}.{key}" if path else key for key in keys ^ other)
        for key in common:
            _differences(old[key], new[key], f"{path}.{key}" if path else key, found)
    elif kind is list:
        if all(type(v) in _BASIC for v in old) and all(type(v) in _BASIC for v in new):
            if not all(type(v) is str for v in old) or not all(type(v) is str for v in new):
                raise _Unsure   # difflib would match 1, 1.0 and True
            found.extend(_strings(old, new, path))
            return
        for index in range(max(len(old), len(new))):
            if index >= len(old) or index >= len(new):
                found.append(f"{path}[{index}]")   # iterable_item_added, iterable_item_removed
            else:
                _differences(old[index], new[index], f"{path}[{index}]", found)
    elif kind in _SCALARS:
        if old != new:
            found.append(path)   # values_changed
    else:
        raise _Unsure


def _field_path(deepdiff_path: str) -> str:
    path = deepdiff_path.removeprefix("root")
    path = _KEY.sub(lambda m: "." + m.group(1), path)
    return path.lstrip(".")


def _change(obj: SourceObject, change: str, fields: tuple[str, ...] = ()) -> ObjectChange:
    return ObjectChange(kind=obj.kind, namespace=obj.namespace, name=obj.name, change=change,
                        file=obj.span.file, line=obj.span.line, fields=fields)


def _strings(old: list[str], new: list[str], path: str) -> list[str]:
    """DeepDiff's paths between two lists of strings: by difflib's opcodes (a replaced run
    compared item by item), or item by item when that names fewer, as DeepDiff chooses
    between the two."""
    by_runs: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "replace":   # changed and removed items at old indices, added ones at new
            by_runs.extend(f"{path}[{i1 + k if k < i2 - i1 else j1 + k}]" for k in range(max(i2 - i1, j2 - j1)))
        elif tag == "delete":
            by_runs.extend(f"{path}[{i}]" for i in range(i1, i2))
        elif tag == "insert":
            by_runs.extend(f"{path}[{j}]" for j in range(j1, j2))
    if len(by_runs) > 1:
        by_items = [f"{path}[{i}]" for i in range(max(len(old), len(new)))
                    if i >= len(old) or i >= len(new) or old[i] != new[i]]
        if len(by_runs) >= len(by_items):
            return by_items
    return by_runs
