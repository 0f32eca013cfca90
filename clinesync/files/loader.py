"""Reading organization files: YAML to plain data, with the line and column of every key and value.

The loader builds data straight from libyaml's events rather than through PyYAML's constructor, so that:
anchors and aliases are refused before anything is expanded (no alias bombs), duplicate keys are caught
(PyYAML keeps the last silently), custom tags never construct objects, and nesting depth is bounded
without recursion. Mapping keys are always their text: `on:` stays "on", never True. Plain scalars are
resolved by YAML 1.2's core schema, as editors (yaml-language-server) read them, not by PyYAML's YAML 1.1 rules.
"""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from clinesync.fields import Path, dotted, walk
from clinesync.files.problems import Problem
from clinesync.files.suppressions import Suppression, scan

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_CORE + name for name in ("str", "int", "float", "bool", "null")}
_COLLECTION_TAGS = {_CORE + "map", _CORE + "seq"}


class Mark(NamedTuple):
    line: int
    column: int
    file: str | None = None  # set where the value was inherited from a base (`extends`): that base's path


@dataclass
class LoadedFile:
    """One file's data and where each part of it stands. `data` is None when the file could not be read."""

    path: str
    data: Any = None
    problems: list[Problem] = field(default_factory=list)
    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)
    # The source text of plain scalars that YAML turned into something other than a string.
    converted: dict[Path, str] = field(default_factory=dict)
    # A resolved view (`resolved_view`) holds values from `${env:...}`; `references` maps each such path to
    # the text as written, so that problems name the reference, never the value.
    resolved: bool = False
    references: dict[Path, str] = field(default_factory=dict)
    # `# clinesync: ignore[...]` comments, of this file and of the bases merged into it
    suppressions: list[Suppression] = field(default_factory=list)
    mentions_variables: bool = False  # the text holds `${var:`: only then are variables looked for

    def deferred(self, value: Any) -> bool:
        """True for text whose references are not resolved yet: its checks wait for the resolved view."""
        return not self.resolved and isinstance(value, str) and "${" in value

    def shown(self, path: Path, text: str) -> str:
        """`text` (a value, or part of one) as a problem may show it, or the reference it came from."""
        written = self.references.get(path)
        if written is None:
            return text
        whole = written.startswith("${") and written.find("}") == len(written) - 1
        return f"the value of {written}" if whole else f"the value of {written!r}"

    def resolved_view(self, data: Any, references: dict[Path, str]) -> LoadedFile:
        """The same file with `data` in place of what was written, for the checks of resolved values."""
        return LoadedFile(
            self.path,
            data,
            [],
            self.values,
            self.keys,
            self.converted,
            resolved=True,
            references=references,
            suppressions=self.suppressions,
        )

    def value_mark(self, path: Path) -> Mark:
        """Where the value at `path` starts, or its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            mark = self.values.get(path[:end])
            if mark:
                return mark
        return Mark(1, 1)

    @functools.cached_property
    def nodes(self) -> list[tuple[Path, Any]]:
        """Every node of the data with its path, walked once and shared by every check."""
        return list(walk(self.data))

    def key_mark(self, path: Path) -> Mark:
        return self.keys.get(path) or self.value_mark(path)

    def problem(self, rule: str, mark: Mark, message: str) -> Problem:
        return Problem.of(rule, mark.file or self.path, mark.line, mark.column, message)


class _Refused(Exception):
    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark


def _mark(yaml_mark: Any) -> Mark:
    return Mark(yaml_mark.line + 1, yaml_mark.column + 1)


def load_file(path: str | os.PathLike[str]) -> LoadedFile:
    name = os.fspath(path)
    try:
        with open(name, "rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as error:
        return _refused(LoadedFile(name), Mark(1, 1), f"cannot read the file: {error.strerror}")
    return load_bytes(raw, name)


def load_bytes(raw: bytes, name: str) -> LoadedFile:
    loaded = LoadedFile(name)
    if len(raw) > MAX_BYTES:
        return _refused(loaded, Mark(1, 1), "the file is over 1 MiB; an organization file is far smaller")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        mark = Mark(before.count(b"\n") + 1, error.start - (before.rfind(b"\n") + 1) + 1)
        return _refused(
            loaded, mark, f"the file is not UTF-8 (byte 0x{raw[error.start]:02x}): save it as UTF-8"
        )
    if not text.strip():
        return _refused(loaded, Mark(1, 1), "the file is empty: an organization file is one YAML mapping")
    loaded.suppressions = scan(text, name)
    loaded.mentions_variables = "${var:" in text
    try:
        loaded.data = _Composer(loaded).compose(text)
    except _Refused as refusal:
        return _refused(loaded, refusal.mark, str(refusal))
    except yaml.MarkedYAMLError as error:
        mark = _mark(error.problem_mark) if error.problem_mark else Mark(1, 1)
        return _refused(loaded, mark, f"invalid YAML: {error.problem}")
    except yaml.reader.ReaderError as error:
        read = text[: error.position]
        mark = Mark(read.count("\n") + 1, error.position - (read.rfind("\n") + 1) + 1)
        return _refused(
            loaded,
            mark,
            f"invalid YAML: character U+{error.character:04X} is not allowed "
            "(control characters and NUL are not text)",
        )
    except yaml.YAMLError as error:
        return _refused(loaded, Mark(1, 1), f"invalid YAML: {error}")
    return loaded


def _refused(loaded: LoadedFile, mark: Mark, message: str) -> LoadedFile:
    loaded.data = None
    loaded.problems.append(loaded.problem("CS103", mark, message))
    return loaded


class _Composer:
    """Turns libyaml events into dicts, lists and scalars, recording marks in the LoadedFile."""

    def __init__(self, loaded: LoadedFile) -> None:
        self.loaded = loaded

    def compose(self, text: str) -> Any:
        loader = _Loader(text)
        try:
            loader.get_event()  # stream start
            if loader.check_event(yaml.StreamEndEvent):
                raise _Refused(Mark(1, 1), "the file has no YAML document")
            loader.get_event()  # document start
            data = self._document(loader)
            loader.get_event()  # document end
            if not loader.check_event(yaml.StreamEndEvent):
                extra = loader.peek_event()
                raise _Refused(
                    _mark(extra.start_mark), "the file holds more than one YAML document: keep one"
                )
            return data
        finally:
            loader.dispose()

    def _document(self, loader: Any) -> Any:
        first = loader.peek_event()
        if not isinstance(first, yaml.MappingStartEvent):
            kind = "a list" if isinstance(first, yaml.SequenceStartEvent) else "a single value"
            raise _Refused(_mark(first.start_mark), f"the document is {kind}, not a mapping of settings")
        # Each frame: [container, path, pending key or None].
        stack: list[list[Any]] = []
        root: Any = None
        while True:
            event = loader.get_event()
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                if not stack:
                    return root
                continue
            frame = stack[-1] if stack else None
            if frame is not None and isinstance(frame[0], dict) and frame[2] is None:
                frame[2] = self._key(event, frame)
                continue
            path = self._child_path(frame)
            value = self._node(event, path)
            if frame is None:
                root = value
            elif isinstance(frame[0], dict):
                frame[0][frame[2]] = value
                frame[2] = None
            else:
                frame[0].append(value)
            if isinstance(value, (dict, list)):
                if len(stack) >= MAX_DEPTH:
                    raise _Refused(_mark(event.start_mark), f"nesting deeper than {MAX_DEPTH} levels")
                stack.append([value, path, None])

    @staticmethod
    def _child_path(frame: list[Any] | None) -> Path:
        if frame is None:
            return ()
        container, path, key = frame
        return (*path, key if isinstance(container, dict) else len(container))

    def _key(self, event: Any, frame: list[Any]) -> str:
        mark = _mark(event.start_mark)
        if not isinstance(event, yaml.ScalarEvent):
            raise _Refused(mark, "a mapping key must be plain text, not a list, mapping or alias")
        self._refuse_anchor_or_tag(event, _SCALAR_TAGS)
        key = event.value
        if key == "<<" and not event.style:
            raise _Refused(mark, "YAML merge keys ('<<') are not supported: write the settings out")
        container, path, _ = frame
        if key in container:
            first = self.loaded.keys[path + (key,)]
            self.loaded.problems.append(
                self.loaded.problem(
                    "CS102",
                    mark,
                    f"duplicate key '{key}' in {dotted(path)} (first at line {first.line}): "
                    "YAML would silently keep only the last one",
                )
            )
            return key
        self.loaded.keys[path + (key,)] = mark
        return key

    def _node(self, event: Any, path: Path) -> Any:
        mark = _mark(event.start_mark)
        self.loaded.values[path] = mark
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                mark, f"alias '*{event.anchor}': anchors and aliases are not supported, write the value out"
            )
        if isinstance(event, yaml.MappingStartEvent):
            self._refuse_anchor_or_tag(event, _COLLECTION_TAGS)
            return {}
        if isinstance(event, yaml.SequenceStartEvent):
            self._refuse_anchor_or_tag(event, _COLLECTION_TAGS)
            return []
        self._refuse_anchor_or_tag(event, _SCALAR_TAGS)
        return self._scalar(event, path)

    def _scalar(self, event: Any, path: Path) -> Any:
        if event.style or event.tag == "!":
            return event.value  # quoted or block text is always a string
        tag = event.tag or core_tag(event.value)
        if tag == CORE_STR:
            return event.value
        try:
            value = _CONSTRUCT[tag](event.value)
        except (KeyError, ValueError):
            return event.value  # `!!int abc` is not a number: it stays the text written
        if event.tag is None:
            self.loaded.converted[path] = event.value
        return value

    @staticmethod
    def _refuse_anchor_or_tag(event: Any, allowed_tags: set[str]) -> None:
        if event.anchor is None and (event.tag is None or event.tag == "!" or event.tag in allowed_tags):
            return  # every node of a file passes here: the usual case costs two tests
        mark = _mark(event.start_mark)
        if event.anchor is not None:
            raise _Refused(
                mark, f"anchor '&{event.anchor}': anchors and aliases are not supported, write the value out"
            )
        raise _Refused(mark, f"tag '{event.tag}' is not supported: remove it")


# YAML 1.2's core schema (what yaml-language-server reads): only these plain scalars are not text, so
# `2024-06-01`, `no`, `on` and `1:30` stay the strings they look like.
_NULL = re.compile(r"(?:null|Null|NULL|~|)\Z")
_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_INT = re.compile(r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_FLOAT = re.compile(
    r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
)


CORE_STR = _CORE + "str"
_MAYBE_NOT_TEXT = frozenset("-+.0123456789nNtTfF~")  # how a null, boolean or number can begin


def core_tag(text: str) -> str:
    """The tag YAML 1.2's core schema gives a plain scalar."""
    if text and text[0] not in _MAYBE_NOT_TEXT:
        return CORE_STR  # most values (URLs, names, ids) are decided by their first character
    for pattern, name in ((_NULL, "null"), (_BOOL, "bool"), (_INT, "int"), (_FLOAT, "float")):
        if pattern.match(text):
            return _CORE + name
    return CORE_STR


def _int(text: str) -> int:
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text)


def _float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float(lowered.replace(".inf", "inf"))
    if lowered == ".nan":
        return math.nan
    return float(text)


_CONSTRUCT = {
    _CORE + "null": lambda text: None if _NULL.match(text) else _not(text),
    _CORE + "bool": lambda text: text.lower() == "true" if _BOOL.match(text) else _not(text),
    _CORE + "int": _int,
    _CORE + "float": _float,
}


def _not(text: str) -> Any:
    raise ValueError(text)
