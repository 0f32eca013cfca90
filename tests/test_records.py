"""Records evolved stage by stage: a new record never carries what a cached property kept of the old one."""

from __future__ import annotations

from clinesync.diff import Change
from clinesync.plans.plan import OrgPlan
from clinesync.records import evolve


def test_an_evolved_plan_makes_its_lines_again_from_its_own_changes() -> None:
    first = OrgPlan(
        "org.yaml", "org-1", action="update", changes=[Change("add", ("remoteConfig", "a"), after=1)]
    )
    assert first.lines == ["+ remoteConfig.a: 1"]  # cached on `first`

    second = evolve(first, changes=[Change("add", ("remoteConfig", "b"), after=2)])

    assert second.lines == ["+ remoteConfig.b: 2"]
    assert first.lines == ["+ remoteConfig.a: 1"]
    assert second.file == first.file and second.action == "update"  # the fields not changed are kept
