"""Records that stages build once and never change: `evolve` makes the next one, with some fields changed, and
`remembers_last` keeps what was made of the last one for the next output that shows it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

Record = TypeVar("Record")
Made = TypeVar("Made")


def evolve(record: Record, **changes: Any) -> Record:
    """`record` with `changes`, as `dataclasses.replace` makes it but a tenth of its cost (that re-runs
    `__init__` and checks every field): the plan's hot path makes several per organization. For frozen
    dataclasses without `__post_init__` or slots, whose fields are plain values."""
    fields = type(record).__dataclass_fields__  # type: ignore[attr-defined]
    made: Record = object.__new__(type(record))
    # Fields only: a value a cached property kept was of the record before the changes.
    made.__dict__.update({name: value for name, value in record.__dict__.items() if name in fields})
    made.__dict__.update(changes)
    return made


def remembers_last(make: Callable[[Record], Made]) -> Callable[[Record], Made]:
    """`make`, remembering what it made of the last record it was given: the outputs of a streamed plan each
    show an organization in turn, and one made is all they need (kept on every record, they would add up in a
    plan held whole, as apply holds it). What it makes is shared: read-only."""
    last: tuple[Any, Any] = (None, None)

    @functools.wraps(make)
    def remembered(record: Record) -> Made:
        nonlocal last
        seen, made = last
        if seen is not record:
            made = make(record)
            last = (record, made)  # one assignment: a thread reading it sees a pair that belongs together
        return made  # type: ignore[no-any-return]

    return remembered
