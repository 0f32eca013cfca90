"""The docs cannot go stale: the command reference is the CLI's own help, and every rule example runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinesync.cli.reference import command_reference
from clinesync.files.problems import RULES
from clinesync.files.validate import check_files

from support import REPO

RULES_DOC = (REPO / "docs" / "rules.md").read_text()
_SECTION = re.compile(r"^## (CS\d{3}): ", re.MULTILINE)


def test_the_command_reference_is_current() -> None:
    assert (REPO / "docs" / "commands.md").read_text() == command_reference(), "run `make docs`"


def sections() -> dict[str, str]:
    starts = [(match.group(1), match.start()) for match in _SECTION.finditer(RULES_DOC)]
    ends = [start for _, start in starts[1:]] + [len(RULES_DOC)]
    return {rule: RULES_DOC[start:end] for (rule, start), end in zip(starts, ends, strict=True)}


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
    assert fired(fixed) - ({"CS151"} if rule == "CS160" else set()) == set()
