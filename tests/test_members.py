"""What members get (SPEC §11): the model of Cline's clients on Cline's own payloads, with the member states
written from Cline's code (clients.py names each file, as of Cline 2026-08), and the member preview
through the CLI in every format, secrets masked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clinesync.clients import member_views

from support import EXAMPLES, FILES, cline_remote_configs, run, write

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
SECRET = "planted-member-secret-7c3e"


def shown(value: Any, _path: Any) -> Any:
    return value


def views(config: dict[str, Any], enabled: bool = True) -> dict[str, Any]:
    return member_views({"enabled": enabled, "remoteConfig": config}, shown)


def test_the_recorded_production_payload() -> None:
    extension, cli = views(cline_remote_configs()["recorded-production-remote-config-response"]).values()
    # providerSettings: {} restricts nothing (utils.ts); telemetryEnabled shadows the member's own setting
    # (StateManager.ts reads remote settings first), true as well as false.
    assert (extension["provider"], extension["selectable"]) == (None, "any")
    assert extension["locked"] == [{"setting": "telemetryEnabled", "value": True}]
    # Sent only where the editor's own telemetry is on as well (sdk-telemetry.ts).
    assert extension["telemetry"] == {
        "telemetry": "on where the editor's telemetry is on",
        "openTelemetry": "off",
    }
    # The extension hands the bucket's keys to its worker and queues no prompt (vscode-session-host.ts).
    assert extension["uploads"] == {
        "type": "s3_access_keys",
        "enabledFlag": True,
        "prompts": "none queued",
        "bucketKeys": "on members' machines",
    }
    assert extension["notApplied"] == [
        {"path": "remoteConfig.yoloModeAllowed", "reason": "no Cline client reads yoloModeAllowed"}
    ]
    # The command-line client (enterprise.ts): no provider, MCP or telemetry switch; uploads with enabled: true.
    assert cli["uploads"] == {"type": "s3_access_keys", "enabledFlag": True, "prompts": "uploaded"}
    assert {entry["path"] for entry in cli["notApplied"]} >= {
        "remoteConfig.telemetryEnabled",
        "remoteConfig.mcpMarketplaceEnabled",
    }


def test_rules_workflows_skills_and_mcp_of_clines_contract_payload() -> None:
    extension, cli = views(cline_remote_configs()["organization-remote-config-response"]).values()
    assert extension["instructions"] == {
        "rules": [{"name": "Fetched Rule", "default": "on", "locked": False}],
        "workflows": [{"name": "Fetched Workflow", "default": "on", "locked": True}],
        # No description: the runtime loads it all the same (user-instruction-config-loader.ts), and the
        # skills panel does not list it (skills.ts): on, with no switch for members.
        "skills": [{"name": "Fetched Skill", "default": "on", "locked": True}],
    }
    assert extension["mcpServers"] == {
        "written": [{"name": "managed", "url": "https://mcp.example.test"}],
        "localServers": "any",
        "personalRemoteServers": "blocked",
    }
    not_applied = {entry["path"] for entry in extension["notApplied"]}
    assert not_applied == {"remoteConfig.remoteMCPServers[name=managed].alwaysEnabled"}
    assert cli["instructions"]["skills"] == [] and cli["mcpServers"]["written"] == []
    assert "remoteConfig.globalSkills[name=Fetched Skill]" in {entry["path"] for entry in cli["notApplied"]}


def test_the_allowlist_is_matched_against_local_server_names() -> None:
    extension = views(cline_remote_configs()["user-remote-config-discovery"])["extension"]
    # McpHub.ts compares each local server's name with the ids: a GitHub URL names no local server.
    assert extension["mcpServers"]["localServers"] == {
        "onlyNamed": ["https://github.com/example/contract-mcp"]
    }
    # openTelemetryEnabled with no exporter named: otel-config.ts exports nothing.
    assert extension["telemetry"]["openTelemetry"] == "off"
    assert "remoteConfig.openTelemetryEnabled" in {entry["path"] for entry in extension["notApplied"]}
    # otlp needs an endpoint; the command-line client's runtime reads the general one only
    # (OpenTelemetryClientProvider.ts, OpenTelemetryProvider.ts); console needs none.
    otlp = {"version": "v1", "openTelemetryEnabled": True, "openTelemetryLogsExporter": "otlp"}
    for extra, extension_on, cli_on in (
        ({}, False, False),
        ({"openTelemetryOtlpLogsEndpoint": "https://otel.example.com"}, True, False),
        ({"openTelemetryOtlpEndpoint": "https://otel.example.com"}, True, True),
        ({"openTelemetryLogsExporter": "console"}, True, True),
    ):
        exported = views({**otlp, **extra})
        assert (exported["extension"]["telemetry"]["openTelemetry"] == "on") is extension_on, extra
        assert (exported["cli"]["telemetry"]["openTelemetry"] != "off") is cli_on, extra
        assert (
            "remoteConfig.openTelemetryEnabled" in {e["path"] for e in exported["cli"]["notApplied"]}
        ) is not cli_on
    blocked = views({"version": "v1", "mcpMarketplaceEnabled": False})["extension"]
    assert blocked["mcpServers"]["localServers"] == "none"


def test_several_providers_new_members_land_on_the_last_in_clines_order() -> None:
    extension = views(
        {
            "version": "v1",
            "providerSettings": {
                "LiteLLM": {"baseUrl": "https://litellm.example.com", "models": [{"id": "m"}]},
                "OpenAiCompatible": {
                    "openAiBaseUrl": "https://llm.example.com/v1",
                    "azureApiVersion": "2024-06-01",
                },
            },
        }
    )["extension"]
    assert extension["provider"] == {"newMembers": "litellm", "membersOnOneOfThemStay": ["openai", "litellm"]}
    assert [entry["setting"] for entry in extension["locked"]] == [
        "providerSettings.OpenAiCompatible.openAiBaseUrl",
        "providerSettings.OpenAiCompatible.azureApiVersion",
        "providerSettings.LiteLLM.baseUrl",
    ]
    assert "remoteConfig.providerSettings.LiteLLM.models" in {
        entry["path"] for entry in extension["notApplied"]
    }


def test_switched_off_or_absent_configuration_leaves_members_unmanaged() -> None:
    for tree in (None, {"enabled": False, "remoteConfig": {"version": "v1", "telemetryEnabled": False}}):
        for view in member_views(tree, shown).values():
            assert view["selectable"] == "any" and view["locked"] == [] and view["notApplied"] == []
    # Switched off, Cline clears its copy but leaves the MCP servers it wrote (sdk-refresh.ts, utils.ts).
    off = member_views({"enabled": False, "remoteConfig": {"version": "v1"}}, shown)["extension"]
    assert off["mcpServers"]["earlierServers"].startswith("stay")
    assert "earlierServers" not in member_views(None, shown)["extension"]["mcpServers"]


def test_skills_as_the_extensions_runtime_and_its_panel_read_them() -> None:
    def skill(front: str, body: str = "Do the thing.") -> dict[str, Any]:
        return {"name": "s", "contents": f"---\nname: s\n{front}---\n{body}"}

    def reading(*skills: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
        extension = views({"version": "v1", "globalSkills": list(skills)})["extension"]
        return extension["instructions"]["skills"], [entry["reason"] for entry in extension["notApplied"]]

    assert reading(skill("description: when to use it\n")) == (
        [{"name": "s", "default": "on", "locked": False}],
        [],
    )
    assert reading(skill("description: yes\n"))[0][0]["locked"] is False  # YAML 1.2: text, as Cline reads it
    # Its own switch: `disabled` first, `enabled` only without it (user-instruction-config-loader.ts).
    assert reading(skill("description: when\ndisabled: true\n"))[0] == [
        {"name": "s", "default": "off", "locked": True}
    ]
    assert reading(skill("description: when\ndisabled: false\nenabled: false\n"))[0][0]["default"] == "on"
    assert reading(skill("description: when\ndisabled: true\nenabled: maybe\n"))[0][0]["default"] == "off"
    assert reading(skill("description: !!str 123\n"))[0][0]["locked"] is False  # tagged: text
    assert reading(skill("description: 0b101\n"))[0][0]["locked"] is True  # the panel's YAML: a number
    unnamed = views(
        {"version": "v1", "globalSkills": [{"name": "", "contents": "---\nname: ''\ndescription: d\n---\nx"}]}
    )
    assert unnamed["extension"]["instructions"]["skills"] == [{"name": "", "default": "on", "locked": True}]
    for front, body, why in (
        ("description: 42\n", "Do it.", "its front matter's description is not text"),
        ("description: when\n", "  \n", "it has no instructions after its front matter"),
        (
            "description: [a\n",
            "Do it.",
            "its front matter is not YAML that Cline reads (a key twice, or not YAML)",
        ),
        (
            "description: a\ndescription: b\n",
            "Do it.",
            "its front matter is not YAML that Cline reads (a key twice, or not YAML)",
        ),
        ("description: when\n", "\ufeff \n", "it has no instructions after its front matter"),
        ("description: when\nenabled: maybe\n", "Do it.", "its front matter's enabled is not true or false"),
    ):
        skills, reasons = reading(skill(front, body))
        assert skills == [] and reasons == [f"Cline's extension does not load the skill: {why}"]


def test_uploads_need_the_settings_of_their_type() -> None:
    config = cline_remote_configs()["cached-remote-config-org"]
    settings = config["enterpriseTelemetry"]["promptUploading"].pop("s3AccessSettings")
    config["enterpriseTelemetry"]["promptUploading"]["r2AccessSettings"] = settings
    extension, cli = views(config).values()
    assert extension["uploads"] == cli["uploads"] == "off"  # utils.ts, blob-storage.ts: no bucket taken
    assert (
        "its type s3_access_keys has no settings of its own beside it"
        in extension["notApplied"][-1]["reason"]
    )


def test_uploads_switched_off_still_reach_the_extensions_worker() -> None:
    config = cline_remote_configs()["cached-remote-config-org"]
    config["enterpriseTelemetry"]["promptUploading"]["enabled"] = False
    extension, cli = views(config).values()
    assert extension["uploads"] == {
        "type": "s3_access_keys",
        "enabledFlag": False,
        "prompts": "none queued",
        "bucketKeys": "on members' machines",
    }  # utils.ts ignores enabled
    assert cli["uploads"] == "off"  # blob-storage.ts uploads only with enabled: true


FILE = f"""\
organization: {ORG}
remoteConfig:
  providerSettings:
    OpenAiCompatible:
      openAiBaseUrl: https://llm.corp.example.com/v1
      openAiHeaders:
        api-key: ${{env:KEY}}
      models: [{{id: gpt-4o}}]
  telemetryEnabled: false
