"""Namespaces and workloads in the input: loaded into an inventory, validated where it matters."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from npdiff.load import load_cluster, load_policy_set
from npdiff.model import InputError, Semantics, Severity
from npdiff.model.inventory import ContainerPort

EVERY_KIND = """\
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: prod, labels: {app: debug}}
spec:
  containers: [{name: c, ports: [{containerPort: 80, name: http}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: prod}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        ports: [{containerPort: 8080, name: http}, {containerPort: 53, protocol: UDP}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: prod}
spec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: pg}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec: {template: {metadata: {labels: {app: agent}}, spec: {containers: [{name: a}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, namespace: prod}
spec: {template: {metadata: {labels: {app: rs}}, spec: {containers: [{name: a}]}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: prod}
spec: {template: {metadata: {labels: {app: once}}, spec: {containers: [{name: a}]}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: prod}
spec:
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: nightly}}
        spec:
          containers: [{name: a}]
          initContainers: [{name: i, ports: [{containerPort: 9000, name: setup}]}]
"""


def write(path: Path, text: str) -> str:
    path.write_text(textwrap.dedent(text))
    return str(path)


def load(path: str, **semantics):
    return load_policy_set([path], Semantics(**semantics))


def errors(path: str) -> list:
    with pytest.raises(InputError) as info:
        load(path)
    return [(d.line, d.code, d.path) for d in info.value.diagnostics]


def test_every_kind_is_loaded_with_its_pod_template(tmp_path):
    loaded = load(write(tmp_path / "all.yaml", EVERY_KIND))
    inventory = loaded.inventory
    assert [w.ref for w in inventory.workloads] == [
        "daemonset default/agent", "statefulset prod/db", "pod prod/debug", "cronjob prod/nightly",
        "job prod/once", "replicaset prod/rs", "deployment prod/web"]
    web = inventory.workloads[-1]
    assert web.labels == (("app", "web"),) and web.span.line == 11
    assert web.ports == (ContainerPort(53, "UDP"), ContainerPort(8080, "TCP", "http"))
    assert [(p.name, p.port) for p in inventory.pod(web).ports] == [("http", 8080)]
    nightly = inventory.workloads[3]
    assert nightly.labels == (("app", "nightly"),) and nightly.ports == (ContainerPort(9000, "TCP", "setup"),)
    assert inventory.namespace_labels("prod") == (("env", "prod"),)
    assert inventory.pod(web).namespace_label_map == {"env": "prod", "kubernetes.io/metadata.name": "prod"}
    assert inventory.namespace_labels("default") == ()
    # Loaded, not skipped; and not policy objects either.
    assert loaded.policy_set.skipped == () and loaded.policy_set.objects == ()
    assert [(d.severity, d.code) for d in loaded.diagnostics] == [(Severity.WARNING, "W-WL")]
    assert "init container" in loaded.diagnostics[0].message


def test_errors_name_file_line_and_field(tmp_path):
    text = """\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: Web, namespace: prod}
    spec:
      template:
        metadata: {labels: {"bad key!": x}}
        spec:
          containers:
          - name: web
            ports:
            - {containerPort: 70000}
            - {containerPort: 80, protocol: tcp}
            - {containerPort: 81, name: "81"}
    ---
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db, namespace: prod}
    spec: {}
    ---
    apiVersion: v1
    kind: Namespace
    metadata: {name: prod_1}
    """
    assert errors(write(tmp_path / "bad.yaml", text)) == [
        (3, "E-WL", "metadata.name"),
        (6, "E-WL", "spec.template.metadata.labels[bad key!]"),
        (11, "E-WL", "spec.template.spec.containers[0].ports[0].containerPort"),
        (12, "E-WL", "spec.template.spec.containers[0].ports[1].protocol"),
        (13, "E-WL", "spec.template.spec.containers[0].ports[2].name"),
        (18, "E-WL", "spec.template"),
        (22, "E-WL", "metadata.name"),
    ]


def test_duplicates_are_errors(tmp_path):
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\n"
    found = errors(write(tmp_path / "dup.yaml", text + "---\n" + text))
    assert found == [(5, "E-DUP", "metadata.name")]


def test_host_network_and_controlled_pods_are_left_out_with_a_note(tmp_path):
    text = """\
    apiVersion: v1
    kind: List
    items:
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: prod}
      spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: a}]}}}
    - apiVersion: v1
      kind: Pod
      metadata:
        name: web-5d8f-abcde
        namespace: prod
        labels: {app: web, pod-template-hash: 5d8f}
        ownerReferences: [{kind: ReplicaSet, name: web-5d8f, controller: true}]
      spec: {containers: [{name: a}]}
    - apiVersion: v1
      kind: Pod
      metadata:
        name: lonely
        namespace: prod
        labels: {app: lonely}
        ownerReferences: [{kind: ReplicaSet, name: gone, controller: true}]
      spec: {containers: [{name: a}]}
    - apiVersion: apps/v1
      kind: DaemonSet
      metadata: {name: node-agent, namespace: kube-system}
      spec: {template: {metadata: {labels: {app: agent}}, spec: {hostNetwork: true, containers: [{name: a}]}}}
    - apiVersion: apps/v1
      kind: ReplicaSet
      metadata:
        name: web-5d8f
        namespace: prod
        ownerReferences: [{kind: Deployment, name: web, controller: true}]
      spec: {template: {metadata: {labels: {app: web, pod-template-hash: 5d8f}}, spec: {containers: [{name: a}]}}}
    """
    loaded = load_cluster(write(tmp_path / "dump.yaml", text), Semantics())
    assert [w.ref for w in loaded.inventory.workloads] == ["pod prod/lonely", "deployment prod/web"]
    notes = [(d.line, d.code) for d in loaded.diagnostics]
    assert notes == [(8, "N-INV"), (24, "N-INV")]
    assert "left out pod prod/web-5d8f-abcde and 1 more: a controller owns them" in loaded.diagnostics[0].message


def test_cluster_policies_are_not_analysed(tmp_path):
    text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: x}\nspec: {}\n"
    loaded = load_cluster(write(tmp_path / "c.yaml", text), Semantics())
    assert loaded.policy_set.policies == ()
    assert [d.code for d in loaded.diagnostics] == ["N-INV"]


def test_namespace_name_label_is_forced(tmp_path):
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: {kubernetes.io/metadata.name: b}\n"
    loaded = load(write(tmp_path / "ns.yaml", text))
    assert loaded.inventory.namespaces[0].labels == (("kubernetes.io/metadata.name", "a"),)
    assert [d.code for d in loaded.diagnostics] == ["W-WL"]


def test_a_port_name_declared_twice_resolves_to_both(tmp_path):
    text = """\
    apiVersion: v1
    kind: Pod
    metadata: {name: p, namespace: x}
    spec:
      containers:
      - {name: a, ports: [{containerPort: 80, name: http}]}
      - {name: b, ports: [{containerPort: 8080, name: http}]}
    """
    loaded = load(write(tmp_path / "p.yaml", text))
    (workload,) = loaded.inventory.workloads
    assert [(p.name, p.port) for p in loaded.inventory.pod(workload).ports] == [("http", 80), ("http", 8080)]
    assert [d.code for d in loaded.diagnostics] == ["W-WL"]
