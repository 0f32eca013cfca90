"""validate --format sarif (issue 28): SARIF 2.1.0 that GitHub code scanning takes, each problem located in the
repository, every rule with help and a link to its section of docs/rules.md, suppressions marked in source."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from clinesync.files.problems import RULES

from support import EXAMPLES, REPO, run, write

ORG = "organization: org-01JZPE4CHW5XTP73W95760001Y\n"


def sarif(*args: str) -> dict[str, object]:
    result = run("validate", *args, "--format", "sarif")
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_each_problem_is_a_result_located_in_the_repository(in_tmp: Path) -> None:
    (in_tmp / ".git").mkdir()
    write(
        in_tmp / "fleet" / "orgs" / "a.yaml",
        ORG + "remoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: http://llm.example.com/v1  # clinesync: ignore[CS110] a trial\n"
        "      openAiHeaders: {api-key: plain-text-key}\n",
    )
    for where in (("fleet/orgs",), ("orgs", "--chdir", "fleet")):  # from the root, and from below it
        document = sarif(*where)
        assert document["version"] == "2.1.0" and "sarif-2.1.0" in str(document["$schema"])
        [run_] = document["runs"]  # type: ignore[attr-defined]
        results = {result["ruleId"]: result for result in run_["results"]}
        leaked = results["CS131"]
        assert leaked["level"] == "error" and "plain-text-key" not in json.dumps(document)
        location = leaked["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "fleet/orgs/a.yaml", "uriBaseId": "%SRCROOT%"}
        assert location["region"] == {"startLine": 6, "startColumn": 32}
        rules = run_["tool"]["driver"]["rules"]
        assert rules[leaked["ruleIndex"]]["id"] == "CS131"
        assert results["CS110"]["suppressions"] == [{"kind": "inSource", "justification": "a trial"}]


def test_every_rule_links_to_its_section_of_the_rule_reference(in_tmp: Path) -> None:
    write(in_tmp / "org.yaml", (EXAMPLES / "org.yaml").read_text())
    document = sarif("org.yaml")
    [run_] = document["runs"]  # type: ignore[attr-defined]
    assert run_["results"] == []
    rules = {rule["id"]: rule for rule in run_["tool"]["driver"]["rules"]}
    assert set(rules) == set(RULES)
    anchors = set(
        re.findall(r'<a id="(cs\d{3})"></a>\n\n## CS\d{3}: ', (REPO / "docs" / "rules.md").read_text())
    )
    for name, rule in rules.items():
        assert rule["helpUri"].endswith(f"/rules.md#{name.lower()}") and name.lower() in anchors
        assert rule["help"]["text"].startswith(f"{name}: ") and rule["defaultConfiguration"]["level"] in (
            "error",
            "warning",
        )


def test_a_policy_rule_is_described_as_the_teams(in_tmp: Path) -> None:
    write(in_tmp / "clinesync.yaml", "policy:\n  - id: corp-https\n    requireHttps: true\n")
    write(
        in_tmp / "org.yaml", ORG + "remoteConfig:\n  openTelemetryOtlpLogsEndpoint: http://otel.example.com\n"
    )
    [run_] = sarif("org.yaml")["runs"]  # type: ignore[index]
    [result] = [result for result in run_["results"] if result["ruleId"] == "corp-https"]
    rule = run_["tool"]["driver"]["rules"][result["ruleIndex"]]
    assert rule["id"] == "corp-https" and "policy" in rule["helpUri"]


def test_the_github_example_uploads_findings_for_its_own_pull_requests_only() -> None:
    workflow = yaml.safe_load((REPO / "examples" / "ci" / "github" / "clinesync.yml").read_text())
    job = workflow["jobs"]["validate"]
    steps = {step.get("name"): step for step in job["steps"]}
    assert "--format sarif > clinesync.sarif" in steps["Findings for code scanning"]["run"]
    upload = steps["Upload to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "clinesync.sarif"
    for step in (steps["Findings for code scanning"], upload):  # after a failed validate too; never a fork's
        assert (
            step["if"].startswith("always() && ") and "head.repo.full_name == github.repository" in step["if"]
        )
    assert job["permissions"]["security-events"] == "write"
