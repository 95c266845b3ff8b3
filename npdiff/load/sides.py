"""Files that both sides of a diff hold, read once.

A pull request leaves almost every file as it was: the new side's copy has the same bytes
as the old side's. A file whose every object is a NetworkPolicy read without a single
diagnostic is kept under its bytes; the other side takes its policies as they are, and
its objects and warnings renamed to its own copy of the file (same lines: same bytes).
The policies' spans keep naming the file that was read: the side that took them maps
that name to its own (`PolicySet.aliases`, `file_of`), where a report names a policy's,
a rule's or a port entry's file (analyse/evaluate.py, analyse/inventory_lint.py, the
duplicate and DNS findings of load/__init__.py). A file taken twice by one side, or
whose name that side also reads, is taken with every span a report can show renamed, as
is one found again by the side that read it. Anything else, or a file with findings, is
read again, so every diagnostic names its own file. Sharing the policies themselves
spares building them again, and the reduction and the solver terms meet the same
objects on both sides. tests/test_load_sides.py checks that every report reads the same
as with each file read anew.
"""

from __future__ import annotations

from typing import NamedTuple

from npdiff.model import Diagnostic, NetworkPolicy, SourceObject, Span
from npdiff.model.policy import PortSpec, Rule


class _Read(NamedTuple):     # made for every file of both sides: a tuple is made cheaply
    file: str                          # the name the spans of its policies give
    objects: tuple[SourceObject, ...]
    policies: tuple[NetworkPolicy, ...]
    warnings: tuple[Diagnostic, ...]   # about its policies (load/lint.py), found from the policies alone


class SharedFiles:
    """Policy files read by one side, found again by their bytes (and JSON-ness)."""

    def __init__(self) -> None:
        self._files: dict[tuple[bytes, bool], _Read] = {}

    def knows(self, data: bytes, is_json: bool) -> bool:
        return (data, is_json) in self._files

    def get(self, data: bytes, is_json: bool, file: str, aliases: dict[str, str] | None = None,
            own: frozenset[str] = frozenset()) -> _Read | None:
        """What a file with these bytes held, named `file`; None if not kept. With
        `aliases`, the asking side's (`PolicySet.aliases`), and `own`, the names of that
        side's files, the policies are taken as they are where the name their spans give
        can stand for `file` on that side (it is no other file of that side, and stands
        for no other file yet); otherwise renamed."""
        found = self._files.get((data, is_json))
        if found is None:
            return None
        objects = tuple(SourceObject(o.kind, o.namespace, o.name, Span(file, o.span.line), o.as_read)
                        for o in found.objects)
        warnings = tuple(Diagnostic(file, d.line, d.severity, d.code, d.path, d.message) for d in found.warnings)
        if aliases is not None and (found.file == file or found.file not in own) \
                and aliases.setdefault(found.file, file) == file:
            return _Read(file, objects, found.policies, warnings)
        return _Read(file, objects, tuple(_renamed(p, file) for p in found.policies), warnings)

    def keep(self, data: bytes, is_json: bool, file: str, objects: list[SourceObject],
             policies: list[NetworkPolicy], warnings: list[Diagnostic]) -> None:
        self._files[(data, is_json)] = _Read(file, tuple(objects), tuple(policies), tuple(warnings))


def _at(span: Span | None, file: str) -> Span | None:
    return None if span is None else Span(file, span.line)


# Built field by field rather than with dataclasses.replace, which costs two and a half
# times as much.
# tests/test_load_sides.py checks that every field is carried over.

def _renamed(policy: NetworkPolicy, file: str) -> NetworkPolicy:
    return NetworkPolicy(policy.namespace, policy.name, policy.pod_selector, policy.policy_types,
                         _rules(policy.ingress, file), _rules(policy.egress, file), _at(policy.span, file))


def _rules(rules: tuple[Rule, ...], file: str) -> tuple[Rule, ...]:
    return tuple([Rule(r.direction, r.index, r.peers, _ports(r.ports, file), _at(r.span, file)) for r in rules])


def _ports(ports: tuple[PortSpec, ...], file: str) -> tuple[PortSpec, ...]:
    if not any(isinstance(s.port, str) for s in ports):
        return ports
    return tuple([PortSpec(s.protocol, s.port, s.end_port, _at(s.span, file)) if isinstance(s.port, str) else s
                  for s in ports])
