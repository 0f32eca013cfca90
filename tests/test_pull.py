"""`clinesync pull`: console edits written back into the files that set them, comments kept, never a secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import support
from support import run, write

SECRET = "sk-planted-pull-5e2d"
EDITED_SECRET = "sk-console-edited-91ab"
ENV = {"KEY": SECRET}
BASE = """\
# The shared gateway: every team's endpoint.
remoteConfig:
  version: v1
  providerSettings:
    OpenAiCompatible:
      openAiBaseUrl: https://gw.corp.example.com/v1  # the gateway
      openAiHeaders:
        api-key: ${env:KEY}
      models:
        - id: gpt-4o
  telemetryEnabled: true
"""


def org_text(index: int) -> str:
    return f"""\
# Team {index}
organization: org-team{index}
extends: [../bases/azure.yaml]
enabled: true
remoteConfig:
  mcpMarketplaceEnabled: false  # off for now
"""


@pytest.fixture
def fleet(in_tmp: Path) -> Path:
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\n")
    write(in_tmp / "bases" / "azure.yaml", BASE)
    for index in range(3):
        write(in_tmp / "orgs" / f"t{index}.yaml", org_text(index))
    assert run("apply", "--auto-approve", env=ENV).exit_code == 0
    return in_tmp


def edit_live(organization: str, change: Callable[[dict[str, Any]], None]) -> None:
    """An admin's edit in the console."""
    from clinesync.consoles.local import LocalConsole

    console = LocalConsole(Path(".clinesync/console.db"))
    try:
        support.edit_live(console, organization, change)
    finally:
        console.close()


def provider(config: dict[str, Any]) -> dict[str, Any]:
    return dict(config["providerSettings"]["OpenAiCompatible"])


def test_an_edit_every_organization_shares_goes_into_the_base_and_one_of_its_own_into_its_file(
    fleet: Path,
) -> None:
    for index in range(3):
        edit_live(f"org-team{index}", lambda config: config.update(telemetryEnabled=False))
    edit_live("org-team0", lambda config: config.update(mcpMarketplaceEnabled=True))
    edit_live(
        "org-team1",
        lambda config: config["providerSettings"]["OpenAiCompatible"].update(
            openAiBaseUrl="https://eu.corp.example.com/v1"
        ),
    )
    result = run("pull", env=ENV)
    assert result.exit_code == 2, result.output
    assert "remoteConfig.telemetryEnabled: written to bases/azure.yaml" in result.stdout
    base = (fleet / "bases" / "azure.yaml").read_text()
    assert base == BASE.replace("telemetryEnabled: true", "telemetryEnabled: false")  # comments as they were
    assert (fleet / "orgs" / "t0.yaml").read_text() == org_text(0).replace(
        "mcpMarketplaceEnabled: false  # off for now", "mcpMarketplaceEnabled: true   # off for now"
    )
    # One organization's base URL differs: an override in its own file; the others keep the base's.
    team1 = (fleet / "orgs" / "t1.yaml").read_text()
    assert team1.startswith(org_text(1))
    assert "      openAiBaseUrl: https://eu.corp.example.com/v1\n" in team1
    assert "an override of its base, which others keep" in result.stdout
    assert "gw.corp.example.com" in base
    # The files now say what live holds: nothing drifts.
    assert run("drift", env=ENV).exit_code == 0
    assert run("pull", env=ENV).exit_code == 0


def test_an_organization_that_deletes_a_base_item_is_not_one_an_edit_of_that_item_reaches(
    in_tmp: Path,
) -> None:
    """docs/rollouts.md: a value goes into the base when every organization the edit would reach agrees; one
    whose file deletes the item (`$patch: delete`) is not reached, so it does not keep the others apart."""
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\n")
    base = BASE.replace(
        "        - id: gpt-4o\n",
        "        - id: gpt-4o\n        - id: o1-preview\n          contextWindow: 128000\n",
    )
    write(in_tmp / "bases" / "azure.yaml", base)
    write(
        in_tmp / "orgs" / "t0.yaml",
        org_text(0)
        + "  providerSettings:\n    OpenAiCompatible:\n      models:\n        - id: o1-preview\n          $patch: delete\n",
    )
    for index in (1, 2):
        write(in_tmp / "orgs" / f"t{index}.yaml", org_text(index))
    assert run("apply", "--auto-approve", env=ENV).exit_code == 0

    def longer(config: dict[str, Any]) -> None:
        for model in config["providerSettings"]["OpenAiCompatible"]["models"]:
            if model["id"] == "o1-preview":
                model["contextWindow"] = 256000

    for index in (1, 2):  # the organizations that take o1-preview from the base
        edit_live(f"org-team{index}", longer)
    result = run("pull", env=ENV)
    assert result.exit_code == 2, result.output
    assert (
        "contextWindow: written to bases/azure.yaml" in result.stdout
        and "which others keep" not in result.stdout
    )
    assert "contextWindow: 256000" in (in_tmp / "bases" / "azure.yaml").read_text()
    assert all("256000" not in (in_tmp / "orgs" / f"t{index}.yaml").read_text() for index in range(3))
    assert run("drift", env=ENV).exit_code == 0


