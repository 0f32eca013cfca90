"""Plan, drift, apply and manual-path output against golden files, for a fleet that has every kind of change.

After a deliberate change to the output, rewrite them with `UPDATE_GOLDEN=1 make test` and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clinesync.consoles.local import LocalConsole
from clinesync.document import Document

from support import run, write

GOLDEN = Path(__file__).parent / "golden"
ENV = {"ACME_KEY": "golden-secret-value-1"}
UPDATED, SAME, CREATED = (f"org-01JZPE4CHW5XTP73W95762{suffix}" for suffix in ("1UPD", "2SAM", "3NEW"))


def seed(directory: Path) -> None:
    console = LocalConsole(directory / ".clinesync" / "console.db")
    console.write(
        UPDATED,
        Document(
            False,
            {
                "version": "v1",
                "providerSettings": {
                    "OpenAiCompatible": {
                        "openAiBaseUrl": "https://old-gateway.example.com/v1",
                        "openAiHeaders": {"api-key": "an-older-secret-value", "X-Tenant": "acme"},
                        "models": [{"id": "gpt-4o", "maxTokens": 8192}, {"id": "o1-preview"}],
                    }
                },
            },
        ),
        None,
    )
    console.write(SAME, Document(True, {"version": "v1", "telemetryEnabled": False}), None)
    console.close()
    write(
        directory / "orgs" / "1-updated.yaml",
        f"""\
organization: {UPDATED}
name: Acme
enabled: true
remoteConfig:
  providerSettings:
    OpenAiCompatible:
      openAiBaseUrl: https://new-gateway.example.com/v1
      openAiHeaders:
        api-key: ${{env:ACME_KEY}}
        X-Tenant: acme
      models:
        - id: gpt-4o
          maxTokens: 16384
""",
    )
    write(
        directory / "orgs" / "2-same.yaml",
        f"organization: {SAME}\nremoteConfig:\n  telemetryEnabled: false\n",
    )
    models = "".join(f"        - id: model-{index}\n          contextWindow: 32000\n" for index in range(16))
    write(
        directory / "orgs" / "3-created.yaml",
        f"""\
organization: {CREATED}
name: Research
remoteConfig:
  providerSettings:
    OpenAiCompatible:
      openAiBaseUrl: http://inference.lab.example.com/v1
      models:
{models}""",
    )
    write(
        directory / "orgs" / "4-broken.yaml", "organization: org-01JZPE4CHW5XTP73W957624BAD\nenabled: maybe\n"
    )


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("plan.md", ("plan", "orgs", "--format", "markdown")),
        ("drift.md", ("drift", "orgs", "--format", "markdown")),
        ("plan.txt", ("plan", "orgs", "--no-color")),
        ("apply.txt", ("apply", "orgs", "--auto-approve", "--no-color")),
        ("apply.json", ("apply", "orgs", "--auto-approve", "--format", "json")),
        ("manual.txt", ("apply", "orgs", "--manual", "--timeout", "0", "--no-color")),
    ],
)
def test_output_matches_its_golden_file(in_tmp: Path, name: str, args: tuple[str, ...]) -> None:
    seed(in_tmp)
    result = run(*args, env=ENV)
    assert result.exit_code == 1  # the broken file fails the run; the others are still reported
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()
    assert "golden-secret-value-1" not in result.stdout and "an-older-secret-value" not in result.stdout
