"""The packaged JSON Schema, one compiled validator per process, and its errors as located problems."""

from __future__ import annotations

import datetime
import functools
import json
import os
import unicodedata
from typing import Any

from clinesync.fields import Path, dotted
from clinesync.loader import LoadedFile
from clinesync.problems import Problem
from clinesync.schemacheck import Validator

SCHEMA_FILE = "org.schema.json"


def schema_path() -> str:
    # The package's own location, not importlib.resources: that costs ~7 ms of start-up to find one file.
    from clinesync import schemas

    return os.path.join(os.path.dirname(schemas.__file__), SCHEMA_FILE)


@functools.cache
def schema() -> dict[str, Any]:
    with open(schema_path(), encoding="utf-8") as stream:
        return json.load(stream)


@functools.cache
def _validator() -> Validator:
    return Validator(schema())


@functools.cache
def _remote_config_validator() -> Validator:
    return Validator(stored_document_schema())


def stored_document_schema() -> dict[str, Any]:
    """What a console checks a written RemoteConfig against. A stored document always has its version
    (Cline's schema requires it); a file may leave it out."""
    return {"$defs": schema()["$defs"], "$ref": "#/$defs/RemoteConfig", "required": ["version"]}


def resolve_ref(node: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its `$ref` (into the schema's own $defs) followed."""
    while "$ref" in node:
        node = schema()["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def remote_config_errors(value: Any) -> list[str]:
    """Why `value` is not a valid RemoteConfig, as a console server answers a write: field names and rules,
    never the values themselves (a value may be a credential)."""
    return sorted(_values_free(error) for error in _remote_config_validator().iter_errors(value))


def _values_free(error: Any) -> str:
    where = dotted(tuple(error.absolute_path)) if error.absolute_path else "value"
    kind = error.validator
    if kind == "additionalProperties":
        return f"{where}: unknown fields {', '.join(repr(key) for key in _unknown_keys(error))}"
    if kind == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return f"{where}: missing {', '.join(repr(name) for name in missing)}"
    if kind == "type":
        return f"{where}: must be {_TYPE_NAMES.get(error.validator_value, error.validator_value)}"
    if kind == "enum":
        return f"{where}: must be one of {', '.join(json.dumps(option) for option in error.validator_value)}"
    return f"{where}: does not satisfy '{kind}'"


def schema_problems(loaded: LoadedFile) -> list[Problem]:
    problems: list[Problem] = []
    for error in _validator().iter_errors(loaded.data):
        problems.extend(_problems_for(error, loaded))
    return problems


_TYPE_NAMES = {
    "string": "a string",
    "boolean": "true or false",
    "number": "a number",
    "integer": "a whole number",
    "object": "a mapping",
    "array": "a list",
}


def _problems_for(error: Any, loaded: LoadedFile) -> list[Problem]:
    path: Path = tuple(error.absolute_path)
    kind = error.validator
    if kind == "additionalProperties":
        unknown = _unknown_keys(error)
        # Past a few hundred unknown keys a suggestion for each is noise, and costly on a hostile file.
        suggest = len(unknown) <= _MOST_SUGGESTIONS
        return [_unknown_key(loaded, path, key, error.schema, suggest) for key in unknown]
    if kind == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return [
            loaded.problem(
                "CS100",
                loaded.value_mark(path),
                f"{dotted(path + (name,))}: required field '{name}' is missing",
            )
            for name in missing
        ]
    where = dotted(path)
    if kind == "type":
        message = (
            f"{where}: expected {_TYPE_NAMES.get(error.validator_value, error.validator_value)}, "
            f"got {_describe(error.instance)}{_conversion_hint(loaded, path, error.instance)}"
        )
    elif kind == "enum":
        allowed = ", ".join(json.dumps(option) for option in error.validator_value)
        message = f"{where}: {_describe(error.instance)} is not allowed; use one of {allowed}"
    elif kind == "const":
        message = f"{where}: must be {json.dumps(error.validator_value)}, got {_describe(error.instance)}"
    else:  # pattern: the one keyword left (schemacheck.KEYWORDS)
        message = f"{where}: {_describe(error.instance)} is not of the expected form ({_pattern_hint(path)})"
    return [loaded.problem("CS100", loaded.value_mark(path), message)]


def _unknown_keys(error: Any) -> list[str]:
    known = error.schema.get("properties", {})
    return [key for key in error.instance if key not in known]


_MOST_SUGGESTIONS = 200


def _unknown_key(
    loaded: LoadedFile, path: Path, key: str, where_schema: dict[str, Any], suggest: bool
) -> Problem:
    known = tuple(where_schema.get("properties", {}))
    message = f"unknown key '{key}' in {dotted(path)}: Cline would drop it silently"
    suggestion = _closest(key, known) if suggest else None
    if suggestion:
        message += f"; did you mean {suggestion}?"
    lookalikes = [char for char in key if ord(char) > 127]
    if lookalikes:
        names = ", ".join(
            f"'{char}' (U+{ord(char):04X} {unicodedata.name(char, '?')})" for char in lookalikes
        )
        message += f" It contains non-ASCII characters: {names}."
    return loaded.problem("CS101", loaded.key_mark(path + (key,)), message)


def _closest(key: str, known: tuple[str, ...]) -> str | None:
    import difflib

    folded = _folded(known)
    if _fold(key) in folded:
        return folded[_fold(key)]
    matches = difflib.get_close_matches(key.lower(), [name.lower() for name in known], n=1, cutoff=0.6)
    if matches:
        return next(name for name in known if name.lower() == matches[0])
    return None


@functools.lru_cache(maxsize=64)
def _folded(known: tuple[str, ...]) -> dict[str, str]:
    return {_fold(name): name for name in known}


def _fold(key: str) -> str:
    """Case, separators and Unicode look-alikes folded away, so `openAIBaseUrl` finds `openAiBaseUrl`."""
    ascii_only = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode()
    return "".join(char for char in ascii_only.lower() if char.isalnum()) or key


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return json.dumps(value) if len(value) <= 60 else "a string"
    return json.dumps(value)


def _conversion_hint(loaded: LoadedFile, path: Path, value: Any) -> str:
    """YAML turned unquoted text into a date, boolean, number or null: say so, and say to quote it."""
    source = loaded.converted.get(path)
    if source is None:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return f": write {value.lower()} without quotes"
        return ""
    kind = (
        "a date"
        if isinstance(value, (datetime.date, datetime.datetime))
        else "a boolean"
        if isinstance(value, bool)
        else "null"
        if value is None
        else "a number"
    )
    return f' (YAML reads the unquoted {source} as {kind}): quote it, "{source}"'


_PATTERN_HINTS = {
    "organization": "org- followed by the id shown in the admin console",
    "openTelemetryMetricsExporter": "a comma list of console, otlp",
    "openTelemetryLogsExporter": "a comma list of console, otlp",
}


def _pattern_hint(path: Path) -> str:
    return _PATTERN_HINTS.get(str(path[-1]) if path else "", "see the schema")
