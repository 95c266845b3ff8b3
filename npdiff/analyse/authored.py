"""The part of a Kubernetes object its author wrote: what a structural change compares.

Objects read from a cluster (`kubectl get -o yaml`, or the LIVE and MERGED directories
`kubectl diff` hands to `KUBECTL_EXTERNAL_DIFF`) carry fields the API server keeps:
status, resource versions, generations, managed fields and kubectl's copy of the last
applied configuration. They change on every apply and say nothing about what the object
does, so they are left out before two versions of an object are compared.
"""

from __future__ import annotations

from typing import Any

SERVER_METADATA = frozenset({"creationTimestamp", "generation", "managedFields", "resourceVersion",
                             "selfLink", "uid"})
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def authored(body: Any) -> Any:
    """`body` without status and server-kept metadata, as builtin dicts and lists (bodies
    are kept as read, in containers that also carry line numbers, and a comparison such
    as DeepDiff's tells container types apart); other values are returned as they are."""
    if not isinstance(body, dict):
        return body
    kept = {key: _builtin(value) for key, value in body.items() if key != "status"}
    metadata = kept.get("metadata")
    if isinstance(metadata, dict):
        metadata = {key: value for key, value in metadata.items() if key not in SERVER_METADATA}
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict) and LAST_APPLIED in annotations:
            annotations = {key: value for key, value in annotations.items() if key != LAST_APPLIED}
            if annotations:
                metadata["annotations"] = annotations
            else:
                del metadata["annotations"]
        kept["metadata"] = metadata
    return kept


def _builtin(value: Any) -> Any:
    """A deep copy made of builtin dicts, lists and scalars."""
    if isinstance(value, dict):
        return {k: _builtin(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_builtin(v) for v in value]
    return value
