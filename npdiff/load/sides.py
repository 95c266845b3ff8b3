"""Files that both sides of a diff hold, read once.

A pull request leaves almost every file as it was: the new side's copy has the same bytes
as the old side's. A file whose every object is a NetworkPolicy read without a single
diagnostic is kept under its bytes; the other side takes its policies and objects with
each span a report can show renamed to its own copy of the file (same lines: same bytes).
Anything else, or a file with findings, is read again, so every diagnostic names its own
file.

What a report can show of a span: the file and line of an object, a policy and a rule
(the rule that decides a flow, a warning), and of a named port's entry (W-07, a name no
workload declares); of a peer and of any other port entry, only the line (the part of a
deciding rule that matches, analyse/evaluate.py; warnings on port entries take their
file from the policy, load/lint.py). So peers and unnamed port entries are taken as they
are, the other side's file in their spans: two thirds of a side's objects are not built
again, and comparing the two sides meets the same objects. tests/test_load_sides.py
checks that every report reads the same as with each file read anew.
"""

from __future__ import annotations

from typing import NamedTuple

from npdiff.model import Diagnostic, NetworkPolicy, SourceObject, Span
from npdiff.model.policy import PortSpec, Rule


class _Read(NamedTuple):     # made for every file of both sides: a tuple is made cheaply
    objects: tuple[SourceObject, ...]
    policies: tuple[NetworkPolicy, ...]
    warnings: tuple[Diagnostic, ...]   # about its policies (load/lint.py), found from the policies alone


class SharedFiles:
    """Policy files read by one side, found again by their bytes (and JSON-ness)."""

    def __init__(self) -> None:
        self._files: dict[tuple[bytes, bool], _Read] = {}

    def knows(self, data: bytes, is_json: bool) -> bool:
        return (data, is_json) in self._files

    def get(self, data: bytes, is_json: bool, file: str) -> _Read | None:
        """What a file with these bytes held, named `file`; None if not kept."""
        found = self._files.get((data, is_json))
        if found is None:
            return None
        return _Read(tuple(SourceObject(o.kind, o.namespace, o.name, Span(file, o.span.line), o.as_read)
                           for o in found.objects),
                     tuple(_renamed(p, file) for p in found.policies),
                     tuple(Diagnostic(file, d.line, d.severity, d.code, d.path, d.message) for d in found.warnings))

    def keep(self, data: bytes, is_json: bool, objects: list[SourceObject],
             policies: list[NetworkPolicy], warnings: list[Diagnostic]) -> None:
        self._files[(data, is_json)] = _Read(tuple(objects), tuple(policies), tuple(warnings))


def _at(span: Span | None, file: str) -> Span | None:
    return None if span is None else Span(file, span.line)


# Built field by field rather than with dataclasses.replace, which costs two and a half
# times as much: a 10,000-policy side renames about 42,000 objects (policies, rules,
# named port entries) and shares 85,000.
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
