"""`pull`: live values that differ from the files, written back into the files that set them (SPEC §3).

Each difference goes where its value was set: into the organization's file, or into the base that set it when
every organization the edit would reach through that base (mappings merge deeply: every one extending it that
does not set that very path itself) has the same live value, and every one of them was read. A secret is never
written: a value the file takes from `${env:...}` or `${var:...}`, or live text export would make a reference
(credentials, headers not listed as public, a URL's userinfo and query), is reported, not written. This module
decides; the command reads the console, writes the files (`files/edits.py`) and checks that they then say what
live holds.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any

from clinesync.diff import diff
from clinesync.fields import MISSING, Item, Path, dotted, find, identified_paths, value_at, walk
from clinesync.files import envref
from clinesync.files.desired import Desired
from clinesync.files.edits import DELETE, Edit
from clinesync.files.loader import LoadedFile, as_mark
from clinesync.records import field, record


@record(frozen=True)
class Member:
    """An organization file of the fleet: merged over its bases, and the real paths of every base it extends
    (None when it could not be read: it may extend any)."""

    loaded: LoadedFile | None
    bases: frozenset[str] | None


@record(frozen=True)
class Source(Member):
    """An organization to pull: what it resolves to, and what the console holds (None: nothing yet)."""

    desired: Desired | None = None
    live: dict[str, Any] | None = None
    inherited: Any = None  # what its bases add up to (their data merged), None without bases

    @functools.cached_property
    def unknown(self) -> tuple[Path, ...]:
        """Live fields the schema does not describe: kept by apply, so not drift, and not written."""
        from clinesync.plans.unknown import unknown_fields

        return tuple(unknown_fields(self.live)) if self.live is not None else ()


@record(frozen=True)
class Pulled:
    op: str  # as the diff's: add, remove, change (live against the files)
    path: Path
    file: str | None  # the file written; None when the value is not written
    why: str = ""  # for a base: why there; for a value not written: why not


@record
class OrgPull:
    organization: str
    file: str
    pulled: list[Pulled] = field(default_factory=list)
    error: str | None = None

    @property
    def written(self) -> list[Pulled]:
        return [entry for entry in self.pulled if entry.file is not None]


@record
class Pull:
    organizations: list[OrgPull]
    edits: dict[str, list[Edit]]  # file -> its edits, in order

    @property
    def differs(self) -> bool:
        """Whether live differs from the files: a value, or an organization the console does not hold."""
        return any(org.pulled or org.error for org in self.organizations)


@record(frozen=True)
class Fleet:
    """What a pull decides over: the organizations pulled, the fleet's other files, what each base's own
    bases set (real path -> merged data, for removals), and the files as written (path -> loaded, unmerged)."""

    sources: Sequence[Source]
    others: Sequence[Member] = ()
    inherited_by_base: dict[str, Any] = field(default_factory=dict)
    as_written: Callable[[str], LoadedFile | None] = lambda _: None
    into_bases: bool = True  # False: every edit goes into the organization's own file
    writable: Callable[[str], bool] = lambda _: True  # a base this repository holds: one outside it is shared
    # organization -> why its edits are left to a person (the files cannot say them without a hand edit)
    by_hand: dict[str, str] = field(default_factory=dict)


def pull(fleet: Fleet) -> Pull:
    result = Pull([], {})
    for source in fleet.sources:
        desired = source.desired
        assert desired is not None and source.loaded is not None  # only resolved files are pulled
        org = OrgPull(desired.organization, desired.file)
        result.organizations.append(org)
        if source.live is None:
            org.error = "not in the console: nothing to pull"
            continue
        for change in diff(desired.document.tree(), source.live):
            if _under(change.path, desired.unmanaged) or _under(change.path, source.unknown):
                continue
            value = MISSING if change.op == "remove" else _as_written(change.after)
            why = fleet.by_hand.get(desired.organization) or _not_written(fleet, source, change.path, value)
            if why:
                org.pulled.append(Pulled(change.op, change.path, None, why))
                continue
            file, why = _place(fleet, source, change.path, value, result.edits)
            org.pulled.append(Pulled(change.op, change.path, file, why))
    return result


def _place(
    fleet: Fleet, source: Source, path: Path, value: Any, edits: dict[str, list[Edit]]
) -> tuple[str, str]:
    """The file the live value goes into, and why there."""
    assert source.desired is not None and source.loaded is not None
    owner = _owner(source.loaded, path)
    if (
        owner is not None
        and fleet.into_bases
        and fleet.writable(owner)
        and _agreed(fleet, owner, path, value, source.loaded.data)
    ):
        inherited = find(fleet.inherited_by_base.get(os.path.realpath(owner)), path) is not MISSING
        _add(edits, owner, Edit(path, _removal(path, inherited) if value is MISSING else value))
        return owner, "every organization that takes it from this base has this value"
    inherited = source.inherited is not None and find(source.inherited, path) is not MISSING
    _add(edits, source.desired.file, Edit(path, _removal(path, inherited) if value is MISSING else value))
    if owner is None:
        return source.desired.file, ""
    if not fleet.writable(owner):
        return source.desired.file, "an override: its base is outside this repository"
    if not fleet.into_bases:
        return source.desired.file, "an override: this pull leaves bases as they are"
    return source.desired.file, "an override of its base, which others keep"


def _not_written(fleet: Fleet, source: Source, path: Path, value: Any) -> str:
    """Why a live value may not go into git, or ''."""
    if value is MISSING:
        return ""  # removing a key writes no value
    assert source.desired is not None and source.loaded is not None
    written = _written_text(fleet, source.loaded, path)
    references = written.replace("$${", "") if written is not None else ""  # a literal `$${` is no reference
    if "${env:" in references or "${var:" in references:
        what = "the environment (a secret)" if "${env:" in references else "a variable"
        return f"set from {what}, {written}: change it there, or apply to undo the console's edit"
    from clinesync.plans.export import holds_secret

    public = source.desired.public_headers
    for here, text in _identified_nodes(value, path):
        if here in source.desired.sensitive or holds_secret(here, text, public):
            return f"a secret by its place ({dotted(here)}): never written into git; write it as ${{env:...}}"
    return ""


def _identified_nodes(value: Any, path: Path) -> list[tuple[Path, Any]]:
    """Every node of `value` (at `path`) with the path plans name it by (list items by identity)."""
    named = identified_paths(value)
    return [(path + named[here], node) for here, node in walk(value)]


def _written_text(fleet: Fleet, loaded: LoadedFile, path: Path) -> str | None:
    """The text the file that set `path` holds there, before any reference was replaced; None when no file
    sets exactly that path."""
    positional = _positional(loaded.data, path)
    mark = loaded.values.get(positional) if len(positional) == len(path) else None
    if mark is None:
        return None
    located = as_mark(mark)
    raw = fleet.as_written(located.file or loaded.path)
    if raw is None:
        return None
    for here, found in raw.values.items():
        if as_mark(found)[:2] == located[:2]:
            text = value_at(raw.data, here)
            return text if isinstance(text, str) else None
    return None


def _owner(loaded: LoadedFile, path: Path) -> str | None:
    """The base that set the value at `path` (or its nearest ancestor that is set), or None: the file's own."""
    positional = _positional(loaded.data, path)
    return loaded.value_mark(positional).file if positional else None


