"""What clinesync calls valid, Cline loads: numbers JSON.parse can read, resolved values checked like written
ones, and a console holding what Cline cannot read reported, never called in sync. Through the CLI."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_llm import JsonHandler, serving
from support import TOKEN, run, write

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
SECRET = "planted-secret-5e1f0c"


def org_file(provider: str, extra: str = "") -> str:
    return f"organization: {ORG}\nremoteConfig:\n  providerSettings:\n{provider}{extra}"


OPENAI = """\
    OpenAiCompatible:
      openAiBaseUrl: ${env:BASE}
      openAiHeaders:
        api-key: ${env:KEY}
"""


def located(output: str, rule: str) -> list[str]:
    return [line for line in output.splitlines() if line.endswith(f"[{rule}]")]


@pytest.mark.parametrize(
    ("environ", "rule", "where", "names"),
    [
        ({"BASE": "not a url", "KEY": SECRET}, "CS111", ":5:22:", "${env:BASE}"),
        ({"BASE": f"https://{SECRET}.example.com\n", "KEY": "k"}, "CS111", ":5:22:", "${env:BASE}"),
        (
            {"BASE": "https://gateway.example.com/v1", "KEY": f"{SECRET}\n"},
            "CS130",
            ":7:18:",
            "'api-key' has a line break or NUL in the value of ${env:KEY}",
        ),
        (
            {"BASE": "https://gateway.example.com/v1", "KEY": f"{SECRET}\r\nX-Evil: 1"},
            "CS130",
            ":7:18:",
            "'api-key' has a line break or NUL in the value of ${env:KEY}",
        ),
    ],
)
def test_a_resolved_value_is_checked_like_a_written_one_and_never_shown(
    in_tmp: Path, environ: dict[str, str], rule: str, where: str, names: str
) -> None:
    write(in_tmp / "org.yaml", org_file(OPENAI))
    assert run("validate", "org.yaml").exit_code == 0  # no secrets in pull-request CI: syntax only
    for command in (("plan", "org.yaml"), ("apply", "org.yaml", "--auto-approve"), ("drift", "org.yaml")):
        result = run(*command, env=environ)
        assert result.exit_code == 1, command
        [line] = located(result.output, rule)
        assert where in line and names in line and "error" in line
        assert SECRET not in result.output
        assert "applied" not in result.stdout.replace("0 applied", "")
    assert "has no revisions" in run("history", ORG).output  # nothing was written


def test_a_plain_http_endpoint_from_the_environment_warns_at_the_reference(in_tmp: Path) -> None:
    write(in_tmp / "org.yaml", org_file(OPENAI))
    result = run("plan", "org.yaml", env={"BASE": f"http://{SECRET}.example.com/v1", "KEY": "k"})
    assert result.exit_code == 0
    [line] = located(result.stderr, "CS110")
    assert ":5:22: warning: " in line and "the value of ${env:BASE}" in line
    assert SECRET not in result.output


REFERENCES_EVERYWHERE = """\
    OpenAiCompatible:
      openAiBaseUrl: https://acme.openai.azure.com/openai/deployments/gpt-4o
      azureApiVersion: ${env:AZURE_API_VERSION}
  openTelemetryOtlpProtocol: ${env:OTLP_PROTOCOL}
  globalRules:
    - name: ${env:RULE_NAME}
      alwaysEnabled: true
      contents: ${env:RULE_TEXT}
