"""The line-based block YAML reader returns exactly what the event-based reader returns.

Every check reads the same bytes twice, with and without the fast path, and compares
values, Python types, key order, every line number and the diagnostics. Other checks make
sure the fast path really accepts the manifests it exists for.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npdiff.load.block_yaml import read_block
from npdiff.load.codes import Sink
from npdiff.load.lined import LinedList, LinedMap
from npdiff.load.sources import Source
from npdiff.load.yaml_reader import MAX_DEPTH, decode, read_documents

ROOT = Path(__file__).resolve().parent.parent


def shape(value: Any) -> Any:
    """Everything the readers promise about a value, in a form that compares exactly."""
    if isinstance(value, LinedMap):
        assert type(value) is LinedMap
        return ("map", value.line, [(type(k).__name__, repr(k), value.key_lines[k], shape(v))
                                    for k, v in value.items()], len(value.key_lines))
    if isinstance(value, LinedList):
        assert type(value) is LinedList
        return ("list", value.line, list(value.item_lines), [shape(v) for v in value])
    return (type(value).__name__, repr(value))


def read(data: bytes, fast: bool, name: str = "f.yaml") -> tuple[Any, list]:
    found: list = []
    documents = read_documents(Source(name, data), Sink(name, found), fast=fast)
    return [(d.line, shape(d.value)) for d in documents], found


def accepted(data: bytes) -> bool:
    text = decode(Source("f.yaml", data), Sink("f.yaml", []))
    return text is not None and read_block(text) is not None


def same(text: str | bytes) -> bool:
    """Fast and slow readings agree; returns whether the fast path accepted the text."""
    data = text.encode() if isinstance(text, str) else text
    assert read(data, fast=True) == read(data, fast=False)
    return accepted(data)


# --- hypothesis: dumped structures ----------------------------------------------------

TRICKY = ["yes", "no", "on", "off", "y", "n", "true", "False", "1_000", "0x1F", "012", "0o12",
          "0b101", "1e3", "1.5", "-1", "+1", ".inf", "-.inf", ".nan", "~", "null", "Null",
          "2001-12-14", "2001-12-14t21:59:43.10-05:00", "1:20", "190:20:30", "=", "<<",
          "a: b", "a #b", "#", "a#b", "'", '"', "it's", 'say "hi"', " lead", "trail ",
          "", "-", "- x", "--x", "---", "...", "?", "? x", ":x", "x:", "{}", "[]", "{a: b}",
          "[a]", "a,b", "&a", "*a", "!x", "%x", "@x", "`x", "|", ">", "a\\b", "tab\tx",
          "two  spaces", "ünï", "日本", "a\u00a0b", "\u2028", "\x85", "line\nbreak",
          "kubernetes.io/metadata.name", "app", "10.0.0.0/8", "TCP", "80", "8080"]
scalar_text = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12))
scalars = st.one_of(scalar_text, st.integers(-10**12, 10**12), st.booleans(), st.none(),
                    st.floats(allow_nan=False, width=32))
keys = st.one_of(scalar_text, st.integers(-1000, 1000), st.booleans())
structures = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(keys, inner, max_size=4)),
    max_leaves=25)


class IndentedDumper(yaml.SafeDumper):
    """Indents sequences under their key, as kubectl and many editors write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


class NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


class NoAliasIndentedDumper(IndentedDumper, NoAliasDumper):
    pass


dump_options = st.fixed_dictionaries({
    "default_flow_style": st.sampled_from([False, None]),
    "indent": st.sampled_from([2, 3, 4]),
    "width": st.sampled_from([12, 40, 4096]),
    "explicit_start": st.booleans(),
    "allow_unicode": st.booleans(),
    "sort_keys": st.booleans(),
    "Dumper": st.sampled_from([yaml.SafeDumper, IndentedDumper]),
})
COMMENTS = ["", "#", "# note", "   # indented: note", "  ", "#- x: y"]


def sprinkle(text: str, data: st.DataObject) -> str:
    """Blank and comment lines, and comments at line ends, at random places."""
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(lines)))
        lines.insert(at, data.draw(st.sampled_from(COMMENTS)))
    for _ in range(data.draw(st.integers(0, 3))):
        at = data.draw(st.integers(0, len(lines) - 1))
        lines[at] += data.draw(st.sampled_from([" # c", "  #c: d", "#c", " "]))
    return "\n".join(lines)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=st.lists(structures, min_size=1, max_size=3), options=dump_options,
       data=st.data())
def test_dumped_structures_read_the_same(documents, options, data):
    text = yaml.dump_all(documents, **options)
    same(text)
    same(sprinkle(text, data))


