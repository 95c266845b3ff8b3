"""Diagnostic codes the loader emits beyond semantics.md §5, and a collector for findings.

The E-NP-* and W-* codes are those of semantics.md §5. Input problems that the API server
never sees (files, YAML syntax, duplicate definitions, flow files) get codes of their own:

- E-IO    a path that does not exist, cannot be read, is too large or is not UTF-8;
- E-YAML  broken YAML, duplicate keys, unsupported tags, alias bombs, excessive nesting;
- E-OBJ   a document that is not a Kubernetes object (not a mapping, no kind/apiVersion);
- E-DUP   two NetworkPolicies with the same namespace and name in one input set (S3.1.1);
- E-FLOW  an invalid flow in a JSON Lines flow file (design.md §4.2);
- N-SKIP  a note: objects of a kind npdiff does not analyse were skipped;
- E-WL    an invalid Namespace or workload (name, namespace, labels, container ports);
- W-WL    a workload detail S1.1.2/S1.1.3 warn about (init-container ports, a port name
          declared twice, a Namespace whose name label differs from its name);
- N-INV   a note: a workload left out of the inventory (host network, owned by a controller).
- N-NEW   a note: with `--base REV`, the path is not in revision REV (the change adds it),
          so the old side is empty.
"""

from __future__ import annotations

from npdiff.model import Diagnostic, Severity

E_IO = "E-IO"
E_YAML = "E-YAML"
E_OBJ = "E-OBJ"
E_DUP = "E-DUP"
E_FLOW = "E-FLOW"
N_SKIP = "N-SKIP"
E_WL = "E-WL"
W_WL = "W-WL"
N_INV = "N-INV"
N_NEW = "N-NEW"


class Sink:
    """Collects diagnostics for one file; every finding carries that file's name."""

    def __init__(self, file: str, out: list[Diagnostic]) -> None:
        self.file = file
        self.out = out
        self.errors = 0

    def error(self, line: int, code: str, path: str, message: str) -> None:
        self.errors += 1
        self.out.append(Diagnostic(self.file, line, Severity.ERROR, code, path, message))

    def warning(self, line: int, code: str, path: str, message: str) -> None:
        self.out.append(Diagnostic(self.file, line, Severity.WARNING, code, path, message))

    def note(self, line: int, code: str, path: str, message: str) -> None:
        self.out.append(Diagnostic(self.file, line, Severity.NOTE, code, path, message))
