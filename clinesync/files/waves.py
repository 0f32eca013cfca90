"""Rollout waves (SPEC §9 `rollout:`): which wave each organization of a plan falls in.

A wave takes the organizations it names by id, then those whose files match its patterns, then a share of the
rest, or, with none of these, all the rest. Names and patterns are claimed first, by the first wave that
claims them; shares and catch-alls then take, in order, from what no wave claimed. A share is chosen by a
stable hash of the organization's id, so the same organizations lead every plan that holds them.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from clinesync.files.paths import matches
from clinesync.records import record

DEFAULT_HOLD = 3600.0  # seconds: Cline's clients read the remote configuration once an hour
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_HOLD = re.compile(r"([0-9]+[smhd])+")  # the schema's pattern for hold:


@record(frozen=True)
class Check:
    """What must pass before the next wave: `probe` (with the API key in `api_key_env`), `drift`, or `command`."""

    kind: str
    command: str | None = None
    api_key_env: str | None = None

    @property
    def label(self) -> str:
        return f"command {self.command!r}" if self.kind == "command" else self.kind


@record(frozen=True)
class Wave:
    name: str
    organizations: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    share: float | None = None
    hold: float = DEFAULT_HOLD  # seconds
    checks: tuple[Check, ...] = ()

    @property
    def claims(self) -> bool:
        """Whether it names what it takes (ids or patterns), rather than taking from the rest."""
        return bool(self.organizations or self.paths)


def wave(entry: Mapping[str, Any]) -> Wave:
    """A wave from its (schema-checked) entry in `rollout:`."""
    return Wave(
        entry["name"],
        tuple(entry.get("organizations", ())),
        tuple(entry.get("paths", ())),
        entry.get("share"),
        duration(entry["hold"]) if "hold" in entry else DEFAULT_HOLD,
        tuple(map(_check, entry.get("checks", ()))),
    )


def _check(entry: Any) -> Check:
    if entry in ("probe", "drift"):
        return Check(entry)
    if isinstance(entry, dict) and isinstance(entry.get("command"), str):
        return Check("command", command=entry["command"])
    if isinstance(entry, dict) and isinstance(entry.get("probe"), dict):
        return Check("probe", api_key_env=entry["probe"].get("apiKeyEnv"))
    raise ValueError(f"{entry!r} is not a check")


def duration(text: str) -> float:
    """Seconds in `90m`, `1h30m`, `2d` (the schema's pattern)."""
    return float(sum(int(number) * _UNITS[unit] for number, unit in re.findall(r"([0-9]+)([smhd])", text)))


def said(seconds: float) -> str:
    """A duration as `hold:` writes it."""
    whole, parts = int(seconds), list[str]()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if whole >= size or (unit == "s" and not parts):
            parts.append(f"{whole // size}{unit}")
            whole %= size
    return "".join(parts)


@record(frozen=True)
class Rollout:
    """A plan's changing organizations dealt into waves, and those no wave takes."""

    waves: tuple[Wave, ...]
    members: dict[str, list[str]]  # wave name -> organization ids, in plan order
    unassigned: list[str]

    def data(self) -> dict[str, Any]:
        """As saved plans and `plan --format json` hold it (a saved plan adds each wave's secrets binding)."""
        return {
            "waves": [
                {
                    "name": found.name,
                    "organizations": self.members[found.name],
                    "hold": said(found.hold),
                    "checks": [_check_data(check) for check in found.checks],
                }
                for found in self.waves
            ],
            "unassigned": self.unassigned,
        }


def rollout_from(data: Mapping[str, Any]) -> Rollout:
    """A rollout as `Rollout.data` wrote it (a saved plan's): ValueError when it is not."""
    try:
        entries, unassigned = list(data["waves"]), list(data["unassigned"])
        for entry in entries:
            texts = [entry["name"], entry["hold"], *entry["organizations"], *unassigned]
            if not all(isinstance(text, str) for text in texts) or not _HOLD.fullmatch(entry["hold"]):
                raise ValueError("a wave's name, hold or organization is not what clinesync writes")
            if not isinstance(entry["secrets_fingerprint"], str | None):
                raise ValueError("a wave's secrets fingerprint is not text")
            [_check(check) for check in entry["checks"]]
        waves = tuple(wave(entry) for entry in entries)
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(
            f"the plan's rollout is not what clinesync writes ({type(error).__name__})"
        ) from None
    members = {entry["name"]: list(entry["organizations"]) for entry in entries}
    return Rollout(waves, members, unassigned)


def _check_data(check: Check) -> Any:
    if check.kind == "command":
        return {"command": check.command}
    if check.api_key_env:
        return {"probe": {"apiKeyEnv": check.api_key_env}}
    return check.kind


def deal(waves: Sequence[Wave], organizations: Sequence[tuple[str, str]], root: str) -> Rollout:
    members, unassigned = assign(waves, organizations, root)
    return Rollout(tuple(waves), members, unassigned)


def assign(
    waves: Sequence[Wave], organizations: Sequence[tuple[str, str]], root: str
) -> tuple[dict[str, list[str]], list[str]]:
    """Each wave's organizations, in the given order, and those no wave takes. `organizations` are
    (id, file) pairs; file patterns are relative to `root` (the project's folder)."""
    taken: dict[str, str] = {}
    for found in waves:
        for organization, file in organizations:
            if organization not in taken and (
                organization in found.organizations
                or (found.paths and matches(os.path.relpath(file, root).replace(os.sep, "/"), found.paths))
            ):
                taken[organization] = found.name
    rest = sorted((org for org, _ in organizations if org not in taken), key=_rank)
    for found in waves:
        if found.claims:
            continue
        count = (
            len(rest) if found.share is None else min(len(rest), max(1, math.ceil(found.share * len(rest))))
        )
        for organization in rest[:count]:
            taken[organization] = found.name
        rest = rest[count:]
    assigned: dict[str, list[str]] = {found.name: [] for found in waves}
    for organization, _ in organizations:
        if organization in taken:
            assigned[taken[organization]].append(organization)
    return assigned, [organization for organization, _ in organizations if organization not in taken]


def _rank(organization: str) -> bytes:
    return hashlib.sha256(organization.encode()).digest()
