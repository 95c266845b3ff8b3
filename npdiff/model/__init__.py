"""Frozen data: selectors, policies, flows, diagnostics and analysis results. No I/O, no z3."""

from npdiff.model.diagnostic import Diagnostic, InputError, Severity
from npdiff.model.flow import Address, Endpoint, Flow, NamedPort, Pod
from npdiff.model.options import Semantics
from npdiff.model.policy import (
    IPBlock,
    NetworkPolicy,
    Peer,
    PolicySet,
    PortSpec,
    Rule,
    SourceObject,
)
from npdiff.model.selector import LabelSelector, Requirement
from npdiff.model.span import Span

__all__ = [
    "Address", "Diagnostic", "Endpoint", "Flow", "IPBlock", "InputError", "LabelSelector",
    "NamedPort", "NetworkPolicy", "Peer", "Pod", "PolicySet", "PortSpec", "Requirement",
    "Rule", "Semantics", "Severity", "SourceObject", "Span",
]
