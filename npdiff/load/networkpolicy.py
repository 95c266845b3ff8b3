"""One `networking.k8s.io/v1` NetworkPolicy: validation (semantics.md §5.1) and
normalisation (§3.1) into `npdiff.model.NetworkPolicy`, with a span on every part.
"""

from __future__ import annotations

from typing import Any

from npdiff.model import names
from npdiff.load.cidr import parse_cidr, strict_subset
from npdiff.load.codes import Sink
from npdiff.load.fields import Fields, child, describe, entry, is_int, item
from npdiff.load.lined import LinedMap
from npdiff.load.objects import RawObject
from npdiff.load.reuse import Reuse
from npdiff.load.selectors import parse_selector
from npdiff.model import IPBlock, NetworkPolicy, Peer, PortSpec, Rule, Semantics, SourceObject, Span
from npdiff.model.policy import PROTOCOLS, Direction
from npdiff.model.selector import LabelSelector

API_VERSION = "networking.k8s.io/v1"
KIND = "NetworkPolicy"
TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
METADATA_FIELDS = (
    "name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation",
    "creationTimestamp", "managedFields", "ownerReferences", "finalizers", "generateName",
    "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
)
_METADATA_STRINGS = ("uid", "resourceVersion", "generateName", "selfLink",
                     "creationTimestamp", "deletionTimestamp")
_METADATA_INTEGERS = ("generation", "deletionGracePeriodSeconds")
_METADATA_LISTS = ("managedFields", "ownerReferences")
SPEC_FIELDS = ("podSelector", "ingress", "egress", "policyTypes")
PEER_FIELDS = ("podSelector", "namespaceSelector", "ipBlock")
IPBLOCK_FIELDS = ("cidr", "except")
PORT_FIELDS = ("protocol", "port", "endPort")
_POLICY_TYPES = {d.policy_type: d for d in Direction}
_PEERS_KEY = {Direction.INGRESS: "from", Direction.EGRESS: "to"}


