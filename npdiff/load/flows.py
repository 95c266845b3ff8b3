"""Concrete flows from JSON Lines (design.md §4.2), validated field by field (E-FLOW)."""

from __future__ import annotations

import ipaddress
import json
from typing import Any, BinaryIO

from npdiff.model import names
from npdiff.load.codes import E_FLOW, Sink
from npdiff.load.fields import Fields, child, entry, is_int, item
from npdiff.load.lined import LinedList, LinedMap
from npdiff.load.sources import read_file, read_stdin
from npdiff.load.yaml_reader import decode
from npdiff.model import Address, Diagnostic, Flow, InputError, NamedPort, Pod
from npdiff.model.flow import METADATA_NAME
from npdiff.model.policy import PROTOCOLS

FLOW_FIELDS = ("src", "dst", "protocol", "port")
POD_FIELDS = ("namespace", "labels", "namespace_labels", "ports", "ip", "name", "workload")
ADDRESS_FIELDS = ("ip", "local_node")
NAMED_PORT_FIELDS = ("name", "port", "protocol")


def _lined(value: Any, line: int) -> Any:
    """JSON values carry no lines of their own: every node gets the flow's line."""
    if isinstance(value, dict):
        mapping = LinedMap(line)
        for key, val in value.items():
            mapping[key] = _lined(val, line)
            mapping.key_lines[key] = line
        return mapping
    if isinstance(value, list):
        sequence = LinedList(line)
        sequence.extend(_lined(v, line) for v in value)
        sequence.item_lines = [line] * len(value)
        return sequence
    return value


class _FlowReader:
    def __init__(self, sink: Sink, line: int) -> None:
        self.sink = sink
        self.line = line
        self.fields = Fields(sink, E_FLOW)

    def error(self, path: str, message: str) -> None:
        self.sink.error(self.line, E_FLOW, path, message)

    def required(self, mapping: LinedMap, key: str, path: str) -> Any:
        if mapping.get(key) is None:
            self.error(child(path, key), f"{key} is required")
        return mapping.get(key)

    def protocol(self, value: Any, path: str) -> str | None:
        text = self.fields.string(value, path, self.line)
        if value is None:
            return "TCP"
        if text is not None and text not in PROTOCOLS:
            self.error(path, f"unsupported protocol {text!r}; expected TCP, UDP or SCTP")
            return None
        return text

    def port(self, value: Any, path: str) -> int | None:
        if value is None:
            return None
        if not is_int(value):
            self.error(path, f"must be an integer port number, not {value!r}")
            return None
        problem = names.port_number(value)
        if problem:
            self.error(path, f"port {value} {problem}")
            return None
        return value

    def ip(self, value: Any, path: str) -> str | None:
        text = self.fields.string(value, path, self.line)
        if text is None:
            return None
        try:
            if "%" in text:
                raise ValueError(text)
            return str(ipaddress.ip_address(text))
        except ValueError:
            self.error(path, f"{text!r} is not an IPv4 or IPv6 address")
            return None

    def labels(self, value: Any, path: str) -> dict[str, str] | None:
        result = {}
        ok = value is None or isinstance(value, dict)
        for key, val, _line in self.fields.string_map(value, path, self.line):
            problem = names.label_key(key) or names.label_value(val)
            if problem:
                self.error(entry(path, key), f"invalid label {key}={val!r}: {problem}")
                ok = False
            result[key] = val
        if ok and isinstance(value, dict) and len(result) != len(value):
            ok = False
        return result if ok else None

    def named_ports(self, value: Any, path: str) -> tuple[NamedPort, ...] | None:
        sequence = self.fields.sequence(value, path, self.line)
        if sequence is None:
            return None if value is not None else ()
        ports = []
        for index, raw in enumerate(sequence):
            port_path = item(path, index)
            spec = self.fields.mapping(raw, port_path, self.line, NAMED_PORT_FIELDS)
            if spec is None:
                if raw is None:
                    self.error(port_path, "must be a mapping, not null")
                return None
            name = self.fields.string(self.required(spec, "name", port_path),
                                      child(port_path, "name"), self.line)
            if name is not None and names.port_name(name):
                self.error(child(port_path, "name"),
                           f"invalid port name {name!r}: {names.port_name(name)}")
                name = None
            number = self.port(self.required(spec, "port", port_path), child(port_path, "port"))
            protocol = self.protocol(spec.get("protocol"), child(port_path, "protocol"))
            if name is None or number is None or protocol is None:
                return None
            ports.append(NamedPort(name, number, protocol))
        return tuple(sorted(ports))

    def endpoint(self, value: Any, path: str, is_source: bool) -> Pod | Address | None:
        if value is None:
            self.error(path, "is required")
            return None
        mapping = self.fields.mapping(value, path, self.line)
        if mapping is None:
            return None
        if "namespace" in mapping:
            return self.pod(mapping, path)
        if "ip" in mapping:
            return self.address(mapping, path, is_source)
        self.error(path, "an endpoint needs namespace (a pod) or ip (an address)")
        return None

    def address(self, mapping: LinedMap, path: str, is_source: bool) -> Address | None:
        self.fields.mapping(mapping, path, self.line, ADDRESS_FIELDS)
        ip = self.ip(mapping.get("ip"), child(path, "ip"))
        local_node = self.fields.boolean(mapping.get("local_node"), child(path, "local_node"),
                                         self.line)
        if local_node and not is_source:
            self.error(child(path, "local_node"), "only a source can be the destination's node")
            return None
        return None if ip is None else Address(ip, bool(local_node))

    def pod(self, mapping: LinedMap, path: str) -> Pod | None:
        errors = self.sink.errors
        self.fields.mapping(mapping, path, self.line, POD_FIELDS)
        raw_namespace = mapping.get("namespace")
        namespace = self.fields.string(raw_namespace, child(path, "namespace"), self.line)
        if raw_namespace is None or namespace == "":
            self.error(child(path, "namespace"), "namespace is required")
        elif namespace is not None and names.dns_label(namespace):
            self.error(child(path, "namespace"),
                       f"invalid namespace {namespace!r}: {names.dns_label(namespace)}")
        labels = self.labels(mapping.get("labels"), child(path, "labels"))
        namespace_labels = self.labels(mapping.get("namespace_labels"),
                                       child(path, "namespace_labels"))
        ports = self.named_ports(mapping.get("ports"), child(path, "ports"))
        ip = None
        if mapping.get("ip") is not None:
            ip = self.ip(mapping.get("ip"), child(path, "ip"))
        name = self.fields.string(mapping.get("name"), child(path, "name"), self.line)
        workload = self.fields.string(mapping.get("workload"), child(path, "workload"), self.line)
        if self.sink.errors != errors or namespace is None or labels is None \
                or namespace_labels is None or ports is None:
            return None
        if METADATA_NAME in namespace_labels:
            # The API server keeps this label equal to the name (S1.1.2).
            namespace_labels[METADATA_NAME] = namespace
        return Pod(namespace, tuple(sorted(labels.items())),
                   tuple(sorted(namespace_labels.items())), ports, ip, name, workload)

    def flow(self, value: Any) -> Flow | None:
        if not isinstance(value, dict):
            self.error("", f"a flow must be a JSON object, not {type(value).__name__}")
            return None
        mapping = self.fields.mapping(_lined(value, self.line), "", self.line, FLOW_FIELDS)
        assert mapping is not None
        src = self.endpoint(mapping.get("src"), "src", True)
        dst = self.endpoint(mapping.get("dst"), "dst", False)
        if isinstance(src, Address) and src.local_node and not isinstance(dst, Pod):
            self.error("src.local_node", "the destination's node needs a pod destination")
        # A pod may be dual-stack (S1.1.5), so a pod's listed IP of the other family is
        # just not its address for this flow; two plain addresses must agree.
        if isinstance(src, Address) and isinstance(dst, Address) and \
                ipaddress.ip_address(src.ip).version != ipaddress.ip_address(dst.ip).version:
            self.error("dst.ip", "the two ends of a flow must have addresses of the same family")
        protocol = self.protocol(mapping.get("protocol"), "protocol")
        port = self.port(self.required(mapping, "port", ""), "port")
        if self.sink.errors or src is None or dst is None or protocol is None or port is None:
            return None
        return Flow(src, dst, protocol, port)


