"""`KUBECTL_EXTERNAL_DIFF=npdiff kubectl diff -f dir/`: kubectl runs `npdiff LIVE MERGED` on
two directories of extension-less YAML files named `[GROUP.]VERSION.KIND.NAMESPACE.NAME`,
holding objects as the API server returns them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from npdiff.analyse.authored import authored
from npdiff.cli import run
from npdiff.load.sources import is_policy_file

LIVE = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"annotations":{},"name":"api","namespace":"shop"},"spec":{"ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"web"}}}],"ports":[{"port":8080}]}],"podSelector":{"matchLabels":{"app":"api"}},"policyTypes":["Ingress"]}}
  creationTimestamp: "2026-11-20T09:12:44Z"
  generation: 3
  managedFields:
  - apiVersion: networking.k8s.io/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:spec:
        f:ingress: {}
    manager: kubectl-client-side-apply
    operation: Update
    time: "2026-11-20T09:12:44Z"
  name: api
  namespace: shop
  resourceVersion: "918273"
  uid: 4f1c2a9e-7d3b-4c55-9a8e-2b6f0d1e3c47
spec:
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: web
    ports:
    - port: 8080
      protocol: TCP
  podSelector:
    matchLabels:
      app: api
  policyTypes:
  - Ingress
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, generation: 7, resourceVersion: "918001"}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
status: {replicas: 2, readyReplicas: 2, observedGeneration: 7}
"""

POLICY_FILE = "networking.k8s.io.v1.NetworkPolicy.shop.api"


def _server_side_apply(text: str) -> str:
    """What the API server's dry run returns for the same spec: only server fields move."""
    return (text.replace("generation: 3", "generation: 4")
                .replace('"2026-11-20T09:12:44Z"', '"2026-11-26T10:00:00Z"')
                .replace('"ports":[{"port":8080}]', '"ports":[{"port":8080},{"port":8443}]'))


def _kubectl_dirs(tmp_path: Path, merged_policy: str) -> tuple[Path, Path]:
    live, merged = tmp_path / "LIVE-2817164923", tmp_path / "MERGED-1190234751"
    for directory, policy in ((live, LIVE), (merged, merged_policy)):
        directory.mkdir()
        (directory / POLICY_FILE).write_text(policy)
        (directory / "apps.v1.Deployment.shop.web").write_text(DEPLOYMENT)
    return live, merged


def test_object_file_names() -> None:
    assert is_policy_file(POLICY_FILE)
    assert is_policy_file("v1.Namespace..shop")            # cluster-scoped: empty namespace
    assert is_policy_file("policy.v1beta1.PodDisruptionBudget.shop.web-pdb")
    for name in ("README", "LICENSE", "OWNERS", "Makefile", "notes.txt", ".hidden.yaml",
                 "v1.Namespace.shop", "networking.k8s.io.V1.NetworkPolicy.shop.api"):
        assert not is_policy_file(name), name


def test_only_server_fields_moved_is_equivalent(tmp_path: Path) -> None:
    live, merged = _kubectl_dirs(tmp_path, _server_side_apply(LIVE).replace('"918273"', '"918274"'))
    result = run([str(live), str(merged), "-o", "json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "equivalent" and report["changes"] == []
    # The Deployment joins the inventory; server fields are no change of what policies see.
    assert report["inventory"]["new"]["workloads"] == 1 and report["workload_changes"] == []


def test_opened_port(tmp_path: Path) -> None:
    opened = _server_side_apply(LIVE).replace("    - port: 8080\n      protocol: TCP\n",
                                              "    - port: 8080\n      protocol: TCP\n"
                                              "    - port: 8443\n      protocol: TCP\n")
    live, merged = _kubectl_dirs(tmp_path, opened)
    result = run([str(live), str(merged), "-o", "json"])
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    assert [c["ports"] for c in report["newly_allowed"]] == [[[8443, 8443]]]
    assert [(c["name"], c["fields"]) for c in report["changes"]] == [("api", ["spec.ingress[0].ports[1]"])]
    assert report["changes"][0]["file"] == f"{merged}/{POLICY_FILE}"


def test_new_object_is_only_in_merged(tmp_path: Path) -> None:
    live, merged = _kubectl_dirs(tmp_path, LIVE)
    (live / POLICY_FILE).unlink()
    report = json.loads(run([str(live), str(merged), "-o", "json"]).stdout)
    assert [(c["name"], c["change"]) for c in report["changes"]] == [("api", "added")]


def test_authored_keeps_what_the_author_wrote() -> None:
    body = {"kind": "NetworkPolicy", "status": {}, "spec": {"podSelector": {}},
            "metadata": {"name": "a", "uid": "x", "labels": {"team": "a"},
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}",
                                         "owner": "me"}}}
    assert authored(body) == {"kind": "NetworkPolicy", "spec": {"podSelector": {}},
                              "metadata": {"name": "a", "labels": {"team": "a"},
                                           "annotations": {"owner": "me"}}}


def test_console_script_as_external_diff(tmp_path: Path) -> None:
    """kubectl executes the program named by KUBECTL_EXTERNAL_DIFF with LIVE and MERGED."""
    script = shutil.which("npdiff", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.fail("the npdiff console script is not installed next to this Python")
    live, merged = _kubectl_dirs(tmp_path, LIVE.replace("port: 8080", "port: 9090"))
    done = subprocess.run([script, str(live), str(merged)], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert "on   TCP 9090" in done.stdout and "on   TCP 8080" in done.stdout
