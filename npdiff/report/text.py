"""`-o text`: the verdict first, then each flow class in words, with witness and rules."""

from __future__ import annotations

from collections.abc import Sequence

from npdiff.model import Address, Flow, Pod, PortSpec, Semantics
from npdiff.model.flow import METADATA_NAME
from npdiff.model.invariant import (
    EndpointPattern, Invariant, InvariantKind, InvariantResult, InvariantReview, InvariantStatus,
    Scope, VerifyResult, ViolationClass,
)
from npdiff.model.policy import Direction
from npdiff.model.result import (
    DiffResult, DirectionDecision, DirectionStatus, EndpointRegion, FlowClass, FlowDecision,
    RuleRef, ValueConstraint, Verdict,
)
from npdiff.model.selector import Operator, Requirement
from npdiff.report import workloads_text

_COLOURS = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2"}


class Painter:
    def __init__(self, colour: bool):
        self.colour = colour

    def __call__(self, text: str, style: str) -> str:
        if not self.colour:
            return text
        return f"\033[{_COLOURS[style]}m{text}\033[0m"


# -- regions -------------------------------------------------------------------------------

def constraint_text(c: ValueConstraint) -> str:
    values = ", ".join(c.values)
    if c.op == "in":
        return f"{c.key}={c.values[0]}" if len(c.values) == 1 else f"{c.key} in ({values})"
    if c.op == "not-in":
        return f"{c.key}!={c.values[0]}" if len(c.values) == 1 else f"{c.key} notin ({values})"
    if c.op == "exists":
        return c.key
    if c.op == "absent":
        return f"!{c.key}"
    return f"(!{c.key} or {c.key} in ({values}))"


def region_text(r: EndpointRegion, namespace: bool = True) -> str:
    """The region in words; namespace=False leaves out the namespace (a graph's cluster names it)."""
    if r.kind == "any":
        return "anything (any pod, node or address)"
    if r.kind == "address":
        if r.addresses:
            return "addresses " + ", ".join(r.addresses)
        return f"any {r.family} address" if r.family else "any address"
    parts = ["pods"]
    if r.labels:
        parts.append("with " + ", ".join(constraint_text(c) for c in r.labels))
    if namespace:
        parts.append(namespace_text(r))
    if r.namespace_labels:
        parts.append("labelled " + ", ".join(constraint_text(c) for c in r.namespace_labels))
    if r.named_ports:
        parts.append(" and ".join(f"declaring port '{name}' on it" if serves else f"not declaring port '{name}' on it"
                                  for name, serves in r.named_ports))
    if r.addresses:
        parts.append("with addresses " + ", ".join(r.addresses))
    elif r.family:
        parts.append(f"with an {r.family} address")
    return " ".join(parts)


def namespace_text(r: EndpointRegion) -> str:
    """Where a region's pods are: "in namespace shop", "in any namespace but kafka", ..."""
    if r.namespace is None:
        return "in any namespace"
    if r.namespace.op == "in":
        names = ", ".join(r.namespace.values)
        return f"in namespace {names}" if len(r.namespace.values) == 1 else f"in namespaces {names}"
    if len(r.namespace.values) > 3 and len(r.named_namespaces_in) < len(r.namespace.values):
        named = ", ".join(r.named_namespaces_in)
        return f"in namespace {named} or one no policy names" if named else "in a namespace no policy names"
    return "in any namespace but " + ", ".join(r.namespace.values)


def ports_text(protocols: Sequence[str], ports: Sequence[tuple[int, int]]) -> str:
    spans = ", ".join("all ports" if (lo, hi) == (1, 65535) else str(lo) if lo == hi else f"{lo}-{hi}"
                      for lo, hi in ports)
    return f"{'/'.join(protocols)} {spans}"


# -- flows and decisions ---------------------------------------------------------------------

