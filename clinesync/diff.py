"""The difference between a live and a desired document, as a list of changes named by path.

Lists with an identity are compared by it (`models[id=gpt-4o]`), so order is never a change. Additions are
listed leaf by leaf, so each value can be masked on its own; removals are listed once, at the highest level.
Values are compared as Cline sees them: 128000 equals 128000.0, true does not equal 1.

deepdiff was weighed for this and not used: its paths are positional, its results need translating into
identity paths and leaf additions anyway, and it costs tens of milliseconds on documents that are equal.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from clinesync.document import same
from clinesync.fields import IDENTITY_KEYS, Item, Path, dotted, identified_items

Operation = Literal["add", "remove", "change"]


class Change(NamedTuple):
    op: Operation
    path: Path
    before: Any = None
    after: Any = None

    @property
    def where(self) -> str:
        return dotted(self.path)


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[Change]:
    """Changes that turn `before` (None: nothing yet) into `after`."""
    if before is not None and same(before, after):
        return []
    changes: list[Change] = []
    _diff(before if before is not None else {}, after, (), changes)
    return changes


def _diff(before: Any, after: Any, path: Path, changes: list[Change]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key, value in after.items():
            if key in before:
                _diff(before[key], value, path + (key,), changes)
            else:
                _added(value, path + (key,), changes)
        for key, value in before.items():
            if key not in after:
                changes.append(Change("remove", path + (key,), before=value))
        return
    name = path[-1] if path else None
    if isinstance(before, list) and isinstance(after, list):
        old, new = identified_items(name, before), identified_items(name, after)
        if old is not None and new is not None:
            key = IDENTITY_KEYS[str(name)]
            for identity, item in new.items():
                here = path + (Item(key, identity),)
                if identity in old:
                    _diff(old[identity], item, here, changes)
                else:
                    _added(item, here, changes)
            for identity, item in old.items():
                if identity not in new:
                    changes.append(Change("remove", path + (Item(key, identity),), before=item))
            return
    if not same(before, after):
        changes.append(Change("change", path, before=before, after=after))


def _added(value: Any, path: Path, changes: list[Change]) -> None:
    """An addition, leaf by leaf through mappings and identity lists; a plain list or scalar is one leaf."""
    count = len(changes)
    if isinstance(value, dict):
        identity = path[-1].key if path and isinstance(path[-1], Item) else None
        for key, child in value.items():
            if key != identity:  # `models[id=gpt-4o].id` would repeat the path
                _added(child, path + (key,), changes)
    elif isinstance(value, list) and (named := identified_items(path[-1] if path else None, value)):
        key = IDENTITY_KEYS[str(path[-1])]
        for identity, item in named.items():
            _added(item, path + (Item(key, identity),), changes)
    if len(changes) == count:  # a scalar, an empty container, or an item that is only its identity
        changes.append(Change("add", path, after=value))
