"""`export` round-trips: every example and every real Cline payload, written to a console, exported, and
planned again with the listed variables set, shows no changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from clinesync.consoles.local import LocalConsole
from clinesync.document import Document
from clinesync.files.validate import check_file
from clinesync.plans.export import export_organization

from support import EXAMPLES, cline_remote_configs, run, write

EXAMPLE_SECRETS = {
    "AZURE_OPENAI_KEY": "azure-key-0001",
    "GATEWAY_TOKEN": "gateway-token-0002",
    "DOCS_MCP_TOKEN": "docs-token-0003",
    "OTEL_API_KEY": "otel-key-0004",
}


def round_trip(directory: Path, organization: str) -> None:
    console = LocalConsole(".clinesync/console.db")
    live = console.read(organization).document
    console.close()
    assert live is not None
    exported = export_organization(organization, live, "local .clinesync/console.db")
    path = write(directory / "exported.yaml", exported.text)
    assert [p for p in check_file(str(path)).problems if p.is_error] == []
    result = run("plan", str(path), "--detailed-exitcode", env=exported.variables)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda path: path.stem)
def test_every_example_round_trips(in_tmp: Path, example: Path) -> None:
    applied = run("apply", str(example), "--auto-approve", env=EXAMPLE_SECRETS)
    assert applied.exit_code == 0, applied.output
    organization = check_file(str(example)).organization
    assert organization
    round_trip(in_tmp, organization)


@pytest.mark.parametrize("name", sorted(cline_remote_configs()))
def test_every_real_cline_payload_round_trips(in_tmp: Path, name: str) -> None:
    organization = "org-01JZPE4CHW5XTP73W95762121C"
    console = LocalConsole(".clinesync/console.db")
    console.write(organization, Document(True, cline_remote_configs()[name]), None)
    console.close()
    round_trip(in_tmp, organization)


def test_export_says_what_validate_finds_in_what_it_wrote_into_a_folder_it_makes(in_tmp: Path) -> None:
    """A console keeps no comments: a warning suppressed in the file that was applied comes back unsuppressed,
    and the pull-request workflow's `validate --strict` would fail on it. Export says so as it writes."""
    example = EXAMPLES / "platform-multi-provider.yaml"
    assert "ignore[CS186]" in example.read_text()
    assert run("apply", str(example), "--auto-approve", env=EXAMPLE_SECRETS).exit_code == 0
    organization = check_file(str(example)).organization
    assert organization
    single = run("export", organization, "-o", "new/orgs/platform.yaml")  # the folder does not exist yet
    fleet = run("export", "--all", "-o", "fleet")
    assert "Wrote 1 file into fleet, from local .clinesync/console.db." in fleet.stderr  # where it was read
    for result, path in ((single, "new/orgs/platform.yaml"), (fleet, f"fleet/{organization}.yaml")):
        assert result.exit_code == 0, result.output
        assert f"{path}:8:3: warning: 2 providers: members may pick any of them" in result.stderr
        assert "validate finds 1 problem(s) in the exported files, above" in result.stderr
        checked = run("validate", path, "--strict")
        assert checked.exit_code == 1 and "[CS186]" in checked.stdout  # what export said
    in_clear = run(
        "export", "--all", "-o", "clear", "--include-secrets"
    )  # for a one-off look, never committed
    assert (
        in_clear.exit_code == 0 and "validate finds" not in in_clear.stderr
    )  # a finding would print secrets
    (in_tmp / "a-file").write_text("")
    blocked = run("export", organization, "-o", "a-file/platform.yaml")
    assert (
        blocked.exit_code == 1
        and "cannot write a-file/platform.yaml: a-file is not a folder" in blocked.stderr
    )
    plain = EXAMPLES / "org.yaml"  # one provider: nothing to find
    assert run("apply", str(plain), "--auto-approve", env=EXAMPLE_SECRETS).exit_code == 0
    quiet = run("export", str(check_file(str(plain)).organization), "-o", "orgs/acme.yaml")
    assert quiet.exit_code == 0 and "validate finds" not in quiet.stderr and ": warning:" not in quiet.stderr


