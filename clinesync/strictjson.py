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


def loads(text: str | bytes) -> Any:
    """Parse as JSON.parse does; NotStrictJSON (a ValueError) for NaN, infinities and numbers that overflow a
    float64, and for nesting too deep to read."""
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_finite)
    except RecursionError:
        raise NotStrictJSON("nested too deeply") from None


def _constant(name: str) -> Any:
    raise NotStrictJSON(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotStrictJSON(f"{text} is beyond what a float64 holds")
    return value
