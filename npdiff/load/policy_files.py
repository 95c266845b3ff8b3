"""Files of NetworkPolicies in the layout nearly every repository writes, read straight
into the model.

The general path reads YAML into `LinedMap` trees (block_yaml, yaml_reader), then checks
them field by field (networkpolicy.py) so that every problem is reported with its line
and field path. Most files have no problem at all: block-style YAML, NetworkPolicy
documents only, every field of its type and every value one the API server accepts.
`read_policy_file` reads such a file from the line shapes of block_yaml into the same
policies and objects, without building the trees, and declines (None) at the first
thing that is not plainly so: another kind, a YAML construct outside its subset, a null,
an unknown field, a value the API server refuses or one the general path warns about.
The caller then reads the file the general way, which reports what is there. Declining
is always safe; accepting is exact: tests/test_policy_files.py checks that whatever this
returns is what the general path returns, every span included.

The objects' bodies are not built: a body is read again the general way when the
structural diff asks for it (load/file_read.py).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Sequence

from npdiff.load.block_yaml import EMPTY_LIST, EMPTY_MAP, END, NO_KEY, PENDING, START, line_shapes
from npdiff.load.cidr import CIDR, parse_cidr, strict_subset
from npdiff.load.file_read import FileRead, Reread, Unread
from npdiff.load.networkpolicy import API_VERSION, KIND
from npdiff.load.sources import Source
from npdiff.model import IPBlock, NetworkPolicy, Peer, PortSpec, Rule, SourceObject, Span, names
from npdiff.model.flow import METADATA_NAME
from npdiff.model.policy import PROTOCOLS, Direction
from npdiff.model.selector import LabelSelector, Operator, Requirement

# The deepest policy field (a matchExpressions value) is ten collections down.
_DEPTH = 12
_TOP = frozenset(("apiVersion", "kind", "metadata", "spec"))
_METADATA = frozenset(("name", "namespace", "labels", "annotations"))
_SPEC = frozenset(("podSelector", "policyTypes", "ingress", "egress"))
_SELECTOR = frozenset(("matchLabels", "matchExpressions"))
_EXPRESSION = frozenset(("key", "operator", "values"))
_PEER = frozenset(("podSelector", "namespaceSelector", "ipBlock"))
_IP_BLOCK = frozenset(("cidr", "except"))
_PORT = frozenset(("protocol", "port", "endPort"))
_INGRESS, _EGRESS = Direction.INGRESS, Direction.EGRESS
_INGRESS_RULE, _EGRESS_RULE = frozenset(("from", "ports")), frozenset(("to", "ports"))
_POLICY_TYPES = {d.policy_type: d for d in Direction}
_INGRESS_ONLY, _BOTH = frozenset((_INGRESS,)), frozenset((_INGRESS, _EGRESS))
_OPERATORS = {op.value: op for op in Operator}
_WITH_VALUES = (Operator.IN, Operator.NOT_IN)
_CACHE = 65_536

# A sequence as read here: (line, value) for each item, the line being where the item
# starts (its `-`), which is the line the general path gives the item.
Items = list[tuple[int, Any]]


class _Decline(Exception):
    pass


def read_policy_file(source: Source) -> FileRead | None:
    """The policies and objects of a file of NetworkPolicies in the common layout, exactly
    as the general path reads them (no diagnostics), or None: read it the general way."""
    if source.is_json:
        return None
    try:
        text = source.data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    shaped = line_shapes(text)
    if shaped is None:
        return None
    numbers, shapes = shaped
    try:
        documents = _documents(numbers, shapes)
        if not documents:
            return None
        file = source.name
        reread = Reread(source)
        objects, policies = [], []
        for position, (line, body) in enumerate(documents):
            policy = _policy(body, Span(file, line))
            policies.append(policy)
            objects.append(SourceObject(KIND, policy.namespace, policy.name, policy.span, Unread(reread, position)))
    except _Decline:
        return None
    return FileRead(tuple(objects), tuple(policies), ())


def _documents(numbers: Sequence[int], shapes: list[Any]) -> list[tuple[int, dict]]:
    """(line, root mapping) of each non-empty document."""
    if END in shapes:
        raise _Decline
    found = []
    start, total = 0, len(shapes)
    while start <= total:
        try:
            stop = shapes.index(START, start)
        except ValueError:
            stop = total
        if stop > start:
            found.append((numbers[start], _document(numbers, shapes, start, stop)))
        start = stop + 1
    return found


def _document(numbers: Sequence[int], shapes: list[Any], i: int, stop: int) -> dict:
    """The root mapping of the document on lines `i` to `stop` (exclusive).

    Block collections are built from line shapes as plain dicts and `Items`, within the
    part of block YAML where the general reader builds the same values; anything else
    declines. A null declines too: the API server reads it as absent, which is the
    general path's to say. One loop over the lines, the open collections on a stack
    (each: the collection, its column, whether it is a sequence, and for a sequence
    whether it sits at its key's column), so that a line costs no call.
    """
    dashes, col, key, kind, value = shapes[i]
    if dashes:
        raise _Decline   # a document that is a list, not an object
    root: dict = {}
    node: Any = root
    at, is_list, indentless = col, False, False
    stack = [(node, at, is_list, indentless)]
    while True:
        if is_list:   # an entry: `- value` or `- key: ...`, which opens a mapping
            if len(dashes) > 1 or col < 0:
                raise _Decline
            if key is NO_KEY:
                if kind == EMPTY_MAP:
                    value = {}
                elif kind == EMPTY_LIST:
                    value = []
                elif value is None:
                    raise _Decline
                node.append((numbers[i], value))
            else:
                entry: dict = {}
                node.append((numbers[i], entry))
                if len(stack) >= _DEPTH:
                    raise _Decline
                node, at, is_list, indentless = entry, col, False, False
                stack.append((node, at, is_list, indentless))
        if not is_list:   # a key of the mapping on top
            if key is NO_KEY or key in node:
                raise _Decline
            if kind == PENDING:   # its value is on the lines that follow
                i += 1
                if i >= stop or len(stack) >= _DEPTH:
                    raise _Decline
                child: Any = [] if shapes[i][0] else {}   # a sequence if the line is an entry
                node[key] = child
                dashes, col, key, kind, value = shapes[i]
                if dashes:
                    if dashes[0] < at:
                        raise _Decline
                    node, at, is_list, indentless = child, dashes[0], True, dashes[0] == at
                elif col > at:
                    node, at, is_list, indentless = child, col, False, False
                else:
                    raise _Decline
                stack.append((node, at, is_list, indentless))
                continue
            if kind == EMPTY_MAP:
                value = {}
            elif kind == EMPTY_LIST:
                value = []
            elif value is None:
                raise _Decline
            node[key] = value
        i += 1
        if i >= stop:
            return root
        dashes, col, key, kind, value = shapes[i]
        while True:   # close the collections the line is not part of
            if is_list:
                if dashes:
                    if dashes[0] == at:
                        break
                    if dashes[0] > at:
                        raise _Decline
                elif not (col < at or (indentless and col == at)):
                    raise _Decline
            elif dashes:
                if dashes[0] >= at:
                    raise _Decline
            elif col == at:
                break
            elif col > at:
                raise _Decline
            stack.pop()
            if not stack:
                raise _Decline   # more than one root
            node, at, is_list, indentless = stack[-1]


# --- the policy, field by field --------------------------------------------------------

def _fields(value: Any, allowed: frozenset[str]) -> dict:
    if type(value) is not dict or not allowed.issuperset(value):
        raise _Decline
    return value


def _items(value: Any) -> Items:
    if type(value) is not list:
        raise _Decline
    return value


def _text(value: Any) -> str:
    if type(value) is not str:
        raise _Decline
    return value


def _accepts(check: Callable[[str], str | None]) -> Callable[[str], bool]:
    """A validator of model/names.py (its complaint, or None) as a cached yes or no: label
    keys, values and names repeat across a repository's files."""
    return lru_cache(maxsize=_CACHE)(lambda text: check(text) is None)


_label_key = _accepts(names.label_key)
_label_value = _accepts(names.label_value)
_dns_label = _accepts(names.dns_label)
_dns_subdomain = _accepts(names.dns_subdomain)
_port_name = _accepts(names.port_name)


def _policy(body: Any, span: Span) -> NetworkPolicy:
    body = _fields(body, _TOP)
    if body.get("apiVersion") != API_VERSION or body.get("kind") != KIND:
        raise _Decline
    name, namespace = _metadata(body.get("metadata"))
    spec = _fields(body.get("spec"), _SPEC)
    raw_selector = spec.get("podSelector")
    pod_selector = LabelSelector(()) if raw_selector is None else _selector(raw_selector, False)
    file = span.file
    ingress = _rules(spec.get("ingress"), _INGRESS, _INGRESS_RULE, "from", file)
    egress = _rules(spec.get("egress"), _EGRESS, _EGRESS_RULE, "to", file)
    types = _policy_types(spec)
    if (ingress and _INGRESS not in types) or (egress and _EGRESS not in types):
        raise _Decline   # rules a policy type leaves out: W-01
    return NetworkPolicy(namespace, name, pod_selector, types, ingress, egress, span)


def _metadata(value: Any) -> tuple[str, str]:
    meta = _fields(value, _METADATA)
    name, namespace = _text(meta.get("name")), _text(meta.get("namespace"))
    # An empty namespace is defaulted, with a warning (W-15).
    if not name or not namespace or not _dns_subdomain(name) or not _dns_label(namespace):
        raise _Decline
    labels, annotations = meta.get("labels"), meta.get("annotations")
    for key, text in _strings(labels):
        if not (_label_key(key) and _label_value(text)):
            raise _Decline
    _strings(annotations)
    return name, namespace


def _strings(value: Any) -> Any:
    """The entries of a map of strings to strings (absent: none)."""
    if value is None:
        return ()
    if type(value) is not dict:
        raise _Decline
    entries = value.items()
    for key, text in entries:
        if type(key) is not str or type(text) is not str:
            raise _Decline
    return entries


def _policy_types(spec: dict) -> frozenset[Direction]:
    raw = spec.get("policyTypes")
    if not raw:   # absent or empty: S3.1.2
        if raw is not None and type(raw) is not list:
            raise _Decline
        return _BOTH if spec.get("egress") else _INGRESS_ONLY
    written = [_POLICY_TYPES.get(_text(text)) for _, text in _items(raw)]
    if None in written or len(set(written)) != len(written):   # unknown, or listed twice (W-15)
        raise _Decline
    return frozenset(written)


def _rules(value: Any, direction: Direction, allowed: frozenset[str], peers_key: str,
           file: str) -> tuple[Rule, ...]:
    if value is None:
        return ()
    rules = []
    for index, (line, raw) in enumerate(_items(value)):
        rule = _fields(raw, allowed)
        raw_peers, raw_ports = rule.get(peers_key), rule.get("ports")
        peers = () if raw_peers is None else tuple(
            [_peer(peer, peer_line, position, file) for position, (peer_line, peer) in enumerate(_items(raw_peers))])
        ports = () if raw_ports is None else tuple(
            [_port(port, port_line, file) for port_line, port in _items(raw_ports)])
        rules.append(Rule(direction, index, peers, ports, Span(file, line)))
    return tuple(rules)


def _peer(peer: Any, line: int, index: int, file: str) -> Peer:
    if type(peer) is not dict or not peer or not _PEER.issuperset(peer):
        raise _Decline   # not a mapping of peer fields, or none of them (E-NP-04)
    block = peer.get("ipBlock")
    if block is not None:
        if len(peer) > 1:
            raise _Decline   # E-NP-05
        return Peer(None, None, _ip_block(block), Span(file, line), index)
    pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
    return Peer(None if pods is None else _selector(pods, False),
                None if namespaces is None else _selector(namespaces, True), None, Span(file, line), index)


_LABELS_ONLY: dict[tuple, LabelSelector] = {}   # (namespace?, matchLabels items): selector


def _selector(selector: Any, namespace: bool) -> LabelSelector:
    if type(selector) is not dict or not _SELECTOR.issuperset(selector):
        raise _Decline
    labels = selector.get("matchLabels")
    expressions = selector.get("matchExpressions")
    if labels is not None and type(labels) is not dict:
        raise _Decline
    # Most selectors are a few matchLabels, repeated across the repository: kept once.
    key = (namespace, *labels.items()) if expressions is None and labels is not None else None
    if key is not None:
        try:
            found = _LABELS_ONLY.get(key)
        except TypeError:   # a value that is a collection
            raise _Decline from None
        if found is not None:
            return found
    requirements: set[Requirement] = set()
    for label, text in (labels or {}).items():
        if not (type(label) is str and type(text) is str and _label_key(label) and _label_value(text)):
            raise _Decline
        if namespace and label == METADATA_NAME and not _dns_label(text):
            raise _Decline   # W-10
        requirements.add(Requirement(label, Operator.IN, (text,)))
    if expressions is not None:
        for _, raw in _items(expressions):
            requirements.add(_expression(_fields(raw, _EXPRESSION), namespace))
    found = LabelSelector(tuple(sorted(requirements)))
    if key is not None:
        if len(_LABELS_ONLY) >= _CACHE:
            _LABELS_ONLY.clear()
        _LABELS_ONLY[key] = found
    return found


def _expression(expression: dict, namespace: bool) -> Requirement:
    label = _text(expression.get("key"))
    operator = _OPERATORS.get(_text(expression.get("operator")))
    raw = expression.get("values")
    values = [] if raw is None else [_text(text) for _, text in _items(raw)]
    if operator is None or not _label_key(label) or not all(_label_value(text) for text in values) \
            or (operator in _WITH_VALUES) != bool(values):
        raise _Decline
    unique = tuple(sorted(set(values)))
    if namespace and operator in _WITH_VALUES and label == METADATA_NAME \
            and not all(_dns_label(text) for text in unique):
        raise _Decline   # W-10
    return Requirement(label, operator, unique)


def _cidr(value: Any) -> CIDR:
    parsed = parse_cidr(_text(value)) if value else None
    if not isinstance(parsed, CIDR) or parsed.problems or parsed.mapped:
        raise _Decline   # invalid (E-NP-06, E-NP-07), or lenient (W-04, W-05)
    return parsed


def _ip_block(value: Any) -> IPBlock:
    block = _fields(value, _IP_BLOCK)
    cidr = _cidr(block.get("cidr"))
    raw = block.get("except")
    excepts = []
    for _, text in () if raw is None else _items(raw):
        inner = _cidr(text)
        if not strict_subset(inner, cidr):
            raise _Decline   # E-NP-07
        excepts.append(inner.text)
    return IPBlock(cidr.text, tuple(excepts))


def _port(spec: Any, line: int, file: str) -> PortSpec:
    if type(spec) is not dict or not _PORT.issuperset(spec):
        raise _Decline
    protocol = spec.get("protocol", "TCP")
    port, end = spec.get("port"), spec.get("endPort")
    if type(protocol) is not str or protocol not in PROTOCOLS:
        raise _Decline
    if type(port) is int:
        if not 1 <= port <= 65535:
            raise _Decline
    elif port is not None and not (type(port) is str and _port_name(port)):
        raise _Decline
    if end is not None and not (type(end) is int and type(port) is int and port <= end <= 65535):
        raise _Decline
    return PortSpec(protocol, port, end, Span(file, line))
