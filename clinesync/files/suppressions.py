"""Suppressions (SPEC §1.2): `# clinesync: ignore[CS121] APIM custom domain` after a value silences those rules
on its line; on a line of its own, on the next line. A suppression says why: one without a reason, naming an
unknown rule, or suppressing nothing is itself a warning (CS107). Suppressed problems are kept, with the
reason, for `--format json` and audits.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Set
from dataclasses import dataclass

from clinesync.files.problems import Problem

_COMMENT = re.compile(r"(?:^|\s)#\s*clinesync:\s*ignore\[([^\]]*)\][ \t]*(.*?)\s*$")


@dataclass(frozen=True)
class Suppression:
    file: str
    line: int  # where the comment is
    column: int
    target: int  # the line it silences
    rules: frozenset[str]
    reason: str
    deferred: bool  # the silenced line holds a `${env:...}`: what it silences may show only once resolved


def scan(text: str, file: str) -> list[Suppression]:
    """The suppression comments of a file's text. Cheap when there are none, as in most files."""
    if "clinesync:" not in text:
        return []
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines, 1):
        match = _COMMENT.search(line)
        if match is None:
            continue
        alone = not line[: match.start()].strip()
        target = number + 1 if alone else number
        silenced = lines[target - 1] if target <= len(lines) else ""
        found.append(
            Suppression(
                file,
                number,
                line.index("#", match.start()) + 1,
                target,
                frozenset(rule.strip() for rule in match.group(1).split(",") if rule.strip()),
                match.group(2),
                "${env:" in silenced,
            )
        )
    return found


def suppress(
    problems: Iterable[Problem], suppressions: Iterable[Suppression]
) -> tuple[list[Problem], list[Problem], set[Suppression]]:
    """The problems still reported, the ones silenced (carrying their reason), and the suppressions used."""
    by_line: dict[tuple[str, int], list[Suppression]] = {}
    for suppression in suppressions:
        by_line.setdefault((suppression.file, suppression.target), []).append(suppression)
    active, silenced, used = [], [], set()
    for problem in problems:
        match = next(
            (found for found in by_line.get((problem.file, problem.line), []) if problem.rule in found.rules),
            None,
        )
        if match is None:
            active.append(problem)
        else:
            silenced.append(dataclasses.replace(problem, suppressed=match.reason or "(no reason given)"))
            used.add(match)
    return active, silenced, used


def suppression_problems(
    suppressions: Iterable[Suppression], used: Set[Suppression], known_rules: Set[str]
) -> list[Problem]:
    """CS107 for each suppression that gives no reason, names a rule that does not exist, or silences
    nothing (unless what it would silence shows only once `${env:...}` is resolved)."""
    problems = []
    for suppression in suppressions:
        where = (suppression.file, suppression.line, suppression.column)
        unknown = sorted(suppression.rules - known_rules)
        if unknown or not suppression.rules:
            named = ", ".join(unknown) or "no rule"
            problems.append(Problem.of("CS107", *where, f"ignore[...] names {named}: not a rule here"))
        elif not suppression.reason:
            problems.append(
                Problem.of("CS107", *where, "a suppression says why: add the reason after ignore[...]")
            )
        if suppression not in used and not suppression.deferred and suppression.rules and not unknown:
            rules = ", ".join(sorted(suppression.rules))
            problems.append(
                Problem.of(
                    "CS107",
                    *where,
                    f"ignore[{rules}] suppresses nothing on line {suppression.target}: remove it",
                )
            )
    return problems
