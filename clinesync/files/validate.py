"""Validating one organization file: load (variables substituted, bases merged), schema, checks, policy, and
the problems as the project's guardrails have them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clinesync.files.bases import extended
from clinesync.files.checks import run_checks
from clinesync.files.guardrails import Guardrails, govern, unused_suppressions
from clinesync.files.loader import LoadedFile, Mark, load_file
from clinesync.files.policy import policy_problems
from clinesync.files.problems import Problem
from clinesync.files.project import Project
from clinesync.files.schema import schema_problems
from clinesync.files.suppressions import Suppression
from clinesync.files.variables import substitute
from clinesync.records import evolve, field, record

if TYPE_CHECKING:
    from clinesync.files.desired import Desired

_FIRST_LINE = Mark(1, 1)
_BASE_KEYS = frozenset({"apiVersion", "name", "enabled", "remoteConfig", "extends", "unmanaged"})


@record(frozen=True)
class CheckedFile:
    """A file's problems and what commands ask of it. `loaded` is dropped (`slim`) before the result crosses
    to another process; `desired` is set when the file was resolved too (`resolve`)."""

    path: str
    problems: list[Problem]  # as configured: levels set, `off` and suppressed ones left out
    suppressed: list[Problem] = field(default_factory=list)  # silenced by a comment, with its reason
    suppressions: list[Suppression] = field(default_factory=list)  # the comments in force that silenced them
    declared: list[Suppression] = field(default_factory=list)  # every suppression comment, its bases' too
    guardrails: Guardrails = field(default_factory=Guardrails)
    organization: str | None = None
    name: str | None = None
    # A YAML mapping with none of an organization file's top-level keys: some other tool's file. A file that
    # does not parse is not plainly anything: it is reported.
    plainly_not_an_organization: bool = False
    # Only keys a base may have (no organization, no unknown key such as a misspelt `organisation`): a base,
    # if some file extends it.
    may_be_a_base: bool = False
    organization_mark: Mark = _FIRST_LINE
    loaded: LoadedFile | None = None
    desired: Desired | None = None  # once resolved, where no error stopped it (the errors are in problems)

    @property
    def has_errors(self) -> bool:
        return any(problem.is_error for problem in self.problems)

    def slim(self) -> CheckedFile:
        """Without the loaded file, which only checking and resolving need."""
        return evolve(self, loaded=None)

    def adding(self, problem: Problem) -> CheckedFile:
        """With a problem found across files (CS104): an error stops its desired document."""
        return evolve(
            self, problems=[*self.problems, problem], desired=None if problem.is_error else self.desired
        )


def load_organization(path: str, project: Project, bases: dict[str, LoadedFile] | None = None) -> LoadedFile:
    """A file as its sources make it: variables substituted, then merged over the bases it names. `bases` is
    the run's cache of parsed bases (each parsed once however many files extend it)."""

    def prepare(loaded: LoadedFile) -> LoadedFile:
        return substitute(loaded, project.variables)

    loaded = prepare(load_file(path))
    return extended(loaded, {} if bases is None else bases, prepare, project.base_roots(path))


def check_file(
    path: str, project: Project | None = None, bases: dict[str, LoadedFile] | None = None
) -> CheckedFile:
    project = project or Project()
    return check_loaded(load_organization(path, project, bases), project.guardrails)


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
    data = loaded.data if isinstance(loaded.data, dict) else None
    plainly_not = data is not None and not {"organization", "remoteConfig", "apiVersion"} & set(data)
    return CheckedFile(
        loaded.path,
        sorted(problems, key=Problem.sort_key),
        governed.suppressed,
        sorted(governed.used, key=lambda found: (found.file, found.line)),
        sorted(loaded.suppressions, key=lambda found: (found.file, found.line)),
        guardrails,
        organization=_text(data, "organization"),
        name=_text(data, "name"),
        plainly_not_an_organization=plainly_not,
        may_be_a_base=data is not None and not plainly_not and set(data) <= _BASE_KEYS,
        organization_mark=loaded.value_mark(("organization",)),
        loaded=loaded,
    )


def _text(data: dict[str, Any] | None, key: str) -> str | None:
    value = data.get(key) if data is not None else None
    return value if isinstance(value, str) else None
