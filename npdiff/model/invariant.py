"""Zero-trust invariants (who may talk to whom) and the results of checking them.

An invariant is a statement about the flows a policy set allows, written with endpoint
patterns in Kubernetes selector vocabulary. Results are three-valued, like every proof.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from npdiff.model.flow import Flow
from npdiff.model.options import Semantics
from npdiff.model.policy import Direction, IPBlock, PortSpec
from npdiff.model.result import EndpointRegion, FlowDecision, RuleRef
from npdiff.model.selector import LabelSelector
from npdiff.model.span import Span


class InvariantKind(str, Enum):
    ONLY_FROM = "only-from"                    # allowed flows into `to` come only from `from`
    ONLY_TO = "only-to"                        # allowed flows out of `from` go only to `to`
    ALLOW = "allow"                            # every such flow is allowed
    DENY = "deny"                              # no such flow is allowed
    ISOLATED = "isolated"                      # every matching pod is isolated
    NO_CROSS_NAMESPACE = "no-cross-namespace"  # no pod reaches another namespace's pods


class Scope(str, Enum):
    """Which pods an invariant speaks about."""

    ALL = "all"                            # every pod that could exist
    NAMED_NAMESPACES = "named-namespaces"  # (at least one end is) a pod of a namespace some
                                           # policy or invariant names


class InvariantStatus(str, Enum):
    PROVEN = "proven"
    VIOLATED = "violated"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class EndpointPattern:
    """One end of a flow. kind "pod": a None part does not constrain; "address": a non-pod
    address in `ip_block`; "any": any pod or address."""

    kind: str
    namespace: str | None = None
    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FlowPattern:
    """A region of flows: any source pattern, any destination pattern, any port entry
    (no entries: every protocol and port). Used for no-cross-namespace exceptions."""

    sources: tuple[EndpointPattern, ...]
    destinations: tuple[EndpointPattern, ...]
    ports: tuple[PortSpec, ...] = ()
    name: str = ""                                   # informational
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Invariant:
    name: str
    kind: InvariantKind
    sources: tuple[EndpointPattern, ...] = ()        # `from` (for isolated: `pods`)
    destinations: tuple[EndpointPattern, ...] = ()   # `to`
    ports: tuple[PortSpec, ...] = ()
    directions: frozenset[Direction] = frozenset()   # isolated only
    exceptions: tuple[FlowPattern, ...] = ()         # no-cross-namespace only
    scope: Scope = Scope.ALL
    preset: str | None = None                        # the preset it comes from, if any
    span: Span | None = field(default=None, compare=False)


# -- results -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ViolationClass:
    """A maximal region of flows that violate an invariant, with one witness and the
    policy set's decision on it."""

    src: EndpointRegion
    dst: EndpointRegion
    protocols: tuple[str, ...]
    ports: tuple[tuple[int, int], ...]
    witness: Flow
    decision: FlowDecision


@dataclass(frozen=True)
class InvariantResult:
    invariant: Invariant
    status: InvariantStatus
    witness: FlowDecision | None = None            # a violating flow and how it is decided
    decided_by: tuple[RuleRef, ...] = ()           # the rules that allow (or isolate and deny) it
    classes: tuple[ViolationClass, ...] = ()
    complete: bool = True                          # False when the class listing stopped early
    reason: str = ""                               # why undecided, or why incomplete


@dataclass(frozen=True)
class VerifyResult:
    results: tuple[InvariantResult, ...]           # sorted by invariant name
    semantics: Semantics = field(default_factory=Semantics)
    exempt: tuple[tuple[str, str], ...] = ()       # (rule, traffic) outside every invariant
    policy_count: int = 0
    warnings: tuple = ()

    def count(self, status: InvariantStatus) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def verdict(self) -> InvariantStatus:
        """Violated if any invariant is; else undecided if any is; else proven."""
        for status in (InvariantStatus.VIOLATED, InvariantStatus.UNDECIDED):
            if self.count(status):
                return status
        return InvariantStatus.PROVEN


@dataclass(frozen=True)
class InvariantChange:
    """One invariant checked on both sides of a diff. change: "broken" (proven before,
    violated after), "repaired" (the reverse), or "unchanged"."""

    old: InvariantResult
    new: InvariantResult

    @property
    def change(self) -> str:
        before, after = self.old.status, self.new.status
        if before is InvariantStatus.PROVEN and after is InvariantStatus.VIOLATED:
            return "broken"
        if before is InvariantStatus.VIOLATED and after is InvariantStatus.PROVEN:
            return "repaired"
        return "unchanged"


@dataclass(frozen=True)
class InvariantReview:
    changes: tuple[InvariantChange, ...]           # sorted by invariant name
    exempt: tuple[tuple[str, str], ...] = ()

    def count(self, change: str) -> int:
        return sum(1 for c in self.changes if c.change == change)

    @property
    def undecided(self) -> bool:
        return any(InvariantStatus.UNDECIDED in (c.old.status, c.new.status) for c in self.changes)