"""


@pytest.mark.parametrize("output_format", ["text", "markdown", "json"])
def test_plan_show_and_drift_say_what_members_get_secrets_masked(in_tmp: Path, output_format: str) -> None:
    write(in_tmp / "org.yaml", FILE)
    env = {"KEY": SECRET}
    outputs = []
    for command in (
        ("plan", "org.yaml", "--members", "--out", "reviewed.plan"),
        ("show", "reviewed.plan", "--members"),
        ("drift", "org.yaml", "--members"),
    ):
        result = run(*command, "--format", output_format, env=env)
        assert result.exit_code in (0, 2), result.output
        outputs.append(result.stdout)
    for text in outputs:
        assert SECRET not in text
        if output_format == "json":
            [org] = json.loads(text)["organizations"]
            after = org["members"]["after"]["extension"]
            assert after["provider"] == {"newMembers": "openai", "membersOnOneOfThemStay": ["openai"]}
            assert {
                "setting": "providerSettings.OpenAiCompatible.openAiHeaders",
                "value": {"api-key": "(sensitive)"},
            } in after["locked"]
            assert org["members"]["before"]["extension"]["selectable"] == "any"
        else:
            assert "members (Cline 2026-08):" in text
            assert "remoteConfig.providerSettings.OpenAiCompatible.models: no Cline client enforces" in text
    assert SECRET not in (in_tmp / "reviewed.plan").read_text()


def test_json_always_carries_the_member_view(in_tmp: Path) -> None:
    write(in_tmp / "org.yaml", FILE)
    [org] = json.loads(run("plan", "org.yaml", "--format", "json", env={"KEY": SECRET}).stdout)[
        "organizations"
    ]
    assert set(org["members"]) == {"before", "after"} and set(org["members"]["after"]) == {"extension", "cli"}
    assert set(org["members"]["after"]["cli"]) == {
        "provider",
        "selectable",
        "locked",
        "mcpServers",
        "instructions",
        "telemetry",
        "uploads",
        "notApplied",
    }


def test_an_unset_variable_in_mcp_settings_names_both_readings(in_tmp: Path) -> None:
    write(
        in_tmp / "org.yaml",
        f"organization: {ORG}\nremoteConfig:\n  remoteMCPServers:\n    - name: docs\n"
        "      url: https://mcp.example.com/${env:MEMBER_TENANT}/sse\n",
    )
    validated = run("validate", "org.yaml")
    assert "[CS184]" in validated.stdout and "$${env:MEMBER_TENANT}" in validated.stdout
    planned = run("plan", "org.yaml")
    assert planned.exit_code == 1
    assert (
        "environment variable MEMBER_TENANT is not set (or is empty); or, for a value each member's Cline expands"
        in planned.output
    )
    write(in_tmp / "org.yaml", (in_tmp / "org.yaml").read_text().replace("${env:", "$${env:"))
    shipped = run("plan", "org.yaml", "--format", "json")
    assert shipped.exit_code == 0 and "[CS184]" not in shipped.output
    [org] = json.loads(shipped.stdout)["organizations"]
    [server] = org["members"]["after"]["extension"]["mcpServers"]["written"]
    assert server["url"] == "https://mcp.example.com/${env:MEMBER_TENANT}/sse"  # the reference, for members


@pytest.mark.parametrize(
    "path",
    sorted(EXAMPLES.glob("*.yaml")) + sorted((FILES / "valid").glob("*.yaml")),
    ids=lambda path: path.stem,
)
def test_every_example_and_valid_file_has_a_member_view_that_follows_its_providers(path: Path) -> None:
    """The model on every example and valid file: members may pick exactly the configured providers and new
    ones land on the last in Cline's order; every locked setting is a field the file sets."""
    import yaml

    from clinesync.clients import configured_providers, provider_id

    data = yaml.safe_load(path.read_text())
    tree = {"enabled": data.get("enabled", True), "remoteConfig": data.get("remoteConfig") or {}}
    extension, cli = member_views(tree, shown).values()
    configured = configured_providers(tree)
    assert extension["selectable"] == ([provider_id(name) for name in configured] or "any")
    if configured:
        assert extension["provider"]["newMembers"] == provider_id(configured[-1])
    settings = tree["remoteConfig"].get("providerSettings") or {}
    for entry in extension["locked"]:
        *where, field = entry["setting"].split(".")
        holder = settings[where[1]] if where else tree["remoteConfig"]
        assert field in holder
    assert cli["provider"] is None and cli["locked"] == []  # the command-line client applies no provider


