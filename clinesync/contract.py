"""The contract: how clinesync reads the JSON Schemas it ships (`schemas/` at the top of the repository, the
package clinesync.schemas): their paths, the organization schema, a field's node, `$ref`s followed. Validating
against them is `files/schema.py`'s; this reads facts from them and imports nothing of clinesync's below it.
"""

from __future__ import annotations

import functools
import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clinesync.fields import Path

SCHEMA_FILE = "org.schema.json"
PROJECT_SCHEMA_FILE = "project.schema.json"


def schema_path(name: str = SCHEMA_FILE) -> str:
    # The package's own location, not importlib.resources: that costs ~7 ms of start-up to find one file.
    from clinesync import schemas  # type: ignore[attr-defined]  # a data package: schemas/ at the top, see pyproject

    return os.path.join(os.path.dirname(schemas.__file__), name)


@functools.cache
def schema() -> dict[str, Any]:
    with open(schema_path(), encoding="utf-8") as stream:
        document: dict[str, Any] = json.load(stream)
    return document


def resolve_ref(node: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its `$ref` (into the schema's own $defs) followed."""
    while "$ref" in node:
        node = schema()["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


@functools.lru_cache(maxsize=4096)
def field_schema(path: Path) -> dict[str, Any] | None:
    """The schema of the field at a plan path (`remoteConfig...models[id=x].id`), or None where the schema
    does not know it: a live field a later Cline added."""
    node: dict[str, Any] = schema()
    for part in path:
        node = resolve_ref(node)
        if isinstance(part, str):
            child = node.get("properties", {}).get(part)
            if child is None:
                extra = node.get("additionalProperties")
                child = extra if isinstance(extra, dict) else None
        else:  # a list item, by position or identity
            child = node.get("items")
        if child is None:
            return None
        node = child
    return resolve_ref(node)
