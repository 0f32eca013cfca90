"""Validating organization files: load, schema, checks, and the checks across files (CS104)."""

from __future__ import annotations

from dataclasses import dataclass

from clinesync.checks import run_checks
from clinesync.loader import LoadedFile, load_file
from clinesync.problems import Problem
from clinesync.schema import schema_problems


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
    loaded = load_file(path)
    problems = list(loaded.problems)
    if loaded.data is not None:
        problems += schema_problems(loaded)
        problems += run_checks(loaded)
    return CheckedFile(loaded, sorted(problems, key=Problem.sort_key))


def check_files(paths: list[str]) -> list[CheckedFile]:
    checked = [check_file(path) for path in paths]
    _check_duplicate_organizations(checked)
    return checked


def _check_duplicate_organizations(checked: list[CheckedFile]) -> None:
    first: dict[str, CheckedFile] = {}
    for item in checked:
        org = item.organization
        if org is None:
            continue
        if org not in first:
            first[org] = item
            continue
        mark = item.loaded.value_mark(("organization",))
        item.problems.append(
            item.loaded.problem(
                "CS104",
                mark,
                f"organization {org} is also declared in {first[org].path}: one file per organization",
            )
        )
