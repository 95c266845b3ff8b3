#!/usr/bin/env python3
"""npdiff against the peer tool network-config-analyzer (NCA), timed in one run.

    python benchmarks/bench_peer.py [--pods 200] [--policies 50] [--namespaces 10]
                                    [--change 3] [--seed 1] [--venv DIR] [--keep DIR]
                                    [--repeat 1] [--target 50] [--nca-timeout 1800]
                                    [--nca-version 2.1.0] [--generator PATH]

Issue 6, target 5: on a topology NCA can handle, npdiff is at least 50 × faster than
NCA's `--semantic_diff`, measured in the same run. Not part of the test suite.

1. NCA is installed with pip into a scratch virtualenv outside the repository (a
   temporary one, removed afterwards, or DIR given with --venv, created when missing and
   reused as it is when it already has `nca`). NCA is never a dependency of npdiff.
2. A topology is generated: N policies over M namespaces and a "pull request" copy with
   K policies changed (../shared/bench/gen_policies.py), and a cluster of about P pods
   written here in the generator's label vocabulary (`kubectl get -o yaml` shape: Pods
   of a few replica sets per namespace, Namespaces with an `env` label, and kube-dns in
   kube-system), as `namespaces.yaml`, `pods.yaml` and `cluster.yaml` (`kind: List`).
3. Each tool runs in a fresh process, timed (the best of --repeat runs):
   - `nca --semantic_diff NEW --base_np_list OLD --ns_list namespaces.yaml
     --pod_list pods.yaml` (exit 0: equivalent, 1: different, 4-7: not run; killed
     after --nca-timeout seconds, its time then a lower bound);
   - `python -m npdiff OLD NEW -o json` (symbolic: every pod that could exist), with
     this interpreter, so npdiff must be installed in it (the worktree's .venv);
   - `python -m npdiff OLD NEW --cluster cluster.yaml --inventory-only -o json` (only
     the pods of that inventory, NCA's question), when `npdiff diff --help` lists
     --inventory-only; otherwise that row says so.
4. Prints both versions and a Markdown table: tool, mode, wall time, verdict, NCA's time
   over npdiff's and whether it is at least --target (50) ×. A verdict that differs
   from NCA's is reported loudly; the symbolic one may legitimately be "different" where
   NCA's concrete pods are "equivalent" (a change that only affects pods not deployed).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parent.parent
# ../shared beside the repository (or beside a worktree's parent directory)
DEFAULT_GENERATOR = next((base / "shared" / "bench" / "gen_policies.py" for base in ROOT.parents
                          if (base / "shared" / "bench" / "gen_policies.py").exists()),
                         ROOT.parent / "shared" / "bench" / "gen_policies.py")


@dataclass
class Run:
    tool: str
    mode: str
    seconds: float | None  # None: not run
    verdict: str  # "equivalent", "different", or what stood in the way
    summary: str
    timed_out: bool = False  # seconds is then the timeout: a lower bound


# ---------------------------------------------------------------- topology


def load_generator(path: Path) -> ModuleType:
    """The generator as a module, for its label vocabulary (APPS, TIERS, ENVS, PORTS)."""
    spec = importlib.util.spec_from_file_location("gen_policies", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load the generator {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kube_list(items: list[dict]) -> dict:
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}


def pod(namespace: str, name: str, owner: str, labels: dict[str, str], ports: list[tuple[int, str]],
        container: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner,
                                              "controller": True, "blockOwnerDeletion": True}]},
            "spec": {"containers": [{"name": container, "image": f"example/{container}:1",
                                     "ports": [{"name": name_, "containerPort": num, "protocol": "TCP"}
                                               for num, name_ in ports]}]}}


def cluster(gen: ModuleType, n_pods: int, n_namespaces: int, seed: int) -> tuple[list[dict], list[dict]]:
    """Namespaces and Pods: per namespace a few replica sets of the generator's apps."""
    import random

    r = random.Random(seed + 10)
    namespaces = [f"team-{i:03d}" for i in range(n_namespaces)]  # the generator's names
    ns_docs = [{"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns, "env": r.choice(gen.ENVS)}}}
               for ns in namespaces]
    ns_docs.append({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": "kube-system", "labels": {"kubernetes.io/metadata.name": "kube-system"}}})
    pods = [pod("kube-system", f"coredns-5d78c9869d-{s}", "coredns-5d78c9869d",
                {"k8s-app": "kube-dns", "pod-template-hash": "5d78c9869d"}, [(53, "dns-tcp"), (9153, "metrics")],
                "coredns") for s in ("8xk2p", "q7w4z")]
    for index, ns in enumerate(namespaces):
        here = n_pods // n_namespaces + (1 if index < n_pods % n_namespaces else 0)
        apps = r.sample(gen.APPS, min(len(gen.APPS), max(1, round(here / 2.5))))
        sets = []
        for app in apps:
            digest = f"{r.getrandbits(40):010x}"
            labels = {"app": app, "tier": r.choice(gen.TIERS), "pod-template-hash": digest}
            sets.append((app, f"{app}-{digest}", labels, r.sample(gen.PORTS, 2)))
        for i in range(here):
            app, owner, labels, ports = sets[i % len(sets)]
            pods.append(pod(ns, f"{owner}-{r.getrandbits(25):05x}", owner, dict(labels), ports, app))
    return ns_docs, pods


def write_topology(gen_path: Path, out: Path, args: argparse.Namespace) -> dict[str, Path]:
    old, new = out / "policies", out / "policies-pr"  # the generator writes OUT and OUT-pr
    subprocess.run([sys.executable, str(gen_path), str(old), "--policies", str(args.policies),
                    "--namespaces", str(args.namespaces), "--change", str(args.change), "--seed", str(args.seed)],
                   check=True, capture_output=True)
    ns_docs, pods = cluster(load_generator(gen_path), args.pods, args.namespaces, args.seed)
    paths = {"old": old, "new": new, "namespaces": out / "namespaces.yaml", "pods": out / "pods.yaml",
             "cluster": out / "cluster.yaml"}
    dump = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    for key, items in (("namespaces", ns_docs), ("pods", pods), ("cluster", ns_docs + pods)):
        paths[key].write_text(yaml.dump(kube_list(items), Dumper=dump, sort_keys=False))
    return paths


# ---------------------------------------------------------------- tools


def timed(argv: list[str], repeat: int,
          timeout: float | None = None) -> tuple[float, subprocess.CompletedProcess[str] | None]:
    """Best wall time of `repeat` fresh processes and the last one's result; on a timeout
    (the process is killed) the timeout and None."""
    best, done = float("inf"), None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return float(timeout or 0), None
        best = min(best, time.perf_counter() - start)
    return best, done


def nca_venv(requested: Path | None, version: str) -> tuple[Path, Path | None]:
    """The virtualenv's nca executable, and the directory to remove afterwards (if ours)."""
    venv = requested or Path(tempfile.mkdtemp(prefix="npdiff-nca-venv-"))
    venv = venv.resolve()
    if venv == ROOT or ROOT in venv.parents:
        raise SystemExit(f"--venv {venv} is inside the repository; give a directory outside it")
    nca = venv / "bin" / "nca"
    if not nca.exists():
        if not (venv / "bin" / "python").exists():
            print(f"creating a virtualenv for NCA in {venv}", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        print(f"pip install network-config-analyzer=={version} into {venv}", file=sys.stderr)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                        f"network-config-analyzer=={version}"], check=True)
    return nca, (None if requested else venv)


def nca_version(nca: Path) -> str:
    done = subprocess.run([str(nca), "--version"], capture_output=True, text=True)
    return (done.stdout or done.stderr).strip()


def run_nca(nca: Path, paths: dict[str, Path], repeat: int, timeout: float) -> tuple[Run, str]:
    argv = [str(nca), "--semantic_diff", str(paths["new"]), "--base_np_list", str(paths["old"]),
            "--ns_list", str(paths["namespaces"]), "--pod_list", str(paths["pods"])]
    mode = f"`--semantic_diff`, {count_pods(paths)} pods"
    seconds, done = timed(argv, repeat, timeout)
    if done is None:
        return Run("network-config-analyzer", mode, seconds, "timed out", f"no answer: killed after {timeout:g} s",
                   timed_out=True), " ".join(argv)
    text = done.stdout
    if done.returncode not in (0, 1):
        raise SystemExit(f"NCA did not run the query (exit {done.returncode}):\n{done.stdout[-2000:]}"
                         f"\n{done.stderr[-2000:]}")
    says_equivalent = " are semantically equivalent" in text
    says_different = " are not semantically equivalent" in text
    verdict = "equivalent" if done.returncode == 0 else "different"
    if says_equivalent == says_different or says_equivalent != (done.returncode == 0):
        raise SystemExit(f"NCA's exit code {done.returncode} and its output disagree:\n{text[-2000:]}")
    # each changed connection is one rule line "src...: ... dst...: ... conn: ..." under a
    # heading "Added|Removed|New|Lost|Changed connections ... :"
    counts = {"added": 0, "removed": 0, "changed": 0}
    current = ""
    for line in text.splitlines():
        heading = re.match(r"(Added|New|Removed|Lost|Changed) ", line)
        if heading:
            current = {"Added": "added", "New": "added", "Removed": "removed", "Lost": "removed"}.get(
                heading.group(1), "changed")
        elif current and "src" in line and "dst" in line and "conn" in line:
            counts[current] += 1
    summary = verdict
    if any(counts.values()):
        summary += ", " + " + ".join(f"{n} {kind}" for kind, n in counts.items() if n) + " connection rules"
    own = re.search(r"Total run time:\s*([0-9.]+) seconds", text)
    if own:
        summary += f" (its own timer: {float(own.group(1)):.2f} s)"
    return Run("network-config-analyzer", mode, seconds, verdict, summary), " ".join(argv)


def count_pods(paths: dict[str, Path]) -> int:
    return len(yaml.safe_load(paths["pods"].read_text())["items"])


def npdiff_version(python: str) -> str:
    done = subprocess.run([python, "-m", "npdiff", "--version"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"npdiff is not installed in {python}: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def has_inventory(python: str) -> bool:
    done = subprocess.run([python, "-m", "npdiff", "diff", "--help"], capture_output=True, text=True)
    return "--inventory-only" in done.stdout


def run_npdiff(python: str, mode: str, extra: list[str], paths: dict[str, Path], repeat: int) -> tuple[Run, str]:
    argv = [python, "-m", "npdiff", str(paths["old"]), str(paths["new"]), *extra, "-o", "json"]
    seconds, done = timed(argv, repeat)
    if done.returncode not in (0, 1, 3):
        raise SystemExit(f"npdiff failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    allowed, blocked = len(report["newly_allowed"]), len(report["newly_blocked"])
    summary = f"{report['verdict']}, {allowed} newly allowed + {blocked} newly blocked classes"
    if not report.get("complete", True):
        summary += " (capped)"
    return Run("npdiff", mode, seconds, report["verdict"], summary), " ".join(argv)


# ---------------------------------------------------------------- report


def table(runs: list[Run], nca: Run, target: float) -> str:
    lines = ["| tool | mode | wall time | verdict / result | NCA ÷ this | ≥ %g × |" % target,
             "|---|---|---:|---|---:|---|"]
    for run in runs:
        if run.seconds is None:
            lines.append(f"| {run.tool} | {run.mode} | n/a | {run.summary} | n/a | n/a |")
            continue
        more = "> " if nca.timed_out else ""
        if run is nca:
            lines.append(f"| {run.tool} | {run.mode} | {more}{run.seconds:.2f} s | {run.summary} | 1 × | – |")
            continue
        ratio = (nca.seconds or 0.0) / run.seconds
        met = "yes" if ratio >= target else ("unknown" if nca.timed_out else "NO")
        lines.append(f"| {run.tool} | {run.mode} | {run.seconds:.2f} s | {run.summary} | {more}{ratio:.1f} × | "
                     f"{met} |")
    return "\n".join(lines)


def agreement(nca: Run, others: list[Run]) -> list[str]:
    notes = []
    if nca.timed_out:
        return ["no verdict to compare: NCA timed out"]
    for run in others:
        if run.seconds is None or run.verdict == nca.verdict:
            continue
        if run.mode.startswith("symbolic") and run.verdict == "different" and nca.verdict == "equivalent":
            notes.append(f"DISAGREEMENT (scope): npdiff {run.mode} says different, NCA says equivalent on its "
                         "concrete pods: the change only affects pods that the pod list does not hold")
        else:
            notes.append(f"DISAGREEMENT: npdiff {run.mode} says {run.verdict}, NCA says {nca.verdict}")
    return notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=200, help="pods in the team namespaces (+2 kube-dns)")
    parser.add_argument("--policies", type=int, default=50)
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--change", type=int, default=3, help="policies changed in the PR copy")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool; the best time counts")
    parser.add_argument("--target", type=float, default=50.0, help="required NCA ÷ npdiff ratio")
    parser.add_argument("--venv", type=Path, help="virtualenv for NCA, outside the repository (kept)")
    parser.add_argument("--nca-version", default="2.1.0")
    parser.add_argument("--nca-timeout", type=float, default=1800.0,
                        help="seconds before NCA is killed (its time then counts as a lower bound)")
    parser.add_argument("--generator", type=Path, default=DEFAULT_GENERATOR)
    parser.add_argument("--keep", type=Path, help="generate the topology into this directory and keep it")
    args = parser.parse_args()
    os.environ["NPDIFF_NO_CACHE"] = "1"   # time the analysis, never a cached result

    python = sys.executable
    npdiff_ver = npdiff_version(python)
    nca, scratch_venv = nca_venv(args.venv, args.nca_version)
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="npdiff-bench-peer-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        paths = write_topology(args.generator, scratch, args)
        print(f"npdiff: {npdiff_ver} ({python})")
        print(f"network-config-analyzer: {nca_version(nca)} ({nca})")
        print(f"topology: {args.policies} policies in {args.namespaces} namespaces, {args.change} changed in "
              f"the PR copy; {count_pods(paths)} pods (kube-dns included)\n")

        nca_run, nca_cmd = run_nca(nca, paths, args.repeat, args.nca_timeout)
        symbolic, sym_cmd = run_npdiff(python, "symbolic (every pod that could exist)", [], paths, args.repeat)
        commands = [nca_cmd, sym_cmd]
        mode = f"`--cluster --inventory-only`, {count_pods(paths)} pods"
        if has_inventory(python):
            inventory, inv_cmd = run_npdiff(python, mode, ["--cluster", str(paths["cluster"]), "--inventory-only"],
                                            paths, args.repeat)
            commands.append(inv_cmd)
        else:
            inventory = Run("npdiff", mode, None, "n/a", "n/a (no inventory support in this npdiff)")
        runs = [nca_run, symbolic, inventory]

        print(table(runs, nca_run, args.target))
        print()
        for command in commands:
            print(f"    {command}")
        notes = agreement(nca_run, [symbolic, inventory])
        print()
        if notes:
            for note in notes:
                print(f"!!! {note}")
        else:
            print("verdicts agree: " + ", ".join(f"{r.tool} {r.mode.split(' (')[0]}: {r.verdict}"
                                                 for r in runs if r.seconds is not None))
        nca_floor, _ = timed([str(nca), "--version"], args.repeat)
        npdiff_floor, _ = timed([python, "-c", "import npdiff.cli, z3"], args.repeat)
        print(f"start-up alone: nca --version {nca_floor:.2f} s; python -c 'import npdiff.cli, z3' "
              f"{npdiff_floor:.2f} s")
        if inventory.seconds is None:
            print(f"target 5 (npdiff with the inventory >= {args.target:g} x faster than NCA): not measured, "
                  "this npdiff has no --inventory-only; the symbolic row is shown instead")
        else:
            ratio = (nca_run.seconds or 0.0) / inventory.seconds
            met = "met" if ratio >= args.target else ("unknown" if nca_run.timed_out else "NOT met")
            print(f"target 5 (npdiff with the inventory >= {args.target:g} x faster than NCA): "
                  f"{met} ({'> ' if nca_run.timed_out else ''}{ratio:.1f} x)")
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
        if scratch_venv is not None:
            shutil.rmtree(scratch_venv, ignore_errors=True)


if __name__ == "__main__":
    main()
