"""A quick yes to "is this valid against the schema?", for the common case of a valid file.

jsonschema remains the judge: it runs whenever this says no, and reports every error with its location. This
only answers yes where jsonschema would find nothing, so it compiles a schema into plain predicates for the
keywords the schema uses today, exactly as Draft 2020-12 and jsonschema's default type checker define them.
A schema that uses any other keyword gets no quick path at all (`compile_schema` returns None), so the schema
stays free to grow: a new keyword only costs speed until it is taught here. A property test holds this to
jsonschema's verdict on generated documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

# Keywords that assert nothing (annotations), or that jsonschema does not assert by default (`format`).
_INERT = frozenset(
    {
        "title",
        "description",
        "deprecated",
        "examples",
        "default",
        "$schema",
        "$id",
        "$defs",
        "$comment",
        "format",
    }
)
_ASSERTING = frozenset(
    {
        "type",
        "properties",
        "additionalProperties",
        "required",
        "items",
        "minimum",
        "exclusiveMinimum",
        "maximum",
        "minLength",
        "minItems",
        "minProperties",
        "uniqueItems",
        "propertyNames",
        "not",
        "oneOf",
        "pattern",
        "enum",
        "const",
        "$ref",
    }
)


class _Unknown(Exception):
    """A keyword this module does not know: no quick path for this schema."""


def compile_schema(schema: dict[str, Any]) -> Check | None:
    """A predicate that is True only where jsonschema would report no error, or None when the schema uses a
    keyword it cannot judge."""
    compiled: dict[str, Check] = {}
    try:
        return _compile(schema, schema.get("$defs", {}), compiled)
    except _Unknown:
        return None


def _compile(node: Any, definitions: dict[str, Any], compiled: dict[str, Check]) -> Check:
    if node is True or node == {}:
        return lambda instance: True
    if node is False:
        return lambda instance: False
    if not isinstance(node, dict) or set(node) - _INERT - _ASSERTING:
        raise _Unknown(node)
    checks: list[Check] = []
    if "$ref" in node:
        checks.append(_reference(node["$ref"], definitions, compiled))
    if "type" in node:
        checks.append(_type(node["type"]))
    if "enum" in node:
        options = node["enum"]
        checks.append(lambda instance: any(_equal(instance, option) for option in options))
    if "const" in node:
        constant = node["const"]
        checks.append(lambda instance: _equal(instance, constant))
    if "minimum" in node:
        least = node["minimum"]
        checks.append(lambda instance: not _is_number(instance) or instance >= least)
    if "exclusiveMinimum" in node:
        above = node["exclusiveMinimum"]
        checks.append(lambda instance: not _is_number(instance) or instance > above)
    if "maximum" in node:
        most = node["maximum"]
        checks.append(lambda instance: not _is_number(instance) or instance <= most)
    if "minItems" in node:
        fewest = node["minItems"]
        checks.append(lambda instance: not isinstance(instance, list) or len(instance) >= fewest)
    if "minProperties" in node:
        fewest_keys = node["minProperties"]
        checks.append(lambda instance: not isinstance(instance, dict) or len(instance) >= fewest_keys)
    if node.get("uniqueItems"):  # any true value, as jsonschema reads it
        checks.append(lambda instance: not isinstance(instance, list) or _unique(instance))
    if "propertyNames" in node:
        name = _compile(node["propertyNames"], definitions, compiled)
        checks.append(lambda instance: not isinstance(instance, dict) or all(map(name, instance)))
    if "not" in node:
        negated = _compile(node["not"], definitions, compiled)
        checks.append(lambda instance: not negated(instance))
    if "oneOf" in node:
        options = [_compile(option, definitions, compiled) for option in node["oneOf"]]
        checks.append(lambda instance: sum(1 for option in options if option(instance)) == 1)
    if "minLength" in node:
        shortest = node["minLength"]
        checks.append(lambda instance: not isinstance(instance, str) or len(instance) >= shortest)
    if "pattern" in node:
        search = re.compile(node["pattern"]).search
        checks.append(lambda instance: not isinstance(instance, str) or search(instance) is not None)
    if "required" in node:
        required = tuple(node["required"])
        checks.append(
            lambda instance: not isinstance(instance, dict) or all(name in instance for name in required)
        )
    if "properties" in node or "additionalProperties" in node:
        checks.append(_object(node, definitions, compiled))
    if "items" in node:
        item = _compile(node["items"], definitions, compiled)
        checks.append(lambda instance: not isinstance(instance, list) or all(map(item, instance)))
    return _all_of(checks)


def _all_of(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def every(instance: Any) -> bool:
        # A plain loop: on this path, run for every node of every file, all() over a generator is ~3x slower.
        for check in checks:  # noqa: SIM110
            if not check(instance):
                return False
        return True

    return every


def _reference(reference: str, definitions: dict[str, Any], compiled: dict[str, Check]) -> Check:
    if not reference.startswith("#/$defs/") or reference[8:] not in definitions:
        raise _Unknown(reference)
    name = reference[8:]
    if name not in compiled:
        compiled[name] = lambda instance: compiled[name](instance)  # a placeholder while it compiles
        compiled[name] = _compile(definitions[name], definitions, compiled)
    return lambda instance: compiled[name](instance)


def _object(node: dict[str, Any], definitions: dict[str, Any], compiled: dict[str, Check]) -> Check:
    properties = {
        name: _compile(sub, definitions, compiled) for name, sub in node.get("properties", {}).items()
    }
    extra = node.get("additionalProperties", True)
    others = _compile(extra, definitions, compiled)

    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        for name, value in instance.items():
            judge = properties.get(name)
            if not (judge(value) if judge is not None else others(value)):
                return False
        return True

    return check


_TYPES: dict[str, Check] = {
    "string": lambda value: isinstance(value, str),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": lambda value: _is_number(value),
    "integer": lambda value: _is_number(value) and (isinstance(value, int) or value.is_integer()),
}


def _type(expected: str | list[str]) -> Check:
    names = [expected] if isinstance(expected, str) else list(expected)
    if any(name not in _TYPES for name in names):
        raise _Unknown(expected)
    tests = [_TYPES[name] for name in names]
    if len(tests) == 1:
        return tests[0]
    return lambda instance: any(test(instance) for test in tests)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _unique(items: list[Any]) -> bool:
    return not any(_equal(one, other) for index, one in enumerate(items) for other in items[index + 1 :])


def _equal(one: Any, other: Any) -> bool:
    """JSON equality, as jsonschema's `enum` and `const` use it: true is not 1, 1 is 1.0."""
    if isinstance(one, bool) or isinstance(other, bool):
        return type(one) is type(other) and one == other
    if isinstance(one, dict) and isinstance(other, dict):
        return one.keys() == other.keys() and all(_equal(one[key], other[key]) for key in one)
    if isinstance(one, list) and isinstance(other, list):
        return len(one) == len(other) and all(_equal(a, b) for a, b in zip(one, other, strict=True))
    if isinstance(one, (dict, list)) or isinstance(other, (dict, list)):
        return False
    return bool(one == other)
