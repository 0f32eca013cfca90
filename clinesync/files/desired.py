"""Desired documents: a valid organization file with its `${env:...}` references resolved.

Every path whose value came from the environment is remembered as sensitive, and the resolved values are
collected so that output can be scrubbed of them as a last line of defence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from clinesync.document import Document
from clinesync.fields import Path, identified, parse_dotted, replaced
from clinesync.files import envref
from clinesync.files.checks import ignored_values, run_checks
from clinesync.files.guardrails import govern
from clinesync.files.loader import LoadedFile, as_mark
from clinesync.files.policy import policy_problems
from clinesync.files.problems import Problem
from clinesync.files.schema import changed_value_problems
from clinesync.files.suppressions import Suppression
from clinesync.files.validate import CheckedFile
from clinesync.records import evolve, field, record


@record(frozen=True)
class Desired:
    file: str
    organization: str
    name: str | None
    document: Document
    sensitive: frozenset[Path] = field(default_factory=frozenset)  # plan paths, e.g. remoteConfig...api-key
    secrets: frozenset[str] = field(default_factory=frozenset)
    references: Mapping[Path, str] = field(default_factory=dict)  # sensitive path -> `${env:NAME}` as written
    from_console: bool = False  # a stored revision (rollback), not a file: its values are shown as live ones
    unmanaged: tuple[Path, ...] = ()  # plan paths left as they are live (SPEC §5)
    public_headers: frozenset[str] = frozenset()  # the project's `publicHeaders`: live values shown
    origins: Mapping[Path, str] = field(
        default_factory=dict
    )  # plan path -> `base.yaml:LINE`, for inherited values


class _Found(NamedTuple):
    """What resolving finds beside the checks' findings, as the guardrails have it."""

    problems: list[Problem]
    suppressed: list[Problem]
    suppressions: list[Suppression]

    def into(self, checked: CheckedFile, desired: Desired | None) -> CheckedFile:
        return evolve(
            checked,
            problems=self.problems,
            suppressed=self.suppressed,
            suppressions=self.suppressions,
            desired=desired,
        )


def resolve(
    checked: CheckedFile,
    environ: Mapping[str, str],
    unmanaged: tuple[Path, ...] = (),
    public_headers: frozenset[str] = frozenset(),
) -> CheckedFile:
    """The checked file with its desired document, or without one where errors stop it: an unset variable
    (CS170), or a resolved value that breaks a rule or a policy. Every problem found is added to its problems
    (warnings included) as the guardrails have it. `unmanaged` adds the project's unmanaged paths to the
    file's."""
    found = _Found(list(checked.problems), list(checked.suppressed), list(checked.suppressions))
    loaded = checked.loaded
    assert loaded is not None, "resolved where it was checked, before `slim`"
    data = loaded.data
    problems: list[Problem] = []
    secrets: set[str] = set()
    from_environment: dict[Path, str] = {}
    changed: dict[Path, str] = {}  # a `$${` escape too: its text was not checked as written
    for path, value in loaded.strings:  # listed once already, by the checks
        if "$" not in value or path[:1] != ("remoteConfig",):
            continue
        try:
            resolved, values = envref.resolve(value, environ)
        except envref.UnsetVariable as unset:
            mark = loaded.value_mark(path)
            hint = (
                f"; or, for a value each member's Cline expands on its own machine, write $${{env:{unset.name}}}"
                if path[:2] == ("remoteConfig", "remoteMCPServers")
                else ""
            )
            problems.append(
                loaded.problem(
                    "CS170", mark, f"environment variable {unset.name} is not set (or is empty){hint}"
                )
            )
            continue
        if resolved != value:
            changed[path] = resolved
        if values:
            from_environment[path] = value
            secrets.update([resolved, *values])
    remote = replaced(data.get("remoteConfig") or {}, {path[1:]: value for path, value in changed.items()})
    if not problems and changed:
        problems = _resolved_problems(
            checked, loaded, {**data, "remoteConfig": remote}, from_environment, list(changed)
        )
    found.problems.extend(_governed(checked, loaded, problems, found))
    if any(problem.is_error for problem in found.problems):
        return found.into(checked, None)
    tree = {"enabled": data.get("enabled", True), "remoteConfig": {"version": "v1", **remote}}
    # Plans name list items by identity: translate the positional paths once the values are final.
    positional = {path: identified(tree, path) for path in from_environment}
    own = [parse_dotted(text) for text in data.get("unmanaged", [])]
    ignored = list(ignored_values(loaded, [path for path in unmanaged if path not in own]))
    if ignored:
        found.problems.extend(_governed(checked, loaded, ignored, found))
    left_alone = (*own, *unmanaged)
    desired = Desired(
        file=checked.path,
        organization=data["organization"],
        name=data.get("name"),
        document=Document.from_tree(tree),
        sensitive=frozenset(positional[path] for path in from_environment),
        secrets=frozenset(secret for secret in secrets if secret),
        references={positional[path]: written for path, written in from_environment.items()},
        unmanaged=tuple(dict.fromkeys(left_alone)),
        public_headers=public_headers,
        origins=_origins(loaded, tree),
    )
    return found.into(checked, desired)


def _origins(loaded: LoadedFile, tree: dict[str, Any]) -> dict[Path, str]:
    """Where each inherited value was set, by plan path: a change to it names the base file and line."""
    if not loaded.data.get("extends"):
        return {}
    marks = {path: as_mark(mark) for path, mark in loaded.values.items()}
    return {
        identified(tree, path): f"{mark.file}:{mark.line}"
        for path, mark in marks.items()
        if mark.file and path[:1] in (("remoteConfig",), ("enabled",))
    }


def _resolved_problems(
    checked: CheckedFile,
    loaded: LoadedFile,
    data: dict[str, Any],
    references: dict[Path, str],
    changed: list[Path],
) -> list[Problem]:
    """The problems of the resolved values that the file as written did not show: the same rules, located at
    the reference and naming it, never the value."""
    view = loaded.resolved_view(data, references, changed)
    policy = checked.guardrails.policy_for(checked.path)
    return changed_value_problems(view, changed) + run_checks(view) + policy_problems(view, policy)


def _governed(
    checked: CheckedFile, loaded: LoadedFile, problems: list[Problem], found: _Found
) -> list[Problem]:
    """The problems found now that the file as written did not show, as the guardrails have them; the
    suppressed ones are set aside in `found.suppressed`."""
    governed = govern(problems, checked.path, checked.guardrails, loaded.suppressions)
    already = set(found.problems) | set(found.suppressed)
    found.suppressed.extend([problem for problem in governed.suppressed if problem not in already])
    found.suppressions.extend(sorted(governed.used - set(found.suppressions), key=lambda used: used.line))
    new = {problem for problem in governed.problems if problem not in already}
    return sorted(new, key=Problem.sort_key)
