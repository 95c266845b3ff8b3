"""NetworkPolicy objects after normalisation (semantics.md §3.1) and the set they form."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any

from npdiff.model.pickling import by_constructor
from npdiff.model.selector import LabelSelector
from npdiff.model.span import Span


class Direction(str, Enum):
    INGRESS = "ingress"
    EGRESS = "egress"

    @property
    def policy_type(self) -> str:
        return "Ingress" if self is Direction.INGRESS else "Egress"


PROTOCOLS: tuple[str, ...] = ("TCP", "UDP", "SCTP")


@by_constructor
@dataclass(frozen=True, slots=True)
class PortSpec:
    """A `ports[]` entry: protocol (defaulted to TCP), number, name or absent, optional endPort."""

    protocol: str
    port: int | str | None = None
    end_port: int | None = None
    span: Span | None = field(default=None, compare=False)


@by_constructor
@dataclass(frozen=True, slots=True)
class IPBlock:
    """`ipBlock` with `cidr` and `except` stored as masked, canonical networks (W-04)."""

    cidr: str
    excepts: tuple[str, ...] = ()


@by_constructor
@dataclass(frozen=True, slots=True)
class Peer:
    """A `from`/`to` element. A None selector does not constrain that axis (S3.5)."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None
    span: Span | None = field(default=None, compare=False)
    index: int = field(default=-1, compare=False)   # position in the rule as written, if read


@by_constructor
@dataclass(frozen=True, slots=True)
class Rule:
    """An ingress or egress rule. Empty `peers` matches every peer, empty `ports` every port."""

    direction: Direction
    index: int
    peers: tuple[Peer, ...] = ()
    ports: tuple[PortSpec, ...] = ()
    span: Span | None = field(default=None, compare=False)


@by_constructor
@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: frozenset[Direction]
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    span: Span | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress

    def applies(self, direction: Direction) -> bool:
        return direction in self.policy_types


class Later:
    """A value not made yet; `value()` makes it (once) when first asked for. Subclasses,
    which may read files, live outside the model (load/parallel.py)."""

    def value(self) -> Any:
        raise NotImplementedError


@by_constructor
@dataclass(frozen=True)
class SourceObject:
    """Any object read from the input, kept raw for the structural (per-object) diff."""

    kind: str
    namespace: str
    name: str
    span: Span
    # The body as read, or a Later that reads it again (an object read in another process).
    # Two objects that hold the same `as_read` have the same body.
    as_read: Any = field(compare=False, hash=False, repr=False)

    @property
    def body(self) -> Any:
        return self.as_read.value() if isinstance(self.as_read, Later) else self.as_read

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)


@dataclass(frozen=True)
class PolicySet:
    """What one side of a comparison holds: policies sorted by namespace/name, plus raw objects."""

    policies: tuple[NetworkPolicy, ...] = ()
    objects: tuple[SourceObject, ...] = ()
    skipped: tuple[tuple[str, int], ...] = ()  # (kind, count) of objects that are not policies
    # Files whose policies this set shares with the other side of a diff, which read them
    # first (load/sides.py): (the file their spans name, this side's file). Reports name a
    # policy's file through `file_of`.
    aliases: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def in_namespace(self, namespace: str) -> tuple[NetworkPolicy, ...]:
        return self._by_namespace.get(namespace, ())

    def file_of(self, span: Span) -> str:
        """The file of this side that a span of one of its policies (or rules, or port
        entries) lies in."""
        return self._aliased.get(span.file, span.file) if self.aliases else span.file

    @cached_property
    def _aliased(self) -> dict[str, str]:
        return dict(self.aliases)

    @cached_property
    def _by_namespace(self) -> dict[str, tuple[NetworkPolicy, ...]]:
        grouped: dict[str, list[NetworkPolicy]] = {}
        for policy in self.policies:
            grouped.setdefault(policy.namespace, []).append(policy)
        return {ns: tuple(policies) for ns, policies in grouped.items()}

    def namespaces(self) -> tuple[str, ...]:
        return tuple(sorted({p.namespace for p in self.policies}))
