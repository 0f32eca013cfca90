"""Adopting a fleet: every organization the token administers exported into one folder, one file each, and
with `extract_base` the part they all share written once, as a base every file extends (SPEC §9).

The base holds what is equal in every organization (mappings compared key by key, identity lists item by
item); each file holds the rest. Merging a file over the base gives back its export exactly, so `plan` after
adopting shows no changes. Values that are secrets become variables: one per organization, and one shared by
the organizations that hold the same value (a gateway's key), so the secret list names each credential once
(GitHub holds 100 secrets for an environment) and a value every organization holds goes into the base.
"""

from __future__ import annotations

import re
from typing import Any

from clinesync.consoles.base import Administered
from clinesync.document import Document
from clinesync.fields import IDENTITY_KEYS, identified_items, set_at, walk
from clinesync.files import envref
from clinesync.plans.export import Exported, export_organization, organization_text, unique_name
from clinesync.records import field, record

BASE_FILE = "bases/shared.yaml"

_ABSENT: Any = object()


@record
class AdoptedFleet:
    files: dict[str, str] = field(default_factory=dict)  # path inside the folder -> text
    variables: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # `org-...: field` not known to this version
    without_configuration: list[str] = field(default_factory=list)


def export_fleet(
    organizations: list[tuple[Administered, Document | None]],
    console: str,
    include_secrets: bool = False,
    extract_base: bool = False,
    public_headers: frozenset[str] = frozenset(),
) -> AdoptedFleet:
    fleet = AdoptedFleet()
    exported: list[tuple[Administered, Exported]] = []
    for organization, live in organizations:
        if live is None:
            fleet.without_configuration.append(organization.id)
            continue
        one = export_organization(
            organization.id, live, console, include_secrets, public_headers, organization.name
        )
        exported.append((organization, one))
        fleet.left_out += [f"{organization.id}: {path}" for path in one.left_out]
    if not include_secrets:
        _one_name_per_value([one for _, one in exported])
    fleet.variables = list(dict.fromkeys(name for _, one in exported for name in one.variables))
    shared = _common([one.tree for _, one in exported]) if extract_base and len(exported) > 1 else _ABSENT
    if shared is not _ABSENT:
        fleet.files[BASE_FILE] = organization_text(None, None, shared, console, [], include_secrets)
    taken: set[str] = set()
    for organization, one in exported:
        name = _file_name(organization, taken)
        own = one.tree if shared is _ABSENT else _residual(one.tree, shared)
        fleet.files[name] = organization_text(
            organization.id,
            None if shared is _ABSENT else BASE_FILE,
            {} if own is _ABSENT else own,
            console,
            list(one.variables),
            include_secrets,
            organization.name,
        )
    return fleet


def _one_name_per_value(exported: list[Exported]) -> None:
    """Across the fleet, one variable for each value and one value for each variable: a value several
    organizations hold takes its first holder's name (which carries that organization, so an export into the
    folder from another console never takes it for another value), and a name two organizations made alike
    for different values (their ids end alike) takes a suffix. Each organization's references are renamed at
    once, so a rename never meets another."""
    named: dict[str, str] = {}  # value -> its variable
    taken: dict[str, str] = {}  # variable -> its value
    for one in exported:
        renames: dict[str, str] = {}
        for variable, value in one.variables.items():
            if value not in named:
                name = variable if taken.get(variable, value) == value else unique_name(variable, taken)
                named[value], taken[name] = name, value
            renames[variable] = named[value]
        if all(old == new for old, new in renames.items()):
            continue
        for path, text in list(walk(one.tree)):
            if isinstance(text, str) and "${env:" in text:
                set_at(one.tree, path, _renamed(text, renames))
        one.variables = {renames[variable]: value for variable, value in one.variables.items()}


def _renamed(text: str, renames: dict[str, str]) -> str:
    """`text` with its environment references renamed; its literal text as written."""
    return "".join(
        envref.escape(part)
        if isinstance(part, str)
        else envref.reference(renames.get(part.name, part.name))
        if part.source == "env"
        else str(part)
        for part in envref.parse(text)
    )


def _common(values: list[Any], name: str | None = None) -> Any:
    """What every value shares: equal leaves, mappings key by key, identity lists item by item."""
    first = values[0]
    if all(isinstance(value, dict) for value in values):
        shared = {}
        for key in first:
            if all(key in value for value in values):
                common = _common([value[key] for value in values], key)
                if common is not _ABSENT:
                    shared[key] = common
        return shared or _ABSENT
    identity = IDENTITY_KEYS.get(name or "")
    if identity and all(isinstance(value, list) for value in values):
        by_identity = [
            items for items in (identified_items(name, value) for value in values) if items is not None
        ]
        if len(by_identity) != len(values):  # no usable identities: compared as a whole, as the diff does
            return _ABSENT if any(value != first for value in values) else first
        shared_items = []
        for key in by_identity[0]:
            if all(key in other for other in by_identity[1:]):
                common = _common([other[key] for other in by_identity])
                if common is not _ABSENT:
                    shared_items.append({identity: key, **common})
        return shared_items or _ABSENT
    return first if all(value == first for value in values) else _ABSENT


def _residual(value: Any, base: Any, name: str | None = None) -> Any:
    """What `value` adds to `base`: merged over `base` (bases.py), it gives `value` back."""
    if isinstance(value, dict) and isinstance(base, dict):
        own = {}
        for key, child in value.items():
            rest = _residual(child, base[key], key) if key in base else child
            if rest is not _ABSENT:
                own[key] = rest
        return own or _ABSENT
    identity = IDENTITY_KEYS.get(name or "")
    inherited = identified_items(name, base) if identity else None
    if identity and inherited is not None and isinstance(value, list):
        own_items = []
        for item in value:
            key = item.get(identity) if isinstance(item, dict) else None
            rest = _residual(item, inherited[key]) if key in inherited else item
            if rest is not _ABSENT:
                own_items.append(rest if key not in inherited else {identity: key, **rest})
        return own_items or _ABSENT
    return _ABSENT if value == base else value


def _file_name(organization: Administered, taken: set[str]) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", (organization.name or "").lower()).strip("-") or organization.id
    name = f"{stem}.yaml"
    if name in taken:
        name = f"{stem}-{organization.id}.yaml"
    taken.add(name)
    return name
