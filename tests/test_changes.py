"""The structural diff's field paths (analyse/changes.py) are those DeepDiff names."""

from __future__ import annotations

import copy
import re

from deepdiff import DeepDiff
from hypothesis import given, settings
from hypothesis import strategies as st

from npdiff.analyse import changes
from npdiff.analyse.changes import changed_fields
from trees import places

_KEY = re.compile(r"\['((?:[^'\\]|\\.)*)'\]")


def deepdiff_fields(old: object, new: object) -> tuple[str, ...]:
    """What the paths were before the walk: DeepDiff's affected paths, as field paths."""
    if old == new:
        return ()
    paths = DeepDiff(old, new).affected_paths
    return tuple(sorted({_KEY.sub(lambda m: "." + m.group(1), p.removeprefix("root")).lstrip(".") for p in paths}))


keys = st.sampled_from(["spec", "ingress", "from", "ports", "port", "app", "tier", "a.b/c", "x[0]", "it's", "ü",
                        "tab\t", ""])
scalars = st.one_of(st.sampled_from(["TCP", "UDP", "web", "80", ""]), st.integers(0, 3), st.booleans(), st.none(),
                    st.sampled_from([1.0, 0.5]))
trees = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(keys, inner, max_size=4)), max_leaves=20)


@st.composite
def pairs(draw):
    """A tree and a copy changed in a few places: most pairs are near each other, as two
    versions of an object are."""
    old = draw(st.dictionaries(keys, trees, min_size=1, max_size=4))
    new = copy.deepcopy(old)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(places(new)))
        if not path:
            continue
        parent = new
        for step in path[:-1]:
            parent = parent[step]
        edit = draw(st.sampled_from(["replace", "remove", "add"]))
        if edit == "replace":
            parent[path[-1]] = draw(trees)
        elif edit == "remove":
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(keys)] = draw(trees)
        elif isinstance(parent[path[-1]], list):
            parent[path[-1]].insert(draw(st.integers(0, len(parent[path[-1]]))), draw(trees))
    return old, new


@settings(max_examples=500, deadline=None)
@given(pairs())
def test_paths_are_those_deepdiff_names(pair):
    old, new = pair
    assert changed_fields(old, new) == deepdiff_fields(old, new)


@settings(max_examples=300, deadline=None)
@given(trees, trees)
def test_unrelated_values_too(old, new):
    assert changed_fields(old, new) == deepdiff_fields(old, new)


def test_policy_edits_need_no_deepdiff():
    old = {"spec": {"ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}},
                                          {"namespaceSelector": {}}],
                                 "ports": [{"port": 80, "protocol": "TCP"}]}],
                    "policyTypes": ["Ingress"]}}
    new = copy.deepcopy(old)
    new["spec"]["ingress"][0]["from"].pop()
    new["spec"]["ingress"][0]["ports"][0]["port"] = 443
    new["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["tier"] = "db"
    found: list[str] = []
    changes._differences(old, new, "", found)   # raises if it would ask DeepDiff
    assert tuple(sorted(found)) == deepdiff_fields(old, new) == (
        "spec.ingress[0].from[0].podSelector.matchLabels.tier", "spec.ingress[0].from[1]",
        "spec.ingress[0].ports[0].port")


words = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=6)


@settings(max_examples=1500, deadline=None)
@given(words, words)
def test_lists_of_strings_as_deepdiff_aligns_them(old, new):
    assert changed_fields({"values": old}, {"values": new}) == deepdiff_fields({"values": old}, {"values": new})
