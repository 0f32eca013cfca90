"""Fleets that stay DRY, through the CLI: the project configuration, variables, shared bases, unmanaged
paths, --org, and adopting a fleet with `export --all`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinesync.consoles.local import LocalConsole
from clinesync.document import Document

from support import TOKEN, RunningServer, run, start_server, write

SECRET = "planted-azure-key-91c3e0"
GATEWAY = "https://llm.corp.example.com/openai/v1"

BASE = """\
remoteConfig:
  providerSettings:
    OpenAiCompatible:
      openAiBaseUrl: ${var:gateway}
      openAiHeaders:
        X-Tenant-Id: acme
        api-key: ${env:AZURE_KEY}
      models:
        - id: gpt-4o
          contextWindow: 128000
        - id: o1-preview
          contextWindow: 128000
  telemetryEnabled: true
"""


def organization(number: int, body: str = "") -> str:
    return f"organization: org-01JZPE4CHW5XTP73W9576{number:04d}Y\nname: Team {number}\nextends: [../bases/foundry.yaml]\n{body}"


def fleet(
    root: Path, count: int, config: str = "paths: [orgs/]\nvariables:\n  gateway: " + GATEWAY + "\n"
) -> None:
    write(root / "clinesync.yaml", config)
    write(root / "bases" / "foundry.yaml", BASE)
    for number in range(1, count + 1):
        write(root / "orgs" / f"team-{number:03d}.yaml", organization(number))


ENV = {"AZURE_KEY": SECRET}


def test_a_change_to_the_base_plans_every_organization_and_names_the_base_line(in_tmp: Path) -> None:
    fleet(in_tmp, 12)
    applied = run("apply", "--auto-approve", env=ENV)
    assert applied.exit_code == 0, applied.output
    assert "Using the project configuration clinesync.yaml" in applied.stderr
    assert run("plan", "--detailed-exitcode", env=ENV).exit_code == 0
    write(
        in_tmp / "bases" / "foundry.yaml",
        BASE.replace(
            "        - id: o1-preview",
            "        - id: gpt-4.1\n          contextWindow: 1000000\n        - id: o1-preview",
        ),
    )
    planned = run("plan", "--detailed-exitcode", "--format", "json", env=ENV)
    assert planned.exit_code == 2, planned.output
    report = json.loads(planned.stdout)
    assert [org["action"] for org in report["organizations"]] == ["update"] * 12
    for org in report["organizations"]:
        added = [change for change in org["changes"] if change["op"] == "add"]
        assert added and all(change["origin"] == "bases/foundry.yaml:12" for change in added)
    text = run("plan", env=ENV).stdout
    assert text.count("(from bases/foundry.yaml:11)") == 12


def test_an_organization_overrides_and_removes_what_it_inherits(in_tmp: Path) -> None:
    fleet(in_tmp, 1)
    write(
        in_tmp / "orgs" / "team-001.yaml",
        organization(
            1,
            "remoteConfig:\n  telemetryEnabled: null\n  providerSettings:\n    OpenAiCompatible:\n"
            "      openAiHeaders:\n        X-Tenant-Id: team-one\n      models:\n"
            "        - id: o1-preview\n          $patch: delete\n        - id: gpt-4o\n          maxTokens: 4096\n",
        ),
    )
    assert run("apply", "--auto-approve", env=ENV).exit_code == 0
    live = LocalConsole(in_tmp / ".clinesync" / "console.db").read("org-01JZPE4CHW5XTP73W95760001Y")
    assert live.document is not None
    remote = live.document.tree()["remoteConfig"]
    settings = remote["providerSettings"]["OpenAiCompatible"]
    assert "telemetryEnabled" not in remote
    assert settings["openAiBaseUrl"] == GATEWAY and settings["openAiHeaders"]["X-Tenant-Id"] == "team-one"
    assert settings["models"] == [{"id": "gpt-4o", "contextWindow": 128000, "maxTokens": 4096}]


def test_problems_inside_bases_are_located_in_the_base_once(in_tmp: Path) -> None:
    fleet(in_tmp, 3)
    write(
        in_tmp / "bases" / "foundry.yaml",
        BASE.replace("      openAiHeaders:", "      azureApiVersion: June\n      openAiHeaders:"),
    )
    result = run("validate")
    assert result.exit_code == 1
    assert result.stdout.count("bases/foundry.yaml:5:24: error: azureApiVersion") == 1, result.stdout
    assert "3 files checked" in result.stderr


def test_cycles_missing_bases_and_bases_naming_an_organization_are_located_errors(in_tmp: Path) -> None:
    write(
        in_tmp / "orgs" / "a.yaml",
        "organization: org-01JZPE4CHW5XTP73W95760001Y\nextends: [../bases/one.yaml]\n",
    )
    write(in_tmp / "bases" / "one.yaml", "extends: [two.yaml]\nremoteConfig: {telemetryEnabled: true}\n")
    write(in_tmp / "bases" / "two.yaml", "extends: [one.yaml]\n")
    write(
        in_tmp / "orgs" / "b.yaml",
        "organization: org-01JZPE4CHW5XTP73W95760002Y\nextends: [../bases/gone.yaml, ../bases/named.yaml]\n",
    )
    write(in_tmp / "bases" / "named.yaml", "organization: org-01JZPE4CHW5XTP73W95760003Y\n")
    result = run("validate", "orgs")
    assert result.exit_code == 1
    assert "bases/two.yaml:1:11: error: extends one.yaml: a cycle of bases" in result.stdout
    assert "orgs/b.yaml:2:11: error: extends ../bases/gone.yaml: no such file" in result.stdout
    assert "bases/named.yaml:1:1: error: a base names no organization" in result.stdout
    assert "Traceback" not in result.output


@pytest.mark.parametrize("output_format", ["text", "json", "markdown"])
def test_variables_are_shown_and_environment_values_are_masked_in_every_format(
    in_tmp: Path, output_format: str
) -> None:
    fleet(in_tmp, 2)
    planned = run("plan", "--format", output_format, env=ENV)
    assert planned.exit_code == 0, planned.output
    assert GATEWAY in planned.stdout
    assert SECRET not in planned.output
    saved = run("plan", "--out", "reviewed.plan", env=ENV)
    assert saved.exit_code == 0
    assert SECRET not in (in_tmp / "reviewed.plan").read_text()


def test_a_variable_from_the_command_line_wins_and_an_undefined_one_is_located(in_tmp: Path) -> None:
    fleet(in_tmp, 1)
    other = "https://other.example.com/v1"
    assert other in run("plan", "--var", f"gateway={other}", env=ENV).stdout
    assert other in run("--var", f"gateway={other}", "plan", env=ENV).stdout  # before the command, too
    both = run("--var", f"gateway={other}", "plan", "--org", "org-01JZPE4CHW5XTP73W95760001Y", env=ENV)
    assert other in both.stdout
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\n")
    result = run("validate")
    assert result.exit_code == 1
    assert "bases/foundry.yaml:4:22: error: variable gateway is not defined" in result.stdout


def test_an_environment_reference_may_default(in_tmp: Path) -> None:
    write(
        in_tmp / "orgs" / "a.yaml",
        "organization: org-01JZPE4CHW5XTP73W95760001Y\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: ${env:BASE_URL:-https://default.example.com/v1}\n",
    )
    assert "https://default.example.com/v1" in run("plan", "orgs").stdout
    shown = run("plan", "orgs", env={"BASE_URL": "https://from-env.example.com/v1"}).stdout
    assert "from-env" not in shown and "(sensitive)" in shown


def test_unmanaged_paths_are_left_as_they_are_live_and_never_drift(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "unmanaged: [remoteConfig.globalRules]\n")
    org = "org-01JZPE4CHW5XTP73W95760001Y"
    write(in_tmp / "orgs" / "a.yaml", f"organization: {org}\nremoteConfig:\n  telemetryEnabled: true\n")
    console = LocalConsole(in_tmp / "console.db")
    rules = [{"name": "Security", "alwaysEnabled": True, "contents": "Owned by the security team."}]
    console.write(
        org, Document(True, {"version": "v1", "globalRules": rules, "telemetryEnabled": False}), None
    )
    console.close()
    applied = run("apply", "orgs", "--auto-approve", "--console", "console.db")
    assert applied.exit_code == 0, applied.output
    assert "globalRules" not in applied.output
    live = LocalConsole(in_tmp / "console.db").read(org).document
    assert live is not None and live.tree()["remoteConfig"]["globalRules"] == rules
    assert live.tree()["remoteConfig"]["telemetryEnabled"] is True
    someone = LocalConsole(in_tmp / "console.db")
    someone.write(org, Document(True, {**live.tree()["remoteConfig"], "globalRules": []}), None)
    someone.close()
    drift = run("drift", "orgs", "--console", "console.db", "-v")
    assert drift.exit_code == 0, drift.output
    assert "unmanaged (left as they are live): remoteConfig.globalRules" in drift.stdout


def test_org_selects_organizations_and_an_unknown_one_is_an_error(in_tmp: Path) -> None:
    fleet(in_tmp, 5)
    result = run(
        "plan", "--org", "org-01JZPE4CHW5XTP73W95760002Y", "--org", "org-01JZPE4CHW5XTP73W95760004Y", env=ENV
    )
    assert result.exit_code == 0
    assert "Team 2" in result.stdout and "Team 4" in result.stdout and "Team 3" not in result.stdout
    missing = run("plan", "--org", "org-01JZPE4CHW5XTP73W95769999Y", env=ENV)
    assert missing.exit_code == 1 and "no organization file here declares it" in missing.stderr


def test_the_project_configuration_names_the_console_ignores_files_and_is_found_from_below(
    in_tmp: Path,
) -> None:
    fleet(
        in_tmp,
        2,
        f"console: live.db\npaths: [orgs/]\nignore: ['orgs/drafts/']\nvariables:\n  gateway: {GATEWAY}\n",
    )
    write(in_tmp / "orgs" / "drafts" / "wip.yaml", "not: an organization\n")
    below = in_tmp / "orgs"
    os.chdir(below)
    result = run("apply", "--auto-approve", env=ENV)
    assert result.exit_code == 0, result.output
    assert "Using the project configuration ../clinesync.yaml" in result.stderr
    assert "2 applied" in result.stdout and (in_tmp / "live.db").exists()


def test_a_configuration_that_is_not_valid_is_a_located_error(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "consle: https://api.cline.bot\nvariables:\n  bad-name: x\n")
    write(in_tmp / "orgs" / "a.yaml", "organization: org-01JZPE4CHW5XTP73W95760001Y\n")
    result = run("validate", "orgs")
    assert result.exit_code == 1
    assert "clinesync.yaml:1:1: error: unknown key 'consle'" in result.stderr
    assert "Traceback" not in result.output


def test_a_repository_pinned_to_other_versions_is_refused_first_and_located(in_tmp: Path) -> None:
    from clinesync import __version__

    # Written for a later clinesync: a key this one does not know, and a requirement it does not meet.
    write(in_tmp / "clinesync.yaml", 'paths: [orgs/]\nfutureKey: 1\nrequires: ">=99.0,<100"\n')
    write(in_tmp / "orgs" / "a.yaml", "organization: org-01JZPE4CHW5XTP73W95760001Y\n")
    for command in (("validate",), ("plan",), ("drift",)):
        result = run(*command)
        assert result.exit_code == 1 and result.stdout == "", command
        assert result.stderr == (
            f"Error: clinesync.yaml:3:11: this repository requires clinesync >=99.0,<100, and this is clinesync "
            f"{__version__}: install a version it allows (pip install 'clinesync>=99.0,<100'); nothing was done\n"
        )
    major, minor = __version__.split(".")[:2]
    write(in_tmp / "clinesync.yaml", f'paths: [orgs/]\nrequires: "~={major}.{minor}.0"\n')
    assert run("validate").exit_code == 0
    write(in_tmp / "clinesync.yaml", 'paths: [orgs/]\nrequires: "at least 0.3"\n')
    broken = run("validate")
    assert (
        broken.exit_code == 1
        and "clinesync.yaml:2:11: error: requires: 'at least 0.3' is not" in broken.stderr
    )


@pytest.mark.parametrize(
    ("requires", "version", "allowed"),
    [
        (">=0.3,<0.4", "0.3.2", True),
        (">=0.3,<0.4", "0.4.0", False),
        (">=0.3,<0.4", "0.2.9", False),
        ("~=0.3.1", "0.3.5", True),
        ("~=0.3.1", "0.4.0", False),
        ("~=0.3", "0.9", True),
        ("~=0.3", "1.0", False),
        ("==0.3.*", "0.3.7", True),
        ("==0.3.*", "0.30.0", False),
        ("!=0.3.2", "0.3.2", False),
        ("==0.3", "0.3.0", True),
        (" > 0.1 , <= 0.2 ", "0.2.0", True),
    ],
)
def test_requires_reads_release_specifiers(requires: str, version: str, allowed: bool) -> None:
    from clinesync.files.requires import allows

    assert allows(requires, version) is allowed


@pytest.mark.parametrize("requires", ["", ">=", "0.3", ">=0.3,", ">=0.3.*", "~=1", ">=v1"])
def test_a_requirement_that_cannot_be_read_says_how_to_write_it(requires: str) -> None:
    from clinesync.files.requires import allows

    with pytest.raises(ValueError, match="requires"):
        allows(requires, "0.3.0")


def test_a_base_in_the_folder_is_not_an_organization(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "_base.yaml", "remoteConfig:\n  telemetryEnabled: true\n")
    write(in_tmp / "orgs" / "a.yaml", "organization: org-01JZPE4CHW5XTP73W95760001Y\nextends: [_base.yaml]\n")
    result = run("validate", "orgs")
    assert result.exit_code == 0, result.output
    assert "1 file checked" in result.stderr
    write(in_tmp / "orgs" / "a.yaml", "organization: org-01JZPE4CHW5XTP73W95760001Y\n")
    orphan = run("validate", "orgs")
    assert (
        orphan.exit_code == 1
        and "_base.yaml" in orphan.stdout
        and "required field 'organization'" in orphan.stdout
    )


@pytest.fixture
def served_fleet(tmp_path: Path) -> Iterator[RunningServer]:
    """50 organizations in `clinesync serve`, sharing a provider and differing in their keys and a model."""
    database = tmp_path / "served.db"
    console = LocalConsole(database)
    for number in range(50):
        org = f"org-01JZPE4CHW5XTP73W9577{number:04d}Y"
        provider = {
            "openAiBaseUrl": "https://acme.openai.azure.com/openai/deployments/gpt-4o",
            "openAiHeaders": {"X-Tenant-Id": "acme", "api-key": f"key-{number}-{SECRET}"},
            "azureApiVersion": "2024-06-01",
            "models": [
                {"id": "gpt-4o", "contextWindow": 128000},
                {"id": f"team-{number}", "maxTokens": number + 1},
            ],
        }
        remote = {
            "version": "v1",
            "providerSettings": {"OpenAiCompatible": provider},
            "telemetryEnabled": True,
        }
        console.write(org, Document(True, remote), None)
    console.close()
    server = start_server(database)
    yield server
    server.stop()


def test_export_all_adopts_a_fleet_with_a_shared_base_and_plan_shows_no_changes(
    in_tmp: Path, served_fleet: RunningServer
) -> None:
    server = served_fleet
    env = {"CLINESYNC_CONSOLE": server.url, "CLINE_API_KEY": TOKEN}
    write(in_tmp / "clinesync.yaml", "publicHeaders: [x-tenant-id]\n")  # shared, and not a secret
    exported = run("export", "--all", "-o", "orgs", "--extract-base", env=env)
    assert exported.exit_code == 0, exported.output
    # Read as a plan reads, several at a time (2,000 took 44 s one by one); one at a time where asked.
    assert server.server.connections > 1
    before = server.server.connections
    assert run("export", "--all", "-o", "one-by-one", "--parallelism", "1", env=env).exit_code == 0
    assert server.server.connections == before + 1
    files = sorted((in_tmp / "orgs").glob("*.yaml"))
    assert len(files) == 50 and (in_tmp / "orgs" / "bases" / "shared.yaml").exists()
    base = (in_tmp / "orgs" / "bases" / "shared.yaml").read_text()
    assert "X-Tenant-Id: acme" in base and "gpt-4o" in base and "team-" not in base
    everything = base + "".join(path.read_text() for path in files) + exported.output
    assert SECRET not in everything
    names = exported.stderr.split("plan or apply: ", 1)[1].split(". In the GitHub workflow", 1)[0].split(", ")
    assert len(names) == len(set(names)) == 50
    # The same names, in the form the workflow's secret list takes, on stderr and in --secrets-list FILE.
    listed = run("export", "--all", "-o", "again", "--extract-base", "--secrets-list", "secrets.txt", env=env)
    assert listed.exit_code == 0, listed.output
    lines = (in_tmp / "secrets.txt").read_text().splitlines()
    assert lines == [f"{name}: ${{{{ secrets.{name} }}}}" for name in sorted(names)]
    assert all(f"  {line}\n" in listed.stderr for line in lines)
    for path in files:
        assert "extends:\n  - bases/shared.yaml" in path.read_text()  # in fmt's style
    env |= {name: f"key-{int(name.split('_')[1][-3:-1])}-{SECRET}" for name in names}
    planned = run("plan", "orgs", "--detailed-exitcode", env=env)
    assert planned.exit_code == 0, planned.output
    assert "No changes" in planned.stdout
    again = run("export", "--all", "-o", "orgs", env=env)
    assert again.exit_code == 1 and "pass --force" in again.stderr


@pytest.mark.parametrize("own_keys", [2, 0])
def test_export_all_names_a_key_several_organizations_hold_once(in_tmp: Path, own_keys: int) -> None:
    """A fleet behind a few gateways holds a few distinct keys: the secret list names each once (GitHub holds
    100 secrets), an organization with a key of its own keeps a name of its own, and a key every
    organization holds goes into the base."""
    console = LocalConsole(in_tmp / "live.db")
    for number in range(6):
        key = f"own-{number}-{SECRET}" if number < own_keys else f"gateway-{SECRET}"
        provider = {"openAiBaseUrl": "https://gw.example.com/v1", "openAiHeaders": {"api-key": key}}
        remote = {"version": "v1", "providerSettings": {"OpenAiCompatible": provider}}
        console.write(f"org-01JZPE4CHW5XTP73W9578{number:04d}Y", Document(True, remote), None)
    console.close()
    exported = run(
        "--console", "live.db", "export", "--all", "-o", "orgs", "--extract-base", "--secrets-list", "s.txt"
    )
    assert exported.exit_code == 0, exported.output
    names = [line.split(":", 1)[0] for line in (in_tmp / "s.txt").read_text().splitlines()]
    gateway = f"CLINE_8{own_keys:04d}Y_OPENAICOMPATIBLE_OPENAIHEADERS_API_KEY"  # its first holder's name
    assert gateway in names and len(names) == own_keys + 1
    base = (in_tmp / "orgs" / "bases" / "shared.yaml").read_text()
    assert (f"${{env:{gateway}}}" in base) == (own_keys == 0)
    files = [path.read_text() for path in (in_tmp / "orgs").rglob("*.yaml")]
    assert not any(SECRET in text for text in files)
    env = {gateway: f"gateway-{SECRET}"}
    env |= {name: f"own-{number}-{SECRET}" for number, name in enumerate(sorted(set(names) - set(env)))}
    planned = run("--console", "live.db", "plan", "orgs", "--detailed-exitcode", env=env)
    assert planned.exit_code == 0 and "No changes" in planned.stdout, planned.output


def test_export_all_never_gives_two_values_one_name_where_two_ids_end_alike(in_tmp: Path) -> None:
    console = LocalConsole(in_tmp / "live.db")
    for digit in "78":  # the same last six characters: the same names, made per organization
        provider = {
            "openAiBaseUrl": "https://gw.example.com/v1",
            "openAiHeaders": {"api-key": f"key-{digit}-{SECRET}"},
        }
        remote = {"version": "v1", "providerSettings": {"OpenAiCompatible": provider}}
        console.write(f"org-01JZPE4CHW5XTP73W95{digit}ABCDEY", Document(True, remote), None)
    console.close()
    exported = run("--console", "live.db", "export", "--all", "-o", "orgs", "--secrets-list", "s.txt")
    assert exported.exit_code == 0, exported.output
    names = [line.split(":", 1)[0] for line in (in_tmp / "s.txt").read_text().splitlines()]
    assert names == [
        "CLINE_ABCDEY_OPENAICOMPATIBLE_OPENAIHEADERS_API_KEY",
        "CLINE_ABCDEY_OPENAICOMPATIBLE_OPENAIHEADERS_API_KEY_2",
    ]
    env = {names[0]: f"key-7-{SECRET}", names[1]: f"key-8-{SECRET}"}
    planned = run("--console", "live.db", "plan", "orgs", "--detailed-exitcode", env=env)
    assert planned.exit_code == 0 and "No changes" in planned.stdout, planned.output


def test_the_configuration_is_found_as_git_finds_a_repository_never_above_its_root(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "console: https://collector.example.net\n")  # a shared folder's file
    repository = in_tmp / "work"
    (repository / ".git").mkdir(parents=True)
    write(repository / "orgs" / "a.yaml", "organization: org-01JZPE4CHW5XTP73W95760001Y\n")
    os.chdir(repository / "orgs")
    result = run("validate", "a.yaml")
    assert result.exit_code == 0, result.output
    assert "Using the project configuration" not in result.stderr
    write(repository / "clinesync.yaml", "paths: [orgs/]\n")
    result = run("validate")
    assert "Using the project configuration ../clinesync.yaml" in result.stderr


def test_a_configuration_others_can_write_is_refused_before_any_request(
    in_tmp: Path, console_server: RunningServer
) -> None:
    write(in_tmp / "clinesync.yaml", f"console: {console_server.url}\npaths: [orgs/]\n")
    write(in_tmp / "orgs" / "a.yaml", "organization: org-01JZPE4CHW5XTP73W95760001Y\n")
    (in_tmp / "clinesync.yaml").chmod(0o666)
    result = run("plan", env={"CLINE_API_KEY": TOKEN})
    assert result.exit_code == 1
    assert "clinesync.yaml is writable by group or others: refusing to use it" in result.stderr
    assert "chmod go-w clinesync.yaml" in result.stderr
    assert console_server.log.getvalue() == ""  # the token went nowhere
    (in_tmp / "clinesync.yaml").chmod(0o644)
    result = run("plan", env={"CLINE_API_KEY": TOKEN})
    assert f"Using the project configuration clinesync.yaml (console: {console_server.url})" in result.stderr
    assert "GET /api/v1/organizations/" in console_server.log.getvalue()  # the log does record requests


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root")
def test_a_configuration_owned_by_another_user_is_refused(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "console: https://collector.example.net\n")
    os.chown(in_tmp / "clinesync.yaml", 54321, 54321)
    result = run("validate", str(in_tmp))
    assert result.exit_code == 1
    assert "clinesync.yaml belongs to another user (uid 54321): refusing to use it" in result.stderr
    trusted = run("validate", str(in_tmp), env={"CLINESYNC_SAFE_DIRECTORY": str(in_tmp)})
    assert "belongs to another user" not in trusted.output  # as git's safe.directory: trusted by name


def test_path_patterns_follow_glob_rules_star_within_a_folder_double_star_across(in_tmp: Path) -> None:
    """`orgs/apim/*.yaml` is the files in orgs/apim, not in folders below it; `**` reaches those; a pattern
    with no `/` is a file's name at any depth, as in .gitignore."""
    apim_api_version = (
        "remoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: https://gw.corp.example.com/v1\n      azureApiVersion: '2024-06-01'\n"
    )
    for number, where in enumerate(
        ("orgs/apim/a.yaml", "orgs/apim/eu/b.yaml", "orgs/c.draft.yaml", "orgs/d/e.draft.yaml")
    ):
        write(in_tmp / where, f"organization: org-01JZPE4CHW5XTP73W9576000{number}Y\n{apim_api_version}")

    def warned(config: str) -> list[str]:
        write(in_tmp / "clinesync.yaml", config)
        report = json.loads(run("validate", "orgs", "--format", "json").stdout)
        return sorted({problem["file"] for problem in report["problems"] if problem["rule"] == "CS121"})

    within = warned("overrides:\n  - paths: ['orgs/apim/*.yaml']\n    rules: {CS121: off}\n")
    assert within == ["orgs/apim/eu/b.yaml", "orgs/c.draft.yaml", "orgs/d/e.draft.yaml"]
    across = warned("overrides:\n  - paths: ['orgs/apim/**/*.yaml']\n    rules: {CS121: off}\n")
    assert across == ["orgs/c.draft.yaml", "orgs/d/e.draft.yaml"]
    assert warned("ignore: ['*.draft.yaml']\n") == ["orgs/apim/a.yaml", "orgs/apim/eu/b.yaml"]


