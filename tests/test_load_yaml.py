"""The YAML reader: line numbers, YAML features, and hostile or broken input."""

from __future__ import annotations

import io
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from npdiff.load import load_policy_set
from npdiff.load.codes import Sink
from npdiff.load.lined import LinedList, LinedMap
from npdiff.load.sources import Source
from npdiff.load.yaml_reader import MAX_DEPTH, read_documents
from npdiff.model import InputError, Semantics


def read(text: str | bytes, name: str = "f.yaml"):
    found: list = []
    data = text.encode() if isinstance(text, str) else text
    docs = read_documents(Source(name, data), Sink(name, found))
    return docs, found


def only_error(text: str | bytes):
    docs, found = read(text)
    assert len(found) == 1, found
    return found[0]


def policy_errors(text: bytes) -> list:
    with pytest.raises(InputError) as info:
        load_policy_set(["-"], Semantics(), stdin=io.BytesIO(text))
    return list(info.value.diagnostics)


def test_lines_of_mappings_keys_and_items():
    (doc,), found = read("a: 1\nb:\n  - x\n  - {c: d,\n     e: f}\n  -\n    g: h\n")
    assert not found
    value = doc.value
    assert isinstance(value, LinedMap) and doc.line == 1
    assert value.key_line("a") == 1 and value.key_line("b") == 2
    items = value["b"]
    assert isinstance(items, LinedList) and items.item_lines == [3, 4, 7]
    assert items[1].key_line("e") == 5 and items[2].line == 7
    assert value == {"a": 1, "b": ["x", {"c": "d", "e": "f"}, {"g": "h"}]}  # ordinary dicts and lists


def test_scalars_follow_yaml_1_1_like_kubectl():
    (doc,), _ = read('a: 80\nb: "80"\nc: yes\nd: ~\ne: 0x10\nf: 1.5\ng: 2024-01-01T00:00:00Z\n'
                     'h: !!str 12\ni: ""\n')
    assert doc.value == {"a": 80, "b": "80", "c": True, "d": None, "e": 16, "f": 1.5,
                         "g": "2024-01-01T00:00:00Z", "h": "12", "i": ""}


def test_anchors_aliases_and_merge_keys():
    text = "base: &b {app: web, tier: fe}\nuse: *b\nmerged:\n  <<: *b\n  tier: be\n"
    (doc,), found = read(text)
    assert not found
    assert doc.value["use"] == {"app": "web", "tier": "fe"}
    assert doc.value["merged"] == {"app": "web", "tier": "be"}
    assert doc.value["merged"].key_line("tier") == 5


@pytest.mark.parametrize("tag", [
    '!!python/object/apply:os.system ["touch {marker}"]',
    '!!python/object/new:os.system ["touch {marker}"]',
    "!!python/name:os.system",
    '!!python/object:os.system {{cmd: "touch {marker}"}}',
])
def test_python_tags_are_rejected_and_never_executed(tmp_path, tag):
    marker = tmp_path / "pwned"
    text = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
            f"  name: {tag.format(marker=marker)}\n")
    (found,) = policy_errors(text.encode())
    assert found.code == "E-YAML" and found.line == 4
    assert "unsupported YAML tag !!python/" in found.message
    assert not marker.exists()


def test_custom_and_collection_tags_are_rejected():
    assert "unsupported YAML tag !foo" in only_error("a: !foo bar\n").message
    assert "!!set" in only_error("a: !!set {x, y}\n").message
    assert "not a valid value" in only_error("a: !!int twelve\n").message


def test_billion_laughs_is_rejected_quickly():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    text = "\n".join(lines) + "\n"
    start = time.perf_counter()
    found = policy_errors(text.encode())
    assert time.perf_counter() - start < 0.5
    assert [d.code for d in found] == ["E-YAML"]
    assert "alias" in found[0].message


def test_recursive_and_undefined_aliases():
    assert "contains it" in only_error("a: &a [1, *a]\n").message
    assert "undefined" in only_error("a: *nope\n").message


def test_small_aliases_are_fine():
    (doc,), found = read("x: &x {k: v}\n" + "".join(f"y{i}: *x\n" for i in range(1000)))
    assert not found and len(doc.value) == 1001


