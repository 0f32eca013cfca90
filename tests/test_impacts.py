from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clinesync.diff import diff
from clinesync.plans.impacts import impacts


def tree(enabled: bool = True, **providers: Any) -> dict[str, Any]:
    return {"enabled": enabled, "remoteConfig": {"version": "v1", "providerSettings": providers}}


def impact_lines(before: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    return [impact.line for impact in impacts(before, after, diff(before, after), frozenset())]


def test_enabling_and_disabling() -> None:
    cline: dict[str, Any] = {"Cline": {}}
    assert impact_lines(tree(False, **cline), tree(True, **cline)) == [
        "enabling remote configuration locks every member to these providers",
        "provider Cline added: every member is forced onto it",
    ]
    # No provider block: Cline sets no configured providers and every member's own stays valid (utils.ts).
    assert impact_lines(tree(False), tree(True)) == [
        "enabling remote configuration: no provider is set, members keep their own"
    ]
    assert impact_lines(tree(True), tree(False))[0].startswith("disabling remote configuration unlocks")


def test_a_switched_off_document_gives_members_no_provider_until_it_is_switched_on() -> None:
    """SPEC §11: impact lines follow what members get, and a document switched off gives them nothing."""
    openai = {"openAiBaseUrl": "https://llm.corp.example.com/v1", "azureApiVersion": "2024-06-01"}
    off = impact_lines(None, tree(False, OpenAiCompatible=openai))
    assert off[0] == "remote configuration stays off: members get none of this"
    assert not any("forced onto it" in line or "locked for every member" in line for line in off)
    switched_on = impact_lines(tree(False, OpenAiCompatible=openai), tree(True, OpenAiCompatible=openai))
    assert switched_on[:2] == [
        "enabling remote configuration locks every member to these providers",
        "provider OpenAiCompatible added: every member is forced onto it",  # what they had: none
    ]
    # Endpoints as members reach them: a document kept off sends no one anywhere; one switched on sends every
    # member to each of its endpoints, changed by the plan or not.
    plain = {"openAiBaseUrl": "http://llm.corp.example.com/v1"}
    moved = {"openAiBaseUrl": "http://other.example.com/v1"}
    kept_off = impact_lines(tree(False, OpenAiCompatible=plain), tree(False, OpenAiCompatible=moved))
    assert not any("http://" in line or "moves from" in line for line in kept_off)
    on = impact_lines(tree(False, OpenAiCompatible=plain), tree(True, OpenAiCompatible=plain))
    assert (
        "remoteConfig.providerSettings.OpenAiCompatible.openAiBaseUrl is a plain http:// endpoint: traffic, code "
        "and credentials travel unencrypted" in on
    )


def test_a_created_document_names_each_plain_http_endpoint_once_also_in_a_list_added_whole() -> None:
    """A create adds the document leaf by leaf, except a list whose items have no usable identity (two
    servers of one name), added whole: its URLs are found inside it."""
    created = tree(True, OpenAiCompatible={"openAiBaseUrl": "http://llm.corp.example.com/v1"})
    servers = [
        {"name": "docs", "url": "http://a.example.com/sse"},
        {"name": "docs", "url": "http://b.example.com/sse"},
    ]
    created["remoteConfig"]["remoteMCPServers"] = servers
    plain = [line for line in impact_lines(None, created) if "plain http://" in line]
    assert plain == [
        "remoteConfig.providerSettings.OpenAiCompatible.openAiBaseUrl is a plain http:// endpoint: traffic, code "
        "and credentials travel unencrypted",
        *(
            f"remoteConfig.remoteMCPServers[{index}].url is a plain http:// endpoint: traffic, code and "
            "credentials travel unencrypted"
            for index in (0, 1)
        ),
    ]


def test_providers_added_and_removed_say_what_members_get() -> None:
    """As Cline's extension decides (clients.py): a member stays on a provider still configured, a new
    one lands on the last in Cline's order, and every configured one is selectable."""
    assert impact_lines(tree(Cline={}), tree(Vertex={"vertexRegion": "x"})) == [
        "provider Vertex added: every member is forced onto it",
        "provider Cline removed: members on it move to Vertex",
        "providerSettings.Vertex.vertexRegion is locked for every member: their own setting no longer counts",
    ]
    openai = {"openAiBaseUrl": "https://llm.corp.example.com/v1"}
    assert impact_lines(
        tree(OpenAiCompatible=openai),
        tree(OpenAiCompatible=openai, LiteLLM={"baseUrl": "https://l.example.com"}),
    ) == [
        "provider LiteLLM added: members may pick it, and new members land on it",
        "providerSettings.LiteLLM.baseUrl is locked for every member: their own setting no longer counts",
    ]
    assert impact_lines(
        tree(LiteLLM={"baseUrl": "https://l.example.com"}),
        tree(LiteLLM={"baseUrl": "https://l.example.com"}, OpenAiCompatible=openai),
    ) == [
        "provider OpenAiCompatible added: members may pick it",
        "providerSettings.OpenAiCompatible.openAiBaseUrl is locked for every member: their own setting no longer counts",
    ]
    assert impact_lines(tree(OpenAiCompatible=openai, Anthropic={}), tree(OpenAiCompatible=openai)) == [
        "provider Anthropic removed: members on it move to OpenAiCompatible"
    ]
    assert impact_lines(tree(OpenAiCompatible=openai), tree()) == [
        "provider OpenAiCompatible removed: members lose it and pick their own again",
        "providerSettings.OpenAiCompatible.openAiBaseUrl is unlocked: members choose it again",
    ]


OPENAI = {
    "openAiBaseUrl": "https://x.openai.azure.com/openai/deployments/gpt-4o",
    "azureApiVersion": "2024-06-01",
}


def with_config(**fields: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "remoteConfig": {"version": "v1", "providerSettings": {"OpenAiCompatible": OPENAI}, **fields},
    }


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (
            with_config(),
            with_config(
                providerSettings={"OpenAiCompatible": {**OPENAI, "openAiHeaders": {"X-Tenant": "a"}}}
            ),
            "providerSettings.OpenAiCompatible.openAiHeaders is locked for every member",
        ),
        (
            with_config(),
            with_config(providerSettings={"OpenAiCompatible": {**OPENAI, "azureApiVersion": "2025-01-01"}}),
            "providerSettings.OpenAiCompatible.azureApiVersion changes for every member (locked)",
        ),
        (with_config(), with_config(telemetryEnabled=False), "telemetryEnabled is locked for every member"),
        (
            with_config(),
            with_config(remoteMCPServers=[{"name": "docs", "url": "https://mcp.example.com"}]),
            "MCP server docs is added to every member's MCP settings (its name and URL only)",
        ),
        (
            with_config(),
            with_config(globalRules=[{"name": "Secure", "alwaysEnabled": False, "contents": "x"}]),
            "rule Secure reaches every member, on by default",
        ),
        (
            with_config(),
            with_config(globalWorkflows=[{"name": "Release", "alwaysEnabled": True, "contents": "x"}]),
            "workflow Release reaches every member, on and locked",
        ),
        (
            with_config(),
            with_config(
                openTelemetryEnabled=True,
                openTelemetryMetricsExporter="otlp",
                openTelemetryOtlpEndpoint="https://otel.example.com",
            ),
            "OpenTelemetry is switched on for every member",
        ),
        (
            with_config(),
            with_config(openTelemetryEnabled=True),
            "members see no change from remoteConfig.openTelemetryEnabled: no exporter can send",
        ),
        (with_config(), with_config(telemetryEnabled=True), "telemetryEnabled is locked for every member"),
        (
            with_config(),
            with_config(providerSettings={"OpenAiCompatible": {**OPENAI, "models": [{"id": "gpt-4o"}]}}),
            "members see no change from remoteConfig.providerSettings.OpenAiCompatible.models: no Cline client "
            "enforces or offers the model list",
        ),
        (
            with_config(),
            with_config(
                globalSkills=[{"name": "s", "alwaysEnabled": True, "contents": "---\nname: s\n---\nx"}]
            ),
            "skill s reaches every member, on and locked",  # not in the skills panel: no switch
        ),
        (
            with_config(),
            with_config(
                globalSkills=[
                    {
                        "name": "s",
                        "alwaysEnabled": True,
                        "contents": "---\nname: s\ndescription: d\ndisabled: true\n---\nx",
                    }
                ]
            ),
            "skill s reaches every member, off and locked",  # its own switch wins: never run
        ),
        (
            with_config(),
            with_config(globalSkills=[{"name": "s", "contents": "---\nname: s\ndescription: d\n---\n"}]),
            "members see no change from remoteConfig.globalSkills[name=s]: Cline's extension does not load "
            "the skill: it has no instructions after its front matter",
        ),
        (
            with_config(remoteMCPServers=[{"name": "docs", "url": "https://mcp.example.com"}]),
            {"enabled": False, "remoteConfig": {"version": "v1"}},
            "MCP server docs stays in members' MCP settings: Cline removes a server only while a configuration is on",
        ),
        (
            with_config(),
            with_config(kanbanEnabled=True),
            "members see no change from remoteConfig.kanbanEnabled",
        ),
        (
            with_config(),
            with_config(allowedMCPServers=[{"id": "github"}]),
            "members' local MCP servers: only those named github",
        ),
    ],
)
def test_every_change_members_see_has_an_impact_line_and_one_they_do_not_says_so(
    before: dict[str, Any], after: dict[str, Any], expected: str
) -> None:
    lines = impact_lines(before, after)
    assert any(line.startswith(expected) for line in lines), lines


