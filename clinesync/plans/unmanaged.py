"""Unmanaged paths (SPEC §5): what the console holds there is carried into the document apply writes, so they
are never planned, written or reported as drift, whatever the file says."""

from __future__ import annotations

from typing import Any

from clinesync.fields import MISSING, Item, Path, find, plain_copy


def keep_unmanaged(
    target: dict[str, Any], live: dict[str, Any] | None, paths: tuple[Path, ...]
) -> dict[str, Any]:
    """A copy of `target` holding, at each unmanaged path, the live value, or nothing where live has none."""
    kept: dict[str, Any] = plain_copy(target)
    for path in paths:
        value = find(live, path) if live is not None else MISSING
        parent = _container(kept, path[:-1], create=value is not MISSING)
        if parent is None:
            continue
        last = path[-1]
        if isinstance(last, Item) and isinstance(parent, list):
            items = [
                item for item in parent if not (isinstance(item, dict) and item.get(last.key) == last.value)
            ]
            parent[:] = items if value is MISSING else [*items, plain_copy(value)]
        elif isinstance(parent, dict) and isinstance(last, str):
            if value is MISSING:
                parent.pop(last, None)
            else:
                parent[last] = plain_copy(value)
    return kept


def _container(tree: Any, path: Path, create: bool) -> Any:
    """The mapping or list at `path`, made along the way when `create` (the live value goes somewhere)."""
    for index, part in enumerate(path):
        following = path[index + 1] if index + 1 < len(path) else None
        found = find(tree, (part,))
        if found is MISSING or found is None:
            if not create:
                return None
            found = [] if isinstance(following, Item) else {}
            if isinstance(part, Item) and isinstance(tree, list):
                found = {part.key: part.value}
                tree.append(found)
            elif isinstance(part, str) and isinstance(tree, dict):
                tree[part] = found
            else:
                return None
        tree = found
    return tree
