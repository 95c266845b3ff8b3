"""Files read straight into the model (load/policy_files.py) give exactly what the general
path gives, or are declined.

Every check reads the same bytes both ways: the general path (YAML trees, then the field
by field validator) and `read_policy_file`. Whenever the latter accepts, the general path
must have found nothing to report, and the policies (every span included), the objects
and their bodies (read again) must be the same. Other checks make sure it does accept the
files it exists for, so that a reader declining everything would fail them.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npdiff.load import load_input
from npdiff.load.codes import Sink
from npdiff.load.networkpolicy import KIND, policy_of, source_object
from npdiff.load.objects import objects_of
from npdiff.load.policy_files import read_policy_file
from npdiff.load.sources import Source, read_input
from npdiff.load.yaml_reader import read_documents
from npdiff.model import InputError, Semantics
from test_block_yaml import KUBECTL_STYLE, NoAliasDumper, NoAliasIndentedDumper, shape, sprinkle
from trees import places

ROOT = Path(__file__).resolve().parent.parent
SEMANTICS = Semantics()


def general(source: Source) -> tuple[list, list, list, bool]:
    """Policies, objects, diagnostics, and whether every object is a NetworkPolicy."""
    found: list = []
    sink = Sink(source.name, found)
    objects, policies, pure = [], [], True
    for obj in objects_of(read_documents(source, sink), sink):
        pure = pure and obj.kind == KIND
        objects.append(source_object(obj, source.name, SEMANTICS))
        if obj.kind == KIND:
            policy = policy_of(obj, sink, SEMANTICS)
            if policy is not None:
                policies.append(policy)
    return policies, objects, found, pure


def agree(text: str | bytes, name: str = "p.yaml") -> bool:
    """Both readings agree wherever the direct one accepts; returns whether it did."""
    source = Source(name, text.encode() if isinstance(text, str) else text)
    direct = read_policy_file(source)
    if direct is None:
        return False
    policies, objects, diagnostics, pure = general(source)
    assert diagnostics == [] and pure
    assert not direct.diagnostics
    # repr shows every field, spans and peer positions included, which == leaves out.
    assert [repr(p) for p in direct.policies] == [repr(p) for p in policies]
    assert [(o.kind, o.namespace, o.name, o.span) for o in direct.objects] == \
        [(o.kind, o.namespace, o.name, o.span) for o in objects]
    assert [shape(o.body) for o in direct.objects] == [shape(o.body) for o in objects]
    return True


# --- values, right and wrong ----------------------------------------------------------

ODD_SCALARS = [None, 0, 1, -1, 80, 65535, 65536, True, False, 1.5, "", "x", "80", "http",
               "--x", "a" * 64, "TCP", "tcp", "Ingress", "ingress", "In", "in", [], {}, ["x"], {"a": "b"}]
odd = st.sampled_from(ODD_SCALARS)
label_keys = st.sampled_from(["app", "tier", "kubernetes.io/metadata.name", "a/b/c", "-x", "Ünï",
                              "example.com/role", "a" * 64, ""])
label_values = st.sampled_from(["web", "db", "team-001", "Team_1", "-x", "", "a" * 64, "bad name"])


def sometimes(value: st.SearchStrategy, p_odd: bool = True) -> st.SearchStrategy:
    return st.one_of(value, value, value, odd) if p_odd else value


labels = st.dictionaries(label_keys, sometimes(label_values), max_size=3)
expressions = st.fixed_dictionaries(
    {"key": sometimes(label_keys), "operator": sometimes(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))},
    optional={"values": st.one_of(st.lists(label_values, max_size=3), odd)})
selectors = st.one_of(
    st.just({}),
    st.fixed_dictionaries({}, optional={"matchLabels": sometimes(labels),
                                        "matchExpressions": sometimes(st.lists(expressions, max_size=2))}))
CIDRS = ["10.0.0.0/8", "10.1.0.0/16", "10.0.0.1/8", "010.0.0.0/8", "10.0.0.0/08", "::ffff:10.0.0.0/104",
         "fd00::/64", "fd00::/8", "2001:db8::/32", "0.0.0.0/0", "10.0.0.0", "x", "", "10.0.0.0/33"]
ip_blocks = st.fixed_dictionaries({"cidr": sometimes(st.sampled_from(CIDRS))},
                                  optional={"except": st.one_of(st.lists(st.sampled_from(CIDRS), max_size=2), odd)})
peers = st.one_of(
    st.fixed_dictionaries({}, optional={"podSelector": selectors, "namespaceSelector": selectors,
                                        "ipBlock": ip_blocks}),
    st.fixed_dictionaries({"namespaceSelector": st.fixed_dictionaries(
        {"matchLabels": st.fixed_dictionaries({"kubernetes.io/metadata.name": label_values})})}),
    odd)
ports = st.one_of(
    st.fixed_dictionaries({}, optional={
        "protocol": sometimes(st.sampled_from(["TCP", "UDP", "SCTP"])),
        "port": st.one_of(st.integers(0, 70000), st.sampled_from(["http", "dns-tcp", "80", "x--y", "HTTP"])),
        "endPort": st.one_of(st.integers(0, 70000), odd)}),
    odd)
rules = st.one_of(
    st.fixed_dictionaries({}, optional={"from": sometimes(st.lists(peers, max_size=3)),
                                        "to": sometimes(st.lists(peers, max_size=3)),
                                        "ports": sometimes(st.lists(ports, max_size=3))}),
    odd)
TYPES = [["Ingress"], ["Egress"], ["Ingress", "Egress"], ["Egress", "Ingress"], [], ["Ingress", "Ingress"],
         ["ingress"], ["Ingress", "Egress", "Ingress"]]
specs = st.fixed_dictionaries({}, optional={
    "podSelector": sometimes(selectors), "policyTypes": sometimes(st.sampled_from(TYPES)),
    "ingress": sometimes(st.lists(rules, max_size=3)), "egress": sometimes(st.lists(rules, max_size=3)),
    "status": st.just({})})
metadata = st.fixed_dictionaries(
    {"name": sometimes(st.sampled_from(["allow-web", "default-deny", "a.b", "Bad", "x" * 254]))},
    optional={"namespace": sometimes(st.sampled_from(["team-001", "prod", "Bad_ns", ""])),
              "labels": sometimes(labels), "annotations": sometimes(st.dictionaries(st.text(max_size=5), odd,
                                                                                     max_size=2)),
              "uid": st.just("1234")})
documents = st.fixed_dictionaries(
    {"apiVersion": st.sampled_from(["networking.k8s.io/v1"] * 5 + ["networking.k8s.io/v1beta1", "v1"]),
     "kind": st.sampled_from(["NetworkPolicy"] * 5 + ["networkpolicy", "ConfigMap", "List"]),
     "metadata": sometimes(metadata)},
    optional={"spec": specs, "extra": odd})
dumpers = st.sampled_from([NoAliasDumper, NoAliasIndentedDumper])


def dump(docs: list[Any], dumper: type, indent: int = 2, start: bool = False) -> str:
    return yaml.dump_all(docs, Dumper=dumper, sort_keys=False, indent=indent, explicit_start=start,
                         default_flow_style=False, allow_unicode=True)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents, min_size=1, max_size=3), dumpers, st.sampled_from([2, 4]), st.booleans(), st.data())
def test_whatever_is_accepted_reads_as_the_general_path_reads_it(docs, dumper, indent, start, data):
    text = dump(docs, dumper, indent, start)
    agree(text)
    agree(sprinkle(text, data))


FIELDS = ["podSelector", "namespaceSelector", "ipBlock", "ports", "from", "to", "matchLabels", "cidr",
          "port", "endPort", "protocol", "key", "operator", "values", "except", "policyTypes", "status", "x"]


def mutated(doc: dict, data: st.DataObject) -> dict:
    """`doc` with one node replaced, removed or given a field: most such documents are no
    longer clean, some still are (another valid value), and both kinds are compared."""
    doc = copy.deepcopy(doc)
    path = data.draw(st.sampled_from(places(doc)[1:]))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    edit = data.draw(st.sampled_from(["replace", "remove", "field", "wrap"]))
    if edit == "replace":
        parent[last] = data.draw(st.one_of(odd, label_values, st.sampled_from(CIDRS)))
    elif edit == "remove":
        del parent[last]
    elif edit == "field" and isinstance(parent[last], dict):
        parent[last][data.draw(st.sampled_from(FIELDS))] = data.draw(st.one_of(odd, st.just({}), selectors))
    elif edit == "wrap":
        parent[last] = [parent[last]]
    return doc


@settings(max_examples=450, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.builds(lambda p: p, st.deferred(lambda: clean_policies)), min_size=1, max_size=2),
       dumpers, st.sampled_from([2, 4]), st.integers(0, 2), st.data())
def test_clean_files_changed_in_one_place_read_the_same(docs, dumper, indent, edits, data):
    for index, doc in enumerate(docs):
        doc["metadata"]["name"] += f"-{index}"
    for _ in range(edits):
        at = data.draw(st.integers(0, len(docs) - 1))
        docs[at] = mutated(docs[at], data)
    agree(dump(docs, dumper, indent))


# --- line by line damage to files that are accepted ---------------------------------------

EDITS = ["delete", "duplicate", "indent", "dedent", "null", "tilde", "empty map", "empty list", "comment",
         "dash", "marker", "end marker", "tab", "quote", "flow"]


def damaged(text: str, edits: list[tuple[int, str]]) -> str:
    lines = text.split("\n")
    for at, edit in edits:
        at %= len(lines)
        line = lines[at]
        head, _, _ = line.partition(": ")
        lines[at:at + 1] = {
            "delete": [], "duplicate": [line, line], "indent": [" " + line], "dedent": [line[1:]],
            "null": [head + ": null" if ": " in line else line + " null"],
            "tilde": [head + ": ~" if ": " in line else line],
            "empty map": [head + ": {}" if ": " in line else line + " {}"],
            "empty list": [head + ": []" if ": " in line else line + " []"],
            "comment": [line + " # x"], "dash": ["- " + line], "marker": ["---", line], "end marker": ["...", line],
            "tab": ["\t" + line], "quote": [line.replace(": ", ": '", 1) + "'"],
            "flow": [head + ": {a: b}" if ": " in line else line],
        }[edit]
    return "\n".join(lines)


CLEAN = dump([next(yaml.safe_load_all(KUBECTL_STYLE)),
              {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "db", "namespace": "prod"},
               "spec": {"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["db", "data"]}]},
                        "policyTypes": ["Egress"],
                        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                                    "ports": [{"protocol": "UDP", "port": 53, "endPort": 60}, {}]}, {}]}}],
             NoAliasIndentedDumper)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(EDITS)), min_size=1, max_size=3),
       st.sampled_from([CLEAN, KUBECTL_STYLE]))
def test_damaged_files_are_declined_or_read_as_the_general_path_reads_them(edits, text):
    agree(damaged(text, edits))


# --- it accepts what it exists for ---------------------------------------------------------

clean_labels = st.dictionaries(st.sampled_from(["app", "tier", "example.com/role"]),
                               st.sampled_from(["web", "db", "team-001", ""]), min_size=1, max_size=2)
clean_selectors = st.fixed_dictionaries({}, optional={
    "matchLabels": clean_labels,
    "matchExpressions": st.lists(st.one_of(
        st.fixed_dictionaries({"key": st.just("tier"), "operator": st.sampled_from(["In", "NotIn"]),
                               "values": st.lists(st.sampled_from(["db", "ops"]), min_size=1, max_size=3)}),
        st.fixed_dictionaries({"key": st.just("tier"), "operator": st.sampled_from(["Exists", "DoesNotExist"])})),
        max_size=2)})
clean_peers = st.one_of(
    st.fixed_dictionaries({"podSelector": clean_selectors}, optional={"namespaceSelector": clean_selectors}),
    st.fixed_dictionaries({"namespaceSelector": clean_selectors}),
    st.fixed_dictionaries({"ipBlock": st.fixed_dictionaries(
        {"cidr": st.just("10.0.0.0/8")}, optional={"except": st.just(["10.1.0.0/16", "10.2.0.0/16"])})}))
clean_ports = st.fixed_dictionaries({}, optional={"protocol": st.sampled_from(["TCP", "UDP", "SCTP"]),
                                                  "port": st.one_of(st.integers(1, 1000), st.just("http"))})


def clean_policy(name: str, selector: dict, ingress: list, egress: list, types: bool) -> dict:
    spec: dict = {"podSelector": selector, "ingress": ingress, "egress": egress}
    if types:
        spec["policyTypes"] = ["Ingress", "Egress"]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": "team-001", "labels": {"owner": "net"}}, "spec": spec}


clean_rules = st.lists(st.fixed_dictionaries({}, optional={"from": st.lists(clean_peers, max_size=3),
                                                          "to": st.lists(clean_peers, max_size=3),
                                                          "ports": st.lists(clean_ports, max_size=3)}),
                       max_size=3)
clean_policies = st.builds(clean_policy, st.sampled_from(["allow-web", "a.b"]), clean_selectors,
                           clean_rules.map(lambda rs: [{k: v for k, v in r.items() if k != "to"} for r in rs]),
                           clean_rules.map(lambda rs: [{k: v for k, v in r.items() if k != "from"} for r in rs]),
                           st.booleans())


@settings(max_examples=200, deadline=None)
@given(st.lists(clean_policies, min_size=1, max_size=3), dumpers, st.sampled_from([2, 4]), st.booleans(), st.data())
def test_clean_policies_are_accepted(docs, dumper, indent, start, data):
    for index, doc in enumerate(docs):
        doc["metadata"]["name"] += f"-{index}"
    text = dump(docs, dumper, indent, start)
    assert agree(text)
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(lines) - 1))
        lines.insert(at, data.draw(st.sampled_from(["", "# note", "    # indented note"])))
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(0, len(lines) - 1))
        lines[at] += " # comment" if lines[at].strip() else ""
    assert agree("\n".join(lines))


def test_kubectl_style_and_crlf_files_are_accepted():
    assert agree(KUBECTL_STYLE)
    assert agree(KUBECTL_STYLE.replace("\n", "\r\n"))
    assert agree("\ufeff" + KUBECTL_STYLE * 2)
    assert agree(CLEAN)


@pytest.mark.parametrize("text", [
    "", "---\n", "# only a comment\n", "- a\n", "a: b\n", KUBECTL_STYLE.replace("namespace: 'prod'", "namespace:"),
    KUBECTL_STYLE + "...\n", KUBECTL_STYLE.replace("app: web", "app: &a web"),
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n" + "metadata:\n" + "".join(
        "  " * (d + 1) + "a:\n" for d in range(200)) + "  " * 201 + "b: c\n",
])
def test_odd_files_are_declined(text):
    assert read_policy_file(Source("p.yaml", text.encode())) is None
    agree(text)


def test_json_and_invalid_utf8_are_declined():
    assert read_policy_file(Source("p.json", b'{"kind": "NetworkPolicy"}')) is None
    assert read_policy_file(Source("p.yaml", KUBECTL_STYLE.encode() + b"\xff")) is None


@pytest.mark.parametrize("path", sorted(p for p in ROOT.joinpath("samples").rglob("*") if p.suffix in (".yaml", ".yml"))
                         + sorted(p for p in ROOT.joinpath("tests").rglob("*") if p.suffix in (".yaml", ".yml")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_files_read_the_same(path):
    agree(path.read_bytes(), str(path))


def test_most_sample_files_are_accepted():
    files = sorted(p for p in ROOT.joinpath("samples").rglob("*") if p.suffix in (".yaml", ".yml"))
    accepted = sum(agree(p.read_bytes(), str(p)) for p in files)
    assert accepted >= len(files) // 2


def _loaded(read: Any, bodies_later: bool) -> Any:
    try:
        return load_input(read, SEMANTICS, bodies_later=bodies_later)
    except InputError as exc:
        return exc.diagnostics


@pytest.mark.parametrize("folder", sorted({p.parent for p in ROOT.joinpath("samples").rglob("*.yaml")}),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_a_load_gives_the_same_either_way(folder):
    """Through load_input: policies, objects (bodies read again), diagnostics and order."""
    read = read_input([str(folder)], None)
    plain, direct = _loaded(read, False), _loaded(read, True)
    if isinstance(plain, tuple):
        assert direct == plain
        return
    assert [repr(p) for p in direct.policy_set.policies] == [repr(p) for p in plain.policy_set.policies]
    assert [(o.key, o.span, shape(o.body)) for o in direct.policy_set.objects] == \
        [(o.key, o.span, shape(o.body)) for o in plain.policy_set.objects]
    assert direct.diagnostics == plain.diagnostics
    assert direct.inventory == plain.inventory
    assert direct.policy_set.skipped == plain.policy_set.skipped


def test_bodies_are_read_again_once_per_file():
    text = KUBECTL_STYLE * 3
    direct = read_policy_file(Source("p.yaml", text.encode()))
    assert direct is not None and len(direct.objects) == 3
    first = direct.objects[0].body
    assert first is direct.objects[0].body   # read once, then kept
    assert copy.deepcopy(direct.objects[2].body)["metadata"]["name"] == "web"
