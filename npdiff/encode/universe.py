"""The finite vocabulary that policies mention ("atoms", design.md §6).

Label values no policy mentions collapse into one "other" value per key; namespaces no
policy names collapse into one "other" namespace; ports and addresses are cut at the
boundaries policies mention, so every verdict is constant between two cuts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from npdiff.model import LabelSelector, NetworkPolicy, PolicySet, Semantics
from npdiff.model import names
from npdiff.model.flow import METADATA_NAME

ABSENT = 0  # index of "key absent" in every label domain


@dataclass(frozen=True)
class Vocabulary:
    """What something other than a policy (an invariant, say) mentions, so that it joins
    the atoms and regions stay exact."""

    namespaces: tuple[str, ...] = ()
    pod_selectors: tuple[LabelSelector, ...] = ()
    namespace_selectors: tuple[LabelSelector, ...] = ()
    cidrs: tuple[str, ...] = ()
    port_names: tuple[str, ...] = ()
    port_ranges: tuple[tuple[int, int], ...] = ()   # inclusive


@dataclass(frozen=True)
class Universe:
    namespaces: tuple[str, ...]                   # named atoms; index len() is "other"
    pod_keys: tuple[tuple[str, tuple[str, ...]], ...]   # key -> mentioned values, sorted
    ns_keys: tuple[tuple[str, tuple[str, ...]], ...]    # same for namespace labels
    port_names: tuple[str, ...]
    port_cuts: tuple[int, ...]                    # atom starts in 1..65535, first is 1
    v4_cuts: tuple[int, ...]                      # atom starts in 0..2**32-1, first is 0
    v6_cuts: tuple[int, ...]

    @property
    def other_namespace(self) -> int:
        return len(self.namespaces)

    def namespace_index(self, name: str) -> int:
        try:
            return self.namespaces.index(name)
        except ValueError:
            return self.other_namespace

    @staticmethod
    def value_index(values: tuple[str, ...], value: str | None) -> int:
        """0 for an absent key, 1..n for a mentioned value, n+1 for any other value."""
        if value is None:
            return ABSENT
        try:
            return values.index(value) + 1
        except ValueError:
            return len(values) + 1

    @classmethod
    def build(cls, policy_sets: Iterable[PolicySet], semantics: Semantics,
              extra: Vocabulary | None = None) -> Universe:
        namespaces: set[str] = set()
        pod_keys: dict[str, set[str]] = {}
        ns_keys: dict[str, set[str]] = {}
        port_names: set[str] = set()
        ports: set[int] = {1}
        v4: set[int] = {0}
        v6: set[int] = {0}

        def add_selector(selector: LabelSelector | None, keys: dict[str, set[str]]) -> None:
            if selector is None:
                return
            for req in selector.requirements:
                if keys is ns_keys and req.key == METADATA_NAME:
                    # A name no namespace can have (W-10) matches no namespace at all.
                    namespaces.update(v for v in req.values if names.dns_label(v) is None)
                    continue
                keys.setdefault(req.key, set()).update(req.values)

        def add_cidr(text: str) -> None:
            net = ipaddress.ip_network(text, strict=False)
            cuts = v4 if net.version == 4 else v6
            cuts.add(int(net.network_address))
            end = int(net.broadcast_address) + 1
            if end < 2 ** net.max_prefixlen:
                cuts.add(end)

        for policy_set in policy_sets:
            for policy in policy_set.policies:
                namespaces.add(policy.namespace)
                add_selector(policy.pod_selector, pod_keys)
                for rule in _rules(policy):
                    for peer in rule.peers:
                        add_selector(peer.pod_selector, pod_keys)
                        add_selector(peer.namespace_selector, ns_keys)
                        if peer.ip_block is not None:
                            add_cidr(peer.ip_block.cidr)
                            for exc in peer.ip_block.excepts:
                                add_cidr(exc)
                    for spec in rule.ports:
                        if isinstance(spec.port, str):
                            port_names.add(spec.port)
                        elif isinstance(spec.port, int):
                            end = spec.port
                            if spec.end_port is not None and semantics.endport == "range":
                                end = spec.end_port
                            ports.add(spec.port)
                            if end < 65535:
                                ports.add(end + 1)
        for cidr in semantics.pod_cidrs:
            add_cidr(cidr)
        if extra is not None:
            namespaces.update(extra.namespaces)
            for selector in extra.pod_selectors:
                add_selector(selector, pod_keys)
            for selector in extra.namespace_selectors:
                add_selector(selector, ns_keys)
            for cidr in extra.cidrs:
                add_cidr(cidr)
            port_names.update(extra.port_names)
            for low, high in extra.port_ranges:
                ports.add(low)
                if high < 65535:
                    ports.add(high + 1)
        return cls(
            namespaces=tuple(sorted(namespaces)),
            pod_keys=tuple((k, tuple(sorted(v))) for k, v in sorted(pod_keys.items())),
            ns_keys=tuple((k, tuple(sorted(v))) for k, v in sorted(ns_keys.items())),
            port_names=tuple(sorted(port_names)),
            port_cuts=tuple(sorted(ports)),
            v4_cuts=tuple(sorted(v4)),
            v6_cuts=tuple(sorted(v6)),
        )


def _rules(policy: NetworkPolicy):
    return policy.ingress + policy.egress
