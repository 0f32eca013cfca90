"""A team's own guardrails, through the CLI: rule levels for all files and by path, suppressions with a
reason, policy rules on values from the file, a variable, a base and the environment, and `clinesync rules`."""

from __future__ import annotations

import json
from pathlib import Path

from support import run, write

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
APIM = f"""\
organization: {ORG}
remoteConfig:
  providerSettings:
    OpenAiCompatible:
      openAiBaseUrl: https://llm-gateway.corp.example.com/openai/deployments/gpt-4o
      azureApiVersion: "2024-06-01"
"""


def test_levels_are_set_for_every_file_and_by_path(in_tmp: Path) -> None:
    write(in_tmp / "orgs" / "apim" / "a.yaml", APIM)
    write(in_tmp / "orgs" / "other.yaml", APIM.replace(ORG, ORG[:-1] + "Z"))
    assert "[CS121]" in run("validate", "orgs").stdout  # a warning nothing could silence, before
    write(
        in_tmp / "clinesync.yaml",
        "paths: [orgs/]\nrules: {CS110: error}\noverrides:\n  - paths: ['orgs/apim/*.yaml']\n    rules: {CS121: off}\n",
    )
    strict = run("validate", "--strict")
    assert strict.exit_code == 1
    assert "orgs/other.yaml:6:7: warning:" in strict.stdout and "orgs/apim/a.yaml" not in strict.stdout
    write(in_tmp / "orgs" / "apim" / "a.yaml", APIM.replace("https://llm-gateway", "http://llm-gateway"))
    raised = run("validate")
    assert (
        raised.exit_code == 1
        and "orgs/apim/a.yaml:5:22: error: " in raised.stdout
        and "[CS110]" in raised.stdout
    )


