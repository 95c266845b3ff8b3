"""Warnings (semantics.md §5.4) found while loading: code, file, line, field path."""

from __future__ import annotations

import io
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from npdiff.load import load_policy_set
from npdiff.model import Diagnostic, InputError, IPBlock, Semantics, Severity
from npdiff.model.diagnostic import sorted_diagnostics
from npdiff.model.policy import Direction


def policy(body: str, name: str = "p", namespace: str | None = "prod") -> str:
    ns = f"  namespace: {namespace}\n" if namespace else ""
    return ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
            f"  name: {name}\n{ns}spec:\n" + textwrap.indent(textwrap.dedent(body), "  "))


def warnings(text: str, semantics: Semantics = Semantics(), code: str | None = None):
    loaded = load_policy_set(["-"], semantics, stdin=io.BytesIO(text.encode()))
    assert all(d.severity is not Severity.ERROR for d in loaded.diagnostics)
    return [(d.code, d.line, d.path) for d in loaded.diagnostics
            if d.severity is Severity.WARNING and (code is None or d.code == code)]


def test_w01_rules_outside_explicit_policy_types():                            # E12, E13
    text = policy("""\
    podSelector: {}
    policyTypes: [Egress]
    ingress:
    - from: [{podSelector: {}}]
    egress: [{}]
    """)
    assert warnings(text) == [("W-01", 9, "spec.ingress")]
    text = policy("""\
    podSelector: {}
    policyTypes: [Ingress]
    egress:
    - to: [{ipBlock: {cidr: 10.0.0.0/8}}]
    """)
    assert warnings(text) == [("W-01", 9, "spec.egress")]
    assert warnings(policy("podSelector: {}\negress: [{}]\ningress: [{}]\n")) == []


def test_w04_non_canonical_cidrs_and_strict_mode():                             # E52
    text = policy("""\
    podSelector: {}
    ingress:
    - from:
      - ipBlock:
          cidr: 10.0.0.1/24
          except: [10.0.0.128/025]
      - ipBlock: {cidr: "2001:0DB8::/32"}
    """)
    found = load_policy_set(["-"], Semantics(), stdin=io.BytesIO(text.encode()))
    assert [(d.code, d.line, d.path) for d in found.diagnostics] == [
        ("W-04", 11, "spec.ingress[0].from[0].ipBlock.cidr"),
        ("W-04", 12, "spec.ingress[0].from[0].ipBlock.except[0]"),
        ("W-04", 13, "spec.ingress[0].from[1].ipBlock.cidr"),
    ]
    assert "10.0.0.0/24" in found.diagnostics[0].message
    assert found.policy_set.policies[0].ingress[0].peers[0].ip_block == IPBlock(
        "10.0.0.0/24", ("10.0.0.128/25",))
    with pytest.raises(InputError) as info:
        load_policy_set(["-"], Semantics(strict_cidr=True), stdin=io.BytesIO(text.encode()))
    assert [(d.severity, d.code, d.line) for d in info.value.diagnostics] == [
        (Severity.ERROR, "W-04", 11), (Severity.ERROR, "W-04", 12), (Severity.ERROR, "W-04", 13)]


def test_w05_ipv4_mapped_ipv6():
    text = policy('podSelector: {}\ningress:\n- from: [{ipBlock: {cidr: "::ffff:10.0.0.0/104"}}]\n')
    assert warnings(text) == [("W-05", 9, "spec.ingress[0].from[0].ipBlock.cidr")]


def test_w06_one_catch_all_without_the_other():                                # E38
    text = policy("""\
    podSelector: {}
    policyTypes: [Egress]
    egress:
    - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
    - to: [{ipBlock: {cidr: 0.0.0.0/0}}, {ipBlock: {cidr: "::/0"}}]
    - to: [{ipBlock: {cidr: "::/0", except: ["fd00::/8"]}}]
    """)
    assert warnings(text, code="W-06") == [("W-06", 10, "spec.egress[0].to"),
                                          ("W-06", 12, "spec.egress[2].to")]


def test_w08_named_port_with_only_ip_block_peers():
    text = policy("""\
    podSelector: {}
    egress:
    - to: [{ipBlock: {cidr: 10.0.0.0/8}}]
      ports:
      - port: http
    - to: [{ipBlock: {cidr: 10.0.0.0/8}}, {podSelector: {}}]
      ports: [{port: http}]
    - ports: [{port: dns, protocol: UDP}]
    """)
    assert warnings(text) == [("W-08", 11, "spec.egress[0].ports[0].port")]
    ingress = policy("podSelector: {}\ningress:\n- from: [{ipBlock: {cidr: 10.0.0.0/8}}]\n"
                     "  ports: [{port: http}]\n")
    assert warnings(ingress) == []


def test_every_port_entry_of_a_rule_is_looked_at():
    text = policy("""\
    podSelector: {}
    policyTypes: [Egress]
    egress:
    - to: [{ipBlock: {cidr: 10.0.0.0/8}}]
      ports:
      - {port: 80}
      - {port: http}
      - {port: metrics, protocol: SCTP}
      - {port: 8000, endPort: 8080}
    """)
    assert warnings(text) == [("W-08", 13, "spec.egress[0].ports[1].port"),
                              ("W-08", 14, "spec.egress[0].ports[2].port"),
                              ("W-09", 14, "spec.egress[0].ports[2].protocol"),
                              ("W-09", 15, "spec.egress[0].ports[3].endPort")]


def test_w09_end_port_and_sctp():
    text = policy("""\
    podSelector: {}
    ingress:
    - ports:
      - {port: 32000, endPort: 32768}
      - {protocol: SCTP, port: 5432}
    """)
    assert warnings(text) == [("W-09", 10, "spec.ingress[0].ports[0].endPort"),
                              ("W-09", 11, "spec.ingress[0].ports[1].protocol")]


