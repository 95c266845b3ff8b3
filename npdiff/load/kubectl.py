"""The files `kubectl diff` hands to `KUBECTL_EXTERNAL_DIFF`: which extension-less names
are Kubernetes objects.

kubectl writes each object of both sides to a temporary directory (`LIVE-…`,
`MERGED-…`) as YAML, in a file named `[GROUP.]VERSION.KIND.NAMESPACE.NAME` with no
extension (`networking.k8s.io.v1.NetworkPolicy.shop.api`; the namespace is empty for
cluster-scoped objects). Only names of that exact shape are read besides `*.yaml`,
`*.yml` and `*.json`, so a directory walk never picks up a README, LICENSE or OWNERS.
"""

from __future__ import annotations

import re

_DNS_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_OBJECT_FILE = re.compile(
    rf"(?:{_DNS_LABEL}(?:\.{_DNS_LABEL})*\.)?"      # API group (absent for the core group)
    r"v[1-9][0-9]*(?:(?:alpha|beta)[1-9][0-9]*)?\."  # version
    r"[A-Z][A-Za-z0-9]*\."                          # kind
    rf"(?:{_DNS_LABEL})?\."                         # namespace, empty when cluster-scoped
    rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*"             # name (a DNS subdomain)
)


def is_object_file(filename: str) -> bool:
    """A file name of the shape kubectl diff gives the objects it writes."""
    return _OBJECT_FILE.fullmatch(filename) is not None