def parse_flow(obj: object, file: str, line: int) -> Flow:
    """One flow object as a model Flow; raises InputError with every problem found."""
    found: list[Diagnostic] = []
    flow = _FlowReader(Sink(file, found), line).flow(obj)
    if flow is None:
        raise InputError(found)
    return flow


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"duplicate key {key!r}")
        result[key] = value
    return result


def load_flows(path: str, stdin: BinaryIO | None = None) -> list[Flow]:
    """The flows of a JSON Lines file (`-`: stdin); blank lines are skipped."""
    found: list[Diagnostic] = []
    source = read_stdin(stdin, found) if path == "-" else read_file(path, path, found)
    flows: list[Flow] = []
    if source is not None:
        sink = Sink(source.name, found)
        text = decode(source, sink)
        # Not splitlines(): JSON strings may hold U+2028 and other line separators.
        for number, raw in enumerate((text or "").split("\n"), start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw, object_pairs_hook=_no_duplicates)
            except _DuplicateKey as exc:
                sink.error(number, E_FLOW, "", f"invalid JSON: {exc}")
                continue
            except json.JSONDecodeError as exc:
                sink.error(number, E_FLOW, "", f"invalid JSON: {exc.msg} at column {exc.colno}")
                continue
            except (ValueError, RecursionError):
                sink.error(number, E_FLOW, "", "invalid JSON: too deeply nested or malformed")
                continue
            try:
                flows.append(parse_flow(value, source.name, number))
            except InputError as exc:
                found.extend(exc.diagnostics)
    if found:
        raise InputError(found)
    return flows
