"""Unmanaged paths inside identity lists: a field of one list item, or a whole item, is carried from live into
what apply writes, whatever the file says; absent live, it is absent in what apply writes."""

from __future__ import annotations

from typing import Any

from clinesync.fields import parse_dotted
from clinesync.plans.unmanaged import keep_unmanaged

MODELS = "remoteConfig.providerSettings.OpenAiCompatible.models"


def config(*models: dict[str, Any]) -> dict[str, Any]:
    return {"remoteConfig": {"providerSettings": {"OpenAiCompatible": {"models": list(models)}}}}


def models(tree: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = tree["remoteConfig"]["providerSettings"]["OpenAiCompatible"]["models"]
    return result


def test_a_field_of_one_item_keeps_its_live_value() -> None:
    target = config({"id": "gpt-4o", "maxTokens": 8192}, {"id": "o3", "maxTokens": 1})
    live = config({"id": "gpt-4o", "maxTokens": 16384}, {"id": "o3", "maxTokens": 2})
    kept = keep_unmanaged(target, live, (parse_dotted(f"{MODELS}[id=gpt-4o].maxTokens"),))
    assert models(kept) == [{"id": "gpt-4o", "maxTokens": 16384}, {"id": "o3", "maxTokens": 1}]
    assert models(target)[0]["maxTokens"] == 8192  # a copy: the desired document is not changed


def test_a_field_live_does_not_have_is_left_out_of_what_apply_writes() -> None:
    target = config({"id": "gpt-4o", "maxTokens": 8192})
    kept = keep_unmanaged(target, config({"id": "gpt-4o"}), (parse_dotted(f"{MODELS}[id=gpt-4o].maxTokens"),))
    assert models(kept) == [{"id": "gpt-4o"}]


def test_a_whole_item_is_taken_from_live_added_or_removed_with_it() -> None:
    path = (parse_dotted(f"{MODELS}[id=o3]"),)
    live = config({"id": "gpt-4o"}, {"id": "o3", "contextWindow": 200000})
    # The file leaves it out: live's item stays.
    assert models(keep_unmanaged(config({"id": "gpt-4o"}), live, path))[-1] == {
        "id": "o3",
        "contextWindow": 200000,
    }
    # The file says otherwise: live's wins.
    said = config({"id": "gpt-4o"}, {"id": "o3", "contextWindow": 1})
    assert {"id": "o3", "contextWindow": 200000} in models(keep_unmanaged(said, live, path))
    # Live has none: none is written, whatever the file says.
    assert models(keep_unmanaged(said, config({"id": "gpt-4o"}), path)) == [{"id": "gpt-4o"}]


def test_a_live_item_under_a_list_the_file_does_not_have_is_made_where_it_goes() -> None:
    live = config({"id": "o3", "contextWindow": 200000})
    kept = keep_unmanaged({"remoteConfig": {}}, live, (parse_dotted(f"{MODELS}[id=o3].contextWindow"),))
    assert models(kept) == [{"id": "o3", "contextWindow": 200000}]
    assert keep_unmanaged({"remoteConfig": {}}, None, (parse_dotted(f"{MODELS}[id=o3]"),)) == {
        "remoteConfig": {}
    }
