"""JSON as Cline reads it: strict both ways.

Cline parses a configuration with `JSON.parse`, which has no NaN or infinities: a document holding one fails
to load as a whole, and members keep a stale cached copy or get none. So clinesync never writes such a value,
and a console that answers with one is reported, never taken for a value that is in sync.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring as _text  # the standard library's, in C
from typing import Any


class NotStrictJSON(ValueError):
    """Text that Python would read as JSON but Cline's JSON.parse would not."""


def dumps(value: Any, **options: Any) -> str:
    return json.dumps(value, allow_nan=False, **options)


MAX_DEPTH = 64  # a RemoteConfig is a few levels deep; nothing that nests further is one


def loads(text: str | bytes, max_depth: int | None = None) -> Any:
    """Parse as JSON.parse does; NotStrictJSON (a ValueError) for NaN, infinities and numbers that overflow a
    float64, and for nesting too deep to read or, with `max_depth`, deeper than that."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode(json.detect_encoding(text), "surrogatepass")  # as json.loads reads bytes
    elif not isinstance(text, str):
        raise TypeError(f"JSON is text, not {type(text).__name__}")
    if text.startswith("\ufeff"):  # json.loads refuses it too, and so does JSON.parse
        raise json.JSONDecodeError("Unexpected UTF-8 BOM", text, 0)
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise NotStrictJSON("nested too deeply") from None
    if max_depth is not None and _openings(text) > max_depth and _depth(value) > max_depth:
        raise NotStrictJSON(f"nested deeper than {max_depth} levels")
    return value


def _openings(text: str) -> int:
    """How many objects and arrays the text could open: no deeper than that, so most documents need no
    walk (counting is done in C; a bracket inside a string only makes the count safely high)."""
    return text.count("{") + text.count("[")


def _depth(value: Any) -> int:
    if not isinstance(value, (dict, list)):
        return 0
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _constant(name: str) -> Any:
    raise NotStrictJSON(f"{name} is not JSON")


def _finite_int(text: str) -> int:
    """An integer JSON.parse reads as a finite number: 309 digits or more is Infinity to it."""
    if len(text.lstrip("-")) > 308 and not math.isfinite(float(text)):
        raise NotStrictJSON(f"{text[:20]}…({len(text)} characters) is beyond what a float64 holds")
    return int(text)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotStrictJSON(f"{text} is beyond what a float64 holds")
    return value


# One decoder for every read: json.loads with hooks builds a decoder, and its scanner, per call (a sixth of
# reading a stored document). Its scanner is safe to share between threads.
_DECODER = json.JSONDecoder(parse_constant=_constant, parse_float=_finite, parse_int=_finite_int)


# A JSON object `{head..., "LIST": [items...], rest...}` written in pieces, as `dumps(..., indent=2)` writes
# it whole: a list of 100,000 organizations need not be held to be written.


def open_object(head: dict[str, Any], name: str) -> str:
    """`{`, the keys before the list, and the list's opening `[`."""
    text = dumps(head, indent=2, ensure_ascii=False)
    return f"{text[:-2]},\n  {dumps(name)}: ["


def item(value: Any, indented: bool = True) -> str:
    """One item of the list, indented as the list's items are; without `indented`, on one line."""
    if not indented:
        return "    " + dumps(value, ensure_ascii=False)
    return "    " + _indented(value, "\n    ")


def _indented(value: Any, newline: str) -> str:
    """`dumps(value, indent=2, ensure_ascii=False)` with every line after the first starting `newline`, byte
    for byte. The standard library indents in Python, through generators; this writes the plain JSON a plan
    is made of at a third of that cost, and leaves anything else (a NaN, a key that is not text, a subclass,
    a cycle) to the standard library, which says what is wrong with it."""
    out: list[str] = []
    try:
        _write(value, out, newline)
    except (_Unusual, RecursionError):
        return dumps(value, indent=2, ensure_ascii=False).replace("\n", newline)
    return "".join(out)


class _Unusual(Exception):
    """A value the fast writer leaves to the standard library."""


def _write(value: Any, out: list[str], newline: str) -> None:
    kind = type(value)
    if kind is str:
        out.append(_text(value))
    elif kind is dict or kind is list or kind is tuple:
        if not value:
            out.append("{}" if kind is dict else "[]")
            return
        inner = newline + "  "
        out.append("{" if kind is dict else "[")
        separator = inner
        if kind is dict:
            for key, child in value.items():
                if type(key) is not str:
                    raise _Unusual
                out.append(separator)
                out.append(_text(key))
                out.append(": ")
                _write(child, out, inner)
                separator = "," + inner
        else:
            for child in value:
                out.append(separator)
                _write(child, out, inner)
                separator = "," + inner
        out.append(newline + ("}" if kind is dict else "]"))
    elif value is True or value is False or value is None:
        out.append("true" if value is True else "false" if value is False else "null")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float and math.isfinite(value):
        out.append(float.__repr__(value))
    else:
        raise _Unusual


def close_object(rest: dict[str, Any], empty: bool) -> str:
    """The list's `]`, the keys after it and the closing `}`."""
    text = dumps(rest, indent=2, ensure_ascii=False)
    return ("]" if empty else "\n  ]") + "," + text[1:] + "\n"
