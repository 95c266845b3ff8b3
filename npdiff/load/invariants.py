"""Invariant files and presets into `npdiff.model.invariant` values, with file and line.

The file's own structure is checked with the E-INV codes below; selectors, ports and
ipBlocks inside it are checked by the NetworkPolicy readers and keep their codes
(E-NP-06 ... E-NP-16, W-04, W-05, W-10), since the rules are the same. Every error of the
file is collected before `InputError` is raised. Nothing here prints or exits.

- E-INV-01  the file's structure: not a mapping, unknown field, wrong type, no invariants
- E-INV-02  an invariant's name: missing, invalid or used twice (presets included)
- E-INV-03  an invariant sets none, or more than one, of the kinds
- E-INV-04  a required field is missing, or a list that needs entries is empty
- E-INV-05  an invalid endpoint pattern (empty, mixed kinds, `any` not true, or not a pod
            pattern where only pods make sense)
- E-INV-06  `namespace` is not a valid namespace name
- E-INV-07  `directions`: an entry other than Ingress or Egress, or one listed twice
- E-INV-08  an unknown preset, or a preset setting it does not take
- E-INV-09  `scope` other than all or named-namespaces
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from npdiff.model import names
from npdiff.load.codes import Sink
from npdiff.load.fields import Fields, child, describe, item
from npdiff.load.lined import LinedList, LinedMap
from npdiff.load.networkpolicy import read_ip_block, read_port
from npdiff.load.selectors import parse_selector
from npdiff.load.sources import Input, read_one
from npdiff.load.yaml_reader import read_documents
from npdiff.model import Diagnostic, InputError, PortSpec, Semantics, Severity, Span
from npdiff.model.flow import METADATA_NAME
from npdiff.model.invariant import EndpointPattern, FlowPattern, Invariant, InvariantKind, Scope
from npdiff.model.policy import Direction
from npdiff.model.selector import LabelSelector, Operator, Requirement

E_STRUCTURE, E_NAME, E_KIND, E_REQUIRED = "E-INV-01", "E-INV-02", "E-INV-03", "E-INV-04"
E_PATTERN, E_NAMESPACE, E_DIRECTION, E_PRESET, E_SCOPE = (
    "E-INV-05", "E-INV-06", "E-INV-07", "E-INV-08", "E-INV-09")

TOP_FIELDS = ("invariants", "presets")
KINDS = tuple(k.value for k in InvariantKind if k is not InvariantKind.NO_CROSS_NAMESPACE)
KIND_FIELDS = {
    InvariantKind.ONLY_FROM: ("to", "from", "ports"),
    InvariantKind.ONLY_TO: ("from", "to", "ports"),
    InvariantKind.ALLOW: ("from", "to", "ports"),
    InvariantKind.DENY: ("from", "to", "ports"),
    InvariantKind.ISOLATED: ("pods", "directions"),
}
PATTERN_FIELDS = ("namespace", "namespaceSelector", "podSelector", "ipBlock", "any")
EXCEPTION_FIELDS = ("name", "from", "to", "ports")
PRESETS = ("default-deny", "dns", "no-cross-namespace")
PRESET_FIELDS = {"default-deny": (), "dns": (), "no-cross-namespace": ("exceptions",)}
_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.:]*[A-Za-z0-9])?")
_DIRECTIONS = {d.policy_type: d for d in Direction}
_SCOPES = {s.value: s for s in Scope}

KUBE_SYSTEM = "kube-system"
KUBE_DNS = EndpointPattern("pod", namespace=KUBE_SYSTEM,
                           pod_selector=LabelSelector((Requirement("k8s-app", Operator.IN, ("kube-dns",)),)))
ANY_POD = EndpointPattern("pod")
OUTSIDE_KUBE_SYSTEM = EndpointPattern("pod", namespace_selector=LabelSelector(
    (Requirement(METADATA_NAME, Operator.NOT_IN, (KUBE_SYSTEM,)),)))
DNS_PORTS = (PortSpec("UDP", 53), PortSpec("TCP", 53))


@dataclass(frozen=True)
class LoadedInvariants:
    invariants: tuple[Invariant, ...]       # sorted by name
    diagnostics: tuple[Diagnostic, ...]     # warnings, sorted


def preset(name: str, exceptions: tuple[FlowPattern, ...] = (), span: Span | None = None) -> Invariant:
    """The invariant a preset stands for (README, "Presets").

    NetworkPolicy is namespaced, so nothing can isolate a pod, or stop its traffic to
    another such pod, in a namespace that no policy names; default-deny and
    no-cross-namespace therefore speak about the namespaces policies and invariants name.
    """
    if name == "default-deny":
        return Invariant(name, InvariantKind.ISOLATED, sources=(OUTSIDE_KUBE_SYSTEM,),
                         directions=frozenset(Direction), scope=Scope.NAMED_NAMESPACES,
                         preset=name, span=span)
    if name == "dns":
        return Invariant(name, InvariantKind.ALLOW, sources=(ANY_POD,), destinations=(KUBE_DNS,),
                         ports=DNS_PORTS, preset=name, span=span)
    if name == "no-cross-namespace":
        return Invariant(name, InvariantKind.NO_CROSS_NAMESPACE, exceptions=exceptions,
                         scope=Scope.NAMED_NAMESPACES, preset=name, span=span)
    raise ValueError(f"unknown preset {name!r}")


class _InvariantReader:
    def __init__(self, sink: Sink, semantics: Semantics) -> None:
        self.sink = sink
        self.fields = Fields(sink, E_STRUCTURE)
        self.semantics = semantics
        self.invariants: list[Invariant] = []
        self.presets: dict[str, Invariant] = {}
        self.names: dict[str, tuple[int, str]] = {}   # every name written: (line, path)

    def span(self, line: int) -> Span:
        return Span(self.sink.file, line)

    def document(self, value: Any, line: int) -> None:
        if not isinstance(value, LinedMap):
            self.fields.wrong(line, "", f"an invariants file must be a mapping with 'invariants' "
                                        f"and/or 'presets', not {describe(value)}")
            return
        self.fields.mapping(value, "", line, TOP_FIELDS)
        entries = self.fields.sequence(value.get("invariants"), "invariants", value.key_line("invariants"))
        for index, entry in enumerate(entries or ()):
            invariant = self.invariant(entry, item("invariants", index), entries.item_line(index))
            if invariant is not None:
                self.invariants.append(invariant)
        presets = self.fields.mapping(value.get("presets"), "presets", value.key_line("presets"))
        for key in presets or ():
            if isinstance(key, str):
                self.preset(key, presets[key], child("presets", key), presets.key_line(key))

    # invariants ---------------------------------------------------------------------------

    def invariant(self, value: Any, path: str, line: int) -> Invariant | None:
        if value is None:
            self.fields.wrong(line, path, "must be a mapping, not null")
            return None
        entry = self.fields.mapping(value, path, line, ("name", "scope", *KINDS))
        if entry is None:
            return None
        errors = self.sink.errors
        name = self.name(entry, path)
        scope = self.scope(entry, path)
        kinds = [k for k in KINDS if k in entry]
        if len(kinds) != 1:
            found = "none" if not kinds else " and ".join(kinds)
            self.sink.error(line, E_KIND, path, f"an invariant needs exactly one of {', '.join(KINDS)} "
                                                f"(found {found})")
            return None
        kind = InvariantKind(kinds[0])
        body_path, body_line = child(path, kind.value), entry.key_line(kind.value)
        body = self.fields.mapping(entry.get(kind.value), body_path, body_line, KIND_FIELDS[kind])
        if body is None:
            if entry.get(kind.value) is None:
                needs = "pods" if kind is InvariantKind.ISOLATED else "from and to"
                self.sink.error(body_line, E_REQUIRED, body_path, f"{kind.value} needs {needs}")
            return None
        if kind is InvariantKind.ISOLATED:
            pods = self.patterns(body, "pods", body_path, pods_only=True)
            directions = self.directions(body, body_path)
            if self.sink.errors != errors or name is None or scope is None:
                return None
            return Invariant(name, kind, sources=pods, directions=directions, scope=scope,
                             span=self.span(line))
        sources = self.patterns(body, "from", body_path)
        destinations = self.patterns(body, "to", body_path)
        ports = self.ports(body, body_path)
        if self.sink.errors != errors or name is None or scope is None:
            return None
        return Invariant(name, kind, sources=sources, destinations=destinations, ports=ports,
                         scope=scope, span=self.span(line))

    def name(self, entry: LinedMap, path: str) -> str | None:
        name_path, line = child(path, "name"), entry.key_line("name")
        raw = entry.get("name")
        name = self.fields.string(raw, name_path, line)
        if raw is None or name == "":
            self.sink.error(line, E_NAME, name_path, "every invariant needs a name")
            return None
        if name is None:
            return None
        if len(name) > 100 or not _NAME.fullmatch(name):
            self.sink.error(line, E_NAME, name_path,
                            f"invalid name {name!r}: at most 100 letters, digits, '-', '_', '.' "
                            "or ':', starting and ending with a letter or digit")
            return None
        if name in self.names:
            self.sink.error(line, E_NAME, name_path,
                            f"invariant name {name!r} is already used (line {self.names[name][0]})")
            return None
        self.names[name] = (line, name_path)
        return name

    def scope(self, entry: LinedMap, path: str) -> Scope | None:
        scope_path, line = child(path, "scope"), entry.key_line("scope")
        text = self.fields.string(entry.get("scope"), scope_path, line)
        if entry.get("scope") is None:
            return Scope.ALL
        if text is None:
            return None
        scope = _SCOPES.get(text)
        if scope is None:
            self.sink.error(line, E_SCOPE, scope_path,
                            f"unknown scope {text!r}; expected {' or '.join(_SCOPES)}")
        return scope

    def directions(self, body: LinedMap, path: str) -> frozenset[Direction]:
        directions_path, line = child(path, "directions"), body.key_line("directions")
        raw = body.get("directions")
        if raw is None:
            return frozenset(Direction)
        entries = self.fields.strings(raw, directions_path, line)
        if isinstance(raw, list) and not raw:
            self.sink.error(line, E_REQUIRED, directions_path, "must list Ingress, Egress or both")
        found: list[Direction] = []
        for text, index, item_line in entries:
            direction = _DIRECTIONS.get(text)
            if direction is None:
                self.sink.error(item_line, E_DIRECTION, item(directions_path, index),
                                f"unknown direction {text!r}; expected Ingress or Egress (case-sensitive)")
            elif direction in found:
                self.sink.error(item_line, E_DIRECTION, item(directions_path, index),
                                f"{text} is listed twice")
            else:
                found.append(direction)
        return frozenset(found)

    def ports(self, body: LinedMap, path: str) -> tuple[PortSpec, ...]:
        ports_path = child(path, "ports")
        raw = self.fields.sequence(body.get("ports"), ports_path, body.key_line("ports"))
        specs = [read_port(v, item(ports_path, i), raw.item_line(i), self.sink, self.semantics)
                 for i, v in enumerate(raw or ())]
        return tuple(s for s in specs if s is not None)

    # endpoint patterns ---------------------------------------------------------------------

    def patterns(self, body: LinedMap, key: str, path: str, pods_only: bool = False,
                 required: bool = True) -> tuple[EndpointPattern, ...]:
        """One pattern or a list of them (a union)."""
        value, key_path, line = body.get(key), child(path, key), body.key_line(key)
        if value is None:
            if required:
                self.sink.error(line, E_REQUIRED, key_path, f"{key} is required")
            return ()
        if isinstance(value, LinedList):
            if not value:
                self.sink.error(line, E_REQUIRED, key_path, "must list at least one endpoint pattern")
            found = [self.pattern(v, item(key_path, i), value.item_line(i), pods_only)
                     for i, v in enumerate(value)]
        else:
            found = [self.pattern(value, key_path, line, pods_only)]
        return tuple(p for p in found if p is not None)

    def pattern(self, value: Any, path: str, line: int, pods_only: bool) -> EndpointPattern | None:
        if value is None:
            self.fields.wrong(line, path, "must be a mapping, not null")
            return None
        pattern = self.fields.mapping(value, path, line, PATTERN_FIELDS)
        if pattern is None:
            return None
        present = [k for k in PATTERN_FIELDS if pattern.get(k) is not None]
        if not present:
            self.sink.error(line, E_PATTERN, path,
                            "an endpoint pattern must set namespace, namespaceSelector, podSelector, "
                            "ipBlock or any (every pod: {namespaceSelector: {}}; everything: {any: true})")
            return None
        for special in ("any", "ipBlock"):
            if special in present and len(present) > 1:
                others = " or ".join(k for k in present if k != special)
                self.sink.error(line, E_PATTERN, path, f"{special} may not be combined with {others}")
                return None
        if pods_only and present[0] in ("any", "ipBlock"):
            self.sink.error(pattern.key_line(present[0]), E_PATTERN, child(path, present[0]),
                            "only pods can be isolated: give a pod pattern "
                            "(namespace, namespaceSelector, podSelector)")
            return None
        span = self.span(line)
        if present == ["any"]:
            flag = self.fields.boolean(pattern["any"], child(path, "any"), pattern.key_line("any"))
            if flag is False:
                self.sink.error(pattern.key_line("any"), E_PATTERN, child(path, "any"),
                                "any must be true (leave the pattern out to match nothing)")
            return EndpointPattern("any", span=span) if flag else None
        if present == ["ipBlock"]:
            block = read_ip_block(pattern["ipBlock"], child(path, "ipBlock"), pattern.key_line("ipBlock"),
                                  self.sink, self.semantics)
            return None if block is None else EndpointPattern("address", ip_block=block, span=span)
        errors = self.sink.errors
        namespace = self.namespace(pattern, path)
        selectors = []
        for key in ("namespaceSelector", "podSelector"):
            raw = pattern.get(key)
            selectors.append(None if raw is None else parse_selector(
                self.fields, raw, child(path, key), pattern.key_line(key),
                namespace=key == "namespaceSelector"))
        if self.sink.errors != errors:
            return None
        return EndpointPattern("pod", namespace=namespace, namespace_selector=selectors[0],
                               pod_selector=selectors[1], span=span)

    def namespace(self, pattern: LinedMap, path: str) -> str | None:
        ns_path, line = child(path, "namespace"), pattern.key_line("namespace")
        namespace = self.fields.string(pattern.get("namespace"), ns_path, line)
        if namespace is not None and names.dns_label(namespace):
            self.sink.error(line, E_NAMESPACE, ns_path,
                            f"invalid namespace {namespace!r}: {names.dns_label(namespace)}")
        return namespace

    # presets --------------------------------------------------------------------------------

    def preset(self, name: str, value: Any, path: str, line: int) -> None:
        if name not in PRESETS:
            self.sink.error(line, E_PRESET, path, f"unknown preset {name!r}; expected one of "
                                                  f"{', '.join(PRESETS)}")
            return
        if name in self.presets:
            self.sink.error(line, E_PRESET, path, f"preset {name} is configured twice")
            return
        settings = self.fields.mapping(value, path, line)
        for key in settings or ():
            if key not in PRESET_FIELDS[name]:
                takes = ", ".join(PRESET_FIELDS[name]) or "no settings"
                self.sink.error(settings.key_line(key), E_PRESET, child(path, key),
                                f"preset {name} takes {takes}; unknown setting {key!r}")
        exceptions: list[FlowPattern] = []
        if settings is not None:
            exceptions_path = child(path, "exceptions")
            raw = self.fields.sequence(settings.get("exceptions"), exceptions_path,
                                       settings.key_line("exceptions"))
            for index, entry in enumerate(raw or ()):
                found = self.exception(entry, item(exceptions_path, index), raw.item_line(index))
                if found is not None:
                    exceptions.append(found)
        self.presets[name] = preset(name, tuple(exceptions), self.span(line))

    def exception(self, value: Any, path: str, line: int) -> FlowPattern | None:
        if value is None:
            self.fields.wrong(line, path, "must be a mapping, not null")
            return None
        entry = self.fields.mapping(value, path, line, EXCEPTION_FIELDS)
        if entry is None:
            return None
        if all(entry.get(k) is None for k in ("from", "to", "ports")):
            self.sink.error(line, E_REQUIRED, path, "an exception needs from, to or ports")
            return None
        errors = self.sink.errors
        name = self.fields.string(entry.get("name"), child(path, "name"), entry.key_line("name")) or ""
        any_endpoint = (EndpointPattern("any"),)
        sources = self.patterns(entry, "from", path, required=False) or any_endpoint
        destinations = self.patterns(entry, "to", path, required=False) or any_endpoint
        ports = self.ports(entry, path)
        if self.sink.errors != errors:
            return None
        return FlowPattern(sources, destinations, ports, name, self.span(line))


def load_invariants(path: str | None, presets: Sequence[str], semantics: Semantics,
                    stdin: BinaryIO | None = None) -> LoadedInvariants:
    """The invariants of the file at `path` (`-`: stdin; None: no file) and the presets
    named in `presets` or configured in the file. Raises InputError with every error."""
    return invariants_of(None if path is None else read_one(path, stdin), presets, semantics)


def invariants_of(read: Input | None, presets: Sequence[str], semantics: Semantics) -> LoadedInvariants:
    """`load_invariants` of a file already read (None: no file)."""
    found: list[Diagnostic] = list(read.problems) if read is not None else []
    reader: _InvariantReader | None = None
    for source in read.sources if read is not None else ():   # one file at most
        reader = _InvariantReader(Sink(source.name, found), semantics)
        for document in read_documents(source, reader.sink):
            reader.document(document.value, document.line)
        if reader.sink.errors == 0 and not reader.invariants and not reader.presets:
            reader.sink.error(0, E_STRUCTURE, "", "the file lists no invariants and no presets")
    invariants = list(reader.invariants) if reader else []
    configured = reader.presets if reader else {}
    for name in sorted(set(presets) | set(configured)):
        invariants.append(configured.get(name) or preset(name))
        if reader is not None and name in reader.names:
            line, path = reader.names[name]
            reader.sink.error(line, E_NAME, path, f"invariant name {name!r} is already used by the preset {name}")
    if any(d.severity is Severity.ERROR for d in found):
        raise InputError(found)
    return LoadedInvariants(tuple(sorted(invariants, key=lambda i: i.name)), tuple(sorted(found)))
