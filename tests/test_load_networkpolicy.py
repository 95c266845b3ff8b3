"""NetworkPolicy reading: normalisation (semantics.md §3.1), spans, and every E-NP code (§5.1)."""

from __future__ import annotations

import io
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npdiff.load import Loaded, load_policy_set
from npdiff.model import InputError, IPBlock, LabelSelector, Requirement, Semantics
from npdiff.model.policy import Direction
from npdiff.model.selector import Operator

HEAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: p
  namespace: prod
spec:
  podSelector: {}
"""  # the first added spec line is line 8


def load(text: str, semantics: Semantics = Semantics()) -> Loaded:
    return load_policy_set(["-"], semantics, stdin=io.BytesIO(text.encode()))


def spec(body: str) -> str:
    return HEAD + textwrap.indent(textwrap.dedent(body), "  ")


def one(body: str, semantics: Semantics = Semantics()):
    (policy,) = load(spec(body), semantics).policy_set.policies
    return policy


def errors(text: str, semantics: Semantics = Semantics()) -> list[tuple[str, int, str]]:
    with pytest.raises(InputError) as info:
        load(text, semantics)
    return [(d.code, d.line, d.path) for d in info.value.diagnostics]


def req(key: str, op: Operator, *values: str) -> Requirement:
    return Requirement(key, op, tuple(values))


# --- normalisation ------------------------------------------------------------------------


def test_policy_types_default_from_egress_presence():
    assert one("").policy_types == {Direction.INGRESS}                          # E3
    assert one("egress: []\n").policy_types == {Direction.INGRESS}              # E4
    assert one("policyTypes: []\negress: [{}]\n").policy_types == {
        Direction.INGRESS, Direction.EGRESS}                                    # E7
    assert one("policyTypes: [Egress]\n").policy_types == {Direction.EGRESS}   # E5
    assert one("policyTypes: [Ingress, Egress]\n").egress == ()


def test_null_absent_and_empty_lists_are_identical():
    base = one("ingress:\n- {}\n")
    for variant in ("ingress:\n- from: []\n  ports: []\n", "ingress:\n- from:\n  ports: ~\n",
                    "ingress:\n-\n"):
        assert one(variant) == base
    assert one("ingress: []\negress: null\n") == one("") == one("ingress:\n")


def test_pod_selector_null_or_absent_is_empty():                                # E26
    text = HEAD.replace("  podSelector: {}\n", "  podSelector: null\n")
    assert load(text).policy_set.policies[0].pod_selector == LabelSelector(())
    text = HEAD.replace("spec:\n  podSelector: {}\n", "")
    (policy,) = load(text).policy_set.policies
    assert policy.pod_selector == LabelSelector(()) and policy.policy_types == {Direction.INGRESS}


def test_selectors_become_sorted_deduplicated_requirements():
    policy = one("""\
    ingress:
    - from:
      - podSelector:
          matchLabels: {tier: fe, app: web}
          matchExpressions:
          - {key: app, operator: In, values: [web]}
          - {key: env, operator: NotIn, values: [b, a, a]}
          - {key: zone, operator: Exists}
        namespaceSelector: {}
      - namespaceSelector: {matchLabels: {}, matchExpressions: []}
    """)
    first, second = policy.ingress[0].peers
    assert first.pod_selector == LabelSelector((
        req("app", Operator.IN, "web"), req("env", Operator.NOT_IN, "a", "b"),
        req("tier", Operator.IN, "fe"), req("zone", Operator.EXISTS)))
    assert first.namespace_selector == LabelSelector(())
    assert second.pod_selector is None and second.namespace_selector == LabelSelector(())
    assert first.ip_block is None


def test_empty_label_value_and_null_label_value():
    policy = one("ingress:\n- from:\n  - podSelector:\n      matchLabels: {tier: \"\", app: }\n")
    assert policy.ingress[0].peers[0].pod_selector == LabelSelector((req("app", Operator.IN, ""),
                                                 req("tier", Operator.IN, "")))


def test_ports_default_to_tcp_and_keep_numbers_names_and_ranges():
    (rule,) = one("""\
    ingress:
    - ports:
      - {}
      - port: 53
        protocol: UDP
      - port: http
      - {port: 32000, endPort: 32768}
      - {protocol: SCTP}
    """).ingress
    assert [(p.protocol, p.port, p.end_port) for p in rule.ports] == [
        ("TCP", None, None), ("UDP", 53, None), ("TCP", "http", None), ("TCP", 32000, 32768),
        ("SCTP", None, None)]


def test_ip_blocks_are_canonical_masked_networks():
    (rule,) = one("""\
    egress:
    - to:
      - ipBlock:
          cidr: 10.0.0.1/8
          except: [10.1.2.3/16, 010.2.0.0/16]
      - ipBlock: {cidr: "2001:DB8:0:0::/32"}
    """).egress
    assert rule.peers[0].ip_block == IPBlock("10.0.0.0/8", ("10.1.0.0/16", "10.2.0.0/16"))
    assert rule.peers[1].ip_block == IPBlock("2001:db8::/32")


def test_spans_of_policy_rules_peers_and_ports():
    text = "# leading comment\n---\n" + spec("""\
    ingress:
    - from:
      - podSelector: {}
      - ipBlock:
          cidr: 10.0.0.0/8
      ports:
      - port: 80
      - {port: 443}
    egress:
    - {}
    - to: [{namespaceSelector: {}}]
      ports: [{port: 53, protocol: UDP}]
    """)
    (policy,) = load(text).policy_set.policies
    assert str(policy.span) == "<stdin>:3"
    ingress, = policy.ingress
    assert (ingress.index, ingress.span.line) == (0, 11)
    assert [p.span.line for p in ingress.peers] == [12, 13]
    assert [p.span.line for p in ingress.ports] == [16, 17]
    assert [(r.index, r.span.line, r.direction) for r in policy.egress] == [
        (0, 19, Direction.EGRESS), (1, 20, Direction.EGRESS)]
    assert policy.egress[1].peers[0].span.line == 20 and policy.egress[1].ports[0].span.line == 21


def test_metadata_fields_and_status_are_allowed():
    text = HEAD.replace("  namespace: prod\n", """\
  namespace: prod
  labels: {app.kubernetes.io/name: x}
  annotations: {note: "free text: anything"}
  uid: 0b0e2b7e-0000-0000-0000-000000000000
  resourceVersion: "123"
  generation: 2
  creationTimestamp: 2024-01-01T00:00:00Z
  managedFields: [{manager: kubectl, fieldsV1: {f:spec: {}}}]
  finalizers: [x/y]
  ownerReferences: []