def endpoint_text(ep: Pod | Address) -> str:
    if isinstance(ep, Address):
        return f"{ep.ip} (own node)" if ep.local_node else ep.ip
    if ep.workload:
        return ep.workload
    labels = ",".join(f"{k}={v}" for k, v in ep.labels)
    ns_labels = ",".join(f"{k}={v}" for k, v in ep.namespace_labels)
    ns = f"{ep.namespace}[{ns_labels}]" if ns_labels else ep.namespace
    text = f"{ns}/{ep.name or 'pod'}{{{labels}}}"
    if ep.ports:
        text += " ports " + ",".join(f"{p.name}={p.port}/{p.protocol}" for p in ep.ports)
    if ep.ip:
        text += f" ip {ep.ip}"
    return text


def flow_text(flow: Flow) -> str:
    return f"{endpoint_text(flow.src)} -> {endpoint_text(flow.dst)} on {flow.protocol} {flow.port}"


def ref_name(ref: RuleRef) -> str:
    return ref.policy if ref.rule is None else f"{ref.policy} {ref.direction}[{ref.rule}]"


def ref_text(ref: RuleRef) -> str:
    return f"{ref_name(ref)} ({ref.file}:{ref.line})"


def direction_text(d: DirectionDecision) -> str | None:
    side = "destination" if d.direction == "ingress" else "source"
    if d.status is DirectionStatus.NOT_A_POD:
        return None
    if d.status is DirectionStatus.NOT_ISOLATED:
        return f"{d.direction}: no policy isolates the {side}: allowed by default"
    if d.status is DirectionStatus.LOCAL_NODE:
        return f"{d.direction}: allowed from the pod's own node (S6.4)"
    if d.status is DirectionStatus.ALLOWED:
        return f"{d.direction}: allowed by " + "; ".join(ref_text(r) for r in d.allowed_by)
    return (f"{d.direction}: denied: isolated by " + "; ".join(ref_text(r) for r in d.isolated_by)
            + ", and no rule matches")


def decision_lines(d: FlowDecision) -> list[str]:
    lines = [t for t in (direction_text(d.egress), direction_text(d.ingress)) if t]
    return lines or ["neither end is a pod: no policy applies"]


# -- documents ---------------------------------------------------------------------------------

def render_diff(result: DiffResult, colour: bool = False) -> str:
    paint = Painter(colour)
    out = [summary_line(result, paint)]
    if result.changes:
        out += ["", paint("Changed objects", "bold")]
        marks = {"added": "+", "removed": "-", "modified": "~"}
        for c in result.changes:
            line = f"  {marks[c.change]} {c.kind} {c.namespace}/{c.name} ({c.file}:{c.line})"
            if c.fields:
                line += ": " + ", ".join(c.fields)
            out.append(line)
    out += workloads_text.change_lines(result.inventory, paint)
    for title, classes, style, allowed in (("Newly allowed", result.newly_allowed, "green", True),
                                           ("Newly blocked", result.newly_blocked, "red", False)):
        if classes:
            out += ["", paint(f"{title} ({len(classes)})", style)]
            if len(classes) > GLANCE_AFTER:
                out += _glance_lines(classes, allowed)
            for number, flow_class in enumerate(classes, 1):
                out += _class_lines(number, flow_class)
    note = workloads_text.closing_note(result)
    if result.verdict is Verdict.DIFFERENT and note is None:
        note = ("Classes range over every pod that could exist, so some may need a pod, "
                "label or namespace that is not deployed today (S1.3.2).")
    if note is not None:
        out += ["", paint(note, "dim")]
    if result.verdict is Verdict.DIFFERENT and not result.complete:
        out += ["", paint("The listing is incomplete", "yellow") + f": {result.reason}. "
                "The verdict is exact; the classes above are only part of the difference."]
    if result.invariants is not None:
        out += review_lines(result.invariants, paint)
    flags = ", ".join(f"{k}={_flag(v)}" for k, v in result.semantics.flags().items())
    out += ["", paint(f"semantics: {flags}", "dim")]
    return "\n".join(out) + "\n"