def test_an_item_one_organization_added_in_the_console_is_its_own_and_the_shared_edit_still_goes_to_the_base(
    fleet: Path,
) -> None:
    for index in range(3):
        edit_live(f"org-team{index}", lambda config: config.update(telemetryEnabled=False))
    edit_live(
        "org-team0",
        lambda config: config["providerSettings"]["OpenAiCompatible"]["models"].append({"id": "o3-mini"}),
    )
    result = run("pull", env=ENV)
    assert result.exit_code == 2, result.output
    assert "remoteConfig.telemetryEnabled: written to bases/azure.yaml" in result.stdout
    assert "o3-mini" not in (fleet / "bases" / "azure.yaml").read_text()
    assert "o3-mini" in (fleet / "orgs" / "t0.yaml").read_text()
    assert run("drift", env=ENV).exit_code == 0


def test_a_secret_edited_in_the_console_is_reported_never_written(fleet: Path) -> None:
    def rotate(config: dict[str, Any]) -> None:
        config["providerSettings"]["OpenAiCompatible"]["openAiHeaders"]["api-key"] = EDITED_SECRET
        config["providerSettings"]["OpenAiCompatible"]["openAiHeaders"]["Authorization"] = (
            "Bearer " + EDITED_SECRET
        )

    edit_live("org-team2", rotate)
    result = run("pull", "--format", "json", env=ENV)
    assert result.exit_code == 2 and json.loads(result.stdout)["console"] == "local .clinesync/console.db"
    entry = next(
        org for org in json.loads(result.stdout)["organizations"] if org["organization"] == "org-team2"
    )
    assert entry["written"] == []
    reasons = {item["path"]: item["why"] for item in entry["notWritten"]}
    header = "remoteConfig.providerSettings.OpenAiCompatible.openAiHeaders."
    assert reasons[header + "api-key"].startswith("set from the environment (a secret), ${env:KEY}")
    assert reasons[header + "Authorization"].startswith("a secret by its place (")
    everything = result.output + "".join(path.read_text() for path in fleet.rglob("*.yaml"))
    assert EDITED_SECRET not in everything and SECRET not in everything


def test_removals_and_added_list_items_land_where_the_files_say_them(fleet: Path) -> None:
    def edit(config: dict[str, Any]) -> None:
        del config["mcpMarketplaceEnabled"]  # set in the organization's own file: deleted there
        del config["telemetryEnabled"]  # set in the base that others keep: null in this file
        config["providerSettings"]["OpenAiCompatible"]["models"].append({"id": "o3-mini"})
        config["globalRules"] = [{"name": "style", "contents": "Be brief.", "alwaysEnabled": True}]

    edit_live("org-team0", edit)
    result = run("pull", env=ENV)
    assert result.exit_code == 2, result.output
    team0 = (fleet / "orgs" / "t0.yaml").read_text()
    assert "mcpMarketplaceEnabled: false" not in team0
    assert "  telemetryEnabled: null\n" in team0  # removes the inherited value, for this organization only
    assert "        - id: o3-mini\n" in team0 and "  globalRules:\n    - name: style\n" in team0
    assert (fleet / "bases" / "azure.yaml").read_text() == BASE
    assert run("drift", env=ENV).exit_code == 0


def test_a_base_an_organization_outside_the_pull_takes_from_is_left_alone(fleet: Path) -> None:
    for index in range(3):
        edit_live(f"org-team{index}", lambda config: config.update(telemetryEnabled=False))
    result = run("pull", "orgs/t0.yaml", "orgs/t1.yaml", env=ENV)
    assert result.exit_code == 2
    assert (fleet / "bases" / "azure.yaml").read_text() == BASE  # t2 extends it too, and was not read
    assert "telemetryEnabled: false" in (fleet / "orgs" / "t0.yaml").read_text()
    assert "telemetryEnabled: false" in (fleet / "orgs" / "t1.yaml").read_text()


def test_unknown_live_fields_and_unmanaged_paths_are_not_written(fleet: Path) -> None:
    write(fleet / "clinesync.yaml", "paths: [orgs/]\nunmanaged: [remoteConfig.mcpMarketplaceEnabled]\n")
    edit_live("org-team0", lambda config: config.update(mcpMarketplaceEnabled=True, futureSetting=1))
    result = run("pull", env=ENV)
    # As drift has them: apply keeps a field this version does not know, and leaves unmanaged paths alone.
    assert result.exit_code == 0 and run("drift", env=ENV).exit_code == 0
    assert "futureSetting" not in result.stdout and "mcpMarketplaceEnabled" not in result.stdout
    assert (fleet / "orgs" / "t0.yaml").read_text() == org_text(0)


