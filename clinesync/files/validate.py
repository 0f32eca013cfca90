"""Validating organization files: load (variables substituted, bases merged), schema, checks, and the checks
across files (CS104)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from clinesync.files.bases import extended
from clinesync.files.checks import run_checks
from clinesync.files.guardrails import Guardrails, govern, unused_suppressions
from clinesync.files.loader import LoadedFile, load_file
from clinesync.files.policy import policy_problems
from clinesync.files.problems import Problem
from clinesync.files.project import Project
from clinesync.files.schema import schema_problems
from clinesync.files.variables import substitute

_BASE_KEYS = frozenset({"apiVersion", "name", "enabled", "remoteConfig", "extends", "unmanaged"})


@dataclass
class CheckedFile:
    loaded: LoadedFile
    problems: list[Problem]  # as configured: levels set, `off` and suppressed ones left out
    suppressed: list[Problem] = field(default_factory=list)  # silenced by a comment, with its reason
    guardrails: Guardrails = field(default_factory=Guardrails)

    @property
    def path(self) -> str:
        return self.loaded.path

    @property
    def has_errors(self) -> bool:
        return any(problem.is_error for problem in self.problems)

    @property
    def plainly_not_an_organization(self) -> bool:
        """A YAML mapping with none of an organization file's top-level keys: some other tool's file. A file
        that does not parse is not plainly anything: it is reported."""
        data = self.loaded.data
        return isinstance(data, dict) and not {"organization", "remoteConfig", "apiVersion"} & set(data)

    @property
    def organization(self) -> str | None:
        return self._text("organization")

    @property
    def name(self) -> str | None:
        return self._text("name")

    def _text(self, key: str) -> str | None:
        data = self.loaded.data
        value = data.get(key) if isinstance(data, dict) else None
        return value if isinstance(value, str) else None

    @property
    def may_be_a_base(self) -> bool:
        """Only keys a base may have (no organization, no unknown key such as a misspelt `organisation`): a
        base, if some file extends it."""
        data = self.loaded.data
        return isinstance(data, dict) and not self.plainly_not_an_organization and set(data) <= _BASE_KEYS


def load_organization(path: str, project: Project) -> LoadedFile:
    """A file as its sources make it: variables substituted, then merged over the bases it names."""

    def prepare(loaded: LoadedFile) -> None:
        substitute(loaded, project.variables)

    loaded = load_file(path)
    prepare(loaded)
    return extended(loaded, project.bases, prepare)


def check_file(path: str, project: Project | None = None) -> CheckedFile:
    project = project or Project()
    return check_loaded(load_organization(path, project), project.guardrails)


def check_loaded(loaded: LoadedFile, guardrails: Guardrails | None = None) -> CheckedFile:
    guardrails = guardrails or Guardrails()
    problems = list(loaded.problems)
    if loaded.data is not None:
        problems += schema_problems(loaded)
        problems += run_checks(loaded)
        problems += policy_problems(loaded, guardrails.policy_for(loaded.path))
    governed = govern(problems, loaded.path, guardrails, loaded.suppressions)
    problems = governed.problems + unused_suppressions(
        loaded.suppressions, governed.used, loaded.path, guardrails
    )
    return CheckedFile(loaded, sorted(problems, key=Problem.sort_key), governed.suppressed, guardrails)


def iter_checked(paths: list[str], project: Project | None = None) -> Iterator[CheckedFile]:
    """Each file checked as it comes, so a caller can act on one while the next is read. An organization
    declared again (CS104) is an error in the later file: the first one wins. A file that another extends is
    a base, not an organization: skipped (one without organization waits until every file has been read);
    with `--org`, so is every organization not selected."""
    project = project or Project()
    first: dict[str, str] = {}
    maybe_bases: list[CheckedFile] = []
    for path in paths:
        if os.path.realpath(path) in project.bases:
            continue
        checked = check_file(path, project)
        if checked.may_be_a_base:
            maybe_bases.append(checked)
            continue
        if not project.selects(checked.organization):
            continue
        organization = checked.organization
        if organization is not None and organization in first:
            mark = checked.loaded.value_mark(("organization",))
            checked.problems.append(
                checked.loaded.problem(
                    "CS104",
                    mark,
                    f"organization {organization} is also declared in "
                    f"{first[organization]}: one file per organization",
                )
            )
        elif organization is not None:
            first[organization] = checked.path
        yield checked
    if project.organizations is None:
        yield from (checked for checked in maybe_bases if os.path.realpath(checked.path) not in project.bases)


def check_files(paths: list[str], project: Project | None = None) -> list[CheckedFile]:
    return list(iter_checked(paths, project))
