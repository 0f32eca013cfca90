"""Every CS rule, shown firing on its own bad-input file and silent on near misses.

Each file under files/invalid declares what validate must find, as `# expect: LINE:COL RULE text` comments;
the test asserts exactly that set of located problems, no more and no fewer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinesync.files.batch import check_files
from clinesync.files.problems import RULES
from clinesync.files.validate import check_file

from support import EXAMPLES, FILES, run, write

INVALID = sorted((FILES / "invalid").glob("*.yaml"))
VALID = sorted((FILES / "valid").glob("*.yaml")) + sorted(EXAMPLES.glob("*.yaml"))
_EXPECT = re.compile(r"^# expect: (\d+):(\d+) (CS\d{3})(?: (.*))?$", re.MULTILINE)


def expectations(path: Path) -> list[tuple[int, int, str, str]]:
    return [
        (int(line), int(col), rule, text or "") for line, col, rule, text in _EXPECT.findall(path.read_text())
    ]


@pytest.mark.parametrize("path", INVALID, ids=lambda path: path.stem)
def test_bad_input_is_found_at_its_exact_location(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} declares no expectation"
    problems = check_file(str(path)).problems
    assert sorted((p.line, p.column, p.rule) for p in problems) == sorted(
        (e[0], e[1], e[2]) for e in expected
    )
    for line, column, rule, text in expected:
        message = next(p.message for p in problems if (p.line, p.column, p.rule) == (line, column, rule))
        assert text in message


@pytest.mark.parametrize("path", VALID, ids=lambda path: path.stem)
def test_near_misses_and_examples_raise_no_error_and_only_the_warnings_they_declare(path: Path) -> None:
    problems = check_file(str(path)).problems
    assert not any(problem.is_error for problem in problems)
    assert sorted((p.line, p.column, p.rule) for p in problems) == sorted(
        (line, column, rule) for line, column, rule, _ in expectations(path)
    )


def test_every_rule_has_a_file_that_shows_it_firing() -> None:
    fired = {rule for path in INVALID for _, _, rule, _ in expectations(path)}
    # CS104 needs two files: test_duplicate_organization_across_files. CS103's byte-level cases: test_loader.
    assert set(RULES) - fired == {"CS104"}


def test_duplicate_organization_across_files(tmp_path: Path) -> None:
    one = tmp_path / "a.yaml"
    two = tmp_path / "b.yaml"
    one.write_text("organization: org-01JZPE4CHW5XTP73W95762121Y\n")
    two.write_text("name: Copy\norganization: org-01JZPE4CHW5XTP73W95762121Y\n")
    first, second = check_files([str(one), str(two)])
    assert first.problems == []
    [problem] = second.problems
    assert (problem.line, problem.column, problem.rule) == (2, 15, "CS104")
    assert str(one) in problem.message


def test_distinct_organizations_are_not_duplicates(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("organization: org-01JZPE4CHW5XTP73W95762121Y\n")
    (tmp_path / "b.yaml").write_text("organization: org-01JZPE4CHW5XTP73W95762121Z\n")
    assert all(item.problems == [] for item in check_files(sorted(map(str, tmp_path.iterdir()))))


def test_problem_lines_have_the_contract_format() -> None:
    [problem] = check_file(str(FILES / "invalid" / "CS150-deprecated.yaml")).problems
    assert re.fullmatch(r".+CS150-deprecated\.yaml:4:3: warning: .+ \[CS150\]", str(problem))


def test_a_host_written_beside_a_reference_is_checked_by_validate_and_said_once_by_plan(in_tmp: Path) -> None:
    """validate --strict is the pull request's gate: what plan would warn of a host written in the file, it
    warns of too, and plan says it once, never again for the resolved value."""
    write(
        in_tmp / "org.yaml",
        "organization: org-01JZPE4CHW5XTP73W95762121Y\nremoteConfig:\n  providerSettings:\n"
        "    OpenAiCompatible:\n      openAiBaseUrl: https://gw.example.net/v1?key=${env:GW_KEY}\n"
        '      azureApiVersion: "2024-06-01"\n',
    )
    strict = run("validate", "org.yaml", "--strict")
    assert strict.exit_code == 1 and strict.stdout.count("[CS121]") == 1
    assert "gw.example.net is not an Azure host" in strict.stdout
    planned = run("plan", "org.yaml", env={"GW_KEY": "planted-gateway-key-5d1"})
    assert planned.output.count("[CS121]") == 1 and "planted-gateway-key-5d1" not in planned.output
    write(
        in_tmp / "org.yaml",
        (in_tmp / "org.yaml").read_text().replace("gw.example.net/v1?key=", "${env:GW_HOST}/"),
    )
    assert "[CS121]" not in run("validate", "org.yaml").stdout  # the host is not known before plan
    moved = run("plan", "org.yaml", env={"GW_KEY": "k", "GW_HOST": "gw.example.net"})
    assert moved.output.count("[CS121]") == 1
    # A reference in the userinfo may hold any character: its host is not taken as written.
    write(
        in_tmp / "org.yaml",
        "organization: org-01JZPE4CHW5XTP73W95762121Y\nremoteConfig:\n  providerSettings:\n"
        "    OpenAiCompatible:\n      openAiBaseUrl: http://${env:USER}@gw.example.net/v1\n",
    )
    assert "[CS110]" not in run("validate", "org.yaml").stdout
    assert run("plan", "org.yaml", env={"USER": "k"}).output.count("[CS110]") == 1
    write(
        in_tmp / "org.yaml",
        "organization: org-01JZPE4CHW5XTP73W95762121Y\nremoteConfig:\n  providerSettings:\n"
        "    OpenAiCompatible:\n      openAiBaseUrl: http://gw.example.net/v1?key=${env:GW_KEY}\n",
    )
    assert run("validate", "org.yaml").stdout.count("[CS110]") == 1
    assert run("plan", "org.yaml", env={"GW_KEY": "k"}).output.count("[CS110]") == 1


def test_a_reference_in_an_mcp_urls_userinfo_is_not_one_in_its_host(in_tmp: Path) -> None:
    write(
        in_tmp / "org.yaml",
        "organization: org-01JZPE4CHW5XTP73W95762121Y\nremoteConfig:\n  remoteMCPServers:\n"
        "    - name: docs\n      url: https://$${env:TOK}@mcp.example.com/sse\n"
        "    - name: host\n      url: https://$${env:HOST}:8443/sse\n",
    )
    found = run("validate", "org.yaml").stdout
    assert found.count("[CS188]") == 1 and ":7:12:" in found  # the second server's host only


@pytest.mark.parametrize(
    ("url", "version", "rule"),
    [
        ("http://gw.example.net/${env:PART}/v1", None, "CS110"),
        ("https://gw.example.net/${env:PART}/v1", '"2024-06-01"', "CS121"),
        ("https://acme.openai.azure.com/openai/deployments/${env:PART}", None, "CS122"),
    ],
)
def test_a_reference_in_the_path_leaves_the_host_to_validate(
    in_tmp: Path, url: str, version: str | None, rule: str
) -> None:
    version_line = f"      azureApiVersion: {version}\n" if version else ""
    write(
        in_tmp / "org.yaml",
        "organization: org-01JZPE4CHW5XTP73W95762121Y\nremoteConfig:\n  providerSettings:\n"
        f"    OpenAiCompatible:\n      openAiBaseUrl: {url}\n{version_line}",
    )
    validated = run("validate", "org.yaml")
    assert validated.stdout.count(f"[{rule}]") == 1, validated.output
    assert run("plan", "org.yaml", env={"PART": "gpt-4o"}).output.count(f"[{rule}]") == 1


def test_a_reference_shipped_in_an_mcp_header_is_not_a_credential_written_in_the_file(in_tmp: Path) -> None:
    write(
        in_tmp / "org.yaml",
        "organization: org-01JZPE4CHW5XTP73W95762121Y\nremoteConfig:\n  remoteMCPServers:\n"
        "    - name: docs\n      url: https://mcp.example.com/sse\n"
        "      headers:\n        Authorization: Bearer $${env:MCP_TOKEN}\n",
    )
    found = run("validate", "org.yaml")
    assert found.exit_code == 0 and "[CS131]" not in found.stdout and "[CS180]" in found.stdout
