"""Unit tests of the analyse layer: structural changes, regions in user vocabulary, merging."""

from __future__ import annotations

from npdiff.analyse.changes import changed_fields, object_changes
from npdiff.analyse.regions import _label_constraints, endpoint_region
from npdiff.encode.cube import Cube
from npdiff.encode.search import Found, merge
from npdiff.encode.universe import Universe
from npdiff.model import PolicySet, Semantics, SourceObject, Span
from npdiff.model.result import ValueConstraint
from npdiff.report.text import constraint_text

VALUES = ("db", "web")  # indices: 0 absent, 1 db, 2 web, 3 any other value


def test_label_sets_become_selector_like_constraints() -> None:
    assert _label_constraints("app", frozenset({2}), VALUES) == (ValueConstraint("app", "in", ("web",)),)
    assert _label_constraints("app", frozenset({0, 1, 3}), VALUES) == (ValueConstraint("app", "not-in", ("web",)),)
    assert _label_constraints("app", frozenset({1, 2, 3}), VALUES) == (ValueConstraint("app", "exists"),)
    assert _label_constraints("app", frozenset({2, 3}), VALUES) == (
        ValueConstraint("app", "exists"), ValueConstraint("app", "not-in", ("db",)))
    assert _label_constraints("app", frozenset({0}), VALUES) == (ValueConstraint("app", "absent"),)
    assert _label_constraints("app", frozenset({0, 1}), VALUES) == (ValueConstraint("app", "absent-or-in", ("db",)),)
    assert _label_constraints("app", frozenset({0, 1, 2, 3}), VALUES) == ()


def test_constraint_text_reads_like_a_selector() -> None:
    assert constraint_text(ValueConstraint("app", "in", ("web",))) == "app=web"
    assert constraint_text(ValueConstraint("app", "not-in", ("a", "b"))) == "app notin (a, b)"
    assert constraint_text(ValueConstraint("app", "absent")) == "!app"


def _universe() -> Universe:
    return Universe(namespaces=("dev", "prod"), pod_keys=(("app", VALUES),), ns_keys=(),
                    port_names=(), port_cuts=(1, 80, 81), v4_cuts=(0,), v6_cuts=(0,))


def test_namespace_region_names_the_excluded_namespaces() -> None:
    cube = Cube((("dst.kind", frozenset({0})), ("dst.ns", frozenset({1, 2}))))
    region = endpoint_region(cube, "dst", _universe(), Semantics())
    assert region.namespace == ValueConstraint("namespace", "not-in", ("dev",))
    assert region.named_namespaces_in == ("prod",)


def test_merge_joins_touching_intervals_and_value_sets() -> None:
    universe = _universe()
    point = {"port": 80}
    low = Found(point, Cube((("port", (1, 79)), ("proto", frozenset({0})))))
    high = Found(point, Cube((("port", (80, 80)), ("proto", frozenset({0})))))
    assert [f.cube.get("port") for f in merge([low, high], universe)] == [(1, 80)]
    udp = Found(point, Cube((("port", (1, 79)), ("proto", frozenset({1})))))
    assert merge([low, udp], universe)[0].cube.get("proto") == frozenset({0, 1})
    apart = Found(point, Cube((("port", (81, 65535)), ("proto", frozenset({1})))))
    assert len(merge([low, apart], universe)) == 2


def test_changed_fields_name_paths() -> None:
    old = {"spec": {"ingress": [{"ports": [{"port": 80}]}], "podSelector": {}}}
    new = {"spec": {"ingress": [{"ports": [{"port": 80}, {"port": 443}]}], "podSelector": {"matchLabels": {"a": "b"}}}}
    assert changed_fields(old, new) == ("spec.ingress[0].ports[1]", "spec.podSelector.matchLabels")
    assert changed_fields(old, old) == ()


def test_object_changes_are_added_removed_modified() -> None:
    def obj(name: str, body: dict, file: str) -> SourceObject:
        return SourceObject("NetworkPolicy", "prod", name, Span(file, 1), body)
    old = PolicySet(objects=(obj("a", {"x": 1}, "old.yaml"), obj("b", {"x": 1}, "old.yaml")))
    new = PolicySet(objects=(obj("b", {"x": 2}, "new.yaml"), obj("c", {"x": 1}, "new.yaml")))
    changes = [(c.name, c.change, c.file, c.fields) for c in object_changes(old, new)]
    assert changes == [("a", "removed", "old.yaml", ()), ("b", "modified", "new.yaml", ("x",)),
                       ("c", "added", "new.yaml", ())]
