"""The implementation-defined choices of semantics.md §6, as one record carried everywhere."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Semantics:
    ipblock_matches_pods: bool = False          # S6.1
    pod_cidrs: tuple[str, ...] = ()             # S6.1, with ipblock_matches_pods
    allow_from_local_node: bool = True          # S6.4
    self_traffic: str = "allow"                 # S6.5: allow | policy
    endport: str = "range"                      # S6.7: range | first-port
    sctp: str = "supported"                     # S6.8: supported | unsupported
    default_namespace: str = "default"          # S3.1.1
    strict_cidr: bool = False                   # W-04 as an error
    timeout_ms: int = 60_000                    # budget of one solver check

    def flags(self) -> dict[str, object]:
        """The settings as shown in every report header, so results are reproducible."""
        return {
            "ipblock-matches-pods": self.ipblock_matches_pods,
            "pod-cidr": list(self.pod_cidrs),
            "allow-from-local-node": self.allow_from_local_node,
            "self-traffic": self.self_traffic,
            "endport": self.endport,
            "sctp": self.sctp,
        }
