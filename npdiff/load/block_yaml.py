"""A fast reader for the block-style YAML subset that Kubernetes manifests are written in.

`read_block(text)` returns exactly the documents the event-based builder of
`npdiff.load.yaml_reader` returns (values, Python types, key order and every line number),
or None when the text steps outside the subset this reader knows exactly; the caller then
reads it the slow way, which also reports every error. The subset, one line at a time:

- indentation by spaces; `- ` entries (several on one line), `key: value`, `key:` with the
  value on the following lines (more indented, or a sequence at the same indentation);
- keys and values that are single-line plain scalars, single-quoted scalars, or
  double-quoted scalars without escapes; `{}` and `[]` as whole values;
- comments after a space, blank lines, `---` and `...` alone on their line.

Anything else declines: tabs, other control or break characters, anchors, aliases, tags,
merge keys, block and multi-line scalars, flow collections, complex keys, directives,
duplicate keys, nesting deeper than MAX_DEPTH, or any line whose shape is not listed above.
Declining is always safe; accepting is exact, so every rule errs towards declining.
"""

from __future__ import annotations

import re
from typing import Any, Sequence, Union

from npdiff.load.lined import LinedList, LinedMap
from npdiff.load.yaml_values import MAX_DEPTH, MERGE, Document, ScalarError, plain_scalar

# Characters YAML allows that are neither a tab, a line break other than "\n", nor a BOM.
_ODD = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd"
                  "\U00010000-\U0010ffff]")
# A single-line plain scalar in block context. It may not start with an indicator (`-`
# only before a non-space), ends before ` #` and may not hold `: `; flow indicators,
# a space before `:` and runs of spaces inside are legal but left to the slow reader.
_PLAIN = (r"(?:[^-?:,\[\]{}#&*!|>'\"%@` ]|-(?=[^ ]))"
          r"(?:[^ :\[\]{}]|:(?=[^ ])| (?=[^ #:\[\]{}]))*")
_SINGLE = r"'((?:[^']|'')*)'"
_DOUBLE = r'"([^"\\]*)"'
# The spaces after a key belong to the key, so that no pattern starts with a run of
# spaces it could backtrack into (quadratic on a long run).
_KEY = re.compile(rf"(?:({_PLAIN})|{_SINGLE}|{_DOUBLE}):(?: +|$)")
_VALUE = re.compile(rf"(?:({_PLAIN})|{_SINGLE}|{_DOUBLE}|(\{{\}}|\[\]))(?: +#.*| *)")
_MARKER = re.compile(r"(?: +#.*| *)")
# libyaml drops a key longer than 1024 characters (counted in its own units): stay far below.
_MAX_KEY = 200

_PENDING, _SCALAR, _EMPTY_MAP, _EMPTY_LIST = range(4)
_NO_KEY = object()
_SKIP = object()   # a blank or comment line
_START = object()  # `---`
_END = object()    # `...`
# dash columns, content column (-1: none), key (or _NO_KEY), value kind, value
_Shape = tuple[tuple[int, ...], int, Any, int, Any]
_CACHE_SIZE = 65_536
_CACHED_LINE = 160   # longer lines rarely repeat, and would make the cache large
_SHAPES: dict[str, Union[_Shape, object]] = {}


class _Decline(Exception):
    pass


class _Frame:
    """An open block collection: its column, and the key or entry still waiting for a
    value written on a later line (`pending`, with that key's or entry's line)."""

    __slots__ = ("node", "col", "is_map", "indentless", "pending", "key", "line")

    def __init__(self, node: LinedMap | LinedList, col: int, indentless: bool = False) -> None:
        self.node = node
        self.col = col
        self.is_map = type(node) is LinedMap
        self.indentless = indentless
        self.pending = False
        self.key: Any = None
        self.line = 0


def _scalar(match: re.Match[str], first: int) -> Any:
    """The value of a plain, single- or double-quoted scalar matched from group `first`."""
    plain, single, double = match.group(first, first + 1, first + 2)
    if plain is not None:
        tag, value = plain_scalar(plain, False)
        if tag == MERGE:
            raise _Decline
        return value
    if single is not None:
        return single.replace("''", "'")
    return double