""") + "status: {}\n"
    assert load(text).policy_set.policies[0].key == "prod/p"


# --- errors -------------------------------------------------------------------------------

CASES = [
    # E44, E51: a peer with no selector
    ("ingress:\n- from:\n  - {}\n", "E-NP-04", 10, "spec.ingress[0].from[0]"),
    ("ingress:\n- from:\n  - podSelector: null\n", "E-NP-04", 10, "spec.ingress[0].from[0]"),
    ("egress:\n- to:\n  -\n", "E-NP-04", 10, "spec.egress[0].to[0]"),
    # E45
    ("ingress:\n- from:\n  - {ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}\n",
     "E-NP-05", 10, "spec.ingress[0].from[0]"),
    # E-NP-06
    ("egress:\n- to:\n  - ipBlock:\n      cidr: 10.0.0.0\n",
     "E-NP-06", 11, "spec.egress[0].to[0].ipBlock.cidr"),
    ("egress:\n- to:\n  - ipBlock: {cidr: \"\"}\n", "E-NP-06", 10, "spec.egress[0].to[0].ipBlock.cidr"),
    ("egress:\n- to:\n  - ipBlock: {except: [10.0.0.0/8]}\n",
     "E-NP-06", 10, "spec.egress[0].to[0].ipBlock.cidr"),
    ("egress:\n- to:\n  - ipBlock: {cidr: 10.0.0.0/33}\n",
     "E-NP-06", 10, "spec.egress[0].to[0].ipBlock.cidr"),
    ("egress:\n- to:\n  - ipBlock: {cidr: 256.0.0.0/8}\n",
     "E-NP-06", 10, "spec.egress[0].to[0].ipBlock.cidr"),
    ("egress:\n- to:\n  - ipBlock: {cidr: \"fe80::1%eth0/64\"}\n",
     "E-NP-06", 10, "spec.egress[0].to[0].ipBlock.cidr"),
    # E48
    ("ingress:\n- from:\n  - ipBlock:\n      cidr: 10.0.0.0/16\n      except:\n      - 10.0.0.0/16\n",
     "E-NP-07", 13, "spec.ingress[0].from[0].ipBlock.except[0]"),
    ("ingress:\n- from:\n  - ipBlock:\n      cidr: 10.0.0.0/16\n      except:\n      - 10.1.0.0/24\n",
     "E-NP-07", 13, "spec.ingress[0].from[0].ipBlock.except[0]"),
    ("ingress:\n- from:\n  - ipBlock:\n      cidr: 10.0.0.0/16\n      except:\n      - fd00::/64\n",
     "E-NP-07", 13, "spec.ingress[0].from[0].ipBlock.except[0]"),
    ("ingress:\n- from:\n  - ipBlock:\n      cidr: 10.0.0.0/16\n      except: [10.0.1.0/24, x]\n",
     "E-NP-07", 12, "spec.ingress[0].from[0].ipBlock.except[1]"),
    # E49
    ("ingress:\n- ports:\n  - protocol: tcp\n", "E-NP-08", 10, "spec.ingress[0].ports[0].protocol"),
    ("ingress:\n- ports:\n  - protocol: ICMP\n", "E-NP-08", 10, "spec.ingress[0].ports[0].protocol"),
    ("policyTypes: [ingress]\n", "E-NP-03", 8, "spec.policyTypes[0]"),
    # E53
    ("policyTypes: [Ingress, Egress, Ingress]\n", "E-NP-03", 8, "spec.policyTypes"),
    # E-NP-09
    ("ingress:\n- ports:\n  - port: 0\n", "E-NP-09", 10, "spec.ingress[0].ports[0].port"),
    ("ingress:\n- ports:\n  - port: 65536\n", "E-NP-09", 10, "spec.ingress[0].ports[0].port"),
    # E46
    ("ingress:\n- ports:\n  - port: \"80\"\n", "E-NP-10", 10, "spec.ingress[0].ports[0].port"),
    ("ingress:\n- ports:\n  - port: HTTP\n", "E-NP-10", 10, "spec.ingress[0].ports[0].port"),
    ("ingress:\n- ports:\n  - port: a--b\n", "E-NP-10", 10, "spec.ingress[0].ports[0].port"),
    ("ingress:\n- ports:\n  - port: -web\n", "E-NP-10", 10, "spec.ingress[0].ports[0].port"),
    ("ingress:\n- ports:\n  - port: averyveryverylongname\n",
     "E-NP-10", 10, "spec.ingress[0].ports[0].port"),
    # E47
    ("ingress:\n- ports:\n  - {endPort: 90}\n", "E-NP-11", 10, "spec.ingress[0].ports[0].endPort"),
    ("ingress:\n- ports:\n  - port: http\n    endPort: 90\n",
     "E-NP-12", 11, "spec.ingress[0].ports[0].endPort"),
    ("ingress:\n- ports:\n  - {port: 90, endPort: 80}\n",
     "E-NP-13", 10, "spec.ingress[0].ports[0].endPort"),
    ("ingress:\n- ports:\n  - {port: 90, endPort: 70000}\n",
     "E-NP-13", 10, "spec.ingress[0].ports[0].endPort"),
    # E50
    ("podSelector:\n  matchExpressions:\n  - {key: app, operator: In, values: []}\n",
     "E-NP-14", 10, "spec.podSelector.matchExpressions[0].values"),
    ("podSelector:\n  matchExpressions:\n  - {key: app, operator: NotIn}\n",
     "E-NP-14", 10, "spec.podSelector.matchExpressions[0].values"),
    ("podSelector:\n  matchExpressions:\n  - {key: app, operator: Exists, values: [x]}\n",
     "E-NP-14", 10, "spec.podSelector.matchExpressions[0].values"),
    ("podSelector:\n  matchExpressions:\n  - key: app\n    operator: in\n    values: [x]\n",
     "E-NP-14", 11, "spec.podSelector.matchExpressions[0].operator"),
    ("podSelector:\n  matchExpressions:\n  - {key: app}\n",
     "E-NP-14", 10, "spec.podSelector.matchExpressions[0].operator"),
    # E-NP-15
    ("podSelector:\n  matchLabels:\n    -app: web\n",
     "E-NP-15", 10, "spec.podSelector.matchLabels[-app]"),
    ("podSelector:\n  matchLabels:\n    app: web server\n",
     "E-NP-15", 10, "spec.podSelector.matchLabels[app]"),
    ("podSelector:\n  matchLabels:\n    a/b/c: x\n",
     "E-NP-15", 10, "spec.podSelector.matchLabels[a/b/c]"),
    ("podSelector:\n  matchLabels:\n    /app: x\n",
     "E-NP-15", 10, "spec.podSelector.matchLabels[/app]"),
    ("podSelector:\n  matchLabels:\n    Example.COM/app: x\n",
     "E-NP-15", 10, "spec.podSelector.matchLabels[Example.COM/app]"),
    ("podSelector:\n  matchLabels:\n    app: " + "v" * 64 + "\n",
     "E-NP-15", 10, "spec.podSelector.matchLabels[app]"),
    ("ingress:\n- from:\n  - namespaceSelector:\n      matchExpressions:\n"
     "      - {key: env, operator: In, values: [ok, -bad]}\n",
     "E-NP-15", 12, "spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values[1]"),
    ("podSelector:\n  matchExpressions:\n  - {operator: Exists}\n",
     "E-NP-15", 10, "spec.podSelector.matchExpressions[0].key"),
    # E-NP-16: wrong types and unknown fields
    ("ingress:\n- ports:\n  - port: 80.5\n", "E-NP-16", 10, "spec.ingress[0].ports[0].port"),
    ("ingress:\n- ports:\n  - port: true\n", "E-NP-16", 10, "spec.ingress[0].ports[0].port"),
    ("ingress:\n- ports:\n  - {port: 80, endPort: \"90\"}\n",
     "E-NP-16", 10, "spec.ingress[0].ports[0].endPort"),
    ("ingress:\n- ports:\n  - protocol: [TCP]\n", "E-NP-16", 10, "spec.ingress[0].ports[0].protocol"),
    ("podSelector:\n  matchLabels:\n    app: yes\n",
     "E-NP-16", 10, "spec.podSelector.matchLabels[app]"),
    ("podSelector:\n  matchLabels: [app]\n", "E-NP-16", 9, "spec.podSelector.matchLabels"),
    ("ingress:\n  from: []\n", "E-NP-16", 8, "spec.ingress"),
    ("ingress:\n- from: {podSelector: {}}\n", "E-NP-16", 9, "spec.ingress[0].from"),
    ("ingress:\n- to: []\n", "E-NP-16", 9, "spec.ingress[0].to"),
    ("egress:\n- from: []\n", "E-NP-16", 9, "spec.egress[0].from"),
    ("podselector: {}\n", "E-NP-16", 8, "spec.podselector"),
    ("policyTypes: Ingress\n", "E-NP-16", 8, "spec.policyTypes"),
    ("policyTypes: [Ingress, 1]\n", "E-NP-16", 8, "spec.policyTypes[1]"),
    ("ingress:\n- ports:\n  - {port: 80, portName: x}\n",
     "E-NP-16", 10, "spec.ingress[0].ports[0].portName"),
    ("ingress:\n- from:\n  - podSelector: {matchLabel: {a: b}}\n",
     "E-NP-16", 10, "spec.ingress[0].from[0].podSelector.matchLabel"),
    ("ingress:\n- from:\n  - ipBlock: {cidr: 10.0.0.0/8, excepts: []}\n",
     "E-NP-16", 10, "spec.ingress[0].from[0].ipBlock.excepts"),
    ("podSelector:\n  matchExpressions:\n  - {key: a, operator: In, values: [x], value: y}\n",
     "E-NP-16", 10, "spec.podSelector.matchExpressions[0].value"),
    ("podSelector:\n  matchLabels:\n    1: x\n", "E-NP-16", 10, "spec.podSelector.matchLabels"),
]


@pytest.mark.parametrize("body, code, line, path", CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_each_error(body, code, line, path):
    head = HEAD
    if body.startswith("podSelector"):
        head = HEAD.replace("  podSelector: {}\n", "  policyTypes: [Ingress]\n")
    assert errors(head + textwrap.indent(body, "  ")) == [(code, line, path)]


def test_unknown_peer_field_also_leaves_the_peer_empty():
    assert errors(spec("ingress:\n- from:\n  - cidr: 10.0.0.0/8\n")) == [
        ("E-NP-04", 10, "spec.ingress[0].from[0]"), ("E-NP-16", 10, "spec.ingress[0].from[0].cidr")]


def test_every_np_error_code_is_covered():
    codes = {case[1] for case in CASES} | {"E-NP-01", "E-NP-02"}
    assert codes == {f"E-NP-{i:02d}" for i in range(1, 17)}


@pytest.mark.parametrize("metadata, code, line, path", [
    ("  name: Bad_Name\n  namespace: prod\n", "E-NP-01", 4, "metadata.name"),
    ("  name: " + "a" * 254 + "\n  namespace: prod\n", "E-NP-01", 4, "metadata.name"),
    ("  namespace: prod\n", "E-NP-01", 3, "metadata.name"),
    ("  name: ok\n  namespace: Prod\n", "E-NP-02", 5, "metadata.namespace"),
    ("  name: ok\n  namespace: a.b\n", "E-NP-02", 5, "metadata.namespace"),
    ("  name: ok\n  namespace: prod\n  labels: {\"-x\": y}\n", "E-NP-15", 6, "metadata.labels[-x]"),
    ("  name: ok\n  namespace: prod\n  color: red\n", "E-NP-16", 6, "metadata.color"),
    ("  name: ok\n  namespace: prod\n  generation: one\n", "E-NP-16", 6, "metadata.generation"),
    ("  name: ok\n  namespace: prod\n  annotations: {a: [1]}\n",
     "E-NP-16", 6, "metadata.annotations[a]"),
    ("  name: 7\n  namespace: prod\n", "E-NP-16", 4, "metadata.name"),
])
def test_metadata_errors(metadata, code, line, path):
    text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n" + metadata
    assert errors(text) == [(code, line, path)]


def test_wrong_api_version_and_unknown_top_level_field():
    text = HEAD.replace("networking.k8s.io/v1", "extensions/v1beta1")
    assert errors(text) == [("E-NP-16", 1, "apiVersion")]
    assert errors(HEAD + "extra: 1\n") == [("E-NP-16", 8, "extra")]
    assert errors(HEAD.replace("spec:\n  podSelector: {}\n", "spec: []\n")) == [
        ("E-NP-16", 6, "spec")]


def test_several_errors_in_one_policy_are_reported_together():
    text = HEAD.replace("  name: p\n", "  name: P\n") + textwrap.indent(textwrap.dedent("""\
    policyTypes: [Ingress, egress]
    ingress:
    - from:
      - {}
      - ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}
      ports:
      - {port: http, endPort: 90, protocol: tcp}
    """), "  ")
    assert errors(text) == [
        ("E-NP-01", 4, "metadata.name"),
        ("E-NP-03", 8, "spec.policyTypes[1]"),
        ("E-NP-04", 11, "spec.ingress[0].from[0]"),
        ("E-NP-07", 12, "spec.ingress[0].from[1].ipBlock.except[0]"),
        ("E-NP-08", 14, "spec.ingress[0].ports[0].protocol"),
        ("E-NP-12", 14, "spec.ingress[0].ports[0].endPort"),
    ]


def test_errors_in_several_files_and_documents(tmp_path):
    (tmp_path / "a.yaml").write_text(spec("ingress:\n- ports: [{port: 0}]\n") + "---\n"
                                     + spec("policyTypes: [Foo]\n").replace("name: p", "name: q"))
    (tmp_path / "b.yaml").write_text(spec("ingress:\n- from: [{}]\n"))
    with pytest.raises(InputError) as info:
        load_policy_set([str(tmp_path)], Semantics())
    found = [(d.file.rsplit("/", 1)[1], d.line, d.code) for d in info.value.diagnostics]
    assert found == [("a.yaml", 9, "E-NP-09"), ("a.yaml", 18, "E-NP-03"),
                     ("b.yaml", 9, "E-NP-04")]


def test_error_messages_say_why():
    with pytest.raises(InputError) as info:
        load(spec("ingress:\n- ports:\n  - port: \"80\"\n"))
    (diagnostic,) = info.value.diagnostics
    assert "quoted number" in diagnostic.message
    assert str(diagnostic).startswith("<stdin>:10: error E-NP-10: spec.ingress[0].ports[0].port:")


def test_misspelt_kind_is_an_error_not_a_skip():
    assert errors(HEAD.replace("kind: NetworkPolicy", "kind: Networkpolicy")) == [
        ("E-NP-16", 2, "kind")]


_FIELD_NAMES = ["podSelector", "namespaceSelector", "ipBlock", "cidr", "except", "from", "to",
                "ports", "port", "endPort", "protocol", "matchLabels", "matchExpressions",
                "key", "operator", "values", "ingress", "egress", "policyTypes", "app"]
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=False),
                     st.sampled_from(["TCP", "udp", "In", "Exists", "Ingress", "Egress", "http",
                                      "10.0.0.0/8", "::/0", "10.0.0.1/33", "", "a/b", "80"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(_FIELD_NAMES), inner, max_size=4)), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["podSelector", "ingress", "egress", "policyTypes"]),
                       _VALUES, max_size=4))
def test_arbitrary_specs_give_a_policy_or_input_error(spec_value):
    import yaml

    doc = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": "p", "namespace": "prod"}, "spec": spec_value}
    try:
        load(yaml.safe_dump(doc))
    except InputError as exc:
        assert exc.diagnostics and all(d.line > 0 for d in exc.diagnostics)


def test_parts_written_alike_are_read_alike_with_their_own_spans_and_findings():
    # Loading reuses parts already read by content (npdiff.load.reuse): a repeated port
    # keeps its own line, a repeated part with a finding reports it at each place, and
    # values that differ only in a scalar's type are not taken for one another.
    text = spec("""\
        ingress:
        - ports:
          - port: 80
          - port: 80
        egress:
        - to:
          - namespaceSelector:
              matchLabels: {kubernetes.io/metadata.name: Bad}
          - namespaceSelector:
              matchLabels: {kubernetes.io/metadata.name: Bad}
        """)
    loaded = load(text)
    (policy,) = loaded.policy_set.policies
    assert [p.span.line for p in policy.ingress[0].ports] == [10, 11]
    assert [(d.code, d.line) for d in loaded.diagnostics if d.code == "W-10"] == [("W-10", 15),
                                                                              ("W-10", 17)]
    assert errors(spec("""\
        ingress:
        - ports:
          - port: 80
          - port: "80"
        """)) == [("E-NP-10", 11, "spec.ingress[0].ports[1].port")]
