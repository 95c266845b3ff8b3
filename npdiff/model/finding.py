"""Audit results: one finding per element that is dead weight or a trap, and the audit as a whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from npdiff.model.diagnostic import Diagnostic
from npdiff.model.options import Semantics


# Every finding id, with its severity (README, "Audit").
FINDING_IDS: dict[str, str] = {
    "redundant-policy": "warning", "duplicate-policy": "warning",
    "redundant-rule": "warning", "shadowed-rule": "warning", "duplicate-rule": "warning",
    "redundant-peer": "warning", "duplicate-peer": "warning",
    "redundant-port": "warning", "duplicate-port": "warning",
    "ineffective-rule": "warning", "dead-rule": "warning", "allow-all": "warning or info",
    "missing-dns-egress": "error", "namespace-label-missing": "error",
    "selects-nothing": "warning", "peer-namespace-scope": "warning", "default-deny": "info",
}


class FindingSeverity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return list(FindingSeverity).index(self)


@dataclass(frozen=True, order=True)
class ElementRef:
    """A policy (rule None), a rule, or a peer/port inside a rule; indices are 0-based."""

    policy: str                 # "namespace/name"
    direction: str | None = None
    rule: int | None = None
    peer: int | None = None
    port: int | None = None
    file: str = ""
    line: int = 0

    def sort_key(self) -> tuple:
        return (self.file, self.line, self.policy, self.direction or "", _n(self.rule), _n(self.peer),
                _n(self.port))

    def label(self) -> str:
        """`shop/api ingress[1].from[0]` (peers are `to` in egress rules)."""
        text = self.policy
        if self.direction is not None and self.rule is not None:
            text += f" {self.direction}[{self.rule}]"
            if self.peer is not None:
                text += f".{'from' if self.direction == 'ingress' else 'to'}[{self.peer}]"
            if self.port is not None:
                text += f".ports[{self.port}]"
        return text


@dataclass(frozen=True)
class Finding:
    id: str                                     # stable kebab-case slug (README, "Audit")
    severity: FindingSeverity
    element: ElementRef
    message: str
    covered_by: tuple[ElementRef, ...] = ()     # what makes a redundant element unnecessary
    blocked_by: tuple[ElementRef, ...] = ()     # ineffective-rule: policies that deny the other side

    def sort_key(self) -> tuple:
        e = self.element
        return (e.file, e.line, self.id, e.policy, e.direction or "", _n(e.rule), _n(e.peer),
                _n(e.port), self.message)


def _n(value: int | None) -> int:
    return -1 if value is None else value


@dataclass(frozen=True)
class Undecided:
    """A check the solver could not settle within its budget: nothing is claimed about it."""

    element: ElementRef
    check: str                  # the finding id the check would have produced
    reason: str


@dataclass(frozen=True)
class AuditResult:
    findings: tuple[Finding, ...] = ()
    undecided: tuple[Undecided, ...] = ()
    semantics: Semantics = field(default_factory=Semantics)
    policy_count: int = 0
    namespace_objects: int | None = None    # None: no Namespace objects given
    workload_objects: int | None = None     # None: no workloads given
    warnings: tuple[Diagnostic, ...] = ()

    def count(self, severity: FindingSeverity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)
