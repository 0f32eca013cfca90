"""Which organizations a set of changed files can change (`clinesync affected`, SPEC §3): an organization file
itself, any base it extends at any depth, the project configuration (every organization); a deleted
organization file is no longer managed (its live state is kept). Other files change nothing.

Bases are found by reading each file's `extends:` (YAML only, no checks): a file that does not parse names no
base here, and `validate` says what is wrong with it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import yaml

from clinesync.files.paths import declared_organization
from clinesync.records import field, record

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML has it


@record(frozen=True)
class Affected:
    file: str
    organization: str | None
    reasons: tuple[str, ...]


@record
class Impact:
    organizations: list[Affected] = field(default_factory=list)
    removed: list[tuple[str, str | None]] = field(
        default_factory=list
    )  # (file, organization) no longer managed


def affected(
    organization_files: list[str],
    changed: list[str],
    deleted: Mapping[str, str | None],
    configuration: str | None,
) -> Impact:
    """`changed` (paths relative to the current folder) mapped to the `organization_files` they can change;
    `deleted` maps each deleted organization file to the organization it declared. An organization a deleted
    file declared and another file declares now moved there (a renamed file): it is still managed."""
    changed_real = {os.path.realpath(name): name for name in changed}
    everything = configuration is not None and os.path.realpath(configuration) in changed_real
    impact, cache = Impact(), dict[str, tuple[str, ...]]()
    moved_from = {organization: name for name, organization in deleted.items() if organization is not None}
    declared = set()
    for name in organization_files:
        organization = declared_organization(name)
        if organization is None:
            continue  # a base, or no organization file: it is found through the files that extend it
        declared.add(organization)
        reasons = [f"moved from {moved_from[organization]}"] if organization in moved_from else []
        if everything:
            reasons.append(f"{configuration} changed")
        if os.path.realpath(name) in changed_real:
            reasons.append("the file changed")
        bases = _bases(os.path.realpath(name), cache)
        reasons += [f"its base {changed_real[base]} changed" for base in bases if base in changed_real]
        if reasons:
            impact.organizations.append(Affected(name, organization, tuple(reasons)))
    impact.removed = sorted(
        (name, org) for name, org in deleted.items() if org is None or org not in declared
    )
    return impact


def extended_bases(files: list[str]) -> list[str]:
    """The real paths of every base `files` extend, at any depth, each once, in the order first met."""
    cache: dict[str, tuple[str, ...]] = {}
    found = dict.fromkeys(base for name in files for base in _bases(os.path.realpath(name), cache))
    return list(found)


def _bases(real: str, cache: dict[str, tuple[str, ...]], depth: int = 0) -> tuple[str, ...]:
    """The real paths of every base `real` extends, at any depth (cycles stop at 32 levels); each file read
    once a run."""
    if real in cache:
        return cache[real]
    if depth > 32:
        return ()
    try:
        with open(real, "rb") as stream:
            text = stream.read()
        # Most files extend nothing: only those that say `extends:` are parsed, and with libyaml's loader.
        data = yaml.load(text, Loader=_LOADER) if b"extends:" in text else None
    except (OSError, yaml.YAMLError):
        return ()
    names = data.get("extends") if isinstance(data, dict) else None
    found: list[str] = []
    for name in names if isinstance(names, list) else []:
        if isinstance(name, str) and name:
            base = os.path.realpath(os.path.join(os.path.dirname(real), name))
            found += [base, *_bases(base, cache, depth + 1)]
    cache[real] = tuple(dict.fromkeys(found))
    return cache[real]
