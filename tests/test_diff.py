"""The diff: identity lists, values as Cline sees them, and replaying a diff gives the desired document."""

from __future__ import annotations

from typing import Any

from clinesync.diff import diff
from clinesync.document import same

from replay import apply_changes


def tree(**config: Any) -> dict[str, Any]:
    return {"enabled": True, "remoteConfig": {"version": "v1", **config}}


def provider(models: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"OpenAiCompatible": {"openAiBaseUrl": "https://a.example.com/v1", "models": models, **fields}}


def lines(before: dict[str, Any] | None, after: dict[str, Any]) -> list[tuple[str, str]]:
    return [(change.op, change.where) for change in diff(before, after)]


def test_equal_documents_have_no_changes() -> None:
    assert diff(tree(telemetryEnabled=True), tree(telemetryEnabled=True)) == []


def test_reordering_identity_lists_is_not_a_change() -> None:
    before = tree(providerSettings=provider([{"id": "a"}, {"id": "b", "maxTokens": 1}]))
    after = tree(providerSettings=provider([{"maxTokens": 1, "id": "b"}, {"id": "a"}]))
    assert diff(before, after) == []


def test_list_items_are_named_by_identity() -> None:
    before = tree(providerSettings=provider([{"id": "gpt-4o", "maxTokens": 8192}, {"id": "o1-preview"}]))
    after = tree(providerSettings=provider([{"id": "gpt-4o", "maxTokens": 16384}, {"id": "gpt-4o-mini"}]))
    base = "remoteConfig.providerSettings.OpenAiCompatible.models"
    assert lines(before, after) == [
        ("change", f"{base}[id=gpt-4o].maxTokens"),
        ("add", f"{base}[id=gpt-4o-mini]"),
        ("remove", f"{base}[id=o1-preview]"),
    ]


def test_numbers_compare_as_json_numbers_and_booleans_stay_booleans() -> None:
    assert diff(tree(openTelemetryLogBatchSize=100), tree(openTelemetryLogBatchSize=100.0)) == []
    assert lines(tree(openTelemetryLogBatchSize=1), tree(openTelemetryLogBatchSize=True)) == [
        ("change", "remoteConfig.openTelemetryLogBatchSize")
    ]


def test_additions_are_listed_leaf_by_leaf_and_removals_once() -> None:
    before = tree(remoteMCPServers=[{"name": "old", "url": "https://old", "headers": {"A": "1"}}])
    after = tree(remoteMCPServers=[{"name": "new", "url": "https://new", "headers": {"A": "1", "B": "2"}}])
    assert lines(before, after) == [
        ("add", "remoteConfig.remoteMCPServers[name=new].url"),
        ("add", "remoteConfig.remoteMCPServers[name=new].headers.A"),
        ("add", "remoteConfig.remoteMCPServers[name=new].headers.B"),
        ("remove", "remoteConfig.remoteMCPServers[name=old]"),
    ]


def test_a_first_write_adds_everything() -> None:
    assert lines(None, tree(kanbanEnabled=False)) == [
        ("add", "enabled"),
        ("add", "remoteConfig.version"),
        ("add", "remoteConfig.kanbanEnabled"),
    ]


def test_lists_without_usable_identities_change_as_a_whole() -> None:
    before = tree(allowedMCPServers=[{"id": "a"}, {"id": "a"}])
    after = tree(allowedMCPServers=[{"id": "a"}])
    assert lines(before, after) == [("change", "remoteConfig.allowedMCPServers")]


def test_replaying_the_diff_gives_the_desired_document() -> None:
    before = tree(
        providerSettings=provider([{"id": "a", "maxTokens": 1}, {"id": "gone"}], openAiHeaders={"X": "1"}),
        globalRules=[{"name": "r", "alwaysEnabled": True, "contents": "x"}],
    )
    after = tree(
        providerSettings={
            **provider([{"id": "a", "maxTokens": 2}, {"id": "new"}]),
            "AwsBedrock": {"awsRegion": "x"},
        },
        globalRules=[],
        telemetryEnabled=False,
    )
    assert same(apply_changes(before, diff(before, after)), after)
    assert same(apply_changes(None, diff(None, after)), after)


def test_values_are_equal_as_cline_sees_them_without_serialising() -> None:
    from clinesync.document import canonical_json

    pairs = [
        (1, 1.0),
        (True, 1),
        (0, False),
        ({"a": [1, 2]}, {"a": [2, 1]}),
        ({"models": [{"id": "a"}, {"id": "b"}]}, {"models": [{"id": "b"}, {"id": "a"}]}),
        ({"models": [{"id": "a"}, {"id": "a"}]}, {"models": [{"id": "a"}, {"id": "a"}]}),
        ({"x": None}, {}),
        ("1", 1),
        ([{"k": 1.5}], [{"k": 1.5}]),
    ]
    for left, right in pairs:
        assert same(left, right) == (canonical_json(left) == canonical_json(right)), (left, right)
