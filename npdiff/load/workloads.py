"""Namespace and workload objects into `npdiff.model.inventory` values.

Only what decides policy verdicts is read and validated: names, namespaces, labels (of
the Namespace, of the Pod, or of a controller's pod template), container ports and
hostNetwork; every other field is left alone, so cluster dumps with status and managed
fields load as they are. Errors carry code E-WL; S1.1.3 asks for warnings (W-WL) on ports
of init containers and on a port name declared twice with different numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from npdiff.load.codes import E_WL, W_WL, Sink
from npdiff.load.fields import Fields, child, entry, is_int, item
from npdiff.load.lined import LinedList, LinedMap
from npdiff.load.objects import RawObject
from npdiff.model import Semantics, Span, names
from npdiff.model.flow import METADATA_NAME
from npdiff.model.inventory import ContainerPort, Labels, Namespace, Workload
from npdiff.model.policy import PROTOCOLS

# Where each kind keeps its pod template ("" : the object is the pod).
TEMPLATE_PATHS = {
    "Pod": "",
    "Deployment": "spec.template",
    "StatefulSet": "spec.template",
    "DaemonSet": "spec.template",
    "ReplicaSet": "spec.template",
    "Job": "spec.template",
    "CronJob": "spec.jobTemplate.spec.template",
}


@dataclass(frozen=True)
class ReadWorkload:
    workload: Workload
    host_network: bool      # its pods are their node's (S1.1.4): not pods for policies
    controlled: bool        # it has a controller ownerReference (a ReplicaSet of a Deployment, …)


class _Reader:
    def __init__(self, obj: RawObject, sink: Sink) -> None:
        self.obj = obj
        self.sink = sink
        self.fields = Fields(sink, E_WL)

    def error(self, line: int, path: str, message: str) -> None:
        self.sink.error(line, E_WL, path, message)

    def get(self, path: str) -> tuple[Any, int]:
        """The value at a dotted path (None if a step is missing or not a mapping) and the
        line to blame: the value's own line, or its nearest existing parent's."""
        value: Any = self.obj.body
        line = self.obj.line
        for key in path.split(".") if path else ():
            if not isinstance(value, LinedMap):
                return None, line
            line = value.key_line(key)
            value = value.get(key)
            if value is None:
                return None, line
        return value, line

    def mapping(self, path: str) -> LinedMap | None:
        value, line = self.get(path)
        return self.fields.mapping(value, path or "(object)", line)

    def name(self, check) -> str | None:
        value, line = self.get("metadata.name")
        text = self.fields.string(value, "metadata.name", line)
        if not text:
            if value is None:
                self.error(line, "metadata.name", "name is required")
            return None
        problem = check(text)
        if problem:
            self.error(line, "metadata.name", f"invalid name {text!r}: {problem}")
            return None
        return text

    def namespace(self, semantics: Semantics) -> str | None:
        value, line = self.get("metadata.namespace")
        text = self.fields.string(value, "metadata.namespace", line)
        if not text:
            return None if value is not None and not isinstance(value, str) else semantics.default_namespace
        problem = names.dns_label(text)
        if problem:
            self.error(line, "metadata.namespace", f"invalid namespace {text!r}: {problem}")
            return None
        return text

    def labels(self, path: str) -> Labels | None:
        value, line = self.get(path)
        errors = self.sink.errors
        out = []
        for key, text, key_line in self.fields.string_map(value, path, line):
            for problem, what, shown in ((names.label_key(key), "key", key),
                                         (names.label_value(text), "value", text)):
                if problem:
                    self.error(key_line, entry(path, key), f"invalid label {what} {shown!r}: {problem}")
            out.append((key, text))
        return None if self.sink.errors != errors else tuple(sorted(out))

    def ports(self, spec_path: str) -> tuple[ContainerPort, ...] | None:
        errors = self.sink.errors
        found: list[ContainerPort] = []
        for list_key in ("containers", "initContainers"):
            path = child(spec_path, list_key)
            value, line = self.get(path)
            containers = self.fields.sequence(value, path, line)
            for index, container in enumerate(containers or ()):
                c_path = item(path, index)
                c_line = containers.item_line(index)
                c = self.fields.mapping(container, c_path, c_line)
                if c is None:
                    continue
                ports_path = child(c_path, "ports")
                entries = self.fields.sequence(c.get("ports"), ports_path, c.key_line("ports"))
                for p_index, raw in enumerate(entries or ()):
                    port = self.port(raw, item(ports_path, p_index), entries.item_line(p_index))
                    if port is None:
                        continue
                    if list_key == "initContainers":
                        self.sink.warning(entries.item_line(p_index), W_WL, item(ports_path, p_index),
                                          "a port of an init container counts as the pod's "
                                          "(S1.1.3): plugins may not resolve names there")
                    found.append(port)
        if self.sink.errors != errors:
            return None
        self.repeated_names(found, spec_path)
        return tuple(sorted(set(found)))

    def port(self, raw: Any, path: str, line: int) -> ContainerPort | None:
        p = self.fields.mapping(raw, path, line)
        if p is None:
            return None
        number = p.get("containerPort")
        if not is_int(number) or not 1 <= number <= 65535:
            self.error(p.key_line("containerPort"), child(path, "containerPort"),
                       "containerPort is required" if number is None
                       else f"containerPort must be an integer between 1 and 65535, not {number!r}")
            return None
        protocol = self.fields.string(p.get("protocol"), child(path, "protocol"), p.key_line("protocol"))
        if protocol is not None and protocol not in PROTOCOLS:
            self.error(p.key_line("protocol"), child(path, "protocol"),
                       f"unsupported protocol {protocol!r}; expected TCP, UDP or SCTP (case-sensitive)")
            return None
        name = self.fields.string(p.get("name"), child(path, "name"), p.key_line("name"))
        if name:
            problem = names.port_name(name)
            if problem:
                self.error(p.key_line("name"), child(path, "name"), f"invalid port name {name!r}: {problem}")
                return None
        return ContainerPort(number, protocol or "TCP", name or "")

    def repeated_names(self, ports: list[ContainerPort], spec_path: str) -> None:
        by_name: dict[str, set[tuple[int, str]]] = {}
        for p in ports:
            if p.name:
                by_name.setdefault(p.name, set()).add((p.port, p.protocol))
        _, line = self.get(spec_path)
        for name, uses in sorted(by_name.items()):
            if len(uses) > 1:
                listed = ", ".join(f"{n}/{proto}" for n, proto in sorted(uses))
                self.sink.warning(line, W_WL, spec_path or "spec",
                                  f"port name {name!r} is declared more than once ({listed}); "
                                  "it resolves to each of them (S1.1.3)")

    def flag(self, path: str) -> bool:
        value, line = self.get(path)
        return bool(self.fields.boolean(value, path, line))

    def controlled(self) -> bool:
        owners, _ = self.get("metadata.ownerReferences")
        return isinstance(owners, LinedList) and any(
            isinstance(o, LinedMap) and o.get("controller") is True for o in owners)


def read_namespace(obj: RawObject, sink: Sink) -> Namespace | None:
    reader = _Reader(obj, sink)
    errors = sink.errors
    name = reader.name(names.dns_label)
    labels = reader.labels("metadata.labels")
    if sink.errors != errors or name is None or labels is None:
        return None
    declared = dict(labels)
    if declared.get(METADATA_NAME, name) != name:
        _, line = reader.get("metadata.labels")
        sink.warning(line, W_WL, entry("metadata.labels", METADATA_NAME),
                     f"{METADATA_NAME}={declared[METADATA_NAME]!r} differs from the name; "
                     f"the API server sets it to {name!r} (S1.1.2)")
    declared[METADATA_NAME] = name
    return Namespace(name, tuple(sorted(declared.items())), Span(sink.file, obj.line))


def read_workload(obj: RawObject, sink: Sink, semantics: Semantics) -> ReadWorkload | None:
    reader = _Reader(obj, sink)
    errors = sink.errors
    name = reader.name(names.dns_subdomain)
    namespace = reader.namespace(semantics)
    template = TEMPLATE_PATHS[obj.kind]
    if template and reader.mapping(template) is None:
        _, line = reader.get(template)
        if sink.errors == errors:
            reader.error(line, template, "the pod template is required")
        return None
    spec_path = child(template, "spec")
    labels = reader.labels(child(template, "metadata.labels"))
    ports = reader.ports(spec_path)
    host_network = reader.flag(child(spec_path, "hostNetwork"))
    if sink.errors != errors or None in (name, namespace, labels, ports):
        return None
    workload = Workload(obj.kind, namespace, name, labels, ports, Span(sink.file, obj.line))
    return ReadWorkload(workload, host_network, reader.controlled())
