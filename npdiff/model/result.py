"""Analysis results: decisions for one flow, flow classes, structural changes, diffs.

Every reporter reads these records and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from npdiff.model.diagnostic import Diagnostic
from npdiff.model.flow import Flow
from npdiff.model.options import Semantics

if TYPE_CHECKING:
    from npdiff.model.inventory import ClassWorkloads, InventorySummary
    from npdiff.model.invariant import InvariantReview


class Verdict(str, Enum):
    EQUIVALENT = "equivalent"
    DIFFERENT = "different"
    UNDECIDED = "undecided"


class DirectionStatus(str, Enum):
    """How one direction of a flow was decided (semantics.md S3.7.1)."""

    NOT_A_POD = "not-a-pod"            # the endpoint on this side is not a modelled pod
    NOT_ISOLATED = "not-isolated"      # no policy applies: allowed by default
    LOCAL_NODE = "local-node"          # ingress from the pod's own node (S6.4)
    ALLOWED = "allowed"                # isolated, and at least one rule matches
    DENIED = "denied"                  # isolated, and no rule matches

    @property
    def allows(self) -> bool:
        return self is not DirectionStatus.DENIED


@dataclass(frozen=True, order=True)
class RuleRef:
    """A policy (rule None: the policy as a whole, e.g. because it isolates) or one of its rules."""

    policy: str                 # "namespace/name"
    direction: str              # "ingress" | "egress"
    rule: int | None            # 0-based index in that direction's list
    file: str
    line: int
    # The rule's peer and port entries that match the flow, with their lines:
    # (("from[0]", 18), ("ports[1]", 28)); reports anchor on the one a change touched.
    parts: tuple[tuple[str, int], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class DirectionDecision:
    direction: str
    status: DirectionStatus
    isolated_by: tuple[RuleRef, ...] = ()   # policies that apply to the pod for this direction
    allowed_by: tuple[RuleRef, ...] = ()    # rules that match the flow


@dataclass(frozen=True)
class FlowDecision:
    """The verdict of one policy set on one concrete flow, with the rules behind it."""

    flow: Flow
    allowed: bool
    egress: DirectionDecision
    ingress: DirectionDecision


@dataclass(frozen=True, order=True)
class ValueConstraint:
    """A constraint on one label key (or on the namespace name) of an endpoint region.

    op: "in" (value among `values`), "not-in" (absent or value outside `values`),
    "exists", "absent".
    """

    key: str
    op: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class EndpointRegion:
    """One end of a flow class. kind: "pod", "address", "any" (pod or address)."""

    kind: str
    namespace: ValueConstraint | None = None            # None: any namespace
    # With a "not-in" namespace: the named namespaces that are in (the rest of the region
    # is every namespace no policy names), for a shorter text where that list is shorter.
    named_namespaces_in: tuple[str, ...] = ()
    labels: tuple[ValueConstraint, ...] = ()            # unlisted keys: any
    namespace_labels: tuple[ValueConstraint, ...] = ()
    named_ports: tuple[tuple[str, bool], ...] = ()      # (name, serves the flow's port?)
    addresses: tuple[str, ...] = ()                      # CIDRs; empty: any address
    family: str | None = None                            # "IPv4" | "IPv6" | None: either


@dataclass(frozen=True)
class FlowClass:
    """A maximal region of flows that one side allows and the other does not."""

    src: EndpointRegion
    dst: EndpointRegion
    protocols: tuple[str, ...]
    ports: tuple[tuple[int, int], ...]      # inclusive ranges
    witness: Flow
    old: FlowDecision
    new: FlowDecision
    workloads: ClassWorkloads | None = None     # with an inventory: the workloads on each end


@dataclass(frozen=True, order=True)
class ObjectChange:
    kind: str
    namespace: str
    name: str
    change: str                             # "added" | "removed" | "modified"
    file: str
    line: int
    fields: tuple[str, ...] = ()            # changed field paths, for "modified"


@dataclass(frozen=True)
class DiffResult:
    verdict: Verdict
    newly_allowed: tuple[FlowClass, ...] = ()
    newly_blocked: tuple[FlowClass, ...] = ()
    complete: bool = True                   # False when --max-classes stopped the listing
    changes: tuple[ObjectChange, ...] = ()
    semantics: Semantics = field(default_factory=Semantics)
    reason: str = ""                        # why the verdict is undecided
    warnings: tuple[Diagnostic, ...] = ()
    old_count: int = 0
    new_count: int = 0
    invariants: InvariantReview | None = None   # with --invariants/--preset
    inventory: InventorySummary | None = None   # with workloads in the input or --cluster