"""
GOOD = {
    "AZURE_API_VERSION": "2024-06-01",
    "OTLP_PROTOCOL": "grpc",
    "RULE_NAME": "style",
    "RULE_TEXT": "Be brief.",
}


def test_a_reference_is_allowed_wherever_a_string_is(in_tmp: Path) -> None:
    write(in_tmp / "org.yaml", org_file(REFERENCES_EVERYWHERE))
    validated = run("validate", "org.yaml", "--strict")
    assert (validated.exit_code, validated.stdout) == (0, "")
    assert run("apply", "org.yaml", "--auto-approve", env=GOOD).exit_code == 0
    assert run("drift", "org.yaml", env=GOOD).exit_code == 0


@pytest.mark.parametrize(
    ("name", "value", "rule", "where"),
    [
        ("AZURE_API_VERSION", "june", "CS120", ":6:24:"),
        ("OTLP_PROTOCOL", "udp", "CS100", ":7:30:"),
    ],
)
def test_a_resolved_value_breaking_a_format_or_enum_is_located_at_its_reference(
    in_tmp: Path, name: str, value: str, rule: str, where: str
) -> None:
    write(in_tmp / "org.yaml", org_file(REFERENCES_EVERYWHERE))
    result = run("plan", "org.yaml", env=GOOD | {name: value})
    assert result.exit_code == 1
    [line] = located(result.stderr, rule)
    assert where in line and f"the value of ${{env:{name}}}" in line
    assert repr(value) not in line and f'"{value}"' not in line


def test_a_skill_from_the_environment_is_checked_once_resolved(in_tmp: Path) -> None:
    skill = "  globalSkills:\n    - name: review\n      alwaysEnabled: true\n      contents: ${env:SKILL}\n"
    write(in_tmp / "org.yaml", f"organization: {ORG}\nremoteConfig:\n{skill}")
    assert run("validate", "org.yaml").exit_code == 0
    wrong = run("plan", "org.yaml", env={"SKILL": f"---\nname: {SECRET}\n---\nReview."})
    assert wrong.exit_code == 1
    [line] = located(wrong.stderr, "CS160")
    assert ":6:17:" in line and "${env:SKILL}" in line and SECRET not in wrong.output
    assert run("plan", "org.yaml", env={"SKILL": "---\nname: review\n---\nReview."}).exit_code == 0


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        (".nan", "JSON has no NaN"),
        ("-.inf", "is infinite"),
        ("1.0e+400", "float64"),
        ("9007199254740993", "2^53"),
    ],
)
def test_numbers_cline_cannot_read_are_refused_by_every_command(
    in_tmp: Path, written: str, reason: str
) -> None:
    write(
        in_tmp / "org.yaml", f"organization: {ORG}\nremoteConfig:\n  openTelemetryLogBatchSize: {written}\n"
    )
    for command in ("validate", "plan", "apply", "drift"):
        extra = ("--auto-approve",) if command == "apply" else ()
        result = run(command, "org.yaml", *extra)
        assert result.exit_code == 1
        [line] = located(result.output, "CS100")
        assert ":3:30: error:" in line and reason in line
    assert "has no revisions" in run("history", ORG).output  # nothing was written


def test_a_console_storing_what_cline_cannot_read_is_reported_not_in_sync(in_tmp: Path) -> None:
    write(in_tmp / "org.yaml", f"organization: {ORG}\nremoteConfig:\n  kanbanEnabled: true\n")
    assert run("apply", "org.yaml", "--auto-approve").exit_code == 0
    with sqlite3.connect(in_tmp / ".clinesync" / "console.db") as database:
        [table] = [
            name
            for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if "revision" in name
        ]
        database.execute(f"UPDATE {table} SET value = ?", ('{"version":"v1","kanbanEnabled":NaN}',))
    for command in ("plan", "drift"):
        result = run(command, "org.yaml")
        assert result.exit_code == 1
        assert "not JSON that Cline can read" in result.output and "No changes" not in result.output


def test_a_number_cline_reads_as_infinity_is_never_in_sync_where_a_project_lowers_cs100(in_tmp: Path) -> None:
    """CS100 may be lowered; apply then writes a number Cline reads as Infinity, and every later plan and drift
    reports the console's value, never "No changes" (the stored text is what apply wrote: still not strict)."""
    write(in_tmp / "clinesync.yaml", "rules:\n  CS100: warning\n")
    write(
        in_tmp / "org.yaml",
        f"organization: {ORG}\nremoteConfig:\n  openTelemetryLogBatchSize: 1{'0' * 400}\n",
    )
    run("apply", "org.yaml", "--auto-approve")
    for command in ("plan", "drift"):
        result = run(command, "org.yaml")
        assert result.exit_code == 1
        assert "not JSON that Cline can read" in result.output and "No changes" not in result.output


class _NormalisingConsole(JsonHandler):
    """A console that stores a write but answers reads with NaN in the value, as a buggy one might."""

    stored: dict[str, Any] | None = None

    def do_GET(self) -> None:
        data = None
        if _NormalisingConsole.stored is not None:
            value = _NormalisingConsole.stored["value"][:-1] + ',"openTelemetryLogBatchSize":NaN}'
            data = {"enabled": _NormalisingConsole.stored["enabled"], "value": value}
        self._answer(200, {"success": True, "data": data})

    def do_PUT(self) -> None:
        _NormalisingConsole.stored = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self._answer(200, {"success": True, "data": _NormalisingConsole.stored})


@pytest.fixture
def normalising_console() -> Iterator[str]:
    _NormalisingConsole.stored = None
    with serving(_NormalisingConsole) as url:
        yield url


def test_apply_verifies_by_reading_strictly_as_cline_does(in_tmp: Path, normalising_console: str) -> None:
    write(in_tmp / "org.yaml", f"organization: {ORG}\nremoteConfig:\n  kanbanEnabled: true\n")
    env = {"CLINESYNC_CONSOLE": normalising_console, "CLINE_API_KEY": TOKEN, "CLINESYNC_RETRIES": "0"}
    result = run("apply", "org.yaml", "--auto-approve", env=env)
    assert result.exit_code == 1
    assert _NormalisingConsole.stored is not None  # the write landed; the re-read is what Cline cannot load
    assert "not JSON that Cline can read" in result.output
    assert "1 applied" not in result.output and "0 applied" in result.output