def test_a_suppression_on_the_line_or_the_line_before_silences_its_rule_and_says_why(in_tmp: Path) -> None:
    write(
        in_tmp / "org.yaml",
        APIM.replace(
            '      azureApiVersion: "2024-06-01"\n',
            '      # clinesync: ignore[CS121] API Management on our own domain\n      azureApiVersion: "2024-06-01"\n'
            "      azureIdentity: true  # clinesync: ignore[CS121, CS183] Entra ID through APIM\n",
        ),
    )
    result = run("validate", "--strict", "org.yaml", "--format", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert report["problems"] == []
    assert [(entry["line"], entry["rule"], entry["reason"]) for entry in report["suppressed"]] == [
        (7, "CS121", "API Management on our own domain"),
        (8, "CS121", "Entra ID through APIM"),
        (8, "CS183", "Entra ID through APIM"),
    ]
    assert "[CS121]" not in run("validate", "org.yaml").stdout


def test_a_suppression_without_a_reason_is_an_error_and_an_unused_one_a_warning(in_tmp: Path) -> None:
    write(
        in_tmp / "org.yaml",
        APIM.replace('"2024-06-01"\n', '"2024-06-01"  # clinesync: ignore[CS121]\n')
        + "  telemetryEnabled: true  # clinesync: ignore[CS110] no http here\n",
    )
    result = run("validate", "org.yaml")
    assert result.exit_code == 1
    assert "org.yaml:6:38: error: a suppression says why" in result.stdout
    assert "org.yaml:6:" in result.stdout and "[CS121]" in result.stdout  # and it silenced nothing
    assert "org.yaml:7:27: warning: ignore[CS110] suppresses nothing on line 7" in result.stdout


def test_an_exception_silences_until_its_day_and_then_says_it_expired(in_tmp: Path) -> None:
    for until, silenced in (("2999-12-31", True), ("2020-01-31", False)):
        write(
            in_tmp / "org.yaml",
            APIM.replace('"2024-06-01"\n', f'"2024-06-01"  # clinesync: ignore[CS121] APIM until={until}\n'),
        )
        result = run("validate", "--strict", "--format", "json", "org.yaml")
        report = json.loads(result.stdout)
        rules = [problem["rule"] for problem in report["problems"]]
        if silenced:
            assert result.exit_code == 0 and rules == []
            assert report["suppressions"] == [
                {
                    "file": "org.yaml",
                    "line": 6,
                    "rules": ["CS121"],
                    "reason": "APIM",
                    "until": until,
                    "state": "in force",
                }
            ]
            assert report["suppressed"][0]["reason"] == "APIM"
        else:
            assert sorted(rules) == ["CS107", "CS121"]
            assert any(f"expired on {until}" in problem["message"] for problem in report["problems"])
            # Listed all the same, for an audit: its expiry, and that it has passed.
            assert report["suppressions"] == [
                {
                    "file": "org.yaml",
                    "line": 6,
                    "rules": ["CS121"],
                    "reason": "APIM",
                    "until": until,
                    "state": "expired",
                }
            ]


POLICY = """\
paths: [orgs/]
variables:
  gateway: https://llm.corp.example.com/v1
policy:
  - id: corp-hosts
    message: models only go through the corporate gateway
    allowHosts: ["*.corp.example.com"]
  - id: tenant-header
    requireHeaders: {X-Tenant-Id: "[a-z]+"}
"""


def organization(base_url: str, tenant: str = "acme") -> str:
    return (
        f"organization: {ORG}\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        f"      openAiBaseUrl: {base_url}\n      openAiHeaders:\n        X-Tenant-Id: {tenant}\n"
    )


def test_policy_holds_for_values_written_from_variables_and_from_bases(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", POLICY)
    write(in_tmp / "orgs" / "a.yaml", organization("${var:gateway}"))
    assert run("validate").exit_code == 0
    routed = run("validate", "--var", "gateway=https://api.openai.com/v1")
    assert routed.exit_code == 1
    assert "orgs/a.yaml:5:22: error: models only go through the corporate gateway: " in routed.stdout
    assert "goes to api.openai.com, not an allowed host [corp-hosts]" in routed.stdout
    write(
        in_tmp / "bases" / "shared.yaml",
        "remoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n      openAiBaseUrl: https://api.openai.com/v1\n",
    )
    write(in_tmp / "orgs" / "a.yaml", f"organization: {ORG}\nextends: [../bases/shared.yaml]\n")
    inherited = run("validate")
    assert inherited.exit_code == 1
    assert "bases/shared.yaml:4:22: error: models only go through" in inherited.stdout
    assert (
        "bases/shared.yaml:3:5: error: policy requireHeaders: the endpoint does not send the header "
        "X-Tenant-Id [tenant-header]" in inherited.stdout
    )


def test_policy_names_list_items_by_identity_as_plans_do(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", POLICY)
    write(
        in_tmp / "orgs" / "a.yaml",
        organization("https://llm.corp.example.com/v1")
        + "  remoteMCPServers:\n    - name: docs\n      url: https://mcp.elsewhere.example/sse\n",
    )
    result = run("validate")
    assert "remoteConfig.remoteMCPServers[name=docs].url goes to mcp.elsewhere.example" in result.stdout, (
        result.output
    )


def test_policy_holds_for_values_from_the_environment_once_resolved(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", POLICY)
    write(in_tmp / "orgs" / "a.yaml", organization("${env:BASE_URL}", "${env:TENANT}"))
    assert run("validate").exit_code == 0  # no secrets here: the values are not known yet
    env = {"BASE_URL": "https://api.openai.com/v1", "TENANT": "Acme Corp"}
    planned = run("plan", env=env)
    assert planned.exit_code == 1
    assert "orgs/a.yaml:5:22: error: models only go through the corporate gateway: " in planned.stderr
    assert "the value of ${env:BASE_URL}" in planned.stderr and "api.openai.com" not in planned.stderr
    assert (
        "header X-Tenant-Id: the value of ${env:TENANT} does not match '[a-z]+' [tenant-header]"
        in planned.stderr
    )
    assert "Acme Corp" not in planned.output
    fine = run(
        "plan",
        env={"BASE_URL": "https://llm.corp.example.com/v1", "TENANT": "acme"},
    )
    assert fine.exit_code == 0, fine.output


def test_policy_levels_paths_and_suppressions_work_as_for_builtin_rules(in_tmp: Path) -> None:
    write(
        in_tmp / "clinesync.yaml",
        POLICY
        + "  - id: no-bedrock\n    level: warning\n    paths: ['orgs/labs/*']\n    denyProviders: [AwsBedrock]\n"
        + "rules: {tenant-header: off}\n",
    )
    bedrock = f"organization: {ORG}\nremoteConfig:\n  providerSettings:\n    AwsBedrock:  # clinesync: ignore[no-bedrock] pilot until March\n      awsRegion: us-east-1\n"
    write(in_tmp / "clinesync.yaml", (in_tmp / "clinesync.yaml").read_text() + "suppressible: [no-bedrock]\n")
    write(in_tmp / "orgs" / "labs" / "pilot.yaml", bedrock)
    write(
        in_tmp / "orgs" / "prod.yaml",
        bedrock.replace(ORG, ORG[:-1] + "Z").replace(
            "  # clinesync: ignore[no-bedrock] pilot until March", ""
        ),
    )
    result = run("validate", "--strict", "--format", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.output  # prod is outside the rule's paths
    assert [entry["rule"] for entry in report["suppressed"]] == ["no-bedrock"]
    assert report["problems"] == []
    listed = json.loads(run("rules", "--format", "json").stdout)["rules"]
    by_id = {entry["id"]: entry for entry in listed}
    assert by_id["CS131"]["level"] == "error" and by_id["CS121"]["level"] == "warning"
    assert by_id["no-bedrock"] == {
        "id": "no-bedrock",
        "level": "warning",
        "kind": "policy",
        "summary": "policy: denyProviders AwsBedrock",
        "overrides": [],
    }
    assert by_id["tenant-header"]["level"] == "off"


def test_a_configuration_naming_a_rule_that_does_not_exist_is_a_located_error(in_tmp: Path) -> None:
    write(
        in_tmp / "clinesync.yaml", "rules:\n  CS999: off\npolicy:\n  - id: x\n    requireHeaders: {A: '('}\n"
    )
    result = run("rules")
    assert result.exit_code == 1
    assert "clinesync.yaml:2:3: error: CS999 is not a rule" in result.stderr
    assert "clinesync.yaml:5:25: error: requireHeaders A: not a regular expression" in result.stderr


def test_the_file_a_guardrail_constrains_cannot_switch_it_off(in_tmp: Path) -> None:
    """A policy id, a rule the configuration sets to error, CS131 and CS132 hold against a comment in the
    organization file or a base it extends, unless the project lists them as suppressible."""
    write(in_tmp / "clinesync.yaml", POLICY + "rules: {CS110: error}\n")
    write(
        in_tmp / "orgs" / "bases" / "gateway.yaml",
        "remoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: http://evil.example.net/v1  # clinesync: ignore[corp-hosts, CS110] trust me\n",
    )
    write(
        in_tmp / "orgs" / "acme.yaml",
        f"organization: {ORG}\nextends: [bases/gateway.yaml]\nremoteConfig:\n  providerSettings:\n"
        "    OpenAiCompatible:\n      openAiHeaders:\n        X-Tenant-Id: acme\n"
        "        Authorization: Bearer abc123  # clinesync: ignore[CS131] a test key\n",
    )
    result = run("validate", "--format", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    found = {(problem["rule"], problem["level"]) for problem in report["problems"]}
    assert {("corp-hosts", "error"), ("CS110", "error"), ("CS131", "error"), ("CS108", "error")} <= found
    refusals = [problem["message"] for problem in report["problems"] if problem["rule"] == "CS108"]
    assert any(message.startswith("CS110, corp-hosts cannot be suppressed") for message in refusals)
    assert any(message.startswith("CS131 cannot be suppressed") for message in refusals)
    assert report["suppressed"] == []
    assert {entry["state"] for entry in report["suppressions"]} == {"silencing nothing"}  # refused, each

    write(
        in_tmp / "clinesync.yaml",
        POLICY + "rules: {CS110: error}\nsuppressible: [corp-hosts, CS110, CS131]\n",
    )
    result = run("validate", "--format", "json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert sorted(problem["rule"] for problem in report["suppressed"]) == ["CS110", "CS131", "corp-hosts"]
    assert [(entry["file"], entry["line"]) for entry in report["suppressions"]] == [
        ("orgs/acme.yaml", 8),
        ("orgs/bases/gateway.yaml", 4),
    ]


def test_suppressible_names_only_rules_that_exist(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "suppressible: [CS131, no-such-policy]\n")
    result = run("rules")
    assert result.exit_code == 1
    assert "clinesync.yaml:1:23: error: no-such-policy is not a rule" in result.stderr


def test_a_file_cannot_silence_a_value_cline_cannot_load_or_a_url_it_reads_otherwise(in_tmp: Path) -> None:
    """`ignore[CS111]` on a base URL without a scheme, `ignore[CS100]` on a flag written as text: silenced, the
    file would pass and be applied as members' Cline never takes it. Both stay errors, nothing is written,
    until the team lists them under `suppressible:`."""
    write(
        in_tmp / "org.yaml",
        "organization: org-01JZPE4CHW5XTP73W95762121Y\nremoteConfig:\n  telemetryEnabled: 'yes'  "
        "# clinesync: ignore[CS100] we know\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: gw.example.com/v1  # clinesync: ignore[CS111] we know\n",
    )
    validated = run("validate", "org.yaml")
    assert validated.exit_code == 1
    assert validated.stdout.count("[CS108]") == 2
    assert "[CS100]" in validated.stdout and "[CS111]" in validated.stdout
    applied = run("apply", "org.yaml", "--auto-approve")
    assert applied.exit_code == 1 and "Applied" not in applied.stdout
    assert "has no revisions" in run("history", "org-01JZPE4CHW5XTP73W95762121Y").output
    write(in_tmp / "clinesync.yaml", "suppressible: [CS100, CS111]\n")  # the team's choice, in review
    assert run("validate", "org.yaml").exit_code == 0


def test_an_override_or_a_policy_rule_with_until_applies_through_its_day_and_then_says_it_expired(
    in_tmp: Path,
) -> None:
    write(in_tmp / "orgs" / "apim" / "a.yaml", APIM)
    for until, in_force in (("2999-12-31", True), ("2020-01-31", False)):
        write(
            in_tmp / "clinesync.yaml",
            "paths: [orgs/]\n"
            f"overrides:\n  - paths: ['orgs/apim/*.yaml']\n    rules: {{CS121: off}}\n    until: {until}\n"
            f"policy:\n  - id: gateway-only\n    allowHosts: ['gateway.corp.example.com']\n    until: {until}\n",
        )
        result = run("validate", "--format", "json")
        rules = sorted(problem["rule"] for problem in json.loads(result.stdout)["problems"])
        if in_force:
            assert rules == ["gateway-only"] and "expired" not in result.stderr
        else:
            # The exception ended: the warning is back; the rule ended: not checked; each says so, at its line,
            # in the report (and so in --strict, SARIF and annotations).
            assert rules == ["CS107", "CS107", "CS121"]
            messages = [
                f"{problem['file']}:{problem['line']}:{problem['column']}: {problem['message']}"
                for problem in json.loads(result.stdout)["problems"]
            ]
            assert (
                f"clinesync.yaml:5:12: this exception expired on {until}: it no longer applies; remove it, or extend "
                "until:"
            ) in messages
            assert any(
                message.startswith(f"clinesync.yaml:9:12: policy rule gateway-only expired on {until}")
                for message in messages
            )
            assert run("validate", "--strict").exit_code == 1
            assert "expired" in run("plan", "orgs/apim/a.yaml").stderr  # said by every command
    write(in_tmp / "clinesync.yaml", "policy:\n  - {id: x, requireHttps: true, until: 2027-02-30}\n")
    invalid = run("validate", "orgs")
    assert invalid.exit_code == 1 and "until: 2027-02-30 is not a date" in invalid.stderr
