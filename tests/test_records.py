"""Records evolved stage by stage: a new record never carries what a cached property kept of the old one."""

from __future__ import annotations

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
