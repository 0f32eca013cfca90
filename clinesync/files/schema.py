"""The packaged JSON Schema, validated by jsonschema (Draft 2020-12), and its errors as located problems.

The schema is the contract: every constraint JSON Schema can state lives there, so editors show it too. A few
of its errors keep the rule ids users know (CS120, CS142); numbers Cline cannot read (NaN, infinities, integers
beyond 2^53) are not JSON at all, so no schema can state them: they are checked here, as CS100. A valid file
is recognised by a quick check first (`fastcheck.py`); jsonschema gives every other verdict.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import unicodedata
from collections.abc import Callable
from typing import Any

from clinesync.contract import field_schema, schema
from clinesync.fields import Path, dotted, value_at
from clinesync.files.bases import PATCH
from clinesync.files.fastcheck import compile_schema
from clinesync.files.loader import LoadedFile
from clinesync.files.problems import Problem


@functools.cache
def _validator() -> Any:
    return _compiled(schema())


@functools.cache
def _remote_config_validator() -> Any:
    return _compiled(stored_document_schema())


def _compiled(document: dict[str, Any]) -> Any:
    # Imported here: only the commands that validate pay for jsonschema's import.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(document)


@functools.cache
def _quick_file_check() -> Callable[[Any], bool] | None:
    return compile_schema(schema())


@functools.cache
def _quick_document_check() -> Callable[[Any], bool] | None:
    return compile_schema(stored_document_schema())


def stored_document_schema() -> dict[str, Any]:
    """What a console checks a written RemoteConfig against. A stored document always has its version
    (Cline's schema requires it); a file may leave it out."""
    return {"$defs": schema()["$defs"], "$ref": "#/$defs/RemoteConfig", "required": ["version"]}


def remote_config_errors(value: Any, limit: int | None = None) -> list[str]:
    """Why `value` is not a valid RemoteConfig, as a console server answers a write: field names and rules,
    never the values themselves (a value may be a credential). With a `limit`, the first that many found,
    sorted: listing all 80,000 errors of a 200 KB document took a second."""
    quick = _quick_document_check()
    if quick is not None and quick(value):
        return []
    errors = itertools.islice(_remote_config_validator().iter_errors(value), limit)
    return sorted(_values_free(error) for error in errors)


def _values_free(error: Any) -> str:
    where = dotted(tuple(error.absolute_path)) if error.absolute_path else "value"
    kind = error.validator
    if kind == "minimum":
        return f"{where}: must be at least {error.validator_value}"
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
    problems = _number_problems(loaded)
    quick = _quick_file_check()
    if quick is not None and quick(loaded.data):
        return problems  # valid: jsonschema's walk would find nothing (fastcheck.py)
    for error in _validator().iter_errors(loaded.data):
        if isinstance(error.instance, str) and loaded.deferred(error.instance) and error.validator != "type":
            continue  # a reference is text: its value is checked once resolved
        if isinstance(error.instance, float) and not math.isfinite(error.instance):
            continue  # reported by _number_problems, with the reason
        problems.extend(_problems_for(error, loaded))
    return problems


_EXACT_INTEGERS = 2**53


def _number_problems(loaded: LoadedFile) -> list[Problem]:
    """Numbers Cline's JSON.parse cannot read (NaN, infinities: the whole document fails) or reads as another
    number (integers beyond 2^53 arrive rounded)."""
    problems = []
    for path, value in loaded.nodes:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        written = loaded.converted.get(path, str(value))
        if isinstance(value, float) and math.isnan(value):
            reason = "is not a number: JSON has no NaN, and Cline could not load the document at all"
        elif isinstance(value, float) and math.isinf(value):
            reason = (
                "is beyond what a float64 holds" if "inf" not in written.lower() else "is infinite"
            ) + ": JSON has no infinity, and Cline could not load the document at all"
        elif isinstance(value, int) and abs(value) > _EXACT_INTEGERS:
            try:
                reason = f"is beyond 2^53: Cline reads numbers as float64 and would get {int(float(value))}"
            except OverflowError:  # 309 digits or more
                reason = "is beyond what a float64 holds: Cline's JSON.parse reads it as Infinity"
        else:
            continue
        shown = written if len(written) <= 40 else f"{written[:20]}…({len(written)} characters)"
        problems.append(loaded.problem("CS100", loaded.value_mark(path), f"{dotted(path)}: {shown} {reason}"))
    return problems


_TYPE_NAMES = {
    "string": "a string",
    "boolean": "true or false",
    "number": "a number",
    "integer": "a whole number",
    "object": "a mapping",
    "array": "a list",
}


def changed_value_problems(view: LoadedFile, paths: list[Path]) -> list[Problem]:
    """The schema's verdict on the values resolution changed, each checked against its own field's schema:
    the rest of the document is as written, and was checked so."""
    problems = []
    for path in paths:
        node = field_schema(path)
        if node is None:
            continue
        value = value_at(view.data, path)
        quick = _quick_field_check(path)
        if quick is not None and quick(value):
            continue
        for error in _validator().evolve(schema=node).iter_errors(value):
            problems.extend(_problems_for(error, view, path))
    return problems


@functools.lru_cache(maxsize=4096)
def _quick_field_check(path: Path) -> Callable[[Any], bool] | None:
    node = field_schema(path)
    return None if node is None else compile_schema({**node, "$defs": schema()["$defs"]})


def _problems_for(error: Any, loaded: LoadedFile, prefix: Path = ()) -> list[Problem]:
    path: Path = prefix + tuple(error.absolute_path)
    kind = error.validator
    if kind == "additionalProperties":
        unknown = _unknown_keys(error)
        # Past a few hundred unknown keys a suggestion for each is noise, and costly on a hostile file.
        suggest = len(unknown) <= _MOST_SUGGESTIONS
        return [_unknown_key(loaded, path, key, error.schema, suggest) for key in unknown]
    if kind == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return [_missing(loaded, path, name) for name in missing]
    if kind == "minLength" and _is_provider(path[:-1]):
        return [_missing(loaded, path[:-1], str(path[-1]))]
    if kind == "pattern" and path[-1:] == ("azureApiVersion",):
        return [
            loaded.problem(
                "CS120",
                loaded.value_mark(path),
                f"azureApiVersion {loaded.shown(path, json.dumps(error.instance))} is not of the form "
                'YYYY-MM-DD or YYYY-MM-DD-preview (e.g. "2024-06-01")',
            )
        ]
    where = dotted(path)
    shown = loaded.shown(path, _describe(error.instance))
    if kind == "type":
        message = (
            f"{where}: expected {_TYPE_NAMES.get(error.validator_value, error.validator_value)}, "
            f"got {shown}{_conversion_hint(loaded, path, error.instance, error.validator_value)}"
        )
    elif kind == "enum":
        allowed = ", ".join(json.dumps(option) for option in error.validator_value)
        message = f"{where}: {shown} is not allowed; use one of {allowed}"
    elif kind == "const":
        message = f"{where}: must be {json.dumps(error.validator_value)}, got {shown}"
    elif kind == "minimum":
        message = f"{where}: {shown} is below {error.validator_value}: {_why_minimum(path)}"
    elif kind == "minLength":
        message = f"{where}: must not be empty"
    elif kind == "pattern":
        message = f"{where}: {shown} is not of the expected form ({_pattern_hint(path)})"
    else:  # a keyword the schema gained since this was written: still located, still an error
        message = f"{where}: {shown} does not satisfy the schema's '{kind}'"
    return [loaded.problem("CS100", loaded.value_mark(path), message)]


def _is_provider(path: Path) -> bool:
    return len(path) == 3 and path[:2] == ("remoteConfig", "providerSettings")


def _missing(loaded: LoadedFile, path: Path, name: str) -> Problem:
    """A required field. A provider's keep CS142 and the console's wording: the panel requires them."""
    if _is_provider(path):
        return loaded.problem(
            "CS142",
            loaded.key_mark(path),
            f"provider {path[-1]} needs {name}: the console's panel requires it",
        )
    return loaded.problem(
        "CS100", loaded.value_mark(path), f"{dotted(path + (name,))}: required field '{name}' is missing"
    )


def _why_minimum(path: Path) -> str:
    name = str(path[-1]) if path else "value"
    return (
        f"a negative {name} means nothing (Cline would pass it on, and the endpoint refuse it or misbehave)"
    )


def _unknown_keys(error: Any) -> list[str]:
    known = error.schema.get("properties", {})
    return [key for key in error.instance if key not in known]


_MOST_SUGGESTIONS = 200


def _unknown_key(
    loaded: LoadedFile, path: Path, key: str, where_schema: dict[str, Any], suggest: bool
) -> Problem:
    if key == PATCH:  # what an inherited item's removal left over: it matched no inherited item
        return loaded.problem(
            "CS105",
            loaded.key_mark(path + (key,)),
            f"{dotted(path)}: $patch: delete removes nothing: no base of this file has this item "
            "(an item is removed by its identity, e.g. id)",
        )
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
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return json.dumps(value) if len(value) <= 60 else "a string"
    return json.dumps(value)


_YAML11_BOOLEANS = {"yes": "true", "on": "true", "y": "true", "no": "false", "off": "false", "n": "false"}


def _conversion_hint(loaded: LoadedFile, path: Path, value: Any, expected: str) -> str:
    """Say how to write what the author likely meant, where YAML 1.2 reads it otherwise."""
    source = loaded.converted.get(path)
    if source is not None:  # unquoted text that YAML 1.2 reads as a number, boolean or null
        if expected != "string":
            return ""  # quoted, it would still not be what the field takes: the message says what does
        kind = "a boolean" if isinstance(value, bool) else "null" if value is None else "a number"
        return f' (YAML reads the unquoted {source} as {kind}): quote it, "{source}"'
    if expected != "boolean" or not isinstance(value, str) or path in loaded.references:
        return ""
    if value.lower() in ("true", "false"):
        return f": write {value.lower()} without quotes"
    meant = _YAML11_BOOLEANS.get(value.lower())
    if meant:
        return f" (YAML 1.2, as editors read it, takes {value} as text): write {meant}"
    return ""


_PATTERN_HINTS = {
    "organization": "org- followed by the id shown in the admin console",
    "openTelemetryMetricsExporter": "a comma list of console, otlp",
    "openTelemetryLogsExporter": "a comma list of console, otlp",
}


def _pattern_hint(path: Path) -> str:
    return _PATTERN_HINTS.get(str(path[-1]) if path else "", "see the schema")
