"""YAML 1.2's core schema: how a plain (unquoted) scalar is typed, as yaml-language-server and Cline's YAML
library read it. Only these plain scalars are not text, so `2024-06-01`, `no`, `on` and `1:30` stay the strings
they look like."""

from __future__ import annotations

import math
import re
from typing import Any

CORE = "tag:yaml.org,2002:"
_NULL = re.compile(r"(?:null|Null|NULL|~|)\Z")
_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_INT = re.compile(r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_FLOAT = re.compile(
    r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
)


CORE_STR = CORE + "str"
MAYBE_NOT_TEXT = frozenset("-+.0123456789nNtTfF~")  # how a null, boolean or number can begin


def core_tag(text: str) -> str:
    """The tag YAML 1.2's core schema gives a plain scalar."""
    if text and text[0] not in MAYBE_NOT_TEXT:
        return CORE_STR  # most values (URLs, names, ids) are decided by their first character
    for pattern, name in ((_NULL, "null"), (_BOOL, "bool"), (_INT, "int"), (_FLOAT, "float")):
        if pattern.match(text):
            return CORE + name
    return CORE_STR


def scalar_value(text: str) -> Any:
    """A plain scalar as YAML 1.2's core schema reads it: text, or the null, boolean or number it is."""
    tag = core_tag(text)
    try:
        return text if tag == CORE_STR else CONSTRUCT[tag](text)
    except ValueError:
        return text


def _int(text: str) -> int:
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text)


def _float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".inf"):
        return float(lowered.replace(".inf", "inf"))
    if lowered == ".nan":
        return math.nan
    return float(text)


CONSTRUCT = {
    CORE + "null": lambda text: None if _NULL.match(text) else _not(text),
    CORE + "bool": lambda text: text.lower() == "true" if _BOOL.match(text) else _not(text),
    CORE + "int": _int,
    CORE + "float": _float,
}


def _not(text: str) -> Any:
    raise ValueError(text)
