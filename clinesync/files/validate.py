"""Validating organization files: load, schema, checks, and the checks across files (CS104)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from clinesync.files.checks import run_checks
from clinesync.files.loader import LoadedFile, load_file
from clinesync.files.problems import Problem
from clinesync.files.schema import schema_problems


@dataclass
class CheckedFile:
    loaded: LoadedFile
    problems: list[Problem]

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


def check_file(path: str) -> CheckedFile:
    return check_loaded(load_file(path))


def check_loaded(loaded: LoadedFile) -> CheckedFile:
    problems = list(loaded.problems)
    if loaded.data is not None:
        problems += schema_problems(loaded)
        problems += run_checks(loaded)
    return CheckedFile(loaded, sorted(problems, key=Problem.sort_key))


def iter_checked(paths: list[str]) -> Iterator[CheckedFile]:
    """Each file checked as it comes, so a caller can act on one while the next is read. An organization
    declared again (CS104) is an error in the later file: the first one wins."""
    first: dict[str, str] = {}
    for path in paths:
        checked = check_file(path)
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


def check_files(paths: list[str]) -> list[CheckedFile]:
    return list(iter_checked(paths))