def test_in_sync_writes_nothing_and_says_so(fleet: Path) -> None:
    result = run("pull", env=ENV)
    assert result.exit_code == 0 and "Pull: live matches the files; nothing written." in result.stdout
    assert result.stdout.startswith("Console: local .clinesync/console.db\n")  # where live was read (SPEC §2)


def test_a_literal_dollar_brace_members_expand_is_written_escaped_and_reads_back_as_itself(
    fleet: Path,
) -> None:
    def add_server(config: dict[str, Any]) -> None:
        config["remoteMCPServers"] = [
            {"name": "docs", "url": "https://mcp.corp.example.com", "headers": {"X-User": "${env:USER}"}}
        ]

    write(fleet / "clinesync.yaml", "paths: [orgs/]\npublicHeaders: [x-user]\n")  # not a secret: written
    edit_live("org-team0", add_server)
    result = run("pull", env=ENV)
    assert result.exit_code == 2, result.output
    assert "X-User: $${env:USER}" in (fleet / "orgs" / "t0.yaml").read_text()
    assert run("drift", "orgs/t0.yaml", env=ENV).exit_code == 0  # read back as the console holds it


def test_without_paths_in_the_configuration_the_fleet_is_this_folder(fleet: Path) -> None:
    (fleet / "clinesync.yaml").unlink()
    for index in range(3):
        edit_live(f"org-team{index}", lambda config: config.update(telemetryEnabled=False))
    assert run("pull", "orgs/t0.yaml", env=ENV).exit_code == 2
    assert (fleet / "bases" / "azure.yaml").read_text() == BASE  # t1 and t2 extend it too
    assert run("pull", "orgs/", env=ENV).exit_code == 2
    assert "telemetryEnabled: false" in (fleet / "bases" / "azure.yaml").read_text()


def test_secrets_in_a_url_or_a_header_not_listed_public_are_never_written(fleet: Path) -> None:
    def edit(config: dict[str, Any]) -> None:
        block = config["providerSettings"]["OpenAiCompatible"]
        block["openAiBaseUrl"] = "https://admin:hunter2pass@gw.corp.example.com/v1?api-key=sk-query-secret"
        block["openAiHeaders"]["X-Upstream"] = "Bearer sk-bearer-secret"

    edit_live("org-team0", edit)
    result = run("pull", env=ENV)
    assert result.exit_code == 2
    assert result.stdout.count("not written: a secret by its place") == 2
    everything = result.output + "".join(path.read_text() for path in fleet.rglob("*.yaml"))
    assert not any(secret in everything for secret in ("hunter2pass", "sk-query-secret", "sk-bearer-secret"))


def test_a_base_is_written_only_where_every_organization_it_reaches_agrees_through_deep_merge(
    fleet: Path,
) -> None:
    team1 = fleet / "orgs" / "t1.yaml"
    team1.write_text(
        org_text(1) + "  providerSettings:\n    OpenAiCompatible:\n      openAiHeaders:\n        X-T1: mine\n"
    )
    assert run("apply", "--auto-approve", env=ENV).exit_code == 0
    for index in (0, 2):  # t1 sets headers of its own, but merges the base's: it would get X-New too
        edit_live(
            f"org-team{index}",
            lambda config: config["providerSettings"]["OpenAiCompatible"]["openAiHeaders"].update(
                {"X-New": "n"}
            ),
        )
    write(fleet / "clinesync.yaml", "paths: [orgs/]\npublicHeaders: [x-new]\n")
    result = run("pull", env=ENV)
    assert result.exit_code == 2, result.output
    assert (fleet / "bases" / "azure.yaml").read_text() == BASE
    assert "X-New: n" in (fleet / "orgs" / "t0.yaml").read_text() and "X-New" not in team1.read_text()
    assert run("drift", env=ENV).exit_code == 0


def test_an_organization_that_fails_to_resolve_keeps_the_bases_it_extends_as_they_are(fleet: Path) -> None:
    for index in (0, 1):
        edit_live(f"org-team{index}", lambda config: config.update(telemetryEnabled=False))
    team2 = fleet / "orgs" / "t2.yaml"
    team2.write_text(org_text(2) + "  globalRules:\n    - {name: r, contents: '${env:UNSET_HERE}'}\n")
    result = run("pull", env=ENV)
    assert result.exit_code == 1  # t2's error, reported
    assert (fleet / "bases" / "azure.yaml").read_text() == BASE
    assert "telemetryEnabled: false" in (fleet / "orgs" / "t0.yaml").read_text()


