"""Desired documents: a valid organization file with its `${env:...}` references resolved.

Every path whose value came from the environment is remembered as sensitive, and the resolved values are
collected so that output can be scrubbed of them as a last line of defence.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clinesync import envref
from clinesync.document import Document
from clinesync.fields import Path, identified_paths, walk
from clinesync.problems import Problem
from clinesync.validate import CheckedFile


@dataclass(frozen=True)
class Desired:
    file: str
    organization: str
    name: str | None
    document: Document
    sensitive: frozenset[Path] = field(default_factory=frozenset)  # plan paths, e.g. remoteConfig...api-key
    secrets: frozenset[str] = field(default_factory=frozenset)
    references: Mapping[Path, str] = field(default_factory=dict)  # sensitive path -> `${env:NAME}` as written


def resolve(checked: CheckedFile, environ: Mapping[str, str]) -> Desired | list[Problem]:
    """The desired document of a file without errors, or the located problems (unset variables, CS170)."""
    data = checked.loaded.data
    tree = {
        "enabled": data.get("enabled", True),
        "remoteConfig": {"version": "v1", **copy.deepcopy(data.get("remoteConfig") or {})},
    }
    problems: list[Problem] = []
    secrets: set[str] = set()
    from_environment: dict[Path, str] = {}
    for path, value in list(walk(tree["remoteConfig"], ("remoteConfig",))):
        if not isinstance(value, str) or "$" not in value:
            continue
        try:
            resolved, values = envref.resolve(value, environ)
        except envref.UnsetVariable as unset:
            mark = checked.loaded.value_mark(path)
            problems.append(
                checked.loaded.problem("CS170", mark, f"environment variable {unset.name} is not set")
            )
            continue
        _set(tree, path, resolved)
        if values:
            from_environment[path] = value
            secrets.update([resolved, *values])
    if problems:
        return problems
    # Plans name list items by identity: translate the positional paths once the values are final.
    positional = identified_paths(tree)
    return Desired(
        file=checked.path,
        organization=data["organization"],
        name=data.get("name"),
        document=Document.from_tree(tree),
        sensitive=frozenset(positional[path] for path in from_environment),
        secrets=frozenset(secret for secret in secrets if secret),
        references={positional[path]: written for path, written in from_environment.items()},
    )


def _set(tree: Any, path: Path, value: Any) -> None:
    for part in path[:-1]:
        tree = tree[part]
    tree[path[-1]] = value