def test_uploads_switched_off_but_configured_still_reach_members() -> None:
    uploading = {"type": "s3_access_keys", "s3AccessSettings": {"bucket": "b", "region": "r"}}
    before = with_config(enterpriseTelemetry={"promptUploading": {**uploading, "enabled": True}})
    after = with_config(enterpriseTelemetry={"promptUploading": {**uploading, "enabled": False}})
    lines = impact_lines(before, after)
    assert not any(
        line.startswith("prompt uploading stops") for line in lines
    )  # the extension ignores enabled
    assert (
        "the prompt-upload bucket and its keys reach every member's machine; no prompt is uploaded "
        "(enabled is not true)"
    ) in lines
    assert impact_lines(after, before)[-1].endswith(
        "the command-line client uploads every session's prompts (the extension none)"
    )


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
        "azureIdentity switched on: locked, but Cline's runtime obtains no Entra ID token (Cline 2026-08): "
        "members' requests carry their own API key, or none",
        "members see no change from remoteConfig.providerSettings.OpenAiCompatible.azureIdentity: Cline's runtime "
        "obtains no Entra ID token: members' requests carry their own API key, or none (Cline 2026-08)",
    ]


def test_each_impact_has_a_class_and_a_plan_lists_its_organizations_classes() -> None:
    from clinesync.plans.impacts import CLASSES, classes

    before = tree(
        OpenAiCompatible={"openAiBaseUrl": "https://a.example.com/v1", "openAiHeaders": {"X-Team": "a"}}
    )
    after = tree(
        OpenAiCompatible={
            "openAiBaseUrl": "https://b.example.com/v1",
            "openAiHeaders": {"X-Team": "a", "Authorization": "Bearer x"},
        },
    )
    after["remoteConfig"]["remoteMCPServers"] = [{"name": "docs", "url": "https://mcp.example.com"}]
    after["remoteConfig"]["globalRules"] = [{"name": "style", "contents": "be brief", "alwaysEnabled": True}]
    after["remoteConfig"]["openTelemetryEnabled"] = True
    found = impacts(before, after, diff(before, after), frozenset())
    assert {impact.kind for impact in found} <= set(CLASSES)
    by_class = {kind: [impact.line for impact in found if impact.kind == kind] for kind in CLASSES}
    assert by_class["endpoint-host"] == [
        "remoteConfig.providerSettings.OpenAiCompatible.openAiBaseUrl moves from a.example.com to b.example.com: "
        "requests and code go elsewhere"
    ]
    assert by_class["credentials"] == [
        "credential remoteConfig.providerSettings.OpenAiCompatible.openAiHeaders.Authorization is set"
    ]
    assert by_class["mcp"] and by_class["instructions"] and by_class["telemetry"]
    assert classes(found) == ["provider", "endpoint-host", "credentials", "mcp", "instructions", "telemetry"]
    assert by_class["provider"] == [
        "providerSettings.OpenAiCompatible.openAiHeaders changes for every member (locked)"
    ]
    assert classes(impacts(tree(False), tree(True), diff(tree(False), tree(True)), frozenset())) == [
        "enablement"
    ]


