"""Records: classes made of named fields. `record` makes them, `evolve` makes the next one with some fields
changed, and `remembers_last` keeps what was made of the last one for the next output that shows it.

`record` is what clinesync used of `dataclasses`, at a fraction of its start-up: each class `dataclasses` makes
compiles methods of its own (about 1 ms a class, with 10 classes on a plan's path), where here every class
shares a few methods written once, each reading the fields `record` listed. Together with importing
`dataclasses` itself, a tenth of the CPU of a plan of one organization (measured, paired).
"""

from __future__ import annotations

import functools
import reprlib
from collections.abc import Callable
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform  # in typing from Python 3.11
else:

    def dataclass_transform(**_options: Any) -> Callable[[Any], Any]:
        """For type checkers only: `record` makes classes as `dataclasses.dataclass` does."""
        return lambda decorated: decorated


__all__ = ["FrozenRecordError", "evolve", "field", "record", "remembers_last"]

Record = TypeVar("Record")
Made = TypeVar("Made")
Class = TypeVar("Class", bound=type)

_NO_DEFAULT: Any = object()


class FrozenRecordError(AttributeError):
    """An assignment to a field of a frozen record."""


class _Field(NamedTuple):
    default: Any = _NO_DEFAULT
    default_factory: Callable[[], Any] | None = None
    compare: bool = True
    repr: bool = True


def field(
    *,
    default: Any = _NO_DEFAULT,
    default_factory: Callable[[], Any] | None = None,
    compare: bool = True,
    repr: bool = True,
) -> Any:
    """A field whose default is made afresh for each record (`default_factory`), or one left out of equality
    (`compare`) or of the record's `repr`."""
    return _Field(default, default_factory, compare, repr)


@overload
def record(cls: Class, /) -> Class: ...
@overload
def record(*, frozen: bool = False, eq: bool = True) -> Callable[[Class], Class]: ...
@dataclass_transform(field_specifiers=(field,))
def record(cls: Any = None, /, *, frozen: bool = False, eq: bool = True) -> Any:
    """The class with an `__init__` taking its annotated fields in order (a base record's first), equality
    field by field (`eq`), a `repr`, and with `frozen`, no assignment to its fields and a hash of them."""

    def make(cls: Any) -> Any:
        return _made(cls, frozen, eq)

    return make if cls is None else make(cls)


def _made(cls: Any, frozen: bool, eq: bool) -> Any:
    specs: dict[str, _Field] = dict(getattr(cls, "__record_specs__", {}))  # a base record's fields first
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063 (no inspect)
        if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
            continue  # the class's own, as dataclasses leave it
        specs[name] = spec = _spec(cls, name)
        if spec.default is not _NO_DEFAULT:
            setattr(cls, name, spec.default)
        elif name in cls.__dict__:
            delattr(cls, name)  # a default made by a factory is each record's own, never the class's
    if "__post_init__" in cls.__dict__:
        raise TypeError(f"{cls.__name__}: a record has no __post_init__ (evolve would skip it)")
    names = tuple(specs)
    defaults = {name: spec.default for name, spec in specs.items() if spec.default is not _NO_DEFAULT}
    factories = tuple((name, spec.default_factory) for name, spec in specs.items() if spec.default_factory)
    required = [name for name in names if name not in defaults and not specs[name].default_factory]
    if required and names.index(required[-1]) > len(required) - 1:
        raise TypeError(f"{cls.__name__}: a field without a default follows one with a default")
    count, known = len(names), frozenset(names)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if not kwargs and len(args) == count:  # every field, in order: the commonest call of a small record
            self.__dict__.update(zip(names, args))  # noqa: B905 (as long as each other; strict= costs 0.3 us)
            return
        given = dict(zip(names, args))  # noqa: B905 (too many are refused below)
        if len(args) > count or (
            kwargs and not (known.issuperset(kwargs) and given.keys().isdisjoint(kwargs))
        ):
            raise TypeError(f"{cls.__name__}() takes the fields {', '.join(names)}, each once")
        values = {**defaults, **given, **kwargs}
        for name, make in factories:
            if name not in values:
                values[name] = make()
        if len(values) < count:
            missing = ", ".join(name for name in names if name not in values)
            raise TypeError(f"{cls.__name__}() is missing {missing}")
        self.__dict__.update(values)

    shown = tuple(name for name, spec in specs.items() if spec.repr)

    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        values = self.__dict__
        return f"{type(self).__qualname__}({', '.join(f'{name}={values[name]!r}' for name in shown)})"

    methods: dict[str, Any] = {"__init__": __init__, "__repr__": __repr__}
    if eq and "__eq__" not in cls.__dict__:  # a class's own equality is kept, with the hash it goes with
        compared = _getter(tuple(name for name, spec in specs.items() if spec.compare))

        def __eq__(self: Any, other: Any) -> Any:
            if other.__class__ is not self.__class__:
                return NotImplemented
            return compared(self.__dict__) == compared(other.__dict__)

        def __hash__(self: Any) -> int:
            return hash(compared(self.__dict__))

        methods["__eq__"] = __eq__
        methods["__hash__"] = __hash__ if frozen else None  # as dataclasses: equal and mutable is unhashable
    if frozen:

        def __setattr__(self: Any, name: str, value: Any) -> None:
            raise FrozenRecordError(f"cannot assign to field {name!r} of a {cls.__name__}")

        def __delattr__(self: Any, name: str) -> None:
            raise FrozenRecordError(f"cannot delete field {name!r} of a {cls.__name__}")

        methods |= {"__setattr__": __setattr__, "__delattr__": __delattr__}
    for method_name, method in methods.items():
        if method_name in cls.__dict__:
            continue  # the class's own
        if method is not None:
            method.__qualname__ = f"{cls.__qualname__}.{method_name}"
        setattr(cls, method_name, method)
    cls.__record_specs__ = specs
    cls.__record_fields__ = known
    return cls


def _spec(cls: Any, name: str) -> _Field:
    """A field as the class body wrote it: a plain default, `field(...)`, or nothing. A default shared by
    every record must not be one a record could change (a list, a dict, a set), as dataclasses refuse it."""
    value = cls.__dict__.get(name, _NO_DEFAULT)
    spec = value if isinstance(value, _Field) else _Field(value)
    if spec.default is not _NO_DEFAULT and spec.default_factory is not None:
        raise TypeError(f"{cls.__name__}.{name}: a default or a default_factory, not both")
    if spec.default is not _NO_DEFAULT and type(spec.default).__hash__ is None:
        raise TypeError(f"{cls.__name__}.{name}: a mutable default is shared: use default_factory")
    return spec


def _getter(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A tuple of the named values of a record's `__dict__`, made in C."""
    if len(names) == 1:
        [name] = names
        return lambda values: (values[name],)
    if not names:
        return lambda values: ()
    return itemgetter(*names)


if TYPE_CHECKING:  # checked as dataclasses.replace is: each change by its field's name and type
    from dataclasses import replace as evolve
else:

    def evolve(record, **changes):
        """`record` with `changes`, without running `__init__` again: the plan's hot path makes several per
        organization. A value a cached property kept is left behind: it was of the record before the
        changes."""
        fields = type(record).__record_fields__
        if not fields.issuperset(changes):
            unknown = ", ".join(sorted(changes.keys() - fields))
            raise TypeError(f"{type(record).__name__} has no field {unknown}")
        made = object.__new__(type(record))
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