def _shape(line: str) -> _Shape | object:
    """What one line holds, or raises _Decline."""
    content = line.lstrip(" ")
    if not content or content[0] == "#":
        return _SKIP
    col = len(line) - len(content)
    if col == 0 and content[:3] in ("---", "..."):
        if _MARKER.fullmatch(content, 3):
            return _START if content[0] == "-" else _END
        raise _Decline
    dashes: list[int] = []
    while content[0] == "-" and (len(content) == 1 or content[1] == " "):
        dashes.append(col)
        rest = content[1:].lstrip(" ")
        col += len(content) - len(rest)
        content = rest
        if not content or content[0] == "#":
            return tuple(dashes), -1, _NO_KEY, _PENDING, None
    key: Any = _NO_KEY
    start = 0
    match = _KEY.match(content)
    if match is not None:
        start = match.end()
        if start > _MAX_KEY:
            raise _Decline
        key = _scalar(match, 1)
        if start == len(content) or content[start] == "#":
            return tuple(dashes), col, key, _PENDING, None
    elif not dashes:
        raise _Decline   # a scalar alone on its line: multi-line, or not ours
    match = _VALUE.fullmatch(content, start)
    if match is None:
        raise _Decline
    if match.group(4) is not None:
        return tuple(dashes), col, key, _EMPTY_MAP if match.group(4) == "{}" else _EMPTY_LIST, None
    return tuple(dashes), col, key, _SCALAR, _scalar(match, 1)


def _line_shape(line: str) -> _Shape | object:
    """The shape of a line, remembered: most lines of a repository repeat verbatim."""
    shape = _SHAPES.get(line)
    if shape is None:
        shape = _shape(line)
        if len(line) <= _CACHED_LINE:
            if len(_SHAPES) >= _CACHE_SIZE:
                _SHAPES.clear()
            _SHAPES[line] = shape
    return shape


def _plain(text: str) -> str | None:
    """`text` with CRLF line ends made LF, or None if it holds characters the subset leaves out."""
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    if _ODD.search(text) is not None:
        return None
    return text


def read_block(text: str) -> list[Document] | None:
    """The non-empty documents of `text`, or None if it is not in the subset."""
    plain = _plain(text)
    if plain is None:
        return None
    try:
        return _Reader().read(plain)
    except (_Decline, ScalarError):
        return None


# What a line holds, for readers that build their own structure from the same shapes
# (load/policy_files.py): document markers, or (dash columns, content column, key, value
# kind, value) as described at _Shape.
START, END, NO_KEY = _START, _END, _NO_KEY
PENDING, SCALAR, EMPTY_MAP, EMPTY_LIST = _PENDING, _SCALAR, _EMPTY_MAP, _EMPTY_LIST


def line_shapes(text: str) -> tuple[Sequence[int], list[Any]] | None:
    """The 1-based numbers and shapes of the lines of `text` that are not blank or
    comments, or None if a line is outside the subset."""
    plain = _plain(text)
    if plain is None:
        return None
    lines = plain.split("\n")
    if not lines[-1]:
        lines.pop()   # after the last line break: nothing, as a blank line holds nothing
    shapes: list[Any] = list(map(_SHAPES.get, lines))   # most lines of a repository repeat
    missing = -1
    try:
        while True:   # the lines seen for the first time: a few per file
            missing = shapes.index(None, missing + 1)
            shapes[missing] = _line_shape(lines[missing])
    except ValueError:
        pass
    except (_Decline, ScalarError):
        return None
    if _SKIP not in shapes:
        return range(1, len(shapes) + 1), shapes
    kept = [(number, shape) for number, shape in enumerate(shapes, 1) if shape is not _SKIP]
    return [number for number, _ in kept], [shape for _, shape in kept]


