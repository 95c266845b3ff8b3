"""DNS as the policy vocabulary sees it: port 53 over UDP or TCP (W-11), and whether a
rule's ports can admit it. Shared by the load-time lint and the audit."""

from __future__ import annotations

from npdiff.model.options import Semantics
from npdiff.model.policy import PortSpec, Rule

DNS_PORT = 53


def port_may_allow_dns(port: PortSpec, semantics: Semantics) -> bool:
    if port.protocol not in ("TCP", "UDP"):
        return False
    if port.port is None or isinstance(port.port, str):
        return True  # every port, or a named port that may resolve to 53
    if port.end_port is None or semantics.endport == "first-port":
        return port.port == DNS_PORT
    return port.port <= DNS_PORT <= port.end_port


def rule_may_allow_dns(rule: Rule, semantics: Semantics) -> bool:
    return not rule.ports or any(port_may_allow_dns(p, semantics) for p in rule.ports)
