"""The structural side of a diff: which objects were added, removed or modified, and where."""

from __future__ import annotations

import re

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
    """Field paths such as `spec.ingress[0].ports[1].port` that differ between two objects."""
    if old_body == new_body:
        return ()
    # Imported here: deepdiff (with pydantic) takes a tenth of a second to import, and
    # most runs modify no object, or find bodies equal as authored.
    from deepdiff import DeepDiff
    delta = DeepDiff(old_body, new_body)
    return tuple(sorted({_field_path(p) for p in delta.affected_paths}))


def _field_path(deepdiff_path: str) -> str:
    path = deepdiff_path.removeprefix("root")
    path = _KEY.sub(lambda m: "." + m.group(1), path)
    return path.lstrip(".")


def _change(obj: SourceObject, change: str, fields: tuple[str, ...] = ()) -> ObjectChange:
    return ObjectChange(kind=obj.kind, namespace=obj.namespace, name=obj.name, change=change,
                        file=obj.span.file, line=obj.span.line, fields=fields)
