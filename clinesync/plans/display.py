"""An organization's plan as lines, masked: what a review reads, in text and markdown, and what a saved plan
keeps so that `show PLANFILE` prints exactly what `plan` printed.

Impact lines come first. A list item that is new is one block (`+ models[id=gpt-4.1]` and its fields), fields
added to an item that is live are a block under it (`~ models[id=gpt-4o]`), and a removed item shows what it
was (the fields output may show), so a review reads like the change it is.
"""

from __future__ import annotations

import json
from typing import Any

from clinesync.diff import Change
from clinesync.escape import visible
from clinesync.fields import MISSING, Item, Path, dotted, find, walk_identified
from clinesync.masking import SENSITIVE_CHANGED, Mask, mask_change
from clinesync.plans.plan import OrgPlan
from clinesync.records import remembers_last
from clinesync.scrub import SENSITIVE

SYMBOLS = {"add": "+", "remove": "-", "change": "~"}
_LONGEST_VALUE = 160
_JSON = json.JSONEncoder(ensure_ascii=False)  # made once: json.dumps makes one a call for these options
_PLAIN = {  # the commonest values, written without the encoder
    True: "true",
    False: "false",
    None: "null",
}  # made once: json.dumps makes one a call for these options


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


@remembers_last  # text, markdown and the plan file each show them
def organization_lines(org: OrgPlan) -> list[str]:
    """`! impact` lines, then the changes, new list items as blocks and removed ones with what they were; a
    saved plan's lines as they were reviewed."""
    if org.saved_lines is not None:
        return org.saved_lines
    lines = [f"! {visible(impact)}" for impact in org.impacts]
    mask = org.mask  # made once: a property that builds a Mask each time it is read
    live = org.live.document.tree() if org.live is not None and org.live.document is not None else None
    changes, index = org.changes, 0
    while index < len(changes):
        change = changes[index]
        item = _item_added_to(change)
        if item is not None:
            block = [change]
            while index + len(block) < len(changes) and _under(changes[index + len(block)], item):
                block.append(changes[index + len(block)])
            lines += _block(item, block, mask, new=find(live, item) is MISSING)
            lines[-len(block) - 1] += _origin(org, item)
            index += len(block)
            continue
        lines.append(change_line(change, mask) + _origin(org, change.path))
        if change.op == "remove" and isinstance(change.path[-1], Item):
            lines += _what_it_was(change, mask)
        index += 1
    return lines


def _origin(org: OrgPlan, path: Path) -> str:
    """Where an inherited value was set: `  (from bases/azure.yaml:12)`."""
    origin = org.origins.get(path)
    return f"  (from {visible(origin)})" if origin else ""


def _item_added_to(change: Change) -> Path | None:
    """The path of the list item a leaf addition belongs to."""
    if change.op != "add" or _is_bare_item(change):
        return None
    for end in range(len(change.path) - 1, 0, -1):
        if isinstance(change.path[end - 1], Item):
            return change.path[:end]
    return None


def _under(change: Change, item: Path) -> bool:
    return change.op == "add" and change.path[: len(item)] == item and len(change.path) > len(item)


def _block(item: Path, changes: list[Change], mask: Mask, new: bool) -> list[str]:
    lines = [f"{'+' if new else '~'} {dotted(item)}"]
    for change in changes:
        value = value_text(mask.after(change.after, change.path))
        lines.append(f"+     {dotted(change.path[len(item) :])}: {value}")
    return lines


def _what_it_was(change: Change, mask: Mask) -> list[str]:
    """The removed item's fields that output may show, from live; its identity is in the path already."""
    item = change.path[-1]
    assert isinstance(item, Item)
    shown = mask.before(change.before, change.path)
    lines = []
    for where, value in walk_identified(shown, ()):
        if isinstance(value, (dict, list)) or where in ((), (item.key,)) or value == SENSITIVE:
            continue
        lines.append(f"-     {dotted(where)}: {value_text(value)}")
    return lines


def _is_bare_item(change: Change) -> bool:
    last = change.path[-1] if change.path else None
    return isinstance(last, Item) and change.after == {last.key: last.value}


def value_text(value: Any) -> str:
    """A value as JSON, long ones shortened."""
    shown = _PLAIN.get(value) if type(value) is bool or value is None else None
    if shown is not None:
        return shown  # the commonest values, without the encoder
    if value == SENSITIVE:
        return SENSITIVE
    text = visible(_JSON.encode(value))
    if len(text) > _LONGEST_VALUE:
        return f"{text[: _LONGEST_VALUE - 20]}... ({len(text)} characters)"
    return text
