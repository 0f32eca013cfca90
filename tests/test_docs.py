"""The docs cannot go stale: the command reference is the CLI's own help, and every rule example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinesync.cli.reference import command_reference, top_level_help
from clinesync.files.batch import check_files
from clinesync.files.policy import CONDITIONS
from clinesync.files.problems import RULES
from clinesync.files.project import load
from clinesync.files.validate import check_file

from support import REPO

RULES_DOC = (REPO / "docs" / "rules.md").read_text()
_SECTION = re.compile(r"^## (CS\d{3}): ", re.MULTILINE)


def test_the_command_reference_is_current() -> None:
    assert (REPO / "docs" / "commands.md").read_text() == command_reference(), "run `make docs`"


def test_the_help_answered_without_click_is_current() -> None:
    assert (REPO / "clinesync" / "cli" / "help.txt").read_text() == top_level_help(), "run `make docs`"


def _between(heading: re.Pattern[str], end: re.Pattern[str]) -> dict[str, str]:
    """Each section that `heading` opens, up to the next heading `end` matches."""
    found = {}
    for match in heading.finditer(RULES_DOC):
        after = end.search(RULES_DOC, match.end())
        found[match.group(1)] = RULES_DOC[match.start() : after.start() if after else len(RULES_DOC)]
    return found


def sections() -> dict[str, str]:
    return _between(_SECTION, re.compile(r"^## ", re.MULTILINE))


def policy_sections() -> dict[str, str]:
    return _between(re.compile(r"^### (\w+)\n", re.MULTILINE), re.compile(r"^##+ ", re.MULTILINE))


def examples(section: str, label: str) -> list[str]:
    part = (
        section.split(f"\n{label}", 1)[1].split("\nFixed", 1)[0]
        if label == "Bad"
        else section.split("\nFixed", 1)[1]
    )
    return re.findall(r"```yaml\n(.*?)```", part, re.DOTALL)


def test_every_rule_is_documented() -> None:
    assert sorted(sections()) == sorted(RULES)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_bad_example_fires_and_the_fixed_one_does_not(rule: str, tmp_path: Path) -> None:
    def fired(texts: list[str]) -> set[str]:
        paths = []
        for index, text in enumerate(texts):
            path = tmp_path / f"{len(list(tmp_path.iterdir()))}-{index}.yaml"
            path.write_text(text)
            paths.append(str(path))
        return {problem.rule for checked in check_files(paths) for problem in checked.problems}

    section = sections()[rule]
    bad, fixed = examples(section, "Bad"), examples(section, "Fixed")
    assert bad and fixed
    assert rule in fired(bad)
    # Every global skill draws CS151 until Cline's command-line client reads skills.
    assert fired(fixed) - ({"CS151"} if rule in ("CS160", "CS182") else set()) == set()


def test_every_policy_condition_is_documented() -> None:
    assert sorted(policy_sections()) == sorted(CONDITIONS)


@pytest.mark.parametrize("condition", CONDITIONS)
def test_each_policy_example_fires_and_its_fix_does_not(condition: str, tmp_path: Path) -> None:
    configuration, bad, fixed = re.findall(r"```yaml\n(.*?)```", policy_sections()[condition], re.DOTALL)
    (tmp_path / "clinesync.yaml").write_text(configuration)
    project = load(str(tmp_path / "clinesync.yaml"))
    [rule] = project.guardrails.policy
    assert rule.condition == condition
    for text, fires in ((bad, True), (fixed, False)):
        organization = tmp_path / "org.yaml"
        organization.write_text(text)
        problems = check_file(str(organization), project).problems
        assert (rule.id in {problem.rule for problem in problems}) is fires, problems
        # What the rule requires may be what no Cline client acts on yet (azureIdentity): CS183 says so.
        assert fires or [problem.rule for problem in problems] == (
            ["CS183"] if condition == "requireAzureIdentity" else []
        )
