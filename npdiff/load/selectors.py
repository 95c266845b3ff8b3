"""Label selectors: validation (E-NP-14, E-NP-15, W-10) and conversion to requirements (S2)."""

from __future__ import annotations

from typing import Any

from npdiff.model import names
from npdiff.load.fields import Fields, child, entry, item
from npdiff.load.lined import LinedMap
from npdiff.model.flow import METADATA_NAME
from npdiff.model.selector import LabelSelector, Operator, Requirement

SELECTOR_FIELDS = ("matchLabels", "matchExpressions")
REQUIREMENT_FIELDS = ("key", "operator", "values")
_OPERATORS = {op.value: op for op in Operator}
_NEEDS_VALUES = (Operator.IN, Operator.NOT_IN)


def _check_key(fields: Fields, key: str, path: str, line: int) -> bool:
    problem = names.label_key(key)
    if problem:
        fields.sink.error(line, "E-NP-15", path, f"invalid label key {key!r}: {problem}")
    return problem is None


def _check_value(fields: Fields, value: str, path: str, line: int) -> bool:
    problem = names.label_value(value)
    if problem:
        fields.sink.error(line, "E-NP-15", path, f"invalid label value {value!r}: {problem}")
    return problem is None


def _check_namespace_name(fields: Fields, key: str, values: tuple[str, ...],
                          path: str, line: int) -> None:
    if key != METADATA_NAME:
        return
    for value in values:
        if names.dns_label(value):
            fields.sink.warning(line, "W-10", path,
                                f"{value!r} is not a valid namespace name, so no namespace "
                                f"carries {METADATA_NAME}={value}")


def _operator(fields: Fields, expr: LinedMap, path: str) -> Operator | None:
    line = expr.key_line("operator")
    text = fields.string(expr.get("operator"), path, line)
    if text is None:
        if expr.get("operator") is None:
            fields.sink.error(expr.line, "E-NP-14", path, "operator is required")
        return None
    operator = _OPERATORS.get(text)
    if operator is None:
        fields.sink.error(line, "E-NP-14", path, f"unknown operator {text!r}; expected one "
                                                 "of In, NotIn, Exists, DoesNotExist")
    return operator


def _expression(fields: Fields, value: Any, path: str, line: int,
                namespace: bool) -> Requirement | None:
    if value is None:
        fields.wrong(line, path, "must be a mapping, not null")
        return None
    expr = fields.mapping(value, path, line, REQUIREMENT_FIELDS)
    if expr is None:
        return None
    key_path = child(path, "key")
    key = fields.string(expr.get("key"), key_path, expr.key_line("key"))
    if key is None and expr.get("key") is None:
        fields.sink.error(expr.line, "E-NP-15", key_path, "key is required")
    key_ok = key is not None and _check_key(fields, key, key_path, expr.key_line("key"))
    operator = _operator(fields, expr, child(path, "operator"))
    values_path = child(path, "values")
    values_line = expr.key_line("values")
    raw_values = expr.get("values")
    values_ok = raw_values is None or isinstance(raw_values, list)
    values = []
    for text, index, item_line in fields.strings(raw_values, values_path, values_line):
        if _check_value(fields, text, item(values_path, index), item_line):
            values.append(text)
    values_ok = values_ok and len(values) == len(raw_values or ())
    count = len(raw_values) if isinstance(raw_values, list) else 0
    if operator in _NEEDS_VALUES and count == 0:
        fields.sink.error(values_line, "E-NP-14", values_path,
                          f"must be non-empty when operator is {operator.value}")
        values_ok = False
    elif operator is not None and operator not in _NEEDS_VALUES and count:
        fields.sink.error(values_line, "E-NP-14", values_path,
                          f"must be empty when operator is {operator.value}")
        values_ok = False
    if key is None or not key_ok or operator is None or not values_ok:
        return None
    unique = tuple(sorted(set(values)))
    if namespace and operator in _NEEDS_VALUES:
        _check_namespace_name(fields, key, unique, path, line)
    return Requirement(key, operator, unique)


def parse_selector(fields: Fields, value: Any, path: str, line: int,
                   namespace: bool = False) -> LabelSelector | None:
    """The selector written at `path` (not null), or None if it is invalid.

    `namespace` marks a namespaceSelector, whose `kubernetes.io/metadata.name` values
    are checked against namespace-name syntax (W-10).
    """
    selector = fields.mapping(value, path, line, SELECTOR_FIELDS)
    if selector is None:
        return None
    ok = True
    requirements: set[Requirement] = set()
    labels_path = child(path, "matchLabels")
    for key, val, key_line in fields.string_map(selector.get("matchLabels"), labels_path,
                                                selector.key_line("matchLabels")):
        key_ok = _check_key(fields, key, entry(labels_path, key), key_line)
        value_ok = _check_value(fields, val, entry(labels_path, key), key_line)
        if key_ok and value_ok:
            requirements.add(Requirement(key, Operator.IN, (val,)))
            if namespace:
                _check_namespace_name(fields, key, (val,), entry(labels_path, key), key_line)
        else:
            ok = False
    raw_labels = selector.get("matchLabels")
    if raw_labels is not None and not isinstance(raw_labels, dict):
        ok = False
    exprs_path = child(path, "matchExpressions")
    exprs_line = selector.key_line("matchExpressions")
    raw_exprs = selector.get("matchExpressions")
    exprs = fields.sequence(raw_exprs, exprs_path, exprs_line)
    if raw_exprs is not None and exprs is None:
        ok = False
    for index, expr in enumerate(exprs or ()):
        requirement = _expression(fields, expr, item(exprs_path, index),
                                  exprs.item_line(index), namespace)
        if requirement is None:
            ok = False
        else:
            requirements.add(requirement)
    if not ok:
        return None
    return LabelSelector(tuple(sorted(requirements)))