def test_non_utf8_reports_line_and_offset():
    found = only_error(b"a: 1\nb: 2\nc: caf\xe9\n")
    assert (found.code, found.line) == ("E-IO", 3)
    assert "not UTF-8" in found.message and "byte offset 16" in found.message


def test_utf8_bom_is_accepted():
    (doc,), found = read("\ufeffa: 1\n".encode())
    assert not found and doc.value == {"a": 1}


def test_control_characters_are_rejected_with_their_line():
    found = only_error("a: 1\nb: caf\u00e9\nc: \x01\n")
    assert (found.code, found.line) == ("E-YAML", 3)
    assert only_error(b"a: \x00\n").code == "E-YAML"


def test_deep_nesting_is_rejected():
    assert only_error("[" * 100_000 + "]" * 100_000).code == "E-YAML"
    block = "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5)) + "  " * (MAX_DEPTH + 5) + "x\n"
    found = only_error(block)
    assert found.code == "E-YAML" and "nested" in found.message
    assert found.line == MAX_DEPTH + 1


def test_duplicate_keys_are_errors_with_both_lines():
    docs, found = read("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert docs == []
    assert [(d.code, d.line) for d in found] == [("E-YAML", 4), ("E-YAML", 5)]
    assert "first at line 3" in found[0].message and "first at line 1" in found[1].message


def test_complex_keys_are_rejected():
    assert "keys must be scalars" in only_error("? [a, b]\n: 1\n").message


def test_broken_yaml_gives_the_parser_line_and_keeps_earlier_documents():
    docs, found = read("a: 1\n---\nb: [1, 2\nc: 3\n")
    assert [d.value for d in docs] == [{"a": 1}]
    assert len(found) == 1 and found[0].code == "E-YAML" and found[0].line in (3, 4)
    assert found[0].message.startswith("invalid YAML:")
    bad = only_error("a: b\n  c: d\n")
    assert (bad.code, bad.line) == ("E-YAML", 2)


def test_errors_of_several_files_are_collected(tmp_path):
    (tmp_path / "a.yaml").write_text("a: [\n")
    (tmp_path / "b.yaml").write_bytes(b"\xff")
    (tmp_path / "c.yaml").write_text("x: 1\nx: 2\n")
    with pytest.raises(InputError) as info:
        load_policy_set([str(tmp_path)], Semantics())
    assert [(d.file.rsplit("/", 1)[1], d.code) for d in info.value.diagnostics] == [
        ("a.yaml", "E-YAML"), ("b.yaml", "E-IO"), ("c.yaml", "E-YAML")]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_anything_but_input_error(data):
    try:
        load_policy_set(["-"], Semantics(), stdin=io.BytesIO(data))
    except InputError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="ab:-[]{}&*!?|>'\"#\n ,0123456789.<%@`", max_size=120))
def test_yaml_like_text_never_raises_anything_but_input_error(text):
    try:
        load_policy_set(["-"], Semantics(), stdin=io.BytesIO(text.encode()))
    except InputError:
        pass


def test_duplicate_key_path_names_the_enclosing_fields():
    text = "spec:\n  ingress:\n  - ports:\n    - port: 80\n      port: 81\n"
    found = only_error(text)
    assert (found.line, found.path) == (5, "spec.ingress[0].ports[0]")


def test_alias_budget_is_per_file_not_per_document():
    from npdiff.load import yaml_reader

    doc = "a: &a [" + ",".join(["x"] * 1000) + "]\nb: [" + ",".join(["*a"] * 500) + "]\n"
    _, found = read(doc)
    assert not found  # 500k expanded nodes: allowed once
    _, found = read((doc + "---\n") * 3)
    assert len(found) == 1 and "alias" in found[0].message
    assert yaml_reader.MAX_ALIAS_NODES < 3 * 500 * 1001


def test_json_surrogate_pair_escapes_are_read(tmp_path) -> None:
    import json as json_module

    from npdiff.load import load_policy_set
    from npdiff.model import Semantics

    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "a", "namespace": "prod", "annotations": {"x": "\U0001F600"}},
              "spec": {"podSelector": {}}}
    path = tmp_path / "p.json"
    path.write_text(json_module.dumps(policy))  # ensure_ascii writes "\ud83d\ude00"
    loaded = load_policy_set([str(path)], Semantics())
    assert loaded.policy_set.objects[0].body["metadata"]["annotations"]["x"] == "\U0001F600"
