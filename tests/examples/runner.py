"""Run npdiff's CLI in-process on policies and flows held in memory (test helper)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

CLI_PATH = Path(__file__).resolve().parents[2] / "npdiff" / "cli.py"


def cli_flags(options: dict) -> list[str]:
    """Oracle keyword options (plus self_traffic and pod_cidr) -> npdiff flags."""
    flags = []
    if options.get("ipblock_matches_pods"):
        flags.append("--ipblock-matches-pods")
    if "allow_from_local_node" in options:
        flags.append("--allow-from-local-node" if options["allow_from_local_node"] else "--no-allow-from-local-node")
    for key in ("endport", "sctp", "self_traffic", "default_namespace"):
        if key in options:
            flags += ["--" + key.replace("_", "-"), str(options[key])]
    for cidr in options.get("pod_cidr") or []:
        flags += ["--pod-cidr", cidr]
    if options.get("plain"):
        flags.append("--plain")
    return flags


def write_policies(path: Path, policies: list) -> Path:
    """All policies of a set in one multi-document YAML file."""
    path.write_text(yaml.safe_dump_all(policies, sort_keys=False) if policies else "")
    return path


def write_flows(path: Path, flows: list) -> Path:
    path.write_text("".join(json.dumps(f) + "\n" for f in flows))
    return path


def run(args: list[str]):
    from npdiff.cli import run as npdiff_run

    return npdiff_run([str(a) for a in args], stdin=None)


def run_eval(directory: Path, policies: list, flows: list, options: dict | None = None, name="policies"):
    """`npdiff eval` -> (result, parsed JSON list or None)."""
    policy_file = write_policies(directory / f"{name}.yaml", policies)
    flow_file = write_flows(directory / f"{name}-flows.jsonl", flows)
    result = run(["eval", policy_file, "--flows", flow_file, "-o", "json", *cli_flags(options or {})])
    verdicts = json.loads(result.stdout) if result.exit_code == 0 else None
    return result, verdicts


def run_diff(directory: Path, old: list, new: list, options: dict | None = None):
    """`npdiff diff OLD NEW -o json` -> (result, parsed JSON object or None)."""
    old_file = write_policies(directory / "old.yaml", old)
    new_file = write_policies(directory / "new.yaml", new)
    result = run(["diff", old_file, new_file, "-o", "json", *cli_flags(options or {})])
    report = json.loads(result.stdout) if result.exit_code in (0, 1, 3) and result.stdout.strip() else None
    return result, report
