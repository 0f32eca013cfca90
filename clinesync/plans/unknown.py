"""Live fields this version of clinesync does not know (Cline added them later): found by walking the
schema beside the live document, and carried into the document apply writes, so that apply never deletes a
setting it cannot see in the file."""

from __future__ import annotations

from typing import Any

from clinesync.contract import resolve_ref, schema
from clinesync.fields import IDENTITY_KEYS, Item, Path, find, identified_items, plain_copy


def unknown_fields(tree: dict[str, Any]) -> list[Path]:
    """Paths in a live tree (`enabled`, `remoteConfig`) that the schema does not describe."""
    found: list[Path] = []
    _walk(tree.get("remoteConfig"), schema()["$defs"]["RemoteConfig"], ("remoteConfig",), found)
    return found


def keep_unknown(
    desired: dict[str, Any], live: dict[str, Any], paths: list[Path]
) -> tuple[dict[str, Any], list[Path]]:
    """A copy of `desired` with each unknown live field added back where its parent is still desired,
    and the paths that were kept."""
    merged, kept = plain_copy(desired), []
    for path in paths:
        parent = find(merged, path[:-1])
        if isinstance(parent, dict) and path[-1] not in parent:
            parent[path[-1]] = plain_copy(find(live, path))
            kept.append(path)
    return merged, kept


def _walk(value: Any, node: dict[str, Any], path: Path, found: list[Path]) -> None:
    node = resolve_ref(node)
    if isinstance(value, dict) and "properties" in node:
        for key, child in value.items():
            if key in node["properties"]:
                _walk(child, node["properties"][key], path + (key,), found)
            else:
                found.append(path + (key,))
    elif isinstance(value, list) and "items" in node:
        named = identified_items(path[-1], value)
        key = IDENTITY_KEYS.get(str(path[-1]))
        if named is None or key is None:
            return  # items without usable identities are compared as a whole list
        for identity, item in named.items():
            _walk(item, node["items"], path + (Item(key, identity),), found)
