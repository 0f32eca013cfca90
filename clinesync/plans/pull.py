"""`pull`: live values that differ from the files, written back into the files that set them (SPEC §3).

Each difference goes where its value was set: into the organization's file, or into the base that set it when
every organization that takes the value from that base has the same live value (any other organization
extending it keeps the base's value through an override in its own file). A secret is never written: a value
the file takes from `${env:...}` or a variable, or a credential by its name, is reported, not written. This
module decides; the command reads the console and writes the files (`files/edits.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from clinesync.diff import diff
from clinesync.fields import MISSING, Item, Path, dotted, find, is_sensitive_path, walk
from clinesync.files import envref
from clinesync.files.desired import Desired
from clinesync.files.edits import DELETE, Edit
from clinesync.files.loader import LoadedFile


@dataclass(frozen=True)
class Source:
    """One organization to pull: its file merged over its bases (references as written), what it resolves
    to, and what the console holds (None: nothing yet)."""

    loaded: LoadedFile
    desired: Desired
    live: dict[str, Any] | None
    inherited: Any = None  # what its bases add up to (their data merged), None without bases

    @functools.cached_property
    def unknown(self) -> tuple[Path, ...]:
        """Live fields the schema does not describe."""
        from clinesync.plans.unknown import unknown_fields

        return tuple(unknown_fields(self.live)) if self.live is not None else ()


@dataclass(frozen=True)
class Pulled:
    op: str  # as the diff's: add, remove, change (live against the files)
    path: Path
    file: str | None  # the file written; None when the value is not written
    why: str = ""  # for a base: why there; for a value not written: why not


@dataclass
class OrgPull:
    organization: str
    file: str
    pulled: list[Pulled] = field(default_factory=list)
    error: str | None = None

    @property
    def written(self) -> list[Pulled]:
        return [entry for entry in self.pulled if entry.file is not None]


@dataclass
class Pull:
    organizations: list[OrgPull]
    edits: dict[str, list[Edit]]  # file -> its edits, in order

    @property
    def differs(self) -> bool:
        return any(org.pulled for org in self.organizations)


def pull(sources: Sequence[Source], others: Sequence[LoadedFile] = ()) -> Pull:
    """What to write where. `others` are organization files not pulled: a base any of them takes a value from
    is not written at that value's path (their live values are not read)."""
    result = Pull([], {})
    for source in sources:
        desired = source.desired
        org = OrgPull(desired.organization, desired.file)
        result.organizations.append(org)
        if source.live is None:
            org.error = "not in the console: nothing to pull"
            continue
        for change in diff(desired.document.tree(), source.live):
            if _under(change.path, desired.unmanaged):
                continue
            value = MISSING if change.op == "remove" else _as_written(change.after)
            file, why = _place(source, change.path, value, sources, others, result.edits)
            org.pulled.append(Pulled(change.op, change.path, file, why))
    return result


def _place(
    source: Source,
    path: Path,
    value: Any,
    sources: Sequence[Source],
    others: Sequence[LoadedFile],
    edits: dict[str, list[Edit]],
) -> tuple[str | None, str]:
    """The file the live value goes into (None: not written), and why there, or why not."""
    desired, loaded = source.desired, source.loaded
    refused = _not_written(source, path, value)
    if refused:
        return None, refused
    owner = _owner(loaded, path)
    if owner is not None and _agreed(owner, path, value, sources, others):
        _add(edits, owner, Edit(path, _removal(path, inherited=False) if value is MISSING else value))
        return owner, "every organization that takes it from this base has this value"
    inherited = source.inherited is not None and find(source.inherited, path) is not MISSING
    _add(edits, desired.file, Edit(path, _removal(path, inherited) if value is MISSING else value))
    return desired.file, "an override of its base, which others keep" if owner is not None else ""


def _not_written(source: Source, path: Path, value: Any) -> str:
    """Why a live value may not go into git, or ''."""
    desired = source.desired
    if value is MISSING:
        return ""  # removing a key writes no value
    written = find(source.loaded.data, path)
    if isinstance(written, str) and "${" in written and "$${" not in written:
        what = "the environment (a secret)" if "${env:" in written else "a variable"
        return f"set from {what}, {written}: change it there, or apply to undo the console's edit"
    if _under(path, source.unknown):
        return "not known to this version of clinesync: the schema would refuse it"
    sensitive = [
        here for here, _ in walk(value, path) if is_sensitive_path(here) or here in desired.sensitive
    ]
    if sensitive:
        return f"a credential ({dotted(sensitive[0])}): never written into git; set it through ${{env:...}}"
    return ""


def _owner(loaded: LoadedFile, path: Path) -> str | None:
    """The base that set the value at `path` (or its nearest ancestor that is set), or None: the file's own."""
    positional = _positional(loaded.data, path)
    return loaded.value_mark(positional).file if positional else None


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
                    i
                    for i, item in enumerate(node)
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


def _agreed(
    base: str, path: Path, value: Any, sources: Sequence[Source], others: Sequence[LoadedFile]
) -> bool:
    """Whether every organization that takes `path` from `base` has `value` live (and none is left unread)."""
    if any(_owner(other, path) == base for other in others):
        return False
    return all(
        _same(_as_written(find(source.live, path)) if source.live is not None else MISSING, value)
        for source in sources
        if _owner(source.loaded, path) == base
    )


def _same(left: Any, right: Any) -> bool:
    return left is right if MISSING in (left, right) else bool(left == right)


def _removal(path: Path, inherited: bool) -> Any:
    """How a file removes a key: deleted, or, where a base sets it, null (an inherited item: `$patch: delete`).
    A base that extends another is edited as if it did not."""
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
    if isinstance(value, str):
        return envref.escape(value)
    if isinstance(value, dict):
        return {key: _as_written(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_as_written(child) for child in value]
    return value


def _under(path: Path, prefixes: tuple[Path, ...]) -> bool:
    return any(path[: len(prefix)] == prefix for prefix in prefixes)
