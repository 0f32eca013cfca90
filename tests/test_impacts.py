from __future__ import annotations

from typing import Any

from clinesync.diff import diff
from clinesync.plans.impacts import impacts


def tree(enabled: bool = True, **providers: Any) -> dict[str, Any]:
    return {"enabled": enabled, "remoteConfig": {"version": "v1", "providerSettings": providers}}


def impact_lines(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    return impacts(before, after, diff(before, after), frozenset())


def test_enabling_and_disabling() -> None:
    assert impact_lines(tree(False), tree(True)) == [
        "enabling remote configuration locks every member to these providers"
    ]
    assert impact_lines(tree(True), tree(False))[0].startswith("disabling remote configuration unlocks")


def test_providers_added_and_removed_say_what_members_get() -> None:
    """As Cline's extension decides (clients.py): a member stays on a provider still configured, a new
    one lands on the last in Cline's order, and every configured one is selectable."""
    assert impact_lines(tree(Cline={}), tree(Vertex={"vertexRegion": "x"})) == [
        "provider Vertex added: every member is forced onto it",
        "provider Cline removed: members on it move to Vertex",
    ]
    openai = {"openAiBaseUrl": "https://llm.corp.example.com/v1"}
    assert impact_lines(
        tree(OpenAiCompatible=openai),
        tree(OpenAiCompatible=openai, LiteLLM={"baseUrl": "https://l.example.com"}),
    ) == ["provider LiteLLM added: members may pick it, and new members land on it"]
    assert impact_lines(
        tree(LiteLLM={"baseUrl": "https://l.example.com"}),
        tree(LiteLLM={"baseUrl": "https://l.example.com"}, OpenAiCompatible=openai),
    ) == ["provider OpenAiCompatible added: members may pick it"]
    assert impact_lines(tree(OpenAiCompatible=openai, Anthropic={}), tree(OpenAiCompatible=openai)) == [
        "provider Anthropic removed: members on it move to OpenAiCompatible"
    ]
    assert impact_lines(tree(OpenAiCompatible=openai), tree()) == [
        "provider OpenAiCompatible removed: members lose it and pick their own again"
    ]


def test_a_base_url_moving_host_and_plain_http() -> None:
    before = tree(OpenAiCompatible={"openAiBaseUrl": "https://a.example.com/v1"})
    after = tree(OpenAiCompatible={"openAiBaseUrl": "http://b.example.com/v1"})
    assert impact_lines(before, after) == [
        "remoteConfig.providerSettings.OpenAiCompatible.openAiBaseUrl moves from a.example.com to b.example.com: "
        "requests and code go elsewhere",
        "remoteConfig.providerSettings.OpenAiCompatible.openAiBaseUrl is a plain http:// endpoint: traffic, code and "
        "credentials travel unencrypted",
    ]


def test_same_host_is_not_an_impact() -> None:
    before = tree(OpenAiCompatible={"openAiBaseUrl": "https://a.example.com/v1"})
    after = tree(OpenAiCompatible={"openAiBaseUrl": "https://a.example.com/v2"})
    assert impact_lines(before, after) == []


def test_azure_identity_switched() -> None:
    before = tree(OpenAiCompatible={"openAiBaseUrl": "https://x.openai.azure.com", "azureIdentity": False})
    after = tree(OpenAiCompatible={"openAiBaseUrl": "https://x.openai.azure.com", "azureIdentity": True})
    assert impact_lines(before, after) == [
        "Azure identity authentication switched on: members sign in with Entra ID instead of an API key"
    ]
