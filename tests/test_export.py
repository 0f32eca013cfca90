"""`export` round-trips: every example and every real Cline payload, written to a console, exported, and
planned again with the listed variables set, shows no changes."""

from __future__ import annotations

import os
from pathlib import Path

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
