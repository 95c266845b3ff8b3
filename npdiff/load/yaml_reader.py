"""Safe YAML (and JSON) reading into plain values that keep their line numbers.

Only the parser's event stream is used; values are built here, never by a PyYAML
constructor, so no tag can construct an arbitrary Python object: any tag outside the
YAML core schema is an error. Building from events also lets us refuse hostile input
early: alias expansion is counted (alias bombs), nesting is capped, duplicate keys and
non-scalar keys are errors.

Most files are plain block YAML; `block_yaml` reads those several times faster and
returns the same documents, or declines and leaves the file to the events.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml import events as ev

from npdiff.load.block_yaml import read_block
from npdiff.load.codes import E_IO, E_YAML, Sink
from npdiff.load.lined import LinedList, LinedMap
from npdiff.load.sources import Source
from npdiff.load.yaml_values import (BYTE_POSITIONS, MAP, MAX_DEPTH, MERGE, SEQ, STR, Document,
                                     Loader, ScalarError, construct, plain_scalar, short_tag)

# Nodes that aliases may add to one file once expanded: per file, not per document, so
# that many small bombs in one stream cannot add up to a large one.
MAX_ALIAS_NODES = 1_000_000

_CONTAINER_TAGS = {None, "!", SEQ, MAP}


class _Abort(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _Frame:
    __slots__ = ("value", "line", "anchor", "weight", "key", "key_line", "has_key",
                 "key_is_merge", "merges")

    def __init__(self, value: LinedMap | LinedList, line: int, anchor: str | None) -> None:
        self.value = value
        self.line = line
        self.anchor = anchor
        self.weight = 1
        self.key: Any = None
        self.key_line = line
        self.has_key = False
        self.key_is_merge = False
        self.merges: list[tuple[Any, int]] = []


def _line(event: ev.Event) -> int:
    return event.start_mark.line + 1 if event.start_mark is not None else 0


class _Builder:
    """Builds one value per document from parser events."""

    def __init__(self, sink: Sink, json_mode: bool) -> None:
        self.sink = sink
        self.json_mode = json_mode
        self.documents: list[Document] = []
        self.alias_nodes = 0
        self._start_document()

    def _start_document(self) -> None:
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.root: Any = None
        self.root_line = 0
        self.broken = False

    def feed(self, event: ev.Event) -> None:
        kind = type(event)
        if kind is ev.ScalarEvent:
            if event.tag is None and not event.implicit[0]:
                tag, value = STR, event.value  # quoted: always a string; the common case
            else:
                tag, value = self._scalar(event)
            if event.anchor is not None:
                self.anchors[event.anchor] = (value, 1)
            self._add(value, 1, event.start_mark.line + 1, tag == MERGE)
        elif kind is ev.MappingStartEvent or kind is ev.SequenceStartEvent:
            self._open(event)
        elif kind is ev.MappingEndEvent or kind is ev.SequenceEndEvent:
            self._close()
        elif kind is ev.AliasEvent:
            self._alias(event)
        elif kind is ev.DocumentStartEvent:
            self._start_document()
        elif kind is ev.DocumentEndEvent:
            if self.root is not None and not self.broken:
                self.documents.append(Document(self.root, self.root_line))
            self._start_document()

    def _scalar(self, event: ev.ScalarEvent) -> tuple[str, Any]:
        try:
            if event.tag is None and event.implicit[0]:
                return plain_scalar(event.value, self.json_mode)
            return construct(event.value, event.tag, event.implicit)
        except ScalarError as exc:
            raise _Abort(_line(event), str(exc)) from None

    def _open(self, event: ev.CollectionStartEvent) -> None:
        line = _line(event)
        if event.tag not in _CONTAINER_TAGS:
            raise _Abort(line, f"unsupported YAML tag {short_tag(event.tag)}")
        if len(self.stack) >= MAX_DEPTH:
            raise _Abort(line, f"nested more than {MAX_DEPTH} levels deep")
        self._check_key_position(line)
        value = LinedMap(line) if isinstance(event, ev.MappingStartEvent) else LinedList(line)
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Frame(value, line, event.anchor))

    def _check_key_position(self, line: int) -> None:
        if self.stack:
            top = self.stack[-1]
            if isinstance(top.value, LinedMap) and not top.has_key:
                raise _Abort(line, "mapping keys must be scalars")

    def _close(self) -> None:
        frame = self.stack.pop()
        if isinstance(frame.value, LinedMap) and frame.merges:
            self._merge(frame)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (frame.value, frame.weight)
            self.open_anchors.discard(frame.anchor)
        self._add(frame.value, frame.weight, frame.line, False)

    def _merge(self, frame: _Frame) -> None:
        mapping = frame.value
        assert isinstance(mapping, LinedMap)
        for value, line in frame.merges:
            if isinstance(value, LinedMap):
                parts = [value]
            elif isinstance(value, LinedList) and all(isinstance(v, LinedMap) for v in value):
                parts = list(value)
            else:
                raise _Abort(line, "a merge key (<<) needs a mapping or a list of mappings")
            for part in parts:
                for key, item in part.items():
                    # Keys written in the mapping itself win over merged ones (YAML merge).
                    if key not in mapping:
                        mapping[key] = item
                        mapping.key_lines[key] = part.key_line(key)

    def _alias(self, event: ev.AliasEvent) -> None:
        line = _line(event)
        name = event.anchor
        if name in self.open_anchors:
            raise _Abort(line, f"alias *{name} refers to a node that contains it")
        if name not in self.anchors:
            raise _Abort(line, f"alias *{name} refers to an undefined anchor")
        value, weight = self.anchors[name]
        self.alias_nodes += weight
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise _Abort(line, f"aliases expand to more than {MAX_ALIAS_NODES} nodes "
                               "(an alias bomb?); refusing to expand them")
        if isinstance(value, (LinedMap, LinedList)):
            self._check_key_position(line)
        self._add(value, weight, line, False)

    def _path(self) -> str:
        """The field path of the key being read, for messages (`spec.ingress[0].ports`)."""
        path = ""
        for frame in self.stack:
            if isinstance(frame.value, LinedList):
                path += f"[{len(frame.value)}]"
            elif frame.has_key:
                key = str(frame.key)
                path = f"{path}.{key}" if path else key
        return path

    def _add(self, value: Any, weight: int, line: int, is_merge_key: bool) -> None:
        if not self.stack:
            self.root, self.root_line = value, line
            return
        top = self.stack[-1]
        top.weight += weight
        container = top.value
        if isinstance(container, LinedList):
            container.append(value)
            container.item_lines.append(line)
        elif not top.has_key:
            top.key, top.key_line, top.has_key, top.key_is_merge = value, line, True, is_merge_key
        else:
            top.has_key = False
            if top.key_is_merge:
                top.merges.append((value, line))
            elif top.key in container:
                self.broken = True
                self.sink.error(top.key_line, E_YAML, self._path(),
                                f"duplicate key {top.key!r} (first at line "
                                f"{container.key_line(top.key)})")
            else:
                container[top.key] = value
                container.key_lines[top.key] = top.key_line


def decode(source: Source, sink: Sink) -> str | None:
    """The source as text, or None (and an E-IO error) if it is not UTF-8."""
    data = source.data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        sink.error(line, E_IO, "", f"not UTF-8: invalid byte 0x{data[exc.start]:02x} "
                                   f"at byte offset {exc.start}")
        return None
    return text[1:] if text.startswith("\ufeff") else text


def _error_line(exc: yaml.YAMLError, text: str) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return mark.line + 1
    position = getattr(exc, "position", None)
    if isinstance(position, int):
        if BYTE_POSITIONS:
            return text.encode("utf-8", "replace")[:position].count(b"\n") + 1
        return text.count("\n", 0, position) + 1
    return 0


def _error_text(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [p for p in (exc.context, exc.problem) if p]
        if parts:
            return "; ".join(parts)
    if isinstance(exc, yaml.reader.ReaderError):
        return exc.reason if isinstance(exc.reason, str) else str(exc.reason)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


_SURROGATE_PAIR = re.compile(r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})")


def _join_surrogates(match: re.Match[str]) -> str:
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def read_documents(source: Source, sink: Sink, fast: bool = True) -> list[Document]:
    """The non-empty documents of a source; errors go to `sink`.

    Documents completed before a fatal error are still returned, so that their own
    problems are reported in the same run. `fast` first tries the line-based reader of
    plain block YAML (`block_yaml`), which returns the same documents or declines;
    tests turn it off to compare.
    """
    text = decode(source, sink)
    if text is None:
        return []
    if fast and not source.is_json:
        documents = read_block(text)
        if documents is not None:
            return documents
    if source.is_json:
        # JSON forbids raw tabs inside strings, so every tab is whitespace; YAML would
        # reject tabs used for indentation.
        text = text.replace("\t", " ")
        # JSON writes characters outside the BMP as surrogate-pair escapes, which YAML
        # rejects; join each pair into the character it stands for.
        text = _SURROGATE_PAIR.sub(_join_surrogates, text)
    loader = Loader(text)
    builder = _Builder(sink, source.is_json)
    try:
        feed = builder.feed
        event = loader.get_event()
        while event is not None:
            feed(event)
            event = loader.get_event()
    except _Abort as exc:
        sink.error(exc.line, E_YAML, "", exc.message)
    except yaml.YAMLError as exc:
        sink.error(_error_line(exc, text), E_YAML, "", f"invalid YAML: {_error_text(exc)}")
    except (RecursionError, MemoryError):
        sink.error(0, E_YAML, "", "input too deeply nested or too large to read")
    finally:
        loader.dispose()
    return builder.documents