def test_an_mcp_server_url_from_the_environment_never_shows_in_the_member_view(in_tmp: Path) -> None:
    write(
        in_tmp / "org.yaml",
        f"organization: {ORG}\nremoteConfig:\n  remoteMCPServers:\n    - name: docs\n"
        "      url: https://mcp.example.com/sse?token=${env:TOK}\n",
    )
    assert run("apply", "org.yaml", "--auto-approve", env={"TOK": "old-mcp-token-1111"}).exit_code == 0
    for output_format in ("text", "json", "markdown"):
        result = run(
            "plan", "org.yaml", "--members", "--format", output_format, env={"TOK": "new-mcp-token-2222"}
        )
        assert "mcp-token" not in result.output, output_format
        assert "MCP server docs changes in every member's MCP settings" in result.output


@pytest.mark.parametrize("enabled", [True, False])
def test_the_extensions_view_alone_is_the_one_of_both_clients(enabled: bool) -> None:
    from clinesync.clients import extension_view

    for name, config in cline_remote_configs().items():
        tree = {"enabled": enabled, "remoteConfig": config}
        assert extension_view(tree, shown) == member_views(tree, shown)["extension"], name
    for odd in (None, {}, {"enabled": True}, {"enabled": True, "remoteConfig": "not a mapping"}):
        assert extension_view(odd, shown) == member_views(odd, shown)["extension"], odd


