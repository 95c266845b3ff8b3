"""References to policies, rules, peers and port entries, as audit findings cite them."""

from __future__ import annotations

from npdiff.model import NetworkPolicy, Rule
from npdiff.model.finding import ElementRef
from npdiff.model.span import Span


def _where(span: Span | None) -> tuple[str, int]:
    return (span.file, span.line) if span is not None else ("", 0)


def policy_ref(policy: NetworkPolicy) -> ElementRef:
    file, line = _where(policy.span)
    return ElementRef(policy.key, file=file, line=line)


def rule_ref(policy: NetworkPolicy, rule: Rule, peer: int | None = None, port: int | None = None) -> ElementRef:
    """A rule, or one of its peers or port entries, at the line where it is written."""
    span = rule.span
    if peer is not None:
        span = rule.peers[peer].span or span
    if port is not None:
        span = rule.ports[port].span or span
    file, line = _where(span or policy.span)
    return ElementRef(policy.key, rule.direction.value, rule.index, peer, port, file, line)


def cite(ref: ElementRef) -> str:
    return f"{ref.label()} ({ref.file}:{ref.line})"


def cite_all(refs: tuple[ElementRef, ...]) -> str:
    return ", ".join(cite(r) for r in refs)


def ref_order(ref: ElementRef) -> tuple:
    """File order: which of two elements is written first."""
    return (ref.file, ref.line, ref.policy, ref.direction or "", ref.rule or 0, ref.peer or 0, ref.port or 0)