def test_a_value_from_a_variable_is_reported_not_replaced(fleet: Path) -> None:
    write(
        fleet / "clinesync.yaml", "paths: [orgs/]\nvariables: {gateway: 'https://gw.corp.example.com/v1'}\n"
    )
    base = BASE.replace("https://gw.corp.example.com/v1  # the gateway", "${var:gateway}  # the gateway")
    write(fleet / "bases" / "azure.yaml", base)
    for index in range(3):
        edit_live(
            f"org-team{index}",
            lambda config: config["providerSettings"]["OpenAiCompatible"].update(
                openAiBaseUrl="https://gw2.corp.example.com/v1"
            ),
        )
    result = run("pull", env=ENV)
    assert result.exit_code == 2
    assert "not written: set from a variable, ${var:gateway}" in result.stdout
    assert (fleet / "bases" / "azure.yaml").read_text() == base


def test_a_removal_from_a_base_that_extends_another_says_null_so_it_holds(fleet: Path) -> None:
    write(fleet / "bases" / "root.yaml", "remoteConfig:\n  telemetryEnabled: false\n")
    write(fleet / "bases" / "azure.yaml", "extends: [root.yaml]\n" + BASE)  # its true wins over root's
    assert run("apply", "--auto-approve", env=ENV).exit_code == 0
    for index in range(3):
        edit_live(f"org-team{index}", lambda config: config.pop("telemetryEnabled"))
    result = run("pull", env=ENV)
    assert result.exit_code == 2, result.output
    assert "telemetryEnabled: null" in (fleet / "bases" / "azure.yaml").read_text(), result.output
    assert run("drift", env=ENV).exit_code == 0


def test_what_the_files_cannot_say_without_a_hand_edit_is_left_to_a_person_and_nothing_half_written(
    fleet: Path,
) -> None:
    team0 = fleet / "orgs" / "t0.yaml"
    team0.write_text(org_text(0) + "  providerSettings:\n    OpenAiCompatible:\n      openAiHeaders: null\n")
    assert run("apply", "--auto-approve", env=ENV).exit_code == 0
    before = team0.read_text()
    write(fleet / "clinesync.yaml", "paths: [orgs/]\npublicHeaders: [x-tenant]\n")
    edit_live(
        "org-team0",
        lambda config: config["providerSettings"]["OpenAiCompatible"].update(
            openAiHeaders={"X-Tenant": "beta"}
        ),
    )
    result = run("pull", env=ENV)
    assert result.exit_code == 2, result.output
    assert "not written: the files cannot say it without a hand edit" in result.stdout
    assert team0.read_text() == before and (fleet / "bases" / "azure.yaml").read_text() == BASE


def test_an_organization_file_that_does_not_parse_keeps_every_base_as_it_is(fleet: Path) -> None:
    for index in (0, 1):
        edit_live(f"org-team{index}", lambda config: config.update(telemetryEnabled=False))
    team2 = fleet / "orgs" / "t2.yaml"
    team2.write_text("<<<<<<< HEAD\n" + org_text(2) + "=======\n>>>>>>> theirs\n")  # a merge left half done
    for arguments in (("pull",), ("pull", "orgs/t0.yaml", "orgs/t1.yaml")):
        run(*arguments, env=ENV)
        assert (fleet / "bases" / "azure.yaml").read_text() == BASE


def test_a_file_put_back_is_byte_for_byte_what_it_was_and_a_link_is_edited_where_it_points(
    fleet: Path,
) -> None:
    team0 = fleet / "orgs" / "t0.yaml"
    crlf = (org_text(0) + "  providerSettings:\n    OpenAiCompatible:\n      openAiHeaders: null\n").replace(
        "\n", "\r\n"
    )
    team0.write_bytes(crlf.encode())
    assert run("apply", "--auto-approve", env=ENV).exit_code == 0
    write(fleet / "clinesync.yaml", "paths: [orgs/]\npublicHeaders: [x-tenant]\n")
    edit_live(
        "org-team0",
        lambda config: config["providerSettings"]["OpenAiCompatible"].update(openAiHeaders={"X-Tenant": "b"}),
    )
    result = run("pull", "orgs/t0.yaml", str(team0), env=ENV)  # one file, named twice
    assert "left to a person" in result.stdout or "hand edit" in result.stdout
    assert team0.read_bytes() == crlf.encode()

    team1 = fleet / "orgs" / "t1.yaml"
    real = fleet / "teams" / "one.yaml"
    real.parent.mkdir()
    real.write_text(team1.read_text())
    team1.unlink()
    team1.symlink_to(Path("..") / "teams" / "one.yaml")
    edit_live("org-team1", lambda config: config.update(mcpMarketplaceEnabled=True))
    assert run("pull", "orgs/t1.yaml", env=ENV).exit_code == 2
    assert team1.is_symlink() and "mcpMarketplaceEnabled: true" in real.read_text()
