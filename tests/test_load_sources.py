"""Sources and objects: files, directories, stdin, multi-document YAML, lists, JSON."""

from __future__ import annotations

import io
import json
import os
import textwrap
from pathlib import Path

import pytest

from npdiff.analyse.changes import object_changes
from npdiff.load import Loaded, load_policy_set
from npdiff.model import InputError, Semantics, Severity

NP = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: {namespace}
spec:
  podSelector: {{}}
"""


def policy(name: str, namespace: str = "prod") -> str:
    return NP.format(name=name, namespace=namespace)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text))
    return path


def load(*paths: str, stdin: bytes | None = None) -> Loaded:
    stream = io.BytesIO(stdin) if stdin is not None else None
    return load_policy_set(list(paths), Semantics(), stdin=stream)


def errors(*paths: str, stdin: bytes | None = None) -> list:
    with pytest.raises(InputError) as info:
        load(*paths, stdin=stdin)
    return list(info.value.diagnostics)


def keys(loaded: Loaded) -> list[str]:
    return [p.key for p in loaded.policy_set.policies]


def test_directory_is_recursive_sorted_and_named_relative_to_the_argument(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "old/b.yaml", policy("b"))
    write(tmp_path / "old/a.yml", policy("a", "dev"))
    write(tmp_path / "old/sub/c.json", json.dumps({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "c", "namespace": "prod"}, "spec": {}}, indent="\t"))
    write(tmp_path / "old/README.md", "not yaml: [")
    write(tmp_path / "old/notes.txt", "kind: [")
    write(tmp_path / "old/.github/ci.yaml", "on: push\n")
    write(tmp_path / "old/.hidden.yaml", "broken: [")
    loaded = load("old")
    assert keys(loaded) == ["dev/a", "prod/b", "prod/c"]
    spans = sorted(str(p.span) for p in loaded.policy_set.policies)
    assert spans == ["old/a.yml:1", "old/b.yaml:1", "old/sub/c.json:1"]
    assert [o.span.file for o in loaded.policy_set.objects] == [
        "old/a.yml", "old/b.yaml", "old/sub/c.json"]
    assert load("old/").policy_set.policies[0].span.file == "old/a.yml"
    monkeypatch.chdir(tmp_path / "old")
    assert sorted(str(p.span) for p in load(".").policy_set.policies) == ["a.yml:1", "b.yaml:1", "sub/c.json:1"]


def test_explicit_file_of_any_extension_is_read(tmp_path):
    path = write(tmp_path / "policy.txt", policy("p"))
    assert keys(load(str(path))) == ["prod/p"]


def test_missing_path_is_an_error(tmp_path):
    found = errors(str(tmp_path / "nope"))
    assert [(d.code, d.file) for d in found] == [("E-IO", str(tmp_path / "nope"))]
    assert "no such file" in found[0].message


def test_empty_directory_is_an_empty_policy_set(tmp_path):
    loaded = load(str(tmp_path))
    assert loaded.policy_set.policies == () and loaded.diagnostics == ()


def test_stdin_is_named_stdin():
    loaded = load("-", stdin=policy("p").encode())
    assert keys(loaded) == ["prod/p"]
    assert loaded.policy_set.policies[0].span.file == "<stdin>"
    found = errors("-", stdin=b"kind: [")
    assert found[0].file == "<stdin>" and found[0].code == "E-YAML"


def test_multi_document_with_empty_documents(tmp_path):
    text = "---\n" + policy("a") + "---\n---\n# only a comment\n---\n" + policy("b") + "...\n"
    loaded = load(str(write(tmp_path / "m.yaml", text)))
    assert keys(loaded) == ["prod/a", "prod/b"]
    assert [p.span.line for p in loaded.policy_set.policies] == [2, 13]


def test_kubectl_list_and_typed_list(tmp_path):
    text = """\
    apiVersion: v1
    kind: List
    items:
    - apiVersion: networking.k8s.io/v1
      kind: NetworkPolicy
      metadata: {name: a, namespace: prod}
      spec: {}
    - apiVersion: v1
      kind: Service
      metadata: {name: svc, namespace: prod}
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicyList
    metadata: {resourceVersion: "1"}
    items:
    - metadata: {name: b, namespace: dev}
      spec: {policyTypes: [Egress]}
    """
    loaded = load(str(write(tmp_path / "list.yaml", text)))
    assert keys(loaded) == ["dev/b", "prod/a"]
    assert [p.span.line for p in loaded.policy_set.policies] == [16, 4]
    assert loaded.policy_set.skipped == (("Service", 1),)
    assert [o.key for o in loaded.policy_set.objects] == [
        ("NetworkPolicy", "dev", "b"), ("NetworkPolicy", "prod", "a"), ("Service", "prod", "svc")]


def test_json_file(tmp_path):
    doc = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": "j", "namespace": "prod"},
           "spec": {"ingress": [{"ports": [{"port": 8080, "endPort": 8090}]}]}}
    path = write(tmp_path / "p.json", json.dumps(doc, indent=2))
    (rule,) = load(str(path)).policy_set.policies[0].ingress
    assert rule.ports[0].port == 8080 and rule.ports[0].end_port == 8090
    assert rule.span.line == 10 and rule.ports[0].span.line == 12
    bad = write(tmp_path / "q.json", json.dumps({**doc, "spec": {"ingress": [{"ports": [
        {"port": 1e5}]}]}}))
    assert [d.code for d in errors(str(bad))] == ["E-NP-16"]


def test_other_kinds_are_skipped_with_one_note_per_kind(tmp_path):
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d%d, namespace: x}\n"
    text = "---\n".join([config_map % 1, policy("p"), config_map % 2, config_map % 3,
                         "apiVersion: v1\nkind: Service\nmetadata: {name: prod}\n"])
    loaded = load(str(write(tmp_path / "mixed.yaml", text)))
    assert loaded.policy_set.skipped == (("ConfigMap", 3), ("Service", 1))
    notes = [(d.severity, d.code, d.message) for d in loaded.diagnostics]
    assert notes == [(Severity.NOTE, "N-SKIP", "skipped 3 ConfigMap objects"),
                     (Severity.NOTE, "N-SKIP", "skipped 1 Service object")]
    assert len(loaded.policy_set.objects) == 5


def test_source_object_bodies_compare_as_plain_values(tmp_path):
    text = policy("p") + "  ingress:\n  - from: [{podSelector: {matchLabels: {a: b}}}]\n"
    (obj,) = load(str(write(tmp_path / "p.yaml", text))).policy_set.objects
    assert obj.key == ("NetworkPolicy", "prod", "p") and str(obj.span) == f"{tmp_path}/p.yaml:1"

    def check(value):
        assert isinstance(value, (dict, list, str, int, float, bool, type(None)))
        for child in value.values() if isinstance(value, dict) else \
                value if isinstance(value, list) else ():
            check(child)

    check(obj.body)
    assert obj.body["spec"]["ingress"][0]["from"][0]["podSelector"] == {"matchLabels": {"a": "b"}}


def test_a_moved_object_is_no_change(tmp_path):
    """Bodies keep their line numbers, which must not count as a change."""
    text = policy("p") + "  ingress:\n  - from: [{podSelector: {matchLabels: {a: b}}}]\n"
    old = load(str(write(tmp_path / "old.yaml", text))).policy_set
    new = load(str(write(tmp_path / "new.yaml", "# moved down\n\n" + text))).policy_set
    assert object_changes(old, new) == ()
    changed = load(str(write(tmp_path / "changed.yaml", "# moved\n" + text.replace("a: b", "a: c")))).policy_set
    (change,) = object_changes(old, changed)
    assert change.fields == ("spec.ingress[0].from[0].podSelector.matchLabels.a",)


def test_documents_that_are_not_objects(tmp_path):
    text = "- a\n- b\n---\nkind: NetworkPolicy\nmetadata: {name: x}\n---\napiVersion: v1\n" \
           "kind: 5\n---\nplain scalar\n"
    found = errors(str(write(tmp_path / "bad.yaml", text)))
    assert [(d.code, d.line, d.path) for d in found] == [
        ("E-OBJ", 1, ""), ("E-OBJ", 4, "apiVersion"), ("E-OBJ", 8, "kind"), ("E-OBJ", 10, "")]


def test_policies_sorted_by_namespace_then_name(tmp_path):
    write(tmp_path / "a.yaml", policy("z", "a") + "---\n" + policy("a", "b"))
    write(tmp_path / "b.yaml", policy("m", "a"))
    assert keys(load(str(tmp_path))) == ["a/m", "a/z", "b/a"]


def test_duplicate_policy_names_both_places(tmp_path):
    write(tmp_path / "a.yaml", policy("web"))
    write(tmp_path / "b.yaml", "# copy\n" + policy("web"))
    (found,) = errors(str(tmp_path))
    assert (found.code, found.file, found.line) == ("E-DUP", f"{tmp_path}/b.yaml", 2)
    assert f"{tmp_path}/a.yaml:1" in found.message and "prod/web" in found.message


def test_defaulted_namespace_counts_for_duplicates(tmp_path):
    text = policy("p", "default") + "---\n" + policy("p").replace("  namespace: prod\n", "")
    (found,) = errors(str(write(tmp_path / "a.yaml", text)))
    assert found.code == "E-DUP"


def test_too_large_file_is_refused(tmp_path, monkeypatch):
    from npdiff.load import sources

    monkeypatch.setattr(sources, "MAX_BYTES", 100)
    path = write(tmp_path / "big.yaml", policy("p") * 3)
    (found,) = errors(str(path))
    assert found.code == "E-IO" and "larger than" in found.message
    (found,) = errors("-", stdin=(policy("p") * 3).encode())
    assert found.code == "E-IO" and found.file == "<stdin>"


def test_json_on_stdin_with_tabs():
    doc = {"apiVersion": "v1", "kind": "List", "items": [{
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "j", "namespace": "prod"}, "spec": {"ingress": [{}]}}]}
    loaded = load("-", stdin=json.dumps(doc, indent="\t").encode())
    assert keys(loaded) == ["prod/j"] and loaded.policy_set.policies[0].span.line == 5


def _read(*paths: str):
    from npdiff.load.sources import read_input

    read = read_input(list(paths), None)
    return [(s.name, s.data) for s in read.sources], [(d.file, d.message) for d in read.problems]


def test_each_linked_directory_is_read_once_by_the_first_link_listed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "shared/s.yaml", policy("s"))
    write(tmp_path / "shared/inner/t.yaml", policy("t"))
    write(tmp_path / "repo/own.yaml", policy("own"))
    for link, target in (("one", "../shared"), ("two", "../shared"), ("loop", "."), ("again", "one")):
        (tmp_path / "repo" / link).symlink_to(target, target_is_directory=True)
    names = [name for name, _ in _read("repo")[0]]
    first = next(e.name for e in os.scandir("repo") if e.name in ("one", "two", "again"))
    assert names == sorted([f"repo/{first}/inner/t.yaml", f"repo/{first}/s.yaml", "repo/own.yaml"])


def test_a_directory_that_fails_to_list_is_left_out_and_its_other_link_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "shared/s.yaml", policy("s"))
    write(tmp_path / "repo/a.yaml", policy("a"))
    (tmp_path / "repo/one").symlink_to("../shared", target_is_directory=True)
    (tmp_path / "repo/two").symlink_to("../shared", target_is_directory=True)
    scandir = os.scandir

    def failing(path):
        if str(path).endswith("one"):
            raise PermissionError(13, "Permission denied", path)
        return scandir(path)

    monkeypatch.setattr(os, "scandir", failing)
    assert _read("repo/") == ([("repo/a.yaml", policy("a").encode()), ("repo/two/s.yaml", policy("s").encode())],
                              [("repo/one", "cannot list: Permission denied")])


def test_a_file_that_changed_size_since_it_was_looked_at_is_read_whole(tmp_path, monkeypatch):
    path = write(tmp_path / "p.yaml", policy("p"))
    fstat = os.fstat
    for delta in (-10, 10):
        def stale(fd, delta=delta):
            info = fstat(fd)
            fields = list(info)
            fields[6] += delta      # st_size
            return os.stat_result(fields)

        monkeypatch.setattr(os, "fstat", stale)
        assert _read(str(path)) == ([(str(path), policy("p").encode())], [])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_read_to_its_end(tmp_path):
    import threading

    pipe = tmp_path / "p.yaml"
    os.mkfifo(pipe)
    data = policy("p").encode() * 500          # more than one read of a pipe returns

    def feed() -> None:
        with open(pipe, "wb") as stream:
            stream.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    assert _read(str(pipe)) == ([(str(pipe), data)], [])
    writer.join()


def test_unreadable_entries_of_a_tree_are_named_as_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "repo/a.yaml", policy("a"))
    os.symlink("nowhere.yaml", tmp_path / "repo/gone.yaml")
    os.symlink("self.yaml", tmp_path / "repo/self.yaml")
    (tmp_path / "repo/dir.yaml").mkdir()
    sources, problems = _read("repo", "repo/dir.yaml/")
    assert sources == [("repo/a.yaml", policy("a").encode())]
    assert problems == [("repo/gone.yaml", "no such file or directory"),
                        ("repo/self.yaml", "cannot read: Too many levels of symbolic links")]
    from npdiff.load.sources import read_one
    assert [(d.file, d.message) for d in read_one("repo/dir.yaml", None).problems] == [
        ("repo/dir.yaml", "is a directory")]


def test_paths_are_read_without_the_git_reader(tmp_path):
    import subprocess
    import sys

    import npdiff

    write(tmp_path / "repo/a.yaml", policy("a"))
    script = ("import sys; from npdiff.load.sources import read_input; read = read_input(sys.argv[1:], None); "
              "print(len(read.sources), 'npdiff.load.git' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(npdiff.__file__).parents[1]),
                                                                      os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "repo"), str(tmp_path / "repo/a.yaml")],
                          capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split() == ["2", "False"]
