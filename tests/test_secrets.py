"""Planted secrets appear in no output of any command, in any format, and in no file clinesync writes
(plan files, exported files). Only the console database holds them, as Cline's console does."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import run, write

ORG = "org-01JZPE4CHW5XTP73W95762121S"
SECRETS = {
    "OPENAI_KEY": "sk-planted-openai-7f3a9c",
    "GATEWAY_TOKEN": "planted-gateway-token-41d2",
    "OTEL_KEY": "planted-otel-key-88b1",
    "MCP_TOKEN": "planted-mcp-token-c0ffee",
    "S3_ID": "AKIAPLANTED123456",
    "S3_SECRET": "planted/s3/secret+key==",
    "BASE_URL": "https://planted-host.example.com/v1?sig=planted-url-signature-3d9",
}
# What a console's own values may show of a URL (SPEC §4): its host, never its credentials. The whole URL is
# sensitive only where clinesync knows it came from ${env:...}.
URL_CREDENTIAL = "planted-url-signature-3d9"
LIVE_ONLY_COMMANDS = ("rollback", "export")

# Rotated values: reversed, and still a URL where a URL is expected (clinesync refuses one that is not).
ROTATED = {name: value[::-1] for name, value in SECRETS.items()} | {
    "BASE_URL": "https://rotated.example.com/v1"
}

FILE = """\
organization: {org}
name: Secrets
remoteConfig:
  providerSettings:
    OpenAiCompatible:
      openAiBaseUrl: ${{env:BASE_URL}}
      openAiHeaders:
        api-key: ${{env:OPENAI_KEY}}
        X-Gateway: Bearer ${{env:GATEWAY_TOKEN}}
      models: [{{id: {model}}}]
  openTelemetryOtlpHeaders:
    x-otel: ${{env:OTEL_KEY}}
  remoteMCPServers:
    - name: docs
      url: https://mcp.example.com
      headers:
        Authorization: Bearer ${{env:MCP_TOKEN}}
  enterpriseTelemetry:
    promptUploading:
      enabled: true
      type: s3_access_keys
      s3AccessSettings:
        bucket: prompts
        accessKeyId: ${{env:S3_ID}}
        secretAccessKey: ${{env:S3_SECRET}}
"""


def assert_clean(text: str, where: str) -> None:
    leaked = [name for name, secret in SECRETS.items() if secret in text]
    if any(command in where for command in LIVE_ONLY_COMMANDS):
        leaked = [name for name in leaked if name != "BASE_URL"]
    assert not leaked and URL_CREDENTIAL not in text, f"{where} shows {leaked or [URL_CREDENTIAL]}"


@pytest.fixture
def outputs(in_tmp: Path) -> list[tuple[str, str]]:
    """Every command in every format, against a console that already holds the secrets."""
    write(in_tmp / "orgs" / "secrets.yaml", FILE.format(org=ORG, model="gpt-4o"))
    seen: list[tuple[str, str]] = []

    def record(*args: str, env: dict[str, str] | None = None) -> None:
        result = run(*args, env=SECRETS if env is None else env)
        seen.append((" ".join(args), result.output))

    for verbose in ((), ("-v",)):
        record(*verbose, "validate", "orgs")
        for output_format in ("text", "json", "markdown"):
            record(*verbose, "plan", "orgs", "--format", output_format)
        record(*verbose, "plan", "orgs", "--out", "reviewed.plan")
        record(*verbose, "apply", "reviewed.plan")
    # Rotate every secret and change the model: sensitive values change, in every format.
    write(in_tmp / "orgs" / "secrets.yaml", FILE.format(org=ORG, model="gpt-4o-mini"))
    rotated = ROTATED
    for output_format in ("text", "json", "markdown"):
        record("plan", "orgs", "--format", output_format, env=rotated)
        record("drift", "orgs", "--format", output_format)
        record("-v", "drift", "orgs", "--format", output_format)
    record("apply", "orgs", "--auto-approve", env=rotated)
    record("export", ORG)
    record("export", ORG, "-o", "exported.yaml")
    record("history", ORG)
    record("history", ORG, "--format", "json")
    record("rollback", ORG, "--to", "1", "--auto-approve")
    # Failures: an unset variable, a broken file beside a good one, a damaged plan file.
    record("plan", "orgs", env={name: value for name, value in SECRETS.items() if name != "S3_SECRET"})
    write(in_tmp / "orgs" / "broken.yaml", "organization: org-01JZPE4CHW5XTP73W95762121T\nenabled: maybe\n")
    record("apply", "orgs", "--auto-approve")
    write(in_tmp / "damaged.plan", '{"kind": "clinesync-plan"}')
    record("apply", "damaged.plan")
    return seen


def test_no_output_shows_a_planted_secret(outputs: list[tuple[str, str]]) -> None:
    assert len(outputs) >= 30
    for command, text in outputs:
        assert_clean(text, f"`clinesync {command}`")


def test_no_file_written_holds_a_planted_secret(outputs: list[tuple[str, str]], in_tmp: Path) -> None:
    written = [path for path in in_tmp.rglob("*") if path.is_file() and ".clinesync" not in path.parts]
    assert {path.name for path in written} >= {"reviewed.plan", "exported.yaml"}
    for path in written:
        assert_clean(path.read_text(errors="replace"), str(path))
    rotated = ROTATED
    assert not any(secret in (in_tmp / "reviewed.plan").read_text() for secret in rotated.values())
    # A console cannot say what came from the environment. Export writes every value plan would not show live
    # as a reference (every header value, credential fields, a URL's userinfo and query values), and other
    # values as they are (SPEC §3): the URL's host is such a one.
    exported = (in_tmp / "exported.yaml").read_text()
    assert [name for name, secret in rotated.items() if secret in exported] == ["BASE_URL"]


def test_masked_changes_still_say_what_changed(outputs: list[tuple[str, str]]) -> None:
    text = next(
        text for command, text in outputs if command == "plan orgs --format text" and "rotated" not in command
    )
    assert "openAiHeaders.api-key: (sensitive)" in text
    assert "s3AccessSettings.secretAccessKey: (sensitive)" in text
    drift = next(text for command, text in outputs if command == "drift orgs --format text")
    assert "~ remoteConfig.providerSettings.OpenAiCompatible.models" not in drift  # models by identity
    assert "+ remoteConfig.providerSettings.OpenAiCompatible.models[id=gpt-4o-mini]" in drift


@pytest.mark.parametrize("count", [3, 500])  # scanned one by one, and in one pass
def test_every_form_of_every_secret_is_scrubbed_however_many_there_are(count: int) -> None:
    import json
    from urllib.parse import quote

    from clinesync.scrub import SENSITIVE, Redactor

    secrets = [f"tenant/{index:04d}-k\\ey" for index in range(count)] + ["tenant/0001-k\\ey-longer"]
    redact = Redactor(secrets[:1])
    redact.add(secrets[1:])  # learnt later, as a plan learns them
    last = secrets[count - 1]
    text = (
        f"a {secrets[0]} b {json.dumps(last)} c {json.dumps(json.dumps(secrets[1]))} "
        f"d {quote(last, safe='')} e {secrets[-1]} f"
    )
    scrubbed = redact(text)
    assert not any(secret in scrubbed for secret in secrets)
    assert "0001" not in scrubbed and scrubbed.startswith(f"a {SENSITIVE} b ") and scrubbed.endswith(" f")
    assert scrubbed.count(SENSITIVE) == 5  # the longer secret whole, not its shorter prefix and a tail
    assert redact("nothing to hide") == "nothing to hide"