# --- hypothesis: lines assembled from fragments ---------------------------------------

INDENTS = ["", " ", "  ", "   ", "    ", "      "]
DASHES = ["", "", "- ", "- ", "-", "- - ", "-   "]
BODIES = ["a:", "a: 1", "b: x", "c:", "'q': v", '"d": "e"', "k: {}", "k: []", "x", "'s'",
          "{}", "[]", "c: # c", "a: b # c", "a:b", "a :b", "a : b", "? a", "&x a", "*x",
          "!!str a", "a: |", "a: >-", "# comment", "yes: no", "on: 0x1F", "1: 012", "~: ~",
          "<<: x", "a  b: c", "a: 'it''s'", 'a: "x\\ty"', "a: b: c", "a: 'multi", "line'",
          "a: - x", "a: -", "a: -1", "a: ---", "- a", "a:#b", "a: b#c", "a: 'x'#c",
          "a: {b: c}", "a: [b]", "a: %x", "a: @x", "{a: b}", "'a' 'b'", "a", "b", "a: b",
          '"k"', "null: x", "1: a", "true: b", "1.0: c", ".nan: d", "a: 0x_", "a: 0b2",
          "x: &a 1", "y: *a", "a:    b   ", "ü: ö", "a: b\u00a0"]
MARKERS = ["---", "...", "--- # c", "--- a: b", "---a: b", "... x", "%YAML 1.1"]
lines = st.one_of(
    st.builds(lambda i, d, b: i + d + b, st.sampled_from(INDENTS), st.sampled_from(DASHES),
              st.sampled_from(BODIES)),
    st.sampled_from(MARKERS + ["", "  # c"]))


@settings(max_examples=1500, deadline=None)
@given(st.lists(lines, max_size=10), st.sampled_from(["", "\n", "\r\n"]))
def test_assembled_lines_read_the_same(body, end):
    same("\n".join(body) + end)
    if end == "\r\n":
        same("\r\n".join(body) + end)


# --- hand-written snippets ------------------------------------------------------------

ACCEPTED = [
    "a: 1\n",
    "a:\n- x\n- y\nb: 2\n",                                # a sequence at the key's indent
    "a:\n  - x\n  - y\nb: 2\n",
    "ports:\n- protocol: TCP\n  port: 80\n- protocol: UDP\n  port: 53\nnext: 1\n",
    "- key: tier\n  operator: In\n  values:\n  - a\n  - b\n- key: app\n",
    "a:   value  # comment\nb: c #d\n",
    '"quoted key": x\n\'single\': "double"\n',
    "key: 'it''s'\n",
    "key:\nother: 1\n",                                     # empty value: None
    "- \n-\n- x\n-  # c\n",                                  # empty entries
    "---\na: 1\n...\n---\nb: 2\n---\n",
    "# only a comment\n",
    "",
    "\n\n",
    "---\n---\n...\n",
    "a: {}\nb: []\nc:\n- {}\n- []\n",
    "- - a\n  - b\n- - - c\n",
    "  a: 1\n  b:\n    c: 2\n",                            # an indented root
    "a: x # y: z\n",
    "a: b#c\nc: http://x:80/y\nd: -1\ne: --flag\n",
    "a: 0x1F\nb: 012\nc: 1_000\nd: yes\ne: ~\nf: .inf\ng: 2001-12-14\nh: =\n",
    "on: 1\noff: 2\n",
    "\ufeffa: 1\n",
    "a: 1\r\nb:\r\n- x\r\n",
    "a: b\u00a0c\nd: ünïcödé\n",
    "a:\n  b:\n  - c:\n    - d\n    e: f\n  g: h\n",
    "- a:\n  - x\n  b: 1\n",
    "-\n  a: 1\n-\n  - x\n",
]

ANY = [
    "a: 1\na: 2\n",                                         # duplicate keys
    "a:\n  b: 1\n  b: 2\nc: 1\n",
    "yes: 1\ntrue: 2\n",
    "on: 1\nyes: 2\n",
    "1: a\n1.0: b\n",
    "key: - x\n",
    "a:\n    b: 1\n  c: 2\n",
    "a:\n  - x\n  b: 1\n",
    "- a: 1\n  - x\n",
    "a: 1\n  b: 2\n",
    "a: b\n  c\n",
    "-\na: 1\n",
    "a:\tb\n",
    "\ta: b\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "<<: {a: 1}\n",
    "a: |\n  x\n",
    "a: 'x\n  y'\n",
    '"a\\tb": 1\n',
    "? a\n: b\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: b\x85c\n",
    "a: b\u2028c\n",
    "a: b\rc\n",
    "a: \x07\n",
    "a: 0x_\n",
    "--- a: 1\n",
    "---a: 1\n",
    "a: x\n... x\n",
    "x\n",
    "'x'\n",
    "{}\n",
    "[]\n",
    "a: b: c\n",
    "a: [b]\n",
    "a: {b: c}\n",
    "a: 'x'#c\n",
    "k" * 300 + ": v\n",
    "a: 1\n---\n  b: 1\n c: 2\n",
]


