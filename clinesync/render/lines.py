"""One change as one line, masked: shared by the text and markdown renderers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from clinesync.diff import Change
from clinesync.escape import visible
from clinesync.fields import Item
from clinesync.masking import SENSITIVE, SENSITIVE_CHANGED, Mask

SYMBOLS = {"add": "+", "remove": "-", "change": "~"}
_LONGEST_VALUE = 160


@dataclass(frozen=True)
class MaskedChange:
    """A change as output may show it: what may not be shown replaced by `(sensitive)`."""

    op: str
    path: str
    before: Any
    after: Any
    sensitive: bool


def mask_change(change: Change, mask: Mask) -> MaskedChange:
    before, after = mask.before(change.before, change.path), mask.after(change.after, change.path)
    sensitive = before != change.before or after != change.after
    return MaskedChange(change.op, change.where, before, after, sensitive)


def change_line(change: Change, mask: Mask) -> str:
    """`~ path: before -> after`, `+ path: value`, `- path`; what may not be shown never is; text from files or
    live escaped, so that no value can hide or forge a line."""
    shown = mask_change(change, mask)
    symbol = SYMBOLS[change.op]
    if change.op == "remove" or (change.op == "add" and _is_bare_item(change)):
        return f"{symbol} {shown.path}"
    if change.op == "add":
        return f"{symbol} {shown.path}: {value_text(shown.after)}"
    if shown.after == SENSITIVE:
        return f"{symbol} {shown.path}: {SENSITIVE_CHANGED}"
    return f"{symbol} {shown.path}: {value_text(shown.before)} -> {value_text(shown.after)}"


def _is_bare_item(change: Change) -> bool:
    last = change.path[-1] if change.path else None
    return isinstance(last, Item) and change.after == {last.key: last.value}


def value_text(value: Any) -> str:
    """A value as JSON, long ones shortened."""
    if value == SENSITIVE:
        return SENSITIVE
    text = visible(json.dumps(value, ensure_ascii=False))
    if len(text) > _LONGEST_VALUE:
        return f"{text[: _LONGEST_VALUE - 20]}... ({len(text)} characters)"
    return text