class _PolicyReader:
    def __init__(self, body: LinedMap, sink: Sink, semantics: Semantics,
                 reuse: Reuse | None = None) -> None:
        self.body = body
        self.sink = sink
        self.fields = Fields(sink, "E-NP-16")
        self.semantics = semantics
        self.reuse = reuse if reuse is not None else Reuse()

    def span(self, line: int) -> Span:
        return Span(self.sink.file, line)

    # metadata -------------------------------------------------------------------------

    def metadata(self) -> tuple[str | None, str | None]:
        body, fields = self.body, self.fields
        meta = fields.mapping(body.get("metadata"), "metadata", body.key_line("metadata"),
                              METADATA_FIELDS)
        if meta is None:
            meta = LinedMap(body.key_line("metadata"))
        # Most of these are absent (null reads as absent): paths are made for the rest only.
        for keys, read in ((_METADATA_STRINGS, fields.string), (_METADATA_INTEGERS, fields.integer),
                           (_METADATA_LISTS, fields.sequence)):
            for key in keys:
                value = meta.get(key)
                if value is not None:
                    read(value, child("metadata", key), meta.key_line(key))
        fields.strings(meta.get("finalizers"), "metadata.finalizers", meta.key_line("finalizers"))
        fields.string_map(meta.get("annotations"), "metadata.annotations",
                          meta.key_line("annotations"))
        for key, value, line in fields.string_map(meta.get("labels"), "metadata.labels",
                                                  meta.key_line("labels")):
            path = entry("metadata.labels", key)
            for problem, what, text in ((names.label_key(key), "key", key),
                                        (names.label_value(value), "value", value)):
                if problem:
                    self.sink.error(line, "E-NP-15", path,
                                    f"invalid label {what} {text!r}: {problem}")
        # A missing field is blamed on the `metadata:` line that should have held it.
        missing_line = body.key_line("metadata")
        return self._name(meta, missing_line), self._namespace(meta, missing_line)

    def _name(self, meta: LinedMap, missing_line: int) -> str | None:
        name = self.fields.string(meta.get("name"), "metadata.name", meta.key_line("name"))
        if name is None and meta.get("name") is not None:
            return None  # a wrong type, already reported
        if not name:
            self.sink.error(meta.key_lines.get("name", missing_line), "E-NP-01", "metadata.name",
                            "name is required")
            return None
        problem = names.dns_subdomain(name)
        if problem:
            self.sink.error(meta.key_line("name"), "E-NP-01", "metadata.name",
                            f"invalid name {name!r}: {problem}")
            return None
        return name

    def _namespace(self, meta: LinedMap, missing_line: int) -> str | None:
        line = meta.key_lines.get("namespace", missing_line)
        namespace = self.fields.string(meta.get("namespace"), "metadata.namespace", line)
        if namespace is None and meta.get("namespace") is not None:
            return None
        if not namespace:
            default = self.semantics.default_namespace
            self.sink.warning(line, "W-15", "metadata.namespace",
                              f"no namespace; using {default!r} (--default-namespace)")
            return default
        problem = names.dns_label(namespace)
        if problem:
            self.sink.error(line, "E-NP-02", "metadata.namespace",
                            f"invalid namespace {namespace!r}: {problem}")
            return None
        return namespace

    # spec -------------------------------------------------------------------------------

    def policy(self) -> NetworkPolicy | None:
        errors = self.sink.errors
        body = self.body
        self.fields.mapping(body, "", body.line, TOP_FIELDS)
        status = body.get("status")
        self.fields.mapping(status, "status", body.key_line("status"))
        name, namespace = self.metadata()
        spec = self.fields.mapping(body.get("spec"), "spec", body.key_line("spec"), SPEC_FIELDS)
        if spec is None:
            spec = LinedMap(body.key_line("spec"))
        raw_selector = spec.get("podSelector")
        pod_selector: LabelSelector | None = LabelSelector(())
        if raw_selector is not None:
            pod_selector = self.selector(raw_selector, "spec.podSelector",
                                         spec.key_line("podSelector"))
        ingress = self.rules(spec, Direction.INGRESS)
        egress = self.rules(spec, Direction.EGRESS)
        types = self.policy_types(spec)
        if self.sink.errors != errors or name is None or namespace is None \
                or pod_selector is None or types is None:
            return None
        return NetworkPolicy(namespace, name, pod_selector, types, ingress, egress,
                             self.span(body.line))

    def policy_types(self, spec: LinedMap) -> frozenset[Direction] | None:
        line = spec.key_line("policyTypes")
        raw = spec.get("policyTypes")
        entries = self.fields.strings(raw, "spec.policyTypes", line)
        if raw is not None and not isinstance(raw, list):
            return None
        if not raw:  # absent or empty: S3.1.2
            egress = spec.get("egress")
            has_egress = isinstance(egress, list) and len(egress) > 0
            return frozenset({Direction.INGRESS} | ({Direction.EGRESS} if has_egress else set()))
        if len(raw) > 2:
            self.sink.error(line, "E-NP-03", "spec.policyTypes",
                            f"may not list more than two policyTypes (has {len(raw)})")
            return None
        if len(entries) != len(raw):
            return None
        types: list[Direction] = []
        for text, index, item_line in entries:
            direction = _POLICY_TYPES.get(text)
            if direction is None:
                self.sink.error(item_line, "E-NP-03", item("spec.policyTypes", index),
                                f"unsupported policy type {text!r}; expected Ingress or Egress "
                                "(case-sensitive)")
                return None
            types.append(direction)
        repeated = sorted({t.policy_type for t in types if types.count(t) > 1})
        if repeated:
            self.sink.warning(line, "W-15", "spec.policyTypes",
                              f"{' and '.join(repeated)} listed more than once; counted once")
        result = frozenset(types)
        for direction in Direction:
            rules = spec.get(direction.value)
            if direction not in result and isinstance(rules, list) and rules:
                self.sink.warning(spec.key_line(direction.value), "W-01", f"spec.{direction.value}",
                                  f"{len(rules)} {direction.value} rule(s) are ignored: "
                                  f"policyTypes does not list {direction.policy_type}")
        return result

    def rules(self, spec: LinedMap, direction: Direction) -> tuple[Rule, ...]:
        key = direction.value
        rules = self.fields.sequence(spec.get(key), f"spec.{key}", spec.key_line(key))
        out = []
        for index, value in enumerate(rules or ()):
            rule = self.rule(direction, value, index, item(f"spec.{key}", index),
                             rules.item_line(index))
            if rule is not None:
                out.append(rule)
        return tuple(out)

    def rule(self, direction: Direction, value: Any, index: int, path: str,
             line: int) -> Rule | None:
        peers_key = _PEERS_KEY[direction]
        # A null rule decodes as an empty one: it allows everything (S3.4.2, S3.4.4).
        rule = LinedMap(line) if value is None else self.fields.mapping(
            value, path, line, (peers_key, "ports"))
        if rule is None:
            return None
        peers_path = child(path, peers_key)
        raw_peers = self.fields.sequence(rule.get(peers_key), peers_path,
                                         rule.key_line(peers_key))
        peers = [self.peer(v, item(peers_path, i), raw_peers.item_line(i), i)
                 for i, v in enumerate(raw_peers or ())]
        ports_path = child(path, "ports")
        raw_ports = self.fields.sequence(rule.get("ports"), ports_path, rule.key_line("ports"))
        ports = [self.reused_port(v, ports_path, raw_ports.item_line(i), i)
                 for i, v in enumerate(raw_ports or ())]
        if any(p is None for p in peers) or any(p is None for p in ports):
            return None
        return Rule(direction, index, tuple(peers), tuple(ports), self.span(line))

    # peers ------------------------------------------------------------------------------

    def selector(self, value: Any, path: str, line: int,
                 namespace: bool = False) -> LabelSelector | None:
        return self.reuse.read("namespaceSelector" if namespace else "podSelector", value,
                               self.sink, lambda: parse_selector(self.fields, value, path, line,
                                                                 namespace=namespace))

    def peer(self, value: Any, path: str, line: int, index: int) -> Peer | None:
        peer = LinedMap(line) if value is None else self.fields.mapping(
            value, path, line, PEER_FIELDS)
        if peer is None:
            return None
        present = [key for key in PEER_FIELDS if peer.get(key) is not None]
        if not present:
            self.sink.error(line, "E-NP-04", path, "a peer must set at least one of podSelector, "
                                                   "namespaceSelector or ipBlock")
            return None
        if "ipBlock" in present and len(present) > 1:
            self.sink.error(line, "E-NP-05", path, "ipBlock may not be combined with "
                                                   + " or ".join(present[:-1]))
        selectors = []
        for key in ("podSelector", "namespaceSelector"):
            raw = peer.get(key)
            selectors.append(None if raw is None else self.selector(
                raw, child(path, key), peer.key_line(key), namespace=key == "namespaceSelector"))
        ip_block = None
        if peer.get("ipBlock") is not None:
            ip_block = self.ip_block(peer.get("ipBlock"), child(path, "ipBlock"),
                                     peer.key_line("ipBlock"))
        return Peer(selectors[0], selectors[1], ip_block, self.span(line), index)

    def cidr_warnings(self, text: str, parsed: Any, path: str, line: int) -> None:
        if parsed.problems:
            message = f"{text!r}: {'; '.join(parsed.problems)}; evaluated as {parsed.text}"
            if self.semantics.strict_cidr:
                self.sink.error(line, "W-04", path, message + " (an error with --strict-cidr)")
            else:
                self.sink.warning(line, "W-04", path, message)
        if parsed.mapped:
            self.sink.warning(line, "W-05", path,
                              f"{text!r} is an IPv4-mapped IPv6 CIDR; it is treated as IPv6 "
                              "and matches no IPv4 address")

    def ip_block(self, value: Any, path: str, line: int) -> IPBlock | None:
        block = self.fields.mapping(value, path, line, IPBLOCK_FIELDS)
        if block is None:
            return None
        cidr_path, cidr_line = child(path, "cidr"), block.key_line("cidr")
        raw_cidr = block.get("cidr")
        text = self.fields.string(raw_cidr, cidr_path, cidr_line)
        cidr = None
        if not text:
            if raw_cidr is None or raw_cidr == "":
                self.sink.error(cidr_line, "E-NP-06", cidr_path, "cidr is required")
        else:
            parsed = parse_cidr(text)
            if isinstance(parsed, str):
                self.sink.error(cidr_line, "E-NP-06", cidr_path, f"invalid CIDR {text!r}: {parsed}")
            else:
                cidr = parsed
                self.cidr_warnings(text, parsed, cidr_path, cidr_line)
        except_path = child(path, "except")
        raw_excepts = block.get("except")
        excepts = []
        entries = self.fields.strings(raw_excepts, except_path, block.key_line("except"))
        ok = (len(entries) == len(raw_excepts) if isinstance(raw_excepts, list)
              else raw_excepts is None)
        for exc_text, index, item_line in entries:
            exc_path = item(except_path, index)
            parsed_exc = parse_cidr(exc_text)
            if isinstance(parsed_exc, str):
                self.sink.error(item_line, "E-NP-07", exc_path,
                                f"invalid CIDR {exc_text!r}: {parsed_exc}")
                ok = False
                continue
            self.cidr_warnings(exc_text, parsed_exc, exc_path, item_line)
            if cidr is not None and not strict_subset(parsed_exc, cidr):
                self.sink.error(item_line, "E-NP-07", exc_path,
                                f"{exc_text!r} must be a strict subset of cidr {text!r}")
                ok = False
            excepts.append(parsed_exc.text)
        if cidr is None or not ok:
            return None
        return IPBlock(cidr.text, tuple(excepts))

    # ports ------------------------------------------------------------------------------

    def reused_port(self, value: Any, ports_path: str, line: int, index: int) -> PortSpec | None:
        port = self.reuse.read("port", value, self.sink,
                               lambda: self.port(value, item(ports_path, index), line))
        if port is None:
            return None
        return PortSpec(port.protocol, port.port, port.end_port, self.span(line))

    def port(self, value: Any, path: str, line: int) -> PortSpec | None:
        # `ports: [{}]` and a null entry both mean every TCP port (S3.4.6).
        spec = LinedMap(line) if value is None else self.fields.mapping(
            value, path, line, PORT_FIELDS)
        if spec is None:
            return None
        ok = True
        protocol_path, protocol_line = child(path, "protocol"), spec.key_line("protocol")
        raw_protocol = spec.get("protocol")
        protocol = self.fields.string(raw_protocol, protocol_path, protocol_line)
        if protocol is None:
            ok = raw_protocol is None
            protocol = "TCP"
        elif protocol not in PROTOCOLS:
            self.sink.error(protocol_line, "E-NP-08", protocol_path,
                            f"unsupported protocol {protocol!r}; expected TCP, UDP or SCTP "
                            "(case-sensitive)")
            ok = False
        port_path, port_line = child(path, "port"), spec.key_line("port")
        port = spec.get("port")
        if is_int(port):
            problem = names.port_number(port)
            if problem:
                self.sink.error(port_line, "E-NP-09", port_path, f"port {port} {problem}")
                ok = False
        elif isinstance(port, str):
            problem = names.port_name(port)
            if problem:
                hint = " (a quoted number is a string: write the number unquoted)" \
                    if port.isdigit() else ""
                self.sink.error(port_line, "E-NP-10", port_path,
                                f"invalid port name {port!r}: {problem}{hint}")
                ok = False
        elif port is not None:
            self.fields.wrong(port_line, port_path,
                              f"must be a port number or name, not {describe(port)}")
            ok = False
        end_path, end_line = child(path, "endPort"), spec.key_line("endPort")
        raw_end = spec.get("endPort")
        end_port = self.fields.integer(raw_end, end_path, end_line)
        if raw_end is not None and end_port is None:
            ok = False
        elif end_port is not None:
            ok = self.end_port(port, end_port, end_path, end_line) and ok
        if not ok:
            return None
        return PortSpec(protocol, port, end_port, self.span(line))

    def end_port(self, port: Any, end_port: int, path: str, line: int) -> bool:
        if port is None:
            self.sink.error(line, "E-NP-11", path, "endPort may not be set without port")
        elif isinstance(port, str):
            self.sink.error(line, "E-NP-12", path, "endPort may not be set when port is a name")
        elif names.port_number(end_port):
            self.sink.error(line, "E-NP-13", path,
                            f"endPort {end_port} {names.port_number(end_port)}")
        elif is_int(port) and end_port < port:
            self.sink.error(line, "E-NP-13", path,
                            f"endPort {end_port} must be greater than or equal to port {port}")
        else:
            return True
        return False


