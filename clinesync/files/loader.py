"""Reading organization files: YAML to plain data, with the line and column of every key and value.

The loader builds data straight from libyaml's events rather than through PyYAML's constructor, so that:
anchors and aliases are refused before anything is expanded (no alias bombs), duplicate keys are caught
(PyYAML keeps the last silently), custom tags never construct objects, and nesting depth is bounded
without recursion. Mapping keys are always their text: `on:` stays "on", never True. Plain scalars are
resolved by YAML 1.2's core schema, as editors (yaml-language-server) read them, not by PyYAML's YAML 1.1 rules.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import yaml

from clinesync.fields import Path, dotted, value_at, walk
from clinesync.files.problems import Problem
from clinesync.files.suppressions import Suppression, scan
from clinesync.records import evolve, field, record
from clinesync.yaml12 import CONSTRUCT, CORE, CORE_STR, MAYBE_NOT_TEXT, core_tag

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
_FIRST_READ = 64 * 1024

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALAR_TAGS = {CORE + name for name in ("str", "int", "float", "bool", "null")}
_COLLECTION_TAGS = {CORE + "map", CORE + "seq"}


class Mark(NamedTuple):
    line: int
    column: int
    file: str | None = None  # set where the value was inherited from a base (`extends`): that base's path


class YamlMark(Protocol):
    """Where libyaml saw a node, counted from 0. The loader keeps these as they come (making a `Mark` for every
    node of every file would be a fifth of loading), and `as_mark` turns one into a `Mark` when it is used."""

    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...


def as_mark(mark: Mark | YamlMark) -> Mark:
    return mark if isinstance(mark, Mark) else Mark(mark.line + 1, mark.column + 1)


class _LinesByLF:
    """Marks in lines as git, GitHub's annotations and editors count them, for a text where libyaml counts
    others: it ends a line at a lone CR, NEL, LS and PS too (YAML 1.1's line breaks), so `organization: x`
    after a NEL was reported a line further than the line a reviewer sees. Such texts are rare: their marks
    are turned into `Mark`s from each mark's offset, all of them, once loaded."""

    def __init__(self, text: str) -> None:
        self.text = text

    @staticmethod
    def needed(text: str) -> bool:
        # `in` rather than one pattern: for a text of ASCII, Python answers at once (0.1 against 9 us).
        if "\x85" in text or "\u2028" in text or "\u2029" in text:
            return True
        return "\r" in text and text.count("\r") != text.count("\r\n")

    def mark(self, mark: Mark | YamlMark) -> Mark:
        if isinstance(mark, Mark):
            return mark
        index: int = mark.index  # type: ignore[attr-defined]  # libyaml's marks have it: a character offset
        line_start = self.text.rfind("\n", 0, index) + 1
        return Mark(self.text.count("\n", 0, index) + 1, index - line_start + 1)

    def remark(self, loaded: LoadedFile) -> None:
        """Every mark the loader kept, in lines by LF."""
        for marks in (loaded.values, loaded.keys):
            for path, mark in marks.items():
                marks[path] = self.mark(mark)


@record(frozen=True)
class LoadedFile:
    """One file's data and where each part of it stands. `data` is None when the file could not be read.
    Built once by its stage (the loader, a variable substitution, a merge over bases); the next returns a new
    one. Only `walked`, the nodes' cache, is filled in later, once."""

    path: str
    data: Any = None
    problems: list[Problem] = field(default_factory=list)
    values: dict[Path, Mark | YamlMark] = field(default_factory=dict)
    keys: dict[Path, Mark | YamlMark] = field(default_factory=dict)
    # The source text of plain scalars that YAML turned into something other than a string.
    converted: dict[Path, str] = field(default_factory=dict)
    # A resolved view (`resolved_view`) holds values from `${env:...}`; `references` maps each such path to
    # the text as written, so that problems name the reference, never the value.
    resolved: bool = False
    references: dict[Path, str] = field(default_factory=dict)
    # `# clinesync: ignore[...]` comments, of this file and of the bases merged into it
    suppressions: list[Suppression] = field(default_factory=list)
    mentions_variables: bool = False  # the text holds `${var:`: only then are variables looked for
    walked: list[tuple[Path, Any]] | None = field(default=None, repr=False, compare=False)  # see `nodes`

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

    def resolved_view(self, data: Any, references: dict[Path, str], changed: list[Path]) -> LoadedFile:
        """The same file with `data` in place of what was written, for the checks of resolved values. Its
        nodes are the `changed` values and the nodes that hold them: every other node is as written, and was
        checked so (a check that reads `data` whole finds only what it found before)."""
        holding = {path[:end] for path in changed for end in range(len(path) + 1)}
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
            walked=[(path, value_at(data, path)) for path, _ in self.nodes if path in holding],
        )

    def value_mark(self, path: Path) -> Mark:
        """Where the value at `path` starts, or its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            mark = self.values.get(path[:end])
            if mark is not None:
                return as_mark(mark)
        return Mark(1, 1)

    @property
    def nodes(self) -> list[tuple[Path, Any]]:
        """Every node of the data with its path, walked once and shared by every check (the loader hands over
        the nodes it made)."""
        if self.walked is None:
            object.__setattr__(self, "walked", list(walk(self.data)))  # a cache of what `data` holds
        assert self.walked is not None
        return self.walked

    @property
    def strings(self) -> list[tuple[Path, str]]:
        """The text nodes of `nodes`, listed once for every check that reads text (not a field: a new stage's
        file, with other nodes, lists its own)."""
        nodes = self.nodes
        cached = self.__dict__.get("_strings")
        if cached is None or cached[0] is not nodes:
            cached = (nodes, [(path, value) for path, value in nodes if type(value) is str])
            object.__setattr__(self, "_strings", cached)
        return cached[1]

    def key_mark(self, path: Path) -> Mark:
        mark = self.keys.get(path)
        return self.value_mark(path) if mark is None else as_mark(mark)

    def problem(self, rule: str, mark: Mark, message: str) -> Problem:
        return Problem.of(rule, mark.file or self.path, mark.line, mark.column, message)


class _Refused(Exception):
    def __init__(self, mark: Mark, message: str) -> None:
        super().__init__(message)
        self.mark = mark


_SCALAR = yaml.ScalarEvent
_MAPPING_START, _MAPPING_END = yaml.MappingStartEvent, yaml.MappingEndEvent
_SEQUENCE_START, _SEQUENCE_END = yaml.SequenceStartEvent, yaml.SequenceEndEvent


def load_file(path: str | os.PathLike[str]) -> LoadedFile:
    name = os.fspath(path)
    try:
        with open(name, "rb") as stream:
            # Asking for MAX_BYTES + 1 at once allocates (and faults in) a 1 MiB buffer per file: read what
            # an organization file usually is, and only a large one on to the limit.
            raw = stream.read(_FIRST_READ)
            if len(raw) == _FIRST_READ:
                raw += stream.read(MAX_BYTES + 1 - _FIRST_READ)
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
    loaded = LoadedFile(name, suppressions=scan(text, name), mentions_variables="${var:" in text)
    lines = _LinesByLF(text) if _LinesByLF.needed(text) else None
    composer = _Composer(loaded, lines.mark if lines else as_mark)
    try:
        data, nodes = composer.compose(text)
    except _Refused as refusal:
        return _refused(loaded, refusal.mark, str(refusal))
    except yaml.MarkedYAMLError as error:
        mark = composer.mark(error.problem_mark) if error.problem_mark else Mark(1, 1)
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
    if lines is not None:
        lines.remark(loaded)
    return evolve(loaded, data=data, walked=nodes)


def _refused(loaded: LoadedFile, mark: Mark, message: str) -> LoadedFile:
    return evolve(loaded, data=None, problems=[*loaded.problems, loaded.problem("CS103", mark, message)])


class _Composer:
    """Turns libyaml events into dicts, lists and scalars, recording marks in the LoadedFile."""

    def __init__(self, loaded: LoadedFile, mark: Callable[[Mark | YamlMark], Mark]) -> None:
        self.loaded = loaded
        self.mark = mark  # a libyaml mark as a `Mark`

    def compose(self, text: str) -> tuple[Any, list[tuple[Path, Any]] | None]:
        """The document's data, and its nodes in document order (None where a repeated key left a stale
        one: the checks walk the data instead)."""
        loader = _Loader(text)
        try:
            loader.get_event()  # stream start
            if loader.check_event(yaml.StreamEndEvent):
                raise _Refused(Mark(1, 1), "the file has no YAML document")
            loader.get_event()  # document start
            composed = self._document(loader)
            loader.get_event()  # document end
            if not loader.check_event(yaml.StreamEndEvent):
                extra = loader.peek_event()
                raise _Refused(
                    self.mark(extra.start_mark), "the file holds more than one YAML document: keep one"
                )
            return composed
        finally:
            loader.dispose()

    def _document(self, loader: Any) -> tuple[Any, list[tuple[Path, Any]] | None]:
        first = loader.peek_event()
        if not isinstance(first, yaml.MappingStartEvent):
            what = "a list" if isinstance(first, yaml.SequenceStartEvent) else "a single value"
            raise _Refused(self.mark(first.start_mark), f"the document is {what}, not a mapping of settings")
        # One loop over every event of the file, with the names it uses held locally: it is half the cost of
        # checking a file. Marks are kept as libyaml made them and become `Mark`s when asked for.
        loaded = self.loaded
        values = loaded.values
        keys = loaded.keys
        nodes: list[tuple[Path, Any]] = []  # every node in document order: the checks' walk, for free
        append = nodes.append
        get_event = loader.get_event
        # Each frame: [container, path, pending key's path or None].
        stack: list[list[Any]] = []
        root: Any = None
        while True:
            event = get_event()
            kind = type(event)
            if kind is _MAPPING_END or kind is _SEQUENCE_END:
                stack.pop()
                if stack:
                    continue
                repeated = any(problem.rule == "CS102" for problem in loaded.problems)
                return root, None if repeated else nodes
            if stack:
                frame = stack[-1]
                container = frame[0]
                if type(container) is dict:
                    path = frame[2]
                    if path is None:
                        # the usual key, plain text met once, checked here; anything else by _key
                        if (
                            kind is _SCALAR
                            and event.anchor is None
                            and event.tag is None
                            and (key := event.value) not in container
                            and (key != "<<" or event.style)
                        ):
                            path = (*frame[1], key)
                            keys[path] = event.start_mark
                            frame[2] = path
                        else:
                            frame[2] = (*frame[1], self._key(event, container, frame[1]))
                        continue
                    frame[2] = None
                else:
                    path = (*frame[1], len(container))
            else:
                container, path = None, ()
            values[path] = event.start_mark
            if kind is _SCALAR:
                tag = event.tag
                if event.anchor is not None or (tag is not None and tag != "!"):
                    self._refuse_anchor_or_tag(event, _SCALAR_TAGS)
                value = event.value
                if not event.style and (tag is not None or not value or value[0] in MAYBE_NOT_TEXT):
                    value = self._plain(event, path)
            elif kind is _MAPPING_START or kind is _SEQUENCE_START:
                self._refuse_anchor_or_tag(event, _COLLECTION_TAGS)
                value = {} if kind is _MAPPING_START else []
                if len(stack) >= MAX_DEPTH:
                    raise _Refused(self.mark(event.start_mark), f"nesting deeper than {MAX_DEPTH} levels")
                stack.append([value, path, None])
            else:
                raise _Refused(
                    self.mark(event.start_mark),
                    f"alias '*{event.anchor}': anchors and aliases are not supported, write the value out",
                )
            append((path, value))
            if container is None:
                root = value
            elif type(container) is dict:
                container[path[-1]] = value
            else:
                container.append(value)

    def _key(self, event: Any, container: dict[str, Any], path: Path) -> str:
        start = event.start_mark
        if type(event) is not _SCALAR:
            raise _Refused(self.mark(start), "a mapping key must be plain text, not a list, mapping or alias")
        self._refuse_anchor_or_tag(event, _SCALAR_TAGS)
        key: str = event.value
        if key == "<<" and not event.style:
            raise _Refused(
                self.mark(start), "YAML merge keys ('<<') are not supported: write the settings out"
            )
        if key in container:
            first = self.mark(self.loaded.keys[path + (key,)])
            self.loaded.problems.append(
                self.loaded.problem(
                    "CS102",
                    self.mark(start),
                    f"duplicate key '{key}' in {dotted(path)} (first at line {first.line}): "
                    "YAML would silently keep only the last one",
                )
            )
            return key
        self.loaded.keys[path + (key,)] = start
        return key

    def _plain(self, event: Any, path: Path) -> Any:
        """A plain (unquoted) scalar: text, or what YAML 1.2's core schema makes of it."""
        text: str = event.value
        if event.tag == "!":
            return text  # `! value`: explicitly text
        tag = event.tag or core_tag(text)
        if tag == CORE_STR:
            return text
        try:
            value = CONSTRUCT[tag](text)
        except (KeyError, ValueError):
            return text  # `!!int abc` is not a number: it stays the text written
        if event.tag is None:
            self.loaded.converted[path] = text
        return value

    def _refuse_anchor_or_tag(self, event: Any, allowed_tags: set[str]) -> None:
        if event.anchor is None and (event.tag is None or event.tag == "!" or event.tag in allowed_tags):
            return
        mark = self.mark(event.start_mark)
        if event.anchor is not None:
            raise _Refused(
                mark, f"anchor '&{event.anchor}': anchors and aliases are not supported, write the value out"
            )
        raise _Refused(mark, f"tag '{event.tag}' is not supported: remove it")
