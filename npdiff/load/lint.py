"""Warnings about valid policies that probably do not do what their author meant
(semantics.md §5.4: W-06, W-08, W-09, W-11). W-01, W-04, W-05, W-10 and W-15 are found
while reading, where the text is at hand.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from npdiff.model import Diagnostic, NetworkPolicy, PortSpec, Rule, Semantics, Severity
from npdiff.model.dns import rule_may_allow_dns
from npdiff.model.policy import Direction

_PEERS_KEY = {Direction.INGRESS: "from", Direction.EGRESS: "to"}
_CATCH_ALL = {"0.0.0.0/0": ("IPv4", "0.0.0.0/0", "IPv6", "::/0"),
              "::/0": ("IPv6", "::/0", "IPv4", "0.0.0.0/0")}


def _warning(span_file: str, line: int, code: str, path: str, message: str) -> Diagnostic:
    return Diagnostic(span_file, line, Severity.WARNING, code, path, message)


def _rule_path(rule: Rule) -> str:
    return f"spec.{rule.direction.value}[{rule.index}]"


def _where(policy: NetworkPolicy, rule_or_port: Rule | PortSpec) -> tuple[str, int]:
    # The file is the policy's: a port entry taken from the other side's copy of a file
    # keeps that copy's name in its span (load/sides.py).
    span = rule_or_port.span or policy.span
    if span is None:
        return ("", 0)
    return (policy.span.file if policy.span else span.file), span.line


def _catch_all_warning(policy: NetworkPolicy, rule: Rule) -> Diagnostic | None:
    present = {peer.ip_block.cidr for peer in rule.peers
               if peer.ip_block is not None and peer.ip_block.cidr in _CATCH_ALL}
    if len(present) != 1:
        return None
    family, cidr, other_family, other = _CATCH_ALL[present.pop()]
    file, line = _where(policy, rule)
    return _warning(file, line, "W-06", f"{_rule_path(rule)}.{_PEERS_KEY[rule.direction]}",
                    f"peers include {cidr} (every {family} address) but not {other}: "
                    f"{other_family} traffic is not covered")


def _port_warnings(policy: NetworkPolicy, rule: Rule, found: list[Diagnostic]) -> None:
    only_ip_blocks = None    # asked only of an egress rule with a named port
    for index, port in enumerate(rule.ports):
        named = False
        if isinstance(port.port, str) and rule.direction is Direction.EGRESS:
            if only_ip_blocks is None:
                only_ip_blocks = bool(rule.peers) and all(p.ip_block is not None for p in rule.peers)
            named = only_ip_blocks
        if not named and port.end_port is None and port.protocol != "SCTP":
            continue  # the common case: nothing to say, so no path to build
        file, line = _where(policy, port)
        path = f"{_rule_path(rule)}.ports[{index}]"
        if named:
            found.append(_warning(file, line, "W-08", f"{path}.port",
                                  f"named port {port.port!r} with only ipBlock peers: it matches only "
                                  "pod destinations inside the blocks, and only where ipBlock "
                                  "matches pod IPs (--ipblock-matches-pods)"))
        if port.end_port is not None:
            found.append(_warning(file, line, "W-09", f"{path}.endPort",
                                  "endPort is ignored by some network plugins, which then allow only "
                                  f"port {port.port} (--endport=first-port models them)"))
        if port.protocol == "SCTP":
            found.append(_warning(file, line, "W-09", f"{path}.protocol",
                                  "SCTP is not supported by every network plugin "
                                  "(--sctp=unsupported models them)"))


def warnings_about(policies: Iterable[NetworkPolicy]) -> list[Diagnostic]:
    """The warnings about each policy in turn (a file's: what a side sharing it renames)."""
    return [warning for policy in policies for warning in policy_warnings(policy)]


def policy_warnings(policy: NetworkPolicy) -> list[Diagnostic]:
    # Called for every policy of both sides of a diff: the common rule, with neither a
    # catch-all block nor a port to remark on, is passed over with as little as possible.
    found: list[Diagnostic] = []
    for rules in (policy.ingress, policy.egress):
        for rule in rules:
            if rule.peers:
                catch_all = _catch_all_warning(policy, rule)
                if catch_all is not None:
                    found.append(catch_all)
            if rule.ports:
                _port_warnings(policy, rule, found)
    return found


def dns_warnings(policies: Iterable[NetworkPolicy], semantics: Semantics) -> list[Diagnostic]:
    """W-11, per namespace: egress is isolated and no egress rule there can allow port 53."""
    isolating: dict[str, list[NetworkPolicy]] = defaultdict(list)
    for policy in policies:
        if policy.applies(Direction.EGRESS):
            isolating[policy.namespace].append(policy)
    found = []
    for namespace, group in sorted(isolating.items()):
        if any(rule_may_allow_dns(r, semantics) for p in group for r in p.egress):
            continue
        group.sort(key=lambda p: p.name)
        first = group[0]
        file, line = (first.span.file, first.span.line) if first.span else ("", 0)
        shown = ", ".join(p.name for p in group[:3]) + (", ..." if len(group) > 3 else "")
        found.append(_warning(file, line, "W-11", "spec.egress",
                              f"namespace {namespace!r}: egress is isolated (by {shown}) and no "
                              "egress rule there allows DNS (UDP or TCP port 53)"))
    return found
