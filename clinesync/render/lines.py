"""One change as one line, masked: shared by the text and markdown renderers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from clinesync.diff import Change
from clinesync.fields import Item, Path
from clinesync.masking import SENSITIVE, SENSITIVE_CHANGED, holds_sensitive, masked

SYMBOLS = {"add": "+", "remove": "-", "change": "~"}
_LONGEST_VALUE = 160


@dataclass(frozen=True)
class MaskedChange:
    """A change as output may show it: sensitive values replaced."""

    op: str
    path: str
    before: Any
    after: Any
    sensitive: bool


def mask_change(change: Change, from_environment: frozenset[Path]) -> MaskedChange:
    sensitive = holds_sensitive(change.before, change.path, from_environment) or holds_sensitive(
        change.after, change.path, from_environment
    )
    return MaskedChange(
        change.op,
        change.where,
        masked(change.before, change.path, from_environment),
        masked(change.after, change.path, from_environment),
        sensitive,
    )


def change_line(change: Change, from_environment: frozenset[Path]) -> str:
    """`~ path: before -> after`, `+ path: value`, `- path`; sensitive values never shown."""
    shown = mask_change(change, from_environment)
    symbol = SYMBOLS[change.op]
    if change.op == "remove" or (change.op == "add" and _is_bare_item(change)):
        return f"{symbol} {shown.path}"
    if change.op == "add":
        return f"{symbol} {shown.path}: {value_text(shown.after)}"
    if shown.before == SENSITIVE or shown.after == SENSITIVE:
        return f"{symbol} {shown.path}: {SENSITIVE_CHANGED}"
    return f"{symbol} {shown.path}: {value_text(shown.before)} -> {value_text(shown.after)}"


def _is_bare_item(change: Change) -> bool:
    last = change.path[-1] if change.path else None
    return isinstance(last, Item) and change.after == {last.key: last.value}


def value_text(value: Any) -> str:
    """A value as JSON, long ones shortened."""
    if value == SENSITIVE:
        return SENSITIVE
    text = json.dumps(value, ensure_ascii=False)
    if len(text) > _LONGEST_VALUE:
        return f"{text[: _LONGEST_VALUE - 20]}... ({len(text)} characters)"
    return text