def summary_line(result: DiffResult, paint: Painter = Painter(False)) -> str:
    """The verdict in one line, as every format starts."""
    counts = f"old: {_policies(result.old_count)}, new: {_policies(result.new_count)}"
    if result.verdict is Verdict.EQUIVALENT:
        return paint("equivalent", "green") + f": the change allows and blocks exactly the same flows ({counts})"
    if result.verdict is Verdict.UNDECIDED:
        return paint("undecided", "yellow") + f": {result.reason} ({counts})"
    if not (result.complete or result.newly_allowed or result.newly_blocked):
        return paint("different", "red") + f": the change allows or blocks some flows; they were not listed ({counts})"
    return (paint("different", "red") + f": {len(result.newly_allowed)} newly allowed and "
            f"{len(result.newly_blocked)} newly blocked flow classes ({counts})")


def semantics_line(semantics: Semantics) -> str:
    return "semantics: " + ", ".join(f"{k}={_flag(v)}" for k, v in semantics.flags().items())


def _policies(count: int) -> str:
    return f"{count} {'policy' if count == 1 else 'policies'}"


def _flag(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(value) or "-"
    return str(value)


GLANCE_AFTER = 10   # a longer listing starts with its classes counted by what changed


def at_a_glance(classes: Sequence[FlowClass], allowed: bool) -> list[tuple[int, str]]:
    """Classes counted by the verdict that changed for them, most first: the direction and
    the namespace of the end it decides for, and the rules that allow on the side that
    allows (the witness's: a listing names every rule of each class), or that nothing
    isolated that end on that side."""
    counts: dict[str, int] = {}
    for c in classes:
        allowing, blocking = (c.new, c.old) if allowed else (c.old, c.new)
        parts = []
        for side, region in (("egress", c.src), ("ingress", c.dst)):
            now, before = getattr(blocking, side), getattr(allowing, side)
            if now.status is not DirectionStatus.DENIED:
                continue
            where = f"{side} of pods {namespace_text(region)}" if region.kind == "pod" else side
            if before.status is DirectionStatus.ALLOWED:
                verb = "now allowed by " if allowed else "were allowed by "
                parts.append(where + ": " + verb + ", ".join(ref_name(r) for r in before.allowed_by))
            elif allowed:
                parts.append(where + ": no longer isolated")
            else:
                parts.append(where + ": isolated now, where no policy isolated them before")
        key = "; ".join(parts) or "other"
        counts[key] = counts.get(key, 0) + 1
    return sorted(((count, key) for key, count in counts.items()), key=lambda ck: (-ck[0], ck[1]))


def _glance_lines(classes: Sequence[FlowClass], allowed: bool) -> list[str]:
    width = len(str(len(classes)))
    return ["  at a glance:",
            *(f"    {count:>{width}} {'class ' if count == 1 else 'classes'}  {key}"
              for count, key in at_a_glance(classes, allowed)),
            ""]


def _region_lines(number: int, c: FlowClass | ViolationClass) -> list[str]:
    """The lines every class starts with: its region and its witness."""
    return [
        f"  {number}. from {region_text(c.src)}",
        f"     to   {region_text(c.dst)}",
        f"     on   {ports_text(c.protocols, c.ports)}",
        f"     e.g. {flow_text(c.witness)}",
    ]


def _class_lines(number: int, c: FlowClass) -> list[str]:
    lines = _region_lines(number, c) + workloads_text.class_workload_lines(c)
    for side, d in (("old", c.old), ("new", c.new)):
        verdict = "allowed" if d.allowed else "blocked"
        details = decision_lines(d)
        lines.append(f"     {side}: {verdict}; {details[0]}")
        lines += [f"          {' ' * len(verdict)}  {more}" for more in details[1:]]
    return lines


def render_decisions(decisions: Sequence[FlowDecision], colour: bool = False) -> str:
    paint = Painter(colour)
    out = []
    for d in decisions:
        verdict = paint("ALLOW", "green") if d.allowed else paint("DENY ", "red")
        out.append(f"{verdict} {flow_text(d.flow)}")
        out += [f"      {line}" for line in decision_lines(d)]
    return "\n".join(out) + "\n" if out else ""


# -- invariants (npdiff verify, and the invariants section of a diff) ------------------------

_OPERATOR_OPS = {Operator.IN: "in", Operator.NOT_IN: "not-in", Operator.EXISTS: "exists",
                 Operator.DOES_NOT_EXIST: "absent"}
_STATUS_STYLES = {InvariantStatus.PROVEN: "green", InvariantStatus.VIOLATED: "red",
                  InvariantStatus.UNDECIDED: "yellow"}


def requirement_text(r: Requirement) -> str:
    return constraint_text(ValueConstraint(r.key, _OPERATOR_OPS[r.operator], r.values))


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def pattern_text(p: EndpointPattern) -> str:
    if p.kind == "any":
        return "anything"
    if p.kind == "address":
        assert p.ip_block is not None
        text = f"addresses {p.ip_block.cidr}"
        return text + (f" except {_names(p.ip_block.excepts)}" if p.ip_block.excepts else "")
    parts = ["pods"]
    if p.pod_selector is not None and p.pod_selector.requirements:
        parts.append("with " + ", ".join(requirement_text(r) for r in p.pod_selector.requirements))
    requirements = p.namespace_selector.requirements if p.namespace_selector is not None else ()
    by_name = [r for r in requirements if r.key == METADATA_NAME and r.operator in (Operator.IN, Operator.NOT_IN)]
    labels = [r for r in requirements if r not in by_name]
    if p.namespace is not None:
        parts.append(f"in namespace {p.namespace}")
    for r in by_name:
        if r.operator is Operator.IN:
            parts.append(f"in namespace{'s' if len(r.values) > 1 else ''} {_names(r.values)}")
        else:
            parts.append(f"in any namespace but {_names(r.values)}")
    if p.namespace is None and not by_name:
        parts.append("in any namespace")
    if labels:
        parts.append("labelled " + ", ".join(requirement_text(r) for r in labels))
    return " ".join(parts)


def patterns_text(patterns: Sequence[EndpointPattern]) -> str:
    return " or ".join(pattern_text(p) for p in patterns)


def port_spec_text(spec: PortSpec) -> str:
    if spec.port is None:
        return f"all {spec.protocol} ports"
    if isinstance(spec.port, str):
        return f"{spec.protocol} port '{spec.port}'"
    if spec.end_port is not None and spec.end_port != spec.port:
        return f"{spec.protocol} {spec.port}-{spec.end_port}"
    return f"{spec.protocol} {spec.port}"


def invariant_text(i: Invariant) -> str:
    """The claim in words."""
    on = f" on {', '.join(port_spec_text(s) for s in i.ports)}" if i.ports else ""
    src, dst = patterns_text(i.sources), patterns_text(i.destinations)
    if i.kind is InvariantKind.ONLY_FROM:
        text = f"allowed flows into {dst} come only from {src}" + (f", and only{on}" if on else "")
    elif i.kind is InvariantKind.ONLY_TO:
        text = f"allowed flows out of {src} go only to {dst}" + (f", and only{on}" if on else "")
    elif i.kind is InvariantKind.ALLOW:
        text = f"every flow from {src} to {dst}{on} is allowed"
    elif i.kind is InvariantKind.DENY:
        text = f"no flow from {src} to {dst}{on} is allowed"
    elif i.kind is InvariantKind.ISOLATED:
        directions = " and ".join(d.value for d in (Direction.INGRESS, Direction.EGRESS) if d in i.directions)
        text = f"all {src} are isolated for {directions}"
    else:
        text = "no pod reaches a pod of another namespace"
        if i.exceptions:
            names = [e.name or f"#{n}" for n, e in enumerate(i.exceptions, 1)]
            text += f", except by {len(i.exceptions)} listed exception{'s' if len(names) > 1 else ''} ({_names(names)})"
    if i.scope is Scope.NAMED_NAMESPACES:
        text += (", in the namespaces that policies or invariants name" if i.kind is InvariantKind.ISOLATED
                 else ", counting flows with an end in a namespace that policies or invariants name")
    return text


def _origin(i: Invariant) -> str:
    where = [f"preset {i.preset}" if i.preset else i.kind.value]
    if i.span is not None:
        where.append(str(i.span))
    return ", ".join(where)


def _violation_lines(number: int, c: ViolationClass) -> list[str]:
    lines = _region_lines(number, c)
    verdict = "allowed" if c.decision.allowed else "blocked"
    details = decision_lines(c.decision)
    lines.append(f"     {verdict}; {details[0]}")
    lines += [f"     {' ' * len(verdict)}  {more}" for more in details[1:]]
    return lines


def _explanation_lines(r: InvariantResult, paint: Painter) -> list[str]:
    lines: list[str] = []
    if r.status is InvariantStatus.UNDECIDED:
        return [f"  {r.reason}"]
    if r.status is InvariantStatus.VIOLATED:
        if r.classes:
            count = len(r.classes)
            lines.append(f"  {count} violating flow class{'es' if count != 1 else ''}:")
            for number, c in enumerate(r.classes, 1):
                lines += _violation_lines(number, c)
        if not r.complete:
            lines.append("  " + paint("The listing is incomplete", "yellow") + f": {r.reason}. "
                         "The status is exact; the classes above are only part of the violation.")
    return lines


def _result_lines(r: InvariantResult, paint: Painter) -> list[str]:
    status = paint(r.status.value, _STATUS_STYLES[r.status])
    return [f"{r.invariant.name}: {status} ({_origin(r.invariant)})",
            f"  {invariant_text(r.invariant)}", *_explanation_lines(r, paint)]


def _exempt_text(exempt: Sequence[tuple[str, str]]) -> str:
    return "Outside every invariant (semantics.md §6): " + \
        "; ".join(f"{traffic} ({rule})" for rule, traffic in exempt) + "."


def verify_summary_line(result: VerifyResult, paint: Painter = Painter(False)) -> str:
    total = len(result.results)
    counts = {s: result.count(s) for s in InvariantStatus}
    policies = _policies(result.policy_count)
    verdict = result.verdict
    if verdict is InvariantStatus.PROVEN:
        head = f"all {total} invariant{'s' if total != 1 else ''} hold ({policies})"
    else:
        others = [f"{counts[s]} {s.value}" for s in InvariantStatus if s is not verdict and counts[s]]
        head = f"{counts[verdict]} of {total} invariants {verdict.value}" + \
            (", " + ", ".join(others) if others else "") + f" ({policies})"
    return paint(verdict.value, _STATUS_STYLES[verdict]) + f": {head}"


def render_verify(result: VerifyResult, colour: bool = False) -> str:
    paint = Painter(colour)
    counts = {s: result.count(s) for s in InvariantStatus}
    out = [verify_summary_line(result, paint)]
    for r in result.results:
        out += ["", *_result_lines(r, paint)]
    if counts[InvariantStatus.VIOLATED]:
        out += ["", paint("Invariants range over every pod that could exist, so a violation may need a pod, "
                          "label or namespace that is not deployed today (S1.3.2).", "dim")]
    out += ["", paint(_exempt_text(result.exempt), "dim")]
    flags = ", ".join(f"{k}={_flag(v)}" for k, v in result.semantics.flags().items())
    out += ["", paint(f"semantics: {flags}", "dim")]
    return "\n".join(out) + "\n"


def review_lines(review: InvariantReview, paint: Painter) -> list[str]:
    """The invariants section of a diff: what the change breaks and repairs."""
    broken, repaired = review.count("broken"), review.count("repaired")
    style = "red" if broken else "green"
    out = ["", paint(f"Invariants: {broken} broken, {repaired} repaired, "
                     f"{review.count('unchanged')} unchanged", style)]
    for c in review.changes:
        i = c.new.invariant
        if c.change == "unchanged":
            state = (f"{c.new.status.value} before and after" if c.old.status is c.new.status
                     else f"{c.old.status.value} before, {c.new.status.value} after")
            out.append(f"  {i.name}: {state} ({_origin(i)})")
            continue
        label = paint("broken", "red") if c.change == "broken" else paint("repaired", "green")
        out.append(f"  {i.name}: {label}: {c.old.status.value} before, {c.new.status.value} after ({_origin(i)})")
        out.append(f"    {invariant_text(i)}")
        explained = c.new if c.change == "broken" else c.old
        if c.change == "repaired":
            out.append("    before, these flows violated it:")
        out += [f"  {line}" for line in _explanation_lines(explained, paint)]
    out += ["", paint(_exempt_text(review.exempt), "dim")]
    return out