def test_export_with_secrets_in_clear_prints_none_of_them_in_a_finding(in_tmp: Path) -> None:
    organization, secret = "org-01JZPE4CHW5XTP73W95760001Y", "sk-planted-in-a-url-4d3c2b"
    provider = {"openAiBaseUrl": f"gw.example.com/v1?api-key={secret}"}  # not absolute: a CS111 finding
    console = LocalConsole(in_tmp / ".clinesync" / "console.db")
    console.write(
        organization,
        Document(True, {"version": "v1", "providerSettings": {"OpenAiCompatible": provider}}),
        None,
    )
    console.close()
    checked = run("export", organization, "-o", "checked.yaml")
    assert checked.exit_code == 0 and secret not in checked.output  # a reference now, which no check prints
    clear = run("export", organization, "-o", "clear.yaml", "--include-secrets")
    assert clear.exit_code == 0 and secret in (in_tmp / "clear.yaml").read_text()
    assert secret not in clear.output and "[CS111]" not in clear.stderr


def test_sensitive_values_become_references_and_literal_dollars_survive(in_tmp: Path) -> None:
    config = {
        "version": "v1",
        "remoteMCPServers": [
            {"name": "docs", "url": "https://m.example.com", "headers": {"X-Key": "k-123456"}}
        ],
        "globalRules": [{"name": "r", "alwaysEnabled": True, "contents": "Cost: ${price}\nSecond line"}],
    }
    exported = export_organization("org-x", Document(True, config), "test")
    assert exported.variables == {"CLINE_X_REMOTEMCPSERVERS_DOCS_HEADERS_X_KEY": "k-123456"}
    assert "k-123456" not in exported.text
    assert "Cost: $${price}" in exported.text and "contents: |-" in exported.text
    assert os.linesep == "\n"


def test_an_empty_header_is_exported_as_written_so_export_then_plan_is_empty(in_tmp: Path) -> None:
    """An empty value is no secret, and an empty variable counts as unset: a reference would make plan fail."""
    organization = "org-01JZPE4CHW5XTP73W95760001Y"
    console = LocalConsole(in_tmp / ".clinesync" / "console.db")
    config = {
        "version": "v1",
        "providerSettings": {
            "OpenAiCompatible": {
                "openAiBaseUrl": "https://gw.example.com/v1",
                "openAiHeaders": {"X-Route": ""},
            }
        },
    }
    console.write(organization, Document(True, config), None)
    console.close()
    exported = run("export", organization, "-o", "e.yaml")
    assert exported.exit_code == 0, exported.output
    assert "X-Route: ''" in (in_tmp / "e.yaml").read_text()
    planned = run("plan", "e.yaml", "--detailed-exitcode")
    assert planned.exit_code == 0 and "No changes" in planned.stdout, planned.output


def test_export_all_writes_nothing_when_an_organization_cannot_be_read(in_tmp: Path) -> None:
    """Organizations are read several at a time over HTTP; one the console cannot serve stops the export
    whole, however the reads in flight end."""
    import sqlite3

    from support import TOKEN, start_server

    database = in_tmp / "served.db"
    console = LocalConsole(database)
    for number in range(40):
        console.write(f"org-01JZPE4CHW5XTP73W957621{number:03d}", Document(True, {"version": "v1"}), None)
    console.close()
    with sqlite3.connect(database) as rows:
        rows.execute(
            "UPDATE revisions SET value = ? WHERE organization = ?",
            ('{"version":"v1","kanbanEnabled":NaN}', "org-01JZPE4CHW5XTP73W957621017"),
        )
    server = start_server(database)
    try:
        env = {"CLINESYNC_CONSOLE": server.url, "CLINE_API_KEY": TOKEN, "CLINESYNC_RETRIES": "0"}
        result = run("export", "--all", "-o", "fleet", env=env)
    finally:
        server.stop()
    assert result.exit_code == 1 and "answered 500" in result.stderr, result.output
    assert server.server.connections > 1 and not (in_tmp / "fleet").exists()


def test_a_fleet_export_formats_each_file_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Formatting a file costs more than reading it: a fleet's export writes each file once its names and base
    are shared, and never formats the organization's own export beside it (1,000 took 29 s, now 12 s)."""
    from clinesync.consoles.base import Administered
    from clinesync.plans import adopt, export

    made: list[str | None] = []
    real = export.organization_text

    def counted(organization: str | None, *rest: Any, **options: Any) -> str:
        made.append(organization)
        return real(organization, *rest, **options)

    monkeypatch.setattr(export, "organization_text", counted)
    monkeypatch.setattr(adopt, "organization_text", counted)
    lives = [
        (Administered(f"org-01JZPE4CHW5XTP73W95762120{number}"), Document(True, {"version": "v1"}))
        for number in range(3)
    ]
    fleet = adopt.export_fleet(lives, "local console.db", extract_base=True)
    assert len(fleet.files) == 4 and sorted(made, key=str) == sorted(
        [None, *(a.id for a, _ in lives)], key=str
    )