def test_extends_stays_inside_the_repository_unless_the_configuration_names_a_folder(in_tmp: Path) -> None:
    outside = in_tmp / "elsewhere"
    write(outside / "base.yaml", "remoteConfig:\n  telemetryEnabled: false\n")
    write(outside / "secret.txt", "not: yours\n")
    repository = in_tmp / "repo"
    (repository / ".git").mkdir(parents=True)
    write(
        repository / "orgs" / "a.yaml",
        "organization: org-01JZPE4CHW5XTP73W95760001Y\nextends: [../../elsewhere/base.yaml, ../../elsewhere/secret.txt]\n",
    )
    os.chdir(repository)
    result = run("validate", "orgs")
    assert result.exit_code == 1
    assert result.stdout.count("outside the repository") == 2 and "not: yours" not in result.output
    write(repository / "clinesync.yaml", "baseFolders: [../elsewhere/]\n")
    result = run("validate", "orgs/a.yaml")
    assert "outside the repository" not in result.output
    assert "elsewhere/secret.txt" in result.output  # read now, and reported for what it is (not a base)


def test_an_unmanaged_field_has_no_impact_line_whatever_the_file_says(in_tmp: Path) -> None:
    """Live keeps telemetryEnabled: false, which members stay locked to, whether the file says true or nothing."""
    body = (
        "organization: org-01JZPE4CHW5XTP73W95762121Y\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: https://gw.corp.example.com/v1\n      openAiHeaders: {X-Region: eu-west}\n"
    )
    write(in_tmp / "orgs" / "a.yaml", body + "  telemetryEnabled: false\n")
    assert run("--console", "c.db", "apply", "orgs", "--auto-approve").exit_code == 0
    write(in_tmp / "clinesync.yaml", "paths: [orgs/]\nunmanaged: [remoteConfig.telemetryEnabled]\n")
    for telemetry in ("  telemetryEnabled: true\n", ""):
        write(in_tmp / "orgs" / "a.yaml", body.replace("eu-west", "eu-north") + telemetry)
        planned = run("--console", "c.db", "plan", "--format", "json")
        [org] = json.loads(planned.stdout)["organizations"]
        assert [change["path"] for change in org["changes"]] == [
            "remoteConfig.providerSettings.OpenAiCompatible.openAiHeaders.X-Region"
        ]
        assert not [line for line in org["impacts"] if "telemetry" in line], org["impacts"]
        assert "telemetry" not in run("--console", "c.db", "plan").stdout
