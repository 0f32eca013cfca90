"""A large change needs a second look (octoDNS's `raise_if_unsafe`): the project's `massChange:` thresholds,
and which of them a plan exceeds. `apply` refuses such a plan without `--allow-mass-change`; plans say so."""

from __future__ import annotations

import re

from clinesync.files.paths import PathError, expand
from clinesync.files.project import MassChange, Project
from clinesync.plans.plan import OrgPlan, Plan

_PROVIDERS = ("remoteConfig", "providerSettings")


def exceeded(plan: Plan, limits: MassChange, fleet: int) -> list[str]:
    """What makes this plan a mass change, one sentence each; `fleet` is how many organizations the project
    manages (a pull request's plan may hold only the few it changes)."""
    found = []
    updated = plan.count("update")
    if limits.share is not None and fleet and updated / fleet > limits.share:
        found.append(
            f"it updates {updated} of {_organizations(fleet)} ({updated / fleet:.0%}), more than "
            f"massChange.share ({limits.share:.0%})"
        )
    disabling = [org for org in plan.organizations if _disables(org)]
    if limits.disable is not None and len(disabling) > limits.disable:
        found.append(
            f"it disables remote configuration in {_organizations(len(disabling))}, more than "
            f"massChange.disable ({limits.disable})"
        )
    removing = [org for org in plan.organizations if _removes_provider(org)]
    if limits.remove_provider is not None and len(removing) > limits.remove_provider:
        found.append(
            f"it removes a provider in {_organizations(len(removing))}, more than massChange.removeProvider "
            f"({limits.remove_provider})"
        )
    return found


def _organizations(count: int) -> str:
    return f"{count} organization{'s' if count != 1 else ''}"


def _disables(org: OrgPlan) -> bool:
    return any(change.path == ("enabled",) and change.after is False for change in org.changes)


def _removes_provider(org: OrgPlan) -> bool:
    """A provider block removed: on its own, or with the providerSettings or remoteConfig that held it."""
    for change in org.changes:
        if change.op != "remove":
            continue
        if len(change.path) == 3 and change.path[:2] == _PROVIDERS:
            return True
        held = change.before.get(_PROVIDERS[1]) if isinstance(change.before, dict) else None
        if (change.path == _PROVIDERS[:1] and held) or (change.path == _PROVIDERS and change.before):
            return True
    return False


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