GATEWAY_ORG = f"""\
organization: {ORG}
remoteConfig:
  providerSettings:
    OpenAiCompatible:
      openAiBaseUrl: https://gw.corp.example.com/v1
      openAiHeaders:
        X-Region: eu-west
        api-key: ${{env:KEY}}
  remoteMCPServers:
    - name: search
      url: https://mcp.corp.example.com/search
"""


def test_a_part_members_keep_reads_as_kept_though_live_values_are_masked(in_tmp: Path) -> None:
    """Live header values are hidden and the file's literal ones are not: the same headers must not read as a
    change of what members are locked to, where only an MCP server's address changes."""
    write(in_tmp / "org.yaml", GATEWAY_ORG)
    env = {"KEY": SECRET}
    assert run("apply", "org.yaml", "--auto-approve", env=env).exit_code == 0
    write(in_tmp / "org.yaml", GATEWAY_ORG.replace("/search\n", "/search2\n"))
    text = run("plan", "org.yaml", "--members", env=env).stdout
    assert "    = locked: " in text and "    ~ locked: " not in text, text
    assert "    ~ mcpServers: " in text
    [org] = json.loads(run("plan", "org.yaml", "--format", "json", env=env).stdout)["organizations"]
    before, after = (org["members"][side]["extension"]["locked"] for side in ("before", "after"))
    assert before == after
    assert {"X-Region": "eu-west", "api-key": "(sensitive)"} in [item["value"] for item in after]
    assert SECRET not in text + json.dumps(org)
    # A header that does change still reads as one, its live value hidden.
    write(in_tmp / "org.yaml", GATEWAY_ORG.replace("eu-west", "eu-north"))
    text = run("plan", "org.yaml", "--members", env=env).stdout
    assert "    ~ locked: " in text and '"X-Region": "(sensitive)"' in text and "eu-west" not in text
