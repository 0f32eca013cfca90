"""Records: made by `record` as dataclasses made them, and evolved stage by stage, a new record never
carrying what a cached property kept of the old one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clinesync.document import Document
from clinesync.plans.plan import OrgPlan
from clinesync.records import evolve


def test_an_evolved_plan_makes_its_member_views_again_from_its_own_target() -> None:
    first = OrgPlan("org.yaml", "org-1", action="create", target=Document(True, {"version": "v1"}))
    assert first.members is not None
    assert first.members["after"]["extension"]["mcpServers"]["written"] == []  # cached on `first`

    server = {"name": "docs", "url": "https://mcp.example.com/sse"}
    second = evolve(first, target=Document(True, {"version": "v1", "remoteMCPServers": [server]}))

    assert second.members is not None
    assert [found["name"] for found in second.members["after"]["extension"]["mcpServers"]["written"]] == [
        "docs"
    ]
    assert first.members["after"]["extension"]["mcpServers"]["written"] == []
    assert second.file == first.file and second.action == "create"  # the fields not changed are kept


def test_what_is_made_of_a_record_is_made_once_in_turn_and_only_the_last_is_kept() -> None:
    from clinesync.records import remembers_last

    made: list[str] = []

    @remembers_last
    def shown(record: OrgPlan) -> str:
        made.append(record.file)
        return record.file.upper()

    first, second = OrgPlan("a.yaml", "org-1"), OrgPlan("b.yaml", "org-2")
    assert [shown(first), shown(first), shown(second), shown(first)] == [
        "A.YAML",
        "A.YAML",
        "B.YAML",
        "A.YAML",
    ]
    assert made == [
        "a.yaml",
        "b.yaml",
        "a.yaml",
    ]  # the second look at `first` was remembered; after `second`, not


# `record`: the classes clinesync builds its records with, in place of `dataclasses`.


def _records() -> tuple[type, type, type]:
    from clinesync.records import field, record

    @record(frozen=True)
    class Kept:
        name: str
        tags: list[str] = field(default_factory=list)
        size: int = 0
        cache: list[int] | None = field(default=None, repr=False, compare=False)

    @record
    class Counted:
        total: int = 0

    @record(frozen=True)
    class Extended(Kept):
        extra: str = "x"

    return Kept, Counted, Extended


def test_a_record_takes_its_fields_in_order_or_by_name_with_each_default_made_afresh() -> None:
    Kept, _, _ = _records()
    first, second = Kept("a"), Kept(name="b", size=3)
    assert (first.name, first.tags, first.size, first.cache) == ("a", [], 0, None)
    assert (second.name, second.size) == ("b", 3)
    assert first.tags is not second.tags  # a list of its own, as default_factory says
    assert Kept("c", ["t"], 2).tags == ["t"]


@pytest.mark.parametrize(
    ("arguments", "names"),
    [
        ((), {}),  # name is missing
        (("a",), {"name": "b"}),  # name given twice
        (("a",), {"colour": "red"}),  # no such field
        (("a", [], 1, None, "too many"), {}),
    ],
)
def test_a_record_refuses_arguments_that_are_not_its_fields_each_once(
    arguments: tuple[object, ...], names: dict[str, object]
) -> None:
    Kept, _, _ = _records()
    with pytest.raises(TypeError, match="Kept"):
        Kept(*arguments, **names)


def test_a_frozen_record_is_not_assigned_to_and_a_mutable_one_is_not_hashed() -> None:
    from clinesync.records import FrozenRecordError

    Kept, Counted, _ = _records()
    kept = Kept("a", size=1)
    with pytest.raises(FrozenRecordError):
        kept.size = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del kept.name  # type: ignore[misc]
    assert kept == Kept("a", size=1, cache=[1])  # cache is left out of equality
    assert kept != Kept("a", size=2) and kept != ("a", [], 1)
    with pytest.raises(TypeError):
        hash(kept)  # its list field cannot be hashed, as with any tuple holding one
    counted = Counted()
    counted.total += 1
    assert counted == Counted(1) and counted != Counted(2)
    with pytest.raises(TypeError):
        hash(counted)  # equal by value and mutable: unhashable, as dataclasses make it


def test_a_record_shows_its_fields_and_a_derived_one_takes_its_bases_first() -> None:
    Kept, _, Extended = _records()
    assert repr(Kept("a", ["t"])) == "_records.<locals>.Kept(name='a', tags=['t'], size=0)"
    extended = Extended("a", extra="y")
    assert (extended.name, extended.size, extended.extra) == ("a", 0, "y")
    assert extended != Kept("a")  # another class, however alike


def test_a_record_crosses_to_a_worker_process_whole() -> None:
    import pickle

    from clinesync.files.validate import CheckedFile

    checked = CheckedFile("org.yaml", [], organization="org-1")
    assert pickle.loads(pickle.dumps(checked)) == checked


def test_evolve_refuses_a_field_the_record_does_not_have() -> None:
    first = OrgPlan("org.yaml", "org-1")
    with pytest.raises(TypeError, match="OrgPlan has no field colour"):
        evolve(first, colour="red")


def test_a_field_without_a_default_after_one_with_a_default_is_refused_when_the_class_is_made() -> None:
    from clinesync.records import record

    with pytest.raises(TypeError, match="follows one with a default"):

        @record
        class Wrong:
            first: int = 0
            second: int


def test_clinesync_never_imports_dataclasses_on_a_run() -> None:
    """Each class dataclasses makes costs about a millisecond of start-up: `record` makes them instead."""
    probe = (
        "import sys\nfrom clinesync.cli import main\n"
        "sys.argv = ['clinesync', 'validate', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('dataclasses' in sys.modules, file=sys.stderr)\n"
    )
    example = str(Path(__file__).parent.parent / "examples" / "org.yaml")
    done = subprocess.run([sys.executable, "-c", probe, example], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "False"


def test_a_frozen_record_of_hashable_fields_hashes_by_the_fields_it_is_compared_by() -> None:
    from clinesync.records import field, record

    @record(frozen=True)
    class Named:
        name: str
        seen: int = field(default=0, compare=False)

    assert hash(Named("a", seen=1)) == hash(Named("a", seen=2)) and Named("a", 1) == Named("a", 2)
    assert len({Named("a"), Named("a", 5), Named("b")}) == 2


def test_a_record_refuses_what_dataclasses_refused_when_the_class_is_made() -> None:
    from clinesync.records import field, record

    with pytest.raises(TypeError, match="mutable default is shared"):

        @record
        class Shared:
            items: list[int] = []  # noqa: RUF012

    with pytest.raises(TypeError, match="not both"):

        @record
        class Both:
            size: int = field(default=1, default_factory=int)

    with pytest.raises(TypeError, match="__post_init__"):

        @record
        class Checked:
            size: int

            def __post_init__(self) -> None: ...


def test_a_class_variable_is_not_a_field_and_a_record_holding_itself_shows() -> None:
    from typing import ClassVar

    from clinesync.records import record

    @record
    class Limited:
        LIMIT: ClassVar[int] = 3
        size: int = 0
        other: object = None

    limited = Limited(5)
    assert (limited.size, Limited.LIMIT) == (5, 3)
    limited.other = limited
    assert repr(limited).endswith("<locals>.Limited(size=5, other=...)")