def test_w10_namespace_name_selector_with_invalid_name():
    text = policy("""\
    podSelector: {}
    ingress:
    - from:
      - namespaceSelector:
          matchLabels: {kubernetes.io/metadata.name: Prod_1}
      - namespaceSelector:
          matchExpressions:
          - {key: kubernetes.io/metadata.name, operator: In, values: [ops, a.b]}
      - podSelector:
          matchLabels: {kubernetes.io/metadata.name: Prod_1}
    """)
    assert warnings(text) == [
        ("W-10", 11, "spec.ingress[0].from[0].namespaceSelector.matchLabels"
                     "[kubernetes.io/metadata.name]"),
        ("W-10", 14, "spec.ingress[0].from[1].namespaceSelector.matchExpressions[0]"),
    ]


def test_w11_egress_isolation_without_dns():
    deny = policy("podSelector: {}\npolicyTypes: [Egress]\n", name="deny")
    found = load_policy_set(["-"], Semantics(), stdin=io.BytesIO(deny.encode())).diagnostics
    assert [(d.code, d.line, d.path) for d in found] == [("W-11", 1, "spec.egress")]
    assert "'prod'" in found[0].message and "deny" in found[0].message

    def allowed_by(rule: str, semantics: Semantics = Semantics()) -> bool:
        other = policy("podSelector: {}\negress:\n" + textwrap.indent(rule, "  "),
                       name="allow")
        return not warnings(deny + "---\n" + other, semantics, code="W-11")

    assert allowed_by("- to: [{namespaceSelector: {}}]\n")
    assert allowed_by("- ports: [{port: 53, protocol: UDP}]\n")
    assert allowed_by("- ports: [{port: 50, endPort: 60}]\n")
    assert not allowed_by("- ports: [{port: 50, endPort: 60}]\n", Semantics(endport="first-port"))
    assert allowed_by("- ports: [{port: dns, protocol: UDP}]\n")
    assert allowed_by("- ports: [{protocol: TCP}]\n")
    assert not allowed_by("- ports: [{port: 443}, {port: 53, protocol: SCTP}]\n")
    # another namespace's rule does not help
    elsewhere = policy("podSelector: {}\negress: [{}]\n", name="allow", namespace="dev")
    assert warnings(deny + "---\n" + elsewhere, code="W-11") == [("W-11", 1, "spec.egress")]
    # egress rules of a policy that does not apply for egress do not count
    dead = policy("podSelector: {}\npolicyTypes: [Ingress]\negress: [{}]\n", name="dead")
    assert ("W-11", 1, "spec.egress") in warnings(deny + "---\n" + dead)


def test_w15_duplicate_policy_types_and_missing_namespace():                   # E53
    (loaded_policy,) = load_policy_set(["-"], Semantics(), stdin=io.BytesIO(policy(
        "podSelector: {}\npolicyTypes: [Ingress, Ingress]\n").encode())).policy_set.policies
    assert loaded_policy.policy_types == {Direction.INGRESS}
    assert warnings(policy("podSelector: {}\npolicyTypes: [Ingress, Ingress]\n")) == [
        ("W-15", 8, "spec.policyTypes")]
    text = policy("podSelector: {}\n", namespace=None)
    assert warnings(text) == [("W-15", 3, "metadata.namespace")]
    loaded = load_policy_set(["-"], Semantics(default_namespace="team"),
                             stdin=io.BytesIO(text.encode()))
    assert loaded.policy_set.policies[0].namespace == "team"
    assert loaded.policy_set.objects[0].namespace == "team"


def test_diagnostics_are_sorted_and_carry_the_file(tmp_path):
    (tmp_path / "b.yaml").write_text(policy("podSelector: {}\npolicyTypes: [Ingress, Ingress]\n"))
    (tmp_path / "a.yaml").write_text(policy("podSelector: {}\n", name="q", namespace=None))
    loaded = load_policy_set([str(tmp_path)], Semantics())
    assert [(d.file.rsplit("/", 1)[1], d.code) for d in loaded.diagnostics] == [
        ("a.yaml", "W-15"), ("b.yaml", "W-15")]
    assert list(loaded.diagnostics) == sorted(loaded.diagnostics)


@given(st.lists(st.builds(Diagnostic, st.sampled_from(["a.yaml", "b.yaml", ""]), st.integers(0, 3),
                          st.sampled_from(list(Severity)), st.sampled_from(["W-09", "E-NP-01"]),
                          st.sampled_from(["", "spec"]), st.sampled_from(["m", "n"])), max_size=12))
def test_diagnostics_sort_by_their_key_as_by_their_fields(diagnostics):
    assert sorted_diagnostics(diagnostics) == tuple(sorted(diagnostics))


def test_diagnostics_merge_as_sorted_sets_would():
    from itertools import chain

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from npdiff.model import Diagnostic
    from npdiff.model.diagnostic import unique_sorted

    # Few values per field, so that ties on the first fields and duplicates are common.
    diagnostic = st.builds(Diagnostic, st.sampled_from(["a.yaml", "b.yaml", ""]), st.integers(0, 3),
                           st.sampled_from(list(Severity)), st.sampled_from(["W-08", "W-09"]),
                           st.sampled_from(["", "spec"]), st.sampled_from(["x", "y"]))

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.lists(diagnostic, max_size=12), max_size=4))
    def merged(groups):
        assert unique_sorted(*groups) == tuple(sorted(set(chain.from_iterable(groups))))

    merged()