def nested(depth: int) -> str:
    return "".join(" " * i + f"k{i}:\n" for i in range(depth - 1)) + " " * (depth - 1) + "k: v\n"


@pytest.mark.parametrize("text", ACCEPTED)
def test_snippets_the_fast_path_accepts(text):
    assert same(text)


@pytest.mark.parametrize("text", ANY)
def test_snippets_the_fast_path_may_decline(text):
    same(text)


def test_depth_cap_is_kept():
    assert same(nested(MAX_DEPTH))
    assert not same(nested(MAX_DEPTH + 1))
    assert not same(nested(MAX_DEPTH)[:-len("v\n")] + "{}\n")
    assert same(nested(MAX_DEPTH - 1)[:-len("v\n")] + "[]\n")
    assert read(nested(MAX_DEPTH + 1).encode(), fast=True)[1]


@pytest.mark.parametrize("path", sorted(p for p in ROOT.joinpath("samples").rglob("*")
                                        if p.suffix in (".yaml", ".yml"))
                         + sorted(p for p in ROOT.joinpath("tests").rglob("*")
                                  if p.suffix in (".yaml", ".yml")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_repository_files_read_the_same(path):
    same(path.read_bytes())


# --- the fast path is taken where it matters -------------------------------------------

labels = st.dictionaries(st.sampled_from(["app", "tier", "kubernetes.io/metadata.name"]),
                         st.sampled_from(["web", "db", "team-001", "prod"]), min_size=1)
selectors = st.fixed_dictionaries({"matchLabels": labels}, optional={
    "matchExpressions": st.lists(st.fixed_dictionaries({
        "key": st.just("tier"), "operator": st.sampled_from(["In", "NotIn", "Exists"]),
        "values": st.lists(st.sampled_from(["data", "ops"]), max_size=2)}), max_size=2)})
peers = st.one_of(
    st.fixed_dictionaries({"podSelector": selectors}, optional={"namespaceSelector": selectors}),
    st.fixed_dictionaries({"ipBlock": st.fixed_dictionaries(
        {"cidr": st.just("10.0.0.0/8")}, optional={"except": st.just(["10.1.0.0/16"])})}))
ports = st.fixed_dictionaries({"protocol": st.sampled_from(["TCP", "UDP", "SCTP"]),
                               "port": st.one_of(st.integers(1, 65535), st.just("http"))},
                              optional={"endPort": st.integers(1, 65535)})
policies = st.builds(
    lambda name, selector, rules: {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "team-001"},
        "spec": {"podSelector": selector, "policyTypes": ["Ingress"], "ingress": rules}},
    st.sampled_from(["allow-web", "default-deny"]), st.one_of(st.just({}), selectors),
    st.lists(st.fixed_dictionaries({}, optional={"from": st.lists(peers, max_size=3),
                                                 "ports": st.lists(ports, max_size=3)}),
             max_size=3))


@settings(max_examples=100, deadline=None)
@given(st.lists(policies, min_size=1, max_size=3),
       st.sampled_from([NoAliasDumper, NoAliasIndentedDumper]))
def test_generated_policies_take_the_fast_path(documents, dumper):
    text = yaml.dump_all(documents, Dumper=dumper, sort_keys=False)
    assert same(text)


KUBECTL_STYLE = """\
# Source: chart/templates/networkpolicy.yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: "web"
  namespace: 'prod'
  labels:
    app.kubernetes.io/name: web   # managed by the chart
  annotations: {}
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - namespaceSelector: {}
          podSelector:
            matchLabels:
              role: frontend
      ports:
        - protocol: TCP
          port: 8080
  egress: []
---
"""


def test_kubectl_style_manifests_take_the_fast_path():
    assert same(KUBECTL_STYLE)
    assert same(KUBECTL_STYLE * 3)


@pytest.mark.parametrize("text", [
    "a:" + " " * 200_000 + "x :\n",
    "a: x" + " " * 200_000 + ":\n",
    "- " + "a" * 200_000 + " :\n",
    "a: '" + "x''" * 100_000 + "\n",
])
def test_long_lines_are_read_in_linear_time(text):
    start = time.perf_counter()
    read_block(text)
    assert time.perf_counter() - start < 5
