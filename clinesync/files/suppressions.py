"""Suppressions (SPEC §1.2): `# clinesync: ignore[CS121] APIM custom domain until=2027-01-31` after a value
silences those rules on its line; on a line of its own, on the next line, until the end of the day it names.

A suppression says why, and may silence only what files may (`Guardrails.suppressible_in`): one without a
reason, of a rule the project keeps out of files' hands, or with an `until=` that is not a date suppresses
nothing and is an error (CS108); one naming an unknown rule, expired, or suppressing nothing is a warning
(CS107). Suppressed problems are kept, with the reason, for `--format json` and audits.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Set
from typing import NamedTuple

from clinesync.files.problems import Problem

_COMMENT = re.compile(r"(?:^|\s)#\s*clinesync:\s*ignore\[([^\]]*)\][ \t]*(.*?)\s*$")
_UNTIL = re.compile(r"(?:^|\s)until=(\S*)$")


class Suppression(NamedTuple):
    file: str
    line: int  # where the comment is
    column: int
    target: int  # the line it silences
    rules: frozenset[str]
    reason: str
    deferred: bool  # the silenced line holds a `${env:...}`: what it silences may show only once resolved
    until: str | None = None  # the last day it silences, as written (YYYY-MM-DD)

    @property
    def expiry(self) -> datetime.date | None:
        """The day after which it silences nothing; None when no `until=` is given, or it is not a date."""
        try:
            return datetime.date.fromisoformat(self.until) if self.until else None
        except ValueError:
            return None

    def in_force(self, today: datetime.date) -> bool:
        """Whether it may silence anything today: it gives a reason and has not expired."""
        if not self.reason or (self.until is not None and self.expiry is None):
            return False
        return self.expiry is None or today <= self.expiry


def listed_suppressions(
    declared: Iterable[Suppression], used: Set[Suppression]
) -> list[tuple[Suppression, str]]:
    """Every suppression comment once, in file and line order, with its state for an audit: `in force` (it
    silenced something), `expired` (its until= has passed), or `silencing nothing` (a warning says why)."""
    today = datetime.date.today()
    listed = []
    for found in sorted(set(declared), key=lambda found: (found.file, found.line)):
        if found in used:
            listed.append((found, "in force"))
        elif found.expiry is not None and today > found.expiry:
            listed.append((found, "expired"))
        else:
            listed.append((found, "silencing nothing"))
    return listed


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
        reason, until = match.group(2), None
        if (expiry := _UNTIL.search(reason)) is not None:
            reason, until = reason[: expiry.start()].strip(), expiry.group(1)
        found.append(
            Suppression(
                file,
                number,
                line.index("#", match.start()) + 1,
                target,
                frozenset(rule.strip() for rule in match.group(1).split(",") if rule.strip()),
                reason,
                "${env:" in silenced,
                until,
            )
        )
    return found


def suppress(
    problems: Iterable[Problem], suppressions: Iterable[Suppression], may_suppress: Callable[[str], bool]
) -> tuple[list[Problem], list[Problem], set[Suppression]]:
    """The problems still reported, the ones silenced (carrying their reason), and the suppressions used.
    Only a suppression in force silences, and only rules `may_suppress` lets files silence."""
    today = datetime.date.today()
    by_line: dict[tuple[str, int], list[Suppression]] = {}
    for suppression in suppressions:
        if suppression.in_force(today):
            by_line.setdefault((suppression.file, suppression.target), []).append(suppression)
    active, silenced, used = [], [], set()
    for problem in problems:
        match = next(
            (found for found in by_line.get((problem.file, problem.line), []) if problem.rule in found.rules),
            None,
        )
        if match is None or not may_suppress(problem.rule):
            active.append(problem)
        else:
            silenced.append(problem._replace(suppressed=match.reason))
            used.add(match)
    return active, silenced, used


def suppression_problems(
    suppressions: Iterable[Suppression],
    used: Set[Suppression],
    known_rules: Set[str],
    may_suppress: Callable[[str], bool],
) -> list[Problem]:
    """CS108 for each suppression that may not be; CS107 for one that names a rule that does not exist, has
    expired, or silences nothing (unless what it would silence shows only once `${env:...}` is resolved)."""
    today = datetime.date.today()
    problems = []
    for suppression in suppressions:
        where = (suppression.file, suppression.line, suppression.column)
        unknown = sorted(suppression.rules - known_rules)
        guarded = sorted(rule for rule in suppression.rules - set(unknown) if not may_suppress(rule))
        if unknown or not suppression.rules:
            named = ", ".join(unknown) or "no rule"
            problems.append(Problem.of("CS107", *where, f"ignore[...] names {named}: not a rule here"))
        if not suppression.reason:
            problems.append(
                Problem.of("CS108", *where, "a suppression says why: add the reason after ignore[...]")
            )
        if guarded:
            problems.append(
                Problem.of(
                    "CS108",
                    *where,
                    f"{', '.join(guarded)} cannot be suppressed from a file: policy ids, rules set to error "
                    "in clinesync.yaml, CS100, CS111, CS131 and CS132 are the project's guardrails; list it "
                    "under suppressible: in clinesync.yaml to allow it",
                )
            )
        if suppression.until is not None and suppression.expiry is None:
            problems.append(
                Problem.of(
                    "CS108", *where, f"until={suppression.until} is not a date: write until=YYYY-MM-DD"
                )
            )
        elif suppression.expiry is not None and today > suppression.expiry:
            problems.append(
                Problem.of(
                    "CS107", *where, f"this exception expired on {suppression.until}: it suppresses nothing"
                )
            )
        elif (
            suppression not in used
            and suppression.in_force(today)
            and not suppression.deferred
            and suppression.rules
            and not unknown
            and not guarded
        ):
            rules = ", ".join(sorted(suppression.rules))
            problems.append(
                Problem.of(
                    "CS107",
                    *where,
                    f"ignore[{rules}] suppresses nothing on line {suppression.target}: remove it",
                )
            )
    return problems
