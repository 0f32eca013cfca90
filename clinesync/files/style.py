"""One canonical style for organization files, bases and clinesync.yaml: what `clinesync fmt` writes, and what
`export` writes. Keys in the schema's order (keys it does not know after, as they were), two-space indentation
with list items indented under their key, strings quoted only where YAML 1.2 needs it, no line folded; comments
and blank lines kept, through ruamel.yaml's round trip.

Formatting never changes what a file means: a result that clinesync's own loader reads otherwise than the file
is refused (`StyleError`), never written.
"""

from __future__ import annotations

import functools
import json
import re
from io import StringIO
from typing import Any

from clinesync.files.loader import load_bytes

_LEADING_BLANK_LINES = re.compile(r"\A(\ufeff?)(?:[ \t]*\r?\n)+")  # after a byte-order mark too


class StyleError(Exception):
    """The file cannot be restyled: not YAML clinesync reads, or a result that would mean something else."""


def restyled(text: str, name: str, project: bool = False) -> str:
    """`text` (the file `name`) in the canonical style; `project` for clinesync.yaml's schema."""
    before = load_bytes(text.encode("utf-8"), name)
    if before.problems and any(problem.rule in ("CS102", "CS103") for problem in before.problems):
        raise StyleError(f"{name} is not YAML clinesync reads ({before.problems[0].message}): run validate")
    from ruamel.yaml.comments import CommentedMap

    yaml = round_trip()
    try:
        # Blank lines before the first line mean nothing, and ruamel.yaml keeps one fewer each pass.
        document = yaml.load(_LEADING_BLANK_LINES.sub(r"\1", text))
    except Exception as error:  # ruamel's errors share no base class with a location worth keeping
        raise StyleError(f"{name} is not YAML the formatter reads ({type(error).__name__})") from None
    if not isinstance(document, CommentedMap):
        raise StyleError(f"{name} is not a mapping")
    root = _schema(project)
    _order(document, root, root)
    written = StringIO()
    yaml.dump(document, written)
    result = written.getvalue()
    if load_bytes(result.encode("utf-8"), name).data != before.data:
        raise StyleError(f"{name}: formatting would change what it means; left as it is (please report it)")
    return result


def round_trip() -> Any:
    """ruamel.yaml's round trip (comments, blank lines and key order as written) in the canonical style."""
    from ruamel.yaml import YAML  # only fmt, export and pull pay for it (20 ms)

    yaml = YAML()
    yaml.Resolver = _core_resolver()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 1 << 16  # never fold a long line: a URL or a rule's text stays whole
    return yaml


@functools.cache
def _core_resolver() -> type:
    """ruamel.yaml's YAML 1.2 resolver without the timestamps, merge keys and `=` it keeps from YAML 1.1: the
    core schema clinesync reads, so `2024-06-01` is text and is written plain, as it means."""
    from ruamel.yaml.resolver import VersionedResolver, implicit_resolvers

    kept = ("bool", "float", "int", "null")

    class CoreResolver(VersionedResolver):
        @property
        def versioned_resolver(self) -> Any:
            version = (1, 2)
            if version not in self._version_implicit_resolver:
                for versions, tag, pattern, first in implicit_resolvers:
                    if version in versions and tag.rsplit(":", 1)[-1] in kept:
                        self.add_version_implicit_resolver(version, tag, pattern, first)
            return self._version_implicit_resolver[version]

    return CoreResolver


def _order(node: Any, schema: dict[str, Any] | None, root: dict[str, Any]) -> None:
    """Each mapping's keys in the order its schema lists them, the ones it does not know after them."""
    schema = _resolved(schema, root)
    if isinstance(node, list):
        items = schema.get("items") if schema else None
        for item in node:
            _order(item, items if isinstance(items, dict) else None, root)
        return
    if not hasattr(node, "move_to_end"):  # a scalar: nothing to order
        return
    known = list(schema.get("properties", {})) if schema else []
    keys = list(node)
    for key in [key for key in known if key in node] + [key for key in keys if key not in known]:
        node.move_to_end(key)
    for key, value in node.items():
        _order(value, _child(schema, key), root)


def _child(schema: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    if not schema:
        return None
    named = schema.get("properties", {}).get(key)
    if named is not None:
        return dict(named)
    other = schema.get("additionalProperties")
    return dict(other) if isinstance(other, dict) else None


def _resolved(schema: dict[str, Any] | None, root: dict[str, Any]) -> dict[str, Any] | None:
    while schema is not None and "$ref" in schema:
        schema = root.get("$defs", {}).get(schema["$ref"].rsplit("/", 1)[1])
    return schema


@functools.cache
def _schema(project: bool) -> dict[str, Any]:
    from clinesync.contract import PROJECT_SCHEMA_FILE, SCHEMA_FILE, schema_path

    with open(schema_path(PROJECT_SCHEMA_FILE if project else SCHEMA_FILE), encoding="utf-8") as stream:
        document: dict[str, Any] = json.load(stream)
    return document