class _Reader:
    """The block structure of one text, built line by line on a stack of open frames."""

    def __init__(self) -> None:
        self.documents: list[Document] = []
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.root_line = 0

    def read(self, text: str) -> list[Document]:
        # libyaml refuses `...` before the first document, and wants every document
        # after the first to begin with `---`.
        started = between = False
        stack = self.stack
        for number, line in enumerate(text.split("\n"), 1):
            shape = _SHAPES.get(line)
            if shape is None:
                shape = _line_shape(line)
            if shape is _SKIP:
                continue
            if shape is _START or shape is _END:
                if shape is _END and not started:
                    raise _Decline
                self._end_document()
                started, between = True, shape is _END
                continue
            if between:
                raise _Decline
            started = True
            dashes, col, key, kind, value = shape  # type: ignore[misc]
            if dashes:
                for dash in dashes:
                    self._entry(dash, number)
                if col < 0:
                    continue
                if key is _NO_KEY:
                    self._fill(stack[-1], self._value(kind, value, number), number)
                    continue
            top = stack[-1] if stack else None
            if top is not None and top.col == col and top.is_map and not top.pending:
                mapping = top.node   # the next key of the same mapping: most lines
            else:
                top, mapping = self._key_frame(self._unwind(col), col, number)
            if key in mapping:
                raise _Decline
            if kind == _PENDING:
                top.pending = True
                top.key = key
                top.line = number
            else:
                mapping[key] = value if kind == _SCALAR else self._value(kind, value, number)
                mapping.key_lines[key] = number
        self._end_document()
        return self.documents

    def _end_document(self) -> None:
        stack = self.stack
        while stack:
            self._settle(stack.pop())
        if self.root is not None:
            self.documents.append(Document(self.root, self.root_line))
        self.root = None

    def _settle(self, frame: _Frame) -> None:
        """A key or entry still waiting for its value when the next line is not it: null."""
        if frame.pending:
            self._fill(frame, None, frame.line)

    def _value(self, kind: int, value: Any, line: int) -> Any:
        """A scalar as read, or a new `{}` or `[]` at `line`."""
        if kind == _SCALAR:
            return value
        if len(self.stack) >= MAX_DEPTH:
            raise _Decline
        return LinedMap(line) if kind == _EMPTY_MAP else LinedList(line)

    def _unwind(self, col: int) -> _Frame | None:
        """The innermost frame left once those more indented than `col` are closed."""
        stack = self.stack
        while stack and stack[-1].col > col:
            self._settle(stack.pop())
        return stack[-1] if stack else None

    def _open(self, parent: _Frame | None, node: LinedMap | LinedList, col: int,
              line: int, indentless: bool = False) -> _Frame:
        """A new collection at `col`: the root, or the pending value of `parent`."""
        if parent is None:
            if self.root is not None:
                raise _Decline
            self.root, self.root_line = node, line
        else:
            if len(self.stack) >= MAX_DEPTH:
                raise _Decline
            self._fill(parent, node, line)
        frame = _Frame(node, col, indentless)
        self.stack.append(frame)
        return frame

    def _fill(self, frame: _Frame, value: Any, line: int) -> None:
        """Gives the pending key or entry of `frame` its value, written at `line`."""
        node = frame.node
        if frame.is_map:
            node[frame.key] = value
            node.key_lines[frame.key] = frame.line
        else:
            node.append(value)
            node.item_lines.append(line)
        frame.pending = False

    def _entry(self, col: int, line: int) -> None:
        """A `-` at `col`: a new entry, waiting for its value."""
        top = self._unwind(col)
        if top is None:
            frame = self._open(None, LinedList(line), col, line)
        elif not top.is_map and top.col == col:
            self._settle(top)
            frame = top
        elif top.pending and (top.col < col or (top.is_map and top.col == col)):
            frame = self._open(top, LinedList(line), col, line, top.col == col)
        else:
            raise _Decline
        frame.pending = True
        frame.line = line

    def _key_frame(self, top: _Frame | None, col: int, line: int) -> tuple[_Frame, LinedMap]:
        """The frame of the mapping that a key at `col` belongs to; `top` is the innermost
        frame not more indented than the key."""
        if top is not None and top.col == col:
            if not top.is_map:
                if not top.indentless:
                    raise _Decline
                self._settle(self.stack.pop())
                top = self.stack[-1]
            self._settle(top)
        elif top is None or top.pending:
            top = self._open(top, LinedMap(line), col, line)
        else:
            raise _Decline
        return top, top.node