def test_a_credential_from_the_environment_or_by_its_name_is_set_changed_or_removed() -> None:
    header = ("remoteConfig", "providerSettings", "OpenAiCompatible", "openAiHeaders", "X-Gateway")
    with_header = tree(
        OpenAiCompatible={"openAiBaseUrl": "https://a.example.com", "openAiHeaders": {"X-Gateway": "1"}}
    )
    without = tree(OpenAiCompatible={"openAiBaseUrl": "https://a.example.com"})
    changed = tree(
        OpenAiCompatible={"openAiBaseUrl": "https://a.example.com", "openAiHeaders": {"X-Gateway": "2"}}
    )

    def credential_lines(before: dict[str, Any], after: dict[str, Any], secret: frozenset[Any]) -> list[str]:
        return [
            i.line for i in impacts(before, after, diff(before, after), secret) if i.kind == "credentials"
        ]

    assert credential_lines(without, with_header, frozenset()) == []  # a plain header, written in the file
    where = "remoteConfig.providerSettings.OpenAiCompatible.openAiHeaders.X-Gateway"
    assert credential_lines(without, with_header, frozenset({header})) == [f"credential {where} is set"]
    assert credential_lines(with_header, changed, frozenset({header})) == [f"credential {where} changes"]
    bedrock = {"awsRegion": "us-east-1", "secretAccessKey": "s"}
    assert credential_lines(tree(AwsBedrock=bedrock), tree(), frozenset()) == [
        "credential remoteConfig.providerSettings.AwsBedrock.secretAccessKey is removed"
    ]


