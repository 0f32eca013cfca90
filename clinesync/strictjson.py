"""JSON as Cline reads it: strict both ways.

Cline parses a configuration with `JSON.parse`, which has no NaN or infinities: a document holding one fails
to load as a whole, and members keep a stale cached copy or get none. So clinesync never writes such a value,
and a console that answers with one is reported, never taken for a value that is in sync.
"""

from __future__ import annotations

import json
import math
from typing import Any


class NotStrictJSON(ValueError):
    """Text that Python would read as JSON but Cline's JSON.parse would not."""


def dumps(value: Any, **options: Any) -> str:
    return json.dumps(value, allow_nan=False, **options)


MAX_DEPTH = 64  # a RemoteConfig is a few levels deep; nothing that nests further is one


def loads(text: str | bytes, max_depth: int | None = None) -> Any:
    """Parse as JSON.parse does; NotStrictJSON (a ValueError) for NaN, infinities and numbers that overflow a
    float64, and for nesting too deep to read or, with `max_depth`, deeper than that."""
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except RecursionError:
        raise NotStrictJSON("nested too deeply") from None
    if max_depth is not None and _depth(value) > max_depth:
        raise NotStrictJSON(f"nested deeper than {max_depth} levels")
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _constant(name: str) -> Any:
    raise NotStrictJSON(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotStrictJSON(f"{text} is beyond what a float64 holds")
    return value
