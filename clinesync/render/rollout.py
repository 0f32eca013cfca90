"""Where a rollout stands (`rollout status`, `rollout next`), as text and JSON."""

from __future__ import annotations

import datetime
import json
import shlex
from collections.abc import Callable
from typing import Any

from clinesync.escape import visible
from clinesync.files.waves import said
from clinesync.plans.rollout import Organization, Status, WaveStatus
from clinesync.render.json_format import FORMAT_VERSION
from clinesync.render.text import counted


def rollout_text(plan_path: str, console: str, status: Status) -> str:
    lines = [f"Rollout of {visible(plan_path)} on {visible(console)}:"]
    width = max((len(wave.wave.name) for wave in status.waves), default=0)
    for wave in status.waves:
        lines.append(f"  {wave.wave.name:<{width}}  {_wave_line(wave, status.held(wave))}")
        lines += [f"  {'':<{width}}  {line}" for line in _check_lines(wave)]
    if status.unassigned:
        lines.append(
            f"  {len(status.unassigned)} changing organizations are in no wave: rollout never applies them"
        )
    lines += ["", _verdict_line(plan_path, status)]
    if status.verdict in ("stopped", "partial") and status.applied:
        lines += ["", *rollback_lines(status.applied)]
    return "\n".join(lines) + "\n"


def _wave_line(wave: WaveStatus, held: bool | None) -> str:
    organizations = wave.organizations
    state = wave.state
    if state == "empty":
        return "nothing to apply"
    named = counted([org.organization for org in organizations])
    if state != "applied":
        applied = sum(org.standing == "applied" for org in organizations)
        done = f", {applied} applied" if applied and state != "pending" else ""
        return f"{state}{done}: {named}"
    since, ends = wave.since, wave.hold_ends()
    when = f" since {_moment(since)}" if since else " (the console keeps no revision times)"
    hold = f"; hold {said(wave.wave.hold)}" + (f" until {_moment(ends)}" if ends else "")
    hold += " (passed)" if held else ""
    if all(org.before_plan for org in organizations):
        return f"unchanged by this plan, as it is{when}{hold}: {named}"
    return f"applied{when}{hold}: {named}"


def _check_lines(wave: WaveStatus) -> list[str]:
    if wave.state != "applied":
        return [f"checks: {', '.join(check.label for check in wave.wave.checks)}"] if wave.wave.checks else []
    return [
        f"{'passed' if check.passed else 'FAILED'}: {check.label}"
        + (f" ({visible(check.detail)})" if check.detail else "")
        for check in wave.checks
    ]


def _verdict_line(plan_path: str, status: Status) -> str:
    plan = shlex.quote(plan_path)
    reason = visible(status.reason)
    if status.verdict == "ready" and status.wave is not None:
        name = status.wave.wave.name
        return f"Next: {reason}: clinesync rollout next {plan} (or clinesync apply {plan} --wave {name})"
    if status.verdict == "holding":
        ends = status.wave.hold_ends() if status.wave is not None else None
        until = f" until {_moment(ends)}" if ends else ""
        return f"Waiting: {reason}{until}; then clinesync rollout next {plan}"
    if status.verdict == "complete":
        return f"Complete: {reason}."
    if status.verdict == "partial":
        return f"Stopped: {reason}."
    if status.verdict == "superseded":
        return f"Superseded: {reason}. Nothing more of this plan is applied."
    return f"Stopped: {reason}. No further wave is applied."


def rollback_lines(applied: list[Organization]) -> list[str]:
    """How to undo exactly what the rollout applied: each organization back to its revision before the plan."""
    lines = ["To roll the applied waves back (each organization to its revision before this plan):"]
    for org in applied:
        if org.restore is not None:
            lines.append(f"  clinesync rollback {org.organization} --to {org.restore}")
        elif not _created(org):
            lines.append(
                f"  {org.organization}: the console keeps no revisions: restore it in the admin console"
            )
        else:
            lines.append(
                f"  {org.organization}: created by this plan, no earlier revision: set enabled: false in "
                f"{visible(org.file)} and apply"
            )
    return lines


def _created(org: Organization) -> bool:
    """No revision before the plan's, in a history that was read: the plan created the organization."""
    return org.restore is None and (org.since is not None or org.was_applied)


def rollout_json(plan_path: str, console: str, status: Status) -> str:
    data: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "plan": plan_path,
        "console": console,
        "verdict": status.verdict,
        "reason": status.reason,
        "wave": status.wave.wave.name if status.wave is not None else None,
        "waves": [_wave_data(wave, status.held(wave)) for wave in status.waves],
        "unassigned": status.unassigned,
        "rollback": [
            {"organization": org.organization, "to": org.restore} | _without_revision(org)
            for org in (status.applied if status.verdict in ("stopped", "partial") else [])
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def _without_revision(org: Organization) -> dict[str, str]:
    if org.restore is not None:
        return {}
    return {"why": "created by this plan" if _created(org) else "the console keeps no revisions"}


def _wave_data(wave: WaveStatus, held: bool | None) -> dict[str, Any]:
    ends = wave.hold_ends()
    return {
        "name": wave.wave.name,
        "state": wave.state,
        "since": _iso(wave.since) if wave.state == "applied" else None,
        "hold": said(wave.wave.hold),
        "holdEnds": _iso(ends) if wave.state == "applied" else None,
        "holdPassed": held,
        "checks": [
            {"check": check.label, "passed": check.passed, "detail": check.detail} for check in wave.checks
        ],
        "organizations": [
            {
                "organization": org.organization,
                "file": org.file,
                "standing": org.standing,
                "since": _iso(org.since),
                **({"why": org.why} if org.why else {}),
                **({"beforePlan": True} if org.before_plan else {}),
            }
            for org in wave.organizations
        ],
    }


def _moment(moment: datetime.datetime | None) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "unknown"


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="seconds") if moment else None


ROLLOUT_RENDERERS: dict[str, Callable[[str, str, Status], str]] = {"text": rollout_text, "json": rollout_json}
