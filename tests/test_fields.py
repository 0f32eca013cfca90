"""Plain-data helpers shared by the loader, resolution and plans."""

from __future__ import annotations

from clinesync.fields import replaced


def test_replaced_copies_only_what_leads_to_a_new_value_and_leaves_the_tree_as_it_was() -> None:
    headers = {"api-key": "${env:KEY}", "X-Tenant-Id": "acme"}
    models = [{"id": "gpt-4o"}, {"id": "o3"}]
    tree = {"providerSettings": {"OpenAiCompatible": {"openAiHeaders": headers, "models": models}}}
    made = replaced(
        tree,
        {
            ("providerSettings", "OpenAiCompatible", "openAiHeaders", "api-key"): "k",
            ("providerSettings", "OpenAiCompatible", "models", 1, "id"): "o4",
        },
    )
    settings = made["providerSettings"]["OpenAiCompatible"]
    assert settings["openAiHeaders"] == {"api-key": "k", "X-Tenant-Id": "acme"}
    assert settings["models"] == [{"id": "gpt-4o"}, {"id": "o4"}]
    assert settings["models"][0] is models[0]  # what no new value is under is shared
    assert headers["api-key"] == "${env:KEY}" and models[1] == {"id": "o3"}  # the tree as it was
    assert replaced(tree, {}) is tree
