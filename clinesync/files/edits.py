"""Edits to a YAML file that keep everything else as written: comments, blank lines, key order, quoting. What
`pull` writes into organization files and bases.

A path names mapping keys, and identity-list items by identity (`models[id=gpt-4o]`), as plans do; what is
missing on the way is created (a mapping, or a list item holding only its identity).
"""

from __future__ import annotations

import functools
from io import StringIO
from typing import Any

from clinesync.fields import Item, Path
from clinesync.files.loader import load_bytes
from clinesync.files.style import StyleError, round_trip
from clinesync.records import record

DELETE: Any = object()  # an edit's value that removes the key or item


@record(frozen=True)
class Edit:
    path: Path
    value: Any  # plain data, or DELETE


def edited(text: str, name: str, edits: list[Edit]) -> str:
    """`text` (the file `name`) with `edits` made. StyleError when it is not a YAML mapping the round trip
    reads, or the result is not YAML clinesync reads."""
    from ruamel.yaml.comments import CommentedMap

    yaml = round_trip()
    yaml.Representer = _representer()
    yaml.preserve_quotes = True  # an edit changes what it edits: the rest stays as written
    try:
        document = yaml.load(text)
    except Exception as error:  # ruamel's errors share no base class with a location worth keeping
        raise StyleError(f"{name} is not YAML the round trip reads ({type(error).__name__})") from None
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        raise StyleError(f"{name} is not a mapping")
    for edit in edits:
        _edit(document, edit.path, edit.value)
    written = StringIO()
    yaml.dump(document, written)
    result = written.getvalue()
    loaded = load_bytes(result.encode("utf-8"), name)
    if any(problem.rule in ("CS102", "CS103") for problem in loaded.problems):
        raise StyleError(
            f"{name}: the edit would not be YAML clinesync reads; left as it is (please report it)"
        )
    return result


@functools.cache
def _representer() -> type:
    """The round trip's representer, writing a null as `null` (which removes an inherited key), not as an
    empty value; a class of its own, so that fmt's output is not changed by it."""
    from ruamel.yaml.representer import RoundTripRepresenter

    class Representer(RoundTripRepresenter):
        pass

    Representer.add_representer(
        type(None), lambda representer, _: representer.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return Representer


def _edit(node: Any, path: Path, value: Any) -> None:
    for part in path[:-1]:
        node = _child(node, part)
    last = path[-1]
    if isinstance(last, Item):
        items = node if isinstance(node, list) else []
        index = _index(items, last)
        if value is DELETE:
            if index is not None:
                del items[index]
        elif index is None:
            items.append(value)
        else:
            items[index] = value
    elif value is DELETE:
        if isinstance(node, dict):
            node.pop(last, None)
    else:
        node[last] = value


def _child(node: Any, part: Any) -> Any:
    """The node under `part`, made where it is missing (or null): a mapping, or an identity-list item."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(part, Item):
        index = _index(node, part)
        if index is None:
            node.append(CommentedMap([(part.key, part.value)]))
            index = len(node) - 1
        return node[index]
    if node.get(part) is None:
        node[part] = CommentedSeq() if _is_list(part) else CommentedMap()
    return node[part]


def _index(items: list[Any], item: Item) -> int | None:
    return next(
        (
            index
            for index, found in enumerate(items)
            if isinstance(found, dict) and found.get(item.key) == item.value
        ),
        None,
    )


def _is_list(key: Any) -> bool:
    from clinesync.fields import IDENTITY_KEYS

    return key in IDENTITY_KEYS
