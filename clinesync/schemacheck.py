"""A small JSON Schema validator for the keywords clinesync's own schema uses.

Why not jsonschema at run time: importing it costs ~66 ms (its referencing machinery and every bundled
meta-schema), more than the whole rest of `clinesync validate` on one file. The schema file stays standard
draft 2020-12 for editors; the tests hold this validator to jsonschema's verdicts on every fixture and on
generated documents, and fail if the schema starts using a keyword this module does not implement.
Errors have jsonschema's shape (`validator`, `absolute_path`, `instance`, `validator_value`, `schema`), so
they are turned into located problems the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

KEYWORDS = frozenset(
    {"$ref", "type", "properties", "additionalProperties", "required", "items", "enum", "const", "pattern"}
)
ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description", "deprecated"})

_TYPES: dict[str, Any] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    "null": lambda value: value is None,
}


@dataclass(frozen=True)
class SchemaError:
    validator: str
    absolute_path: tuple[Any, ...]
    instance: Any
    validator_value: Any
    schema: dict[str, Any] = field(repr=False)


class Validator:
    """Validates against `schema`, whose `$ref`s point into its own `$defs`."""

    def __init__(self, schema: dict[str, Any], definitions: dict[str, Any] | None = None) -> None:
        self.schema = schema
        self.definitions = definitions if definitions is not None else schema.get("$defs", {})
        self._patterns: dict[str, re.Pattern[str]] = {}

    def iter_errors(self, instance: Any) -> Iterator[SchemaError]:
        return self._check(self.schema, instance, ())

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """`$ref` beside other keywords applies both (draft 2020-12): merge them, the referrer winning."""
        while "$ref" in node:
            target = self.definitions[node["$ref"].rsplit("/", 1)[1]]
            node = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
        return node

    def _check(self, node: dict[str, Any], value: Any, path: tuple[Any, ...]) -> Iterator[SchemaError]:
        node = self._resolve(node)
        expected = node.get("type")
        if expected is not None and not _TYPES[expected](value):
            yield SchemaError("type", path, value, expected, node)
        if "const" in node and not _equal(value, node["const"]):
            yield SchemaError("const", path, value, node["const"], node)
        if "enum" in node and not any(_equal(value, option) for option in node["enum"]):
            yield SchemaError("enum", path, value, node["enum"], node)
        if "pattern" in node and isinstance(value, str) and not self._pattern(node["pattern"]).search(value):
            yield SchemaError("pattern", path, value, node["pattern"], node)
        if isinstance(value, dict):
            yield from self._object(node, value, path)
        elif isinstance(value, list) and "items" in node:
            for index, item in enumerate(value):
                yield from self._check(node["items"], item, path + (index,))

    def _object(
        self, node: dict[str, Any], value: dict[str, Any], path: tuple[Any, ...]
    ) -> Iterator[SchemaError]:
        properties = node.get("properties", {})
        for key, child in properties.items():
            if key in value:
                yield from self._check(child, value[key], path + (key,))
        missing = [name for name in node.get("required", ()) if name not in value]
        if missing:
            yield SchemaError("required", path, value, node["required"], node)
        extra = node.get("additionalProperties", True)
        if extra is False:
            if any(key not in properties for key in value):
                yield SchemaError("additionalProperties", path, value, False, node)
        elif isinstance(extra, dict):
            for key, child in value.items():
                if key not in properties:
                    yield from self._check(extra, child, path + (key,))

    def _pattern(self, pattern: str) -> re.Pattern[str]:
        if pattern not in self._patterns:
            self._patterns[pattern] = re.compile(pattern)
        return self._patterns[pattern]


def _equal(left: Any, right: Any) -> bool:
    """JSON equality: true is not 1, though 1 is 1.0."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right)