def test_plan_json_lists_each_organizations_impact_classes_and_a_saved_plan_keeps_them(in_tmp: Any) -> None:
    import json

    from support import run, write

    write(
        in_tmp / "org.yaml",
        "organization: org-01JZPE4CHW5XTP73W95762121Y\nenabled: true\nremoteConfig:\n  version: v1\n"
        "  providerSettings:\n    OpenAiCompatible:\n      openAiBaseUrl: https://llm.corp.example.com/v1\n"
        "      openAiHeaders:\n        api-key: ${env:KEY}\n",
    )
    planned = run("plan", "org.yaml", "--format", "json", "--out", "p.plan", env={"KEY": "k-planted-1234"})
    entry = json.loads(planned.stdout)["organizations"][0]
    assert entry["classes"] == ["enablement", "provider", "credentials"]
    shown = json.loads(run("show", "p.plan", "--format", "json").stdout)["organizations"][0]
    assert shown["classes"] == entry["classes"]
    assert "k-planted-1234" not in planned.output + Path("p.plan").read_text()


def test_a_url_from_the_environment_that_changes_is_a_credentials_impact() -> None:
    url = ("remoteConfig", "providerSettings", "OpenAiCompatible", "openAiBaseUrl")
    before = tree(OpenAiCompatible={"openAiBaseUrl": "https://gw.example.com/v1?key=a"})
    after = tree(OpenAiCompatible={"openAiBaseUrl": "https://gw.example.com/v1?key=b"})
    found = impacts(before, after, diff(before, after), frozenset({url}))
    assert [impact.line for impact in found if impact.kind == "credentials"] == [
        "remoteConfig.providerSettings.OpenAiCompatible.openAiBaseUrl, from the environment, changes with any "
        "credential it holds"
    ]


def test_a_part_no_client_applies_is_said_once_however_many_of_its_changes() -> None:
    from clinesync.clients import extension_view
    from clinesync.plans.impacts import _not_applied

    models = [{"id": f"m{number}", "maxTokens": 1000 + number} for number in range(3)]
    before, after = (
        with_config(),
        with_config(providerSettings={"OpenAiCompatible": {**OPENAI, "models": models}}),
    )
    changes = diff(before, after)
    assert len(changes) == 3  # each model's maxTokens, leaf by leaf
    views = [extension_view(tree, lambda value, _path: value) for tree in (before, after)]
    assert [impact.line for impact in _not_applied(changes, *views)] == [
        "members see no change from remoteConfig.providerSettings.OpenAiCompatible.models: no Cline client "
        "enforces or offers the model list: members pick any model the endpoint serves (Cline 2026-08)"
    ]