def _overrides(loaded: LoadedFile, path: Path, base: str, held: Any = None) -> bool:
    """Whether the file sets `path` itself (or through another base), or removed the list item it is in that
    the organization edited holds from `base` (its merged data: `held`; `$patch: delete`), so an edit of
    `base` there misses it."""
    positional = _positional(loaded.data, path)
    if len(positional) != len(path):
        item = path[: len(positional) + 1]
        # An item no one holds yet (added in the console) is reached like any other new value.
        return isinstance(item[-1], Item) and find(held, item) is not MISSING
    owner = loaded.value_mark(positional).file
    return owner is None or os.path.realpath(owner) != os.path.realpath(base)


def _positional(data: Any, path: Path) -> Path:
    """As much of `path` as `data` holds, with identity items as list indexes (how marks are kept)."""
    found: list[str | int | Item] = []
    node = data
    for part in path:
        if isinstance(part, Item):
            if not isinstance(node, list):
                break
            index = next(
                (
                    at
                    for at, item in enumerate(node)
                    if isinstance(item, dict) and item.get(part.key) == part.value
                ),
                None,
            )
            if index is None:
                break
            found.append(index)
            node = node[index]
        elif isinstance(node, dict) and part in node:
            found.append(part)
            node = node[part]
        else:
            break
    return tuple(found)


def _agreed(fleet: Fleet, base: str, path: Path, value: Any, held: Any) -> bool:
    """Whether every organization an edit of `base` at `path` reaches was read and has `value` live; `held` is
    the merged data of the organization whose live value it is."""
    real = os.path.realpath(base)

    def reached(member: Member) -> bool:
        if member.bases is None or member.loaded is None:
            return True  # not readable: it may extend the base, and nobody knows its live value
        return real in member.bases and not _overrides(member.loaded, path, base, held)

    if any(reached(other) for other in fleet.others):
        return False
    return all(
        source.live is not None and _same(_as_written(find(source.live, path)), value)
        for source in fleet.sources
        if reached(source)
    )


def _same(left: Any, right: Any) -> bool:
    return left is right if MISSING in (left, right) else bool(left == right)


def _removal(path: Path, inherited: bool) -> Any:
    """How a file removes a key: deleted, or, where its bases set it, null (an inherited item: `$patch:
    delete`)."""
    if not inherited:
        return DELETE
    last = path[-1]
    return {last.key: last.value, "$patch": "delete"} if isinstance(last, Item) else None


def _add(edits: dict[str, list[Edit]], file: str, edit: Edit) -> None:
    planned = edits.setdefault(file, [])
    if edit not in planned:
        planned.append(edit)


def _as_written(value: Any) -> Any:
    """A live value as a file writes it, to read back as itself: a literal `${` (an MCP server's
    `${env:...}`, which members' Cline expands) escaped as `$${`."""
    if value is MISSING:
        return value
    if isinstance(value, str):
        return envref.escape(value)
    if isinstance(value, dict):
        return {key: _as_written(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_as_written(child) for child in value]
    return value


def _under(path: Path, prefixes: Sequence[Path]) -> bool:
    return any(path[: len(prefix)] == prefix for prefix in prefixes)
