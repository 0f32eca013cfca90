"""Replaying a plan's changes onto a document, as a console write would: the tests check that the diff and the
write agree (the replay gives the desired document)."""

from __future__ import annotations

import copy
from typing import Any

from clinesync.diff import Change
from clinesync.fields import Item


def apply_changes(before: dict[str, Any] | None, changes: list[Change]) -> dict[str, Any]:
    """Replay changes onto a copy of `before`."""
    tree: dict[str, Any] = copy.deepcopy(before) if before is not None else {}
    for change in changes:
        parent = tree
        for index, part in enumerate(change.path[:-1]):
            parent = _step(parent, part, change.path[index + 1], create=change.op == "add")
        last = change.path[-1]
        if change.op == "remove":
            if isinstance(last, Item):
                parent[:] = [
                    item
                    for item in parent
                    if not (isinstance(item, dict) and item.get(last.key) == last.value)
                ]
            else:
                del parent[last]
        elif isinstance(last, Item):
            existing = _find(parent, last)
            if existing is None:
                parent.append(change.after)
            else:
                parent[parent.index(existing)] = change.after
        else:
            parent[last] = change.after
    return tree


def _step(node: Any, part: Any, following: Any, create: bool) -> Any:
    if isinstance(part, Item):
        found = _find(node, part)
        if found is None:
            found = {part.key: part.value}
            node.append(found)
        return found
    if part not in node and create:
        node[part] = [] if isinstance(following, Item) else {}
    return node[part]


def _find(items: list[Any], item: Item) -> Any:
    return next(
        (entry for entry in items if isinstance(entry, dict) and entry.get(item.key) == item.value), None
    )
