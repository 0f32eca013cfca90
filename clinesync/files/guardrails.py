"""A team's own guardrails (SPEC §9, §10): rule levels for all files or by path, suppressions, and policy rules.

`govern` is the one place a file's problems pass through before anyone sees them: levels set to `off` drop
them, suppression comments silence them (kept aside, with the reason), and configured levels replace the
catalogue's.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from clinesync.files.paths import matches
from clinesync.files.policy import PolicyRule
from clinesync.files.problems import RULES, Level, Problem
from clinesync.files.suppressions import Suppression, suppress, suppression_problems
from clinesync.records import field, record

# Secrets written in the file (CS131) and redaction placeholders (CS132): a file that could silence these could
# commit a key to git or overwrite a live secret with "(sensitive)". A value Cline cannot load (CS100) or a URL
# Cline reads otherwise than written (CS111): silenced, the file would pass and be applied as members' Cline
# would never take it.
_NEVER_FROM_FILES = frozenset({"CS100", "CS111", "CS131", "CS132"})


class Override(NamedTuple):
    paths: tuple[str, ...]  # patterns relative to the project's folder
    rules: Mapping[str, Level]


@record(frozen=True)
class Guardrails:
    rules: Mapping[str, Level] = field(default_factory=dict)  # rule id -> level, for every file
    overrides: tuple[Override, ...] = ()
    policy: tuple[PolicyRule, ...] = ()
    root: str = os.curdir  # what path patterns are relative to
    suppressible: frozenset[str] = frozenset()  # rules files may suppress beyond the default (SPEC §9)

    @functools.cached_property
    def known_rules(self) -> frozenset[str]:
        return frozenset(RULES) | {rule.id for rule in self.policy}

    def default_level(self, rule: str) -> Level:
        policy = next((found for found in self.policy if found.id == rule), None)
        return policy.level if policy is not None else RULES[rule].level

    def level(self, rule: str, file: str) -> Level:
        """The level of `rule` for an organization file: the last matching override, else the configured
        level, else the rule's own."""
        level = self.rules.get(rule, self.default_level(rule))
        for override in self.overrides:
            if rule in override.rules and matches(_relative(file, self.root), override.paths):
                level = override.rules[rule]
        return level

    def suppressible_in(self, rule: str, file: str) -> bool:
        """Whether a comment in `file` (or a base it extends) may silence `rule`. A guardrail holds against the
        file it guards: a policy rule, a rule the configuration makes an error, and the rules that keep secrets
        and placeholders out of git are the team's to relax (`suppressible:`), not the file's."""
        if rule in self.suppressible:
            return True
        if rule not in RULES or rule in _NEVER_FROM_FILES:
            return False
        configured = [self.rules.get(rule)] + [
            override.rules.get(rule)
            for override in self.overrides
            if rule in override.rules and matches(_relative(file, self.root), override.paths)
        ]
        return Level.ERROR not in configured

    def policy_for(self, file: str) -> tuple[PolicyRule, ...]:
        if not any(rule.paths for rule in self.policy):
            return self.policy  # no rule is for some files only: the file's path does not matter
        relative = _relative(file, self.root)
        return tuple(rule for rule in self.policy if not rule.paths or matches(relative, rule.paths))


class Governed(NamedTuple):
    problems: list[Problem]
    suppressed: list[Problem]
    used: set[Suppression]


def govern(
    problems: Iterable[Problem], file: str, guardrails: Guardrails, suppressions: Iterable[Suppression]
) -> Governed:
    """`problems` of the organization file `file` at their configured levels, `off` dropped, suppressed ones
    set aside."""
    leveled = []
    for problem in problems:
        level = (
            guardrails.level(problem.rule, file) if problem.rule in guardrails.known_rules else problem.level
        )
        if level is not Level.OFF:
            leveled.append(problem if level is problem.level else problem._replace(level=level))
    active, suppressed, used = suppress(
        leveled, suppressions, lambda rule: guardrails.suppressible_in(rule, file)
    )
    return Governed(active, suppressed, used)


def unused_suppressions(
    suppressions: Iterable[Suppression], used: set[Suppression], file: str, guardrails: Guardrails
) -> list[Problem]:
    """CS107 warnings about the suppressions themselves, at their configured level."""
    found = suppression_problems(
        suppressions, used, guardrails.known_rules, lambda rule: guardrails.suppressible_in(rule, file)
    )
    return govern(found, file, guardrails, ()).problems


def _relative(file: str, root: str) -> str:
    return os.path.relpath(file, root).replace(os.sep, "/")
