"""A large change needs a second look (octoDNS's `raise_if_unsafe`): the project's `massChange:` thresholds,
and which of them a plan exceeds. `apply` refuses such a plan without `--allow-mass-change`; plans say so."""

from __future__ import annotations

import re

from clinesync.files.paths import PathError, expand
from clinesync.files.project import MassChange, Project
from clinesync.plans.plan import Totals


def exceeded(totals: Totals, limits: MassChange, fleet: int) -> list[str]:
    """What makes this plan a mass change, one sentence each; `fleet` is how many organizations the project
    manages (a pull request's plan may hold only the few it changes)."""
    found = []
    updated = totals.count("update")
    # `shareFrom` (init writes 10, as octoDNS judges its thresholds from 10 records): in a smaller fleet any
    # routine change is a large share, and a guard every pull request trips is allowed by reflex.
    share = limits.share if fleet >= (limits.share_from or 1) else None
    if share is not None and updated / fleet > share:
        found.append(
            f"it updates {updated} of {_organizations(fleet)} ({updated / fleet:.0%}), more than "
            f"massChange.share ({share:.0%})"
        )
    if limits.disable is not None and totals.disabling > limits.disable:
        found.append(
            f"it disables remote configuration in {_organizations(totals.disabling)}, more than "
            f"massChange.disable ({limits.disable})"
        )
    if limits.remove_provider is not None and totals.removing > limits.remove_provider:
        found.append(
            f"it removes a provider in {_organizations(totals.removing)}, more than massChange.removeProvider "
            f"({limits.remove_provider})"
        )
    return found


def _organizations(count: int) -> str:
    return f"{count} organization{'s' if count != 1 else ''}"


_ORGANIZATION = re.compile(rb"^organization:", re.MULTILINE)


def fleet_size(project: Project, planned: int) -> int:
    """How many organizations the project manages: the organization files under its `paths:` (bases are not
    organizations). The configuration refuses `massChange.share` without `paths:`."""
    if not project.paths:
        return planned
    try:
        files = expand(project.paths, project.ignore, project.directory, project.file)
    except PathError:
        return planned
    count = 0
    for name in files:
        try:
            with open(name, "rb") as stream:
                count += bool(_ORGANIZATION.search(stream.read()))
        except OSError:
            continue
    return max(count, planned)
