"""Decide concrete flows and name the policies and rules behind each direction's verdict."""

from __future__ import annotations

from collections.abc import Sequence

from npdiff.encode import Encoder
from npdiff.encode.encoder import ConcreteFlow
from npdiff.model import Flow, NetworkPolicy, PolicySet, Rule, Semantics
from npdiff.model.flow import Endpoint, Pod
from npdiff.model.policy import Direction
from npdiff.model.result import DirectionDecision, DirectionStatus, FlowDecision, RuleRef


def evaluate(policy_set: PolicySet, flows: Sequence[Flow], semantics: Semantics) -> list[FlowDecision]:
    encoder = Encoder.for_sets([policy_set], semantics)
    return [decide(encoder, policy_set, flow) for flow in flows]


def decide(encoder: Encoder, policy_set: PolicySet, flow: Flow) -> FlowDecision:
    return decide_concrete(encoder.concrete(flow), policy_set, flow)


def decide_both(encoder: Encoder, old: PolicySet, new: PolicySet, flow: Flow) -> tuple[FlowDecision, FlowDecision]:
    """`flow` decided by both sides of a diff; the terms they share (most of a pull
    request's) are evaluated once."""
    concrete = encoder.concrete(flow)
    return decide_concrete(concrete, old, flow), decide_concrete(concrete, new, flow)


def decide_concrete(concrete: ConcreteFlow, policy_set: PolicySet, flow: Flow) -> FlowDecision:
    egress = _direction(concrete, policy_set, _candidates(policy_set, flow.src), Direction.EGRESS)
    ingress = _direction(concrete, policy_set, _candidates(policy_set, flow.dst), Direction.INGRESS)
    allowed = egress.status.allows and ingress.status.allows
    if allowed != concrete.allowed(policy_set):
        raise AssertionError("attribution disagrees with the encoded verdict")
    return FlowDecision(flow=flow, allowed=allowed, egress=egress, ingress=ingress)


def _candidates(policy_set: PolicySet, endpoint: Endpoint) -> tuple[NetworkPolicy, ...]:
    """Only policies of the pod's own namespace can select it (S3.2.1)."""
    return policy_set.in_namespace(endpoint.namespace) if isinstance(endpoint, Pod) else ()


def _direction(concrete: ConcreteFlow, policy_set: PolicySet, policies: tuple[NetworkPolicy, ...],
               direction: Direction) -> DirectionDecision:
    name = direction.value
    if not concrete.is_pod(direction):
        return DirectionDecision(name, DirectionStatus.NOT_A_POD)
    applying = [p for p in policies if p.applies(direction) and concrete.selects(p, direction)]
    if not applying:
        return DirectionDecision(name, DirectionStatus.NOT_ISOLATED)
    isolated_by = tuple(_ref(policy_set, p, direction, None) for p in applying)
    allowed_by = tuple(_ref(policy_set, p, direction, r, _parts(concrete, p, r))
                       for p in applying for r in p.rules(direction) if concrete.rule_matches(p, r))
    if direction is Direction.INGRESS and concrete.local_node_exempt():
        return DirectionDecision(name, DirectionStatus.LOCAL_NODE, isolated_by, allowed_by)
    status = DirectionStatus.ALLOWED if allowed_by else DirectionStatus.DENIED
    return DirectionDecision(name, status, isolated_by, allowed_by)


def _ref(policy_set: PolicySet, policy, direction: Direction, rule,
         parts: tuple[tuple[str, int], ...] = ()) -> RuleRef:
    span = rule.span if rule is not None and rule.span is not None else policy.span
    return RuleRef(
        policy=policy.key,
        direction=direction.value,
        rule=None if rule is None else rule.index,
        file=policy_set.file_of(span) if span else "",
        line=span.line if span else 0,
        parts=parts,
    )


def _parts(concrete: ConcreteFlow, policy: NetworkPolicy, rule: Rule) -> tuple[tuple[str, int], ...]:
    """The port entries, then the peers, of a matching rule that match the flow (a port
    is the narrower thing a change opens), each with its line."""
    parts = [(f"ports[{i}]", spec.span.line) for i, spec in enumerate(rule.ports)
             if spec.span is not None and concrete.port_matches(spec)]
    key = "from" if rule.direction is Direction.INGRESS else "to"
    # A rule cut down for a diff (analyse/locality.py) keeps each peer's written index.
    parts += [(f"{key}[{peer.index}]", peer.span.line) for peer in rule.peers
              if peer.span is not None and peer.index >= 0 and concrete.peer_matches(policy, rule, peer)]
    return tuple(parts)