def read_network_policy(body: LinedMap, sink: Sink, semantics: Semantics,
                        reuse: Reuse | None = None) -> NetworkPolicy | None:
    """The normalised policy, or None when `body` has errors (all reported to `sink`).

    `reuse` carries parts already read from one load to the next policy.
    """
    return _PolicyReader(body, sink, semantics, reuse).policy()


def policy_of(obj: RawObject, sink: Sink, semantics: Semantics, reuse: Reuse | None = None) -> NetworkPolicy | None:
    """`read_network_policy` of an object of kind NetworkPolicy, whose apiVersion is checked first."""
    if obj.api_version != API_VERSION:
        sink.error(obj.body.key_line("apiVersion"), "E-NP-16", "apiVersion",
                   f"NetworkPolicy must have apiVersion {API_VERSION}, not {obj.api_version!r}")
        return None
    return read_network_policy(obj.body, sink, semantics, reuse)


def source_object(obj: RawObject, file: str, semantics: Semantics) -> SourceObject:
    """Any object as kept for the structural diff; a policy's namespace is the one it
    lives in after defaulting."""
    namespace = namespace_of(obj.body, semantics) if obj.kind == KIND else obj.metadata_text("namespace")
    return SourceObject(obj.kind, namespace, obj.metadata_text("name"), Span(file, obj.line), obj.body)


def namespace_of(body: LinedMap, semantics: Semantics) -> str:
    """The namespace a policy body lives in after defaulting (for its SourceObject)."""
    meta = body.get("metadata")
    namespace = meta.get("namespace") if isinstance(meta, dict) else None
    return namespace if isinstance(namespace, str) and namespace else semantics.default_namespace


def read_port(value: Any, path: str, line: int, sink: Sink, semantics: Semantics) -> PortSpec | None:
    """A `ports[]` entry written outside a policy (an invariant's), checked as in a policy."""
    return _PolicyReader(LinedMap(line), sink, semantics).port(value, path, line)


def read_ip_block(value: Any, path: str, line: int, sink: Sink, semantics: Semantics) -> IPBlock | None:
    """An `ipBlock` written outside a policy (an invariant's), checked as in a policy."""
    return _PolicyReader(LinedMap(line), sink, semantics).ip_block(value, path, line)
