"""`clinesync rollout status|next PLANFILE`: a reviewed plan applied wave by wave, each after the one before it
has held and passed its checks (SPEC §9 `rollout:`). `apply PLANFILE --wave NAME` is in gitops.py."""

from __future__ import annotations

import datetime
import os
import subprocess

import click

from clinesync.cli.app import (
    EXIT_ERROR,
    EXIT_OK,
    Run,
    UserError,
    cli,
    command,
    global_options,
    this_run,
)
from clinesync.consoles.base import Console, ConsoleError
from clinesync.files.waves import Check
from clinesync.plans.planfile import SavedPlan
from clinesync.plans.rollout import (
    CheckResult,
    Organization,
    Standing,
    Status,
    WaveStatus,
    decide,
    rolled_back,
    standings,
    wave_statuses,
)
from clinesync.plans.rollout_history import in_history, targets, with_times
from clinesync.render.rollout import ROLLOUT_RENDERERS

_COMMAND_TIMEOUT = 900.0  # seconds a command check may take
_PROBE_TIMEOUT = 10.0  # seconds per probe request, as probe's default


@cli.group()
def rollout() -> None:
    """Apply a reviewed plan wave by wave (rollout: in clinesync.yaml): status, and the next wave when it may."""


@rollout.command()
@click.argument("plan_path", metavar="PLANFILE", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(ROLLOUT_RENDERERS)),
    default="text",
    show_default=True,
)
@global_options
@command
def status(plan_path: str, output_format: str) -> int:
    """Say which waves of a saved plan are applied and since when, whether their hold has passed and their
    checks are green, and what comes next; from live state and the console's revision times alone.

    Exit 0, or 1 when the rollout needs a person: a check failed, live changed since the plan, or a wave was
    applied in part. A plan whose files (or clinesync.yaml's rollout:) changed since is superseded: exit 0."""
    run = this_run()
    saved = _saved(plan_path)
    console = run.open_console()
    try:
        found = rollout_status(run, console, saved)
    finally:
        console.close()
    run.output.out(ROLLOUT_RENDERERS[output_format](plan_path, console.description, found))
    return EXIT_ERROR if found.verdict in ("stopped", "partial") else EXIT_OK


@rollout.command("next")
@click.argument("plan_path", metavar="PLANFILE", type=click.Path(dir_okay=False))
@click.option(
    "--allow-mass-change",
    is_flag=True,
    help="Apply a wave beyond the project's massChange: thresholds (as apply's option).",
)
@global_options
@command
def next_wave(plan_path: str, allow_mass_change: bool) -> int:
    """Apply the next wave of a saved plan, only when it may: the wave before it applied, held and green.

    For a scheduled job: exit 0 when a wave was applied, or none may be (holding, complete, or superseded by
    a later plan); 1 when the rollout is stopped, with how to roll the applied waves back, a wave was applied
    in part, or the wave's apply failed."""
    from clinesync.cli.gitops import apply_saved_plan

    run = this_run()
    saved = _saved(plan_path)
    console = run.open_console(writes=True)
    try:
        found = rollout_status(run, console, saved)
        run.output.out(ROLLOUT_RENDERERS["text"](plan_path, console.description, found))
        if found.verdict != "ready" or found.wave is None:
            return EXIT_ERROR if found.verdict in ("stopped", "partial") else EXIT_OK
        wave = saved.wave(found.wave.wave.name)
        return apply_saved_plan(
            run, console, wave, allow_mass_change=allow_mass_change, put_back_checked=True
        )
    finally:
        console.close()


def _saved(plan_path: str) -> SavedPlan:
    from clinesync.plans import planfile

    try:
        saved = planfile.load(plan_path)
    except planfile.PlanFileError as error:
        raise UserError(str(error)) from None
    if saved.rollout is None:
        raise UserError(
            f"{plan_path} was made without waves: add rollout: to clinesync.yaml and plan again "
            f"(or apply it whole with clinesync apply {plan_path})"
        )
    return saved


def rollout_status(run: Run, console: Console, saved: SavedPlan) -> Status:
    """Where the saved plan's rollout stands now: every changing organization re-planned, the applied ones'
    revision times read, the applied waves' checks run."""
    try:
        return _status(run, console, saved)
    except ConsoleError as error:  # a history that could not be read
        raise UserError(str(error)) from None


def _status(run: Run, console: Console, saved: SavedPlan) -> Status:
    from clinesync.cli.gitops import learn_referenced_secrets, report_problems
    from clinesync.fields import is_credential_header
    from clinesync.plans import planfile

    rollout = saved.rollout
    assert rollout is not None  # _saved refuses a plan without waves
    otherwise = saved.dealt_otherwise(run.project)
    if otherwise:  # clinesync.yaml's rollout: changed since (or the file was edited): nothing of it applies
        return Status([], [], "superseded", None, f"{otherwise}: plan again with this clinesync.yaml")
    # Every secret the plan's files reference, and every variable named like a credential (PROBE_API_KEY, a
    # token), scrubbed from what checks print, before any check runs.
    learn_referenced_secrets(run, [entry.file for entry in saved.organizations if os.path.isfile(entry.file)])
    run.output.add_secrets(
        value for name, value in run.environ.items() if len(value) >= 8 and is_credential_header(name)
    )
    elsewhere = planfile.made_elsewhere(saved, console.identity, console.description)
    if elsewhere:  # known before any request: another console is never read for it
        raise UserError(elsewhere[0])
    try:
        fresh, _ = planfile.replan(saved, console, run.environ, 4, run.project)
    except planfile.PlanFileError as error:
        raise UserError(str(error)) from None
    report_problems(run.output, fresh)
    found = standings(saved, fresh)
    documents = targets(fresh)
    for organization, org in found.items():
        if org.standing == "applied":
            found[organization] = with_times(console, org)
        elif org.standing == "moved" and not org.superseded:  # changed after it was applied? then undo it too
            found[organization] = in_history(console, org, documents.get(organization, ""))
    waves = wave_statuses(rollout, found)
    for wave, held in _as_before_the_plan(run, console, saved, waves):
        wave.organizations = held
    for wave in waves:
        if wave.state == "applied":
            wave.checks = [_run_check(run, check, wave) for check in wave.wave.checks]
    status = decide(waves, rollout.unassigned, datetime.datetime.now(datetime.timezone.utc))
    if status.verdict in ("ready", "partial"):
        # Applied once and put back since (a rollback)? Then it is never applied again. Looked for in the wave
        # to apply and in every wave applied in part (one applied out of order, then rolled back in part).
        looked = [wave for wave in waves if wave is status.wave or wave.state == "partial"]
        for wave in looked:
            wave.organizations = [
                org
                if org.standing == "applied"
                else in_history(console, org, documents.get(org.organization, ""))
                for org in wave.organizations
            ]
        status = rolled_back(status, [org for wave in looked for org in wave.organizations])
    return status


def _as_before_the_plan(
    run: Run, console: Console, saved: SavedPlan, waves: list[WaveStatus]
) -> list[tuple[WaveStatus, list[Organization]]]:
    """For each wave that names or matches organizations and has nothing to change in this plan: those
    organizations of the fleet (the project's `paths:`; a plan of the files a pull request changed holds few),
    planned again, with when they came to be as they are. A change an earlier plan made there (a canary still
    holding it) then holds the later waves of this plan too, and is checked; one of them not as its files say
    (a canary rolled back) stops the rollout. Where no revision time can be read, the wave holds."""
    from clinesync.cli.gitops import learn_referenced_secrets, report_problems
    from clinesync.files.paths import PathError, declared_organization, expand
    from clinesync.files.waves import assign
    from clinesync.plans.plan import make_plan

    # The waves as clinesync.yaml defines them (a saved plan keeps only whom they took): the plan's are
    # those of this clinesync.yaml, or it was found superseded before this is asked.
    project = run.project
    claiming = [wave for wave in project.rollout if wave.claims]
    names = {wave.name for wave in claiming}
    empty = [wave for wave in waves if wave.state == "empty" and wave.wave.name in names]
    if not empty:
        return []
    changing = {entry.organization for entry in saved.changing}
    try:
        files = expand(project.paths or (os.curdir,), project.ignore, project.directory, project.file)
    except PathError as error:
        raise UserError(str(error)) from None
    fleet = [(organization, name) for name in files if (organization := declared_organization(name))]
    claimed, _ = assign(
        claiming, [(org, name) for org, name in fleet if org not in changing], project.directory
    )
    wanted = {wave.wave.name for wave in empty}
    to_plan = [
        name for wave, members in claimed.items() if wave in wanted for name in _files_of(members, fleet)
    ]
    learn_referenced_secrets(run, to_plan)  # before their problems, or a check, can print anything
    again = make_plan(
        to_plan,
        console,
        run.environ,
        saved.prune_unknown,
        4,
        project=project,
    )
    report_problems(run.output, again)
    planned = {org.organization: org for org in again.organizations}
    held = []
    for wave in empty:
        organizations = []
        for organization in claimed[wave.wave.name]:
            org = planned.get(organization)
            standing: Standing = "applied" if org is not None and org.action == "no-op" else "moved"
            why = (
                ""
                if standing == "applied"
                else "live is not what its files say (a change put back, or not applied)"
            )
            found = Organization(organization, org.file if org else "", standing, why, before_plan=True)
            organizations.append(with_times(console, found) if standing == "applied" else found)
        if organizations:
            held.append((wave, organizations))
    return held


def _files_of(organizations: list[str], fleet: list[tuple[str, str]]) -> list[str]:
    files = dict(fleet)
    return [files[organization] for organization in organizations if organization in files]


def _run_check(run: Run, check: Check, wave: WaveStatus) -> CheckResult:
    if check.kind == "drift":
        moved = [org.organization for org in wave.organizations if org.standing != "applied"]
        return CheckResult(check.label, not moved, ", ".join(moved))
    files = [org.file for org in wave.organizations]
    if check.kind == "probe":
        from clinesync.cli.probing import probed

        named = f"wave {wave.wave.name}'s probe check: apiKeyEnv"
        results, failed_files = probed(run, files, check.api_key_env, _PROBE_TIMEOUT, True, 4, named)
        failing = [endpoint for endpoint in results if not endpoint.passed]
        if failed_files:
            return CheckResult(check.label, False, f"{failed_files[0][0]}: {failed_files[0][1]}")
        if failing:
            first = next(found for found in failing[0].checks if found.status == "fail")
            detail = f"{failing[0].organization} {failing[0].shown_url}: {first.name}: {first.detail}"
            return CheckResult(check.label, False, run.output.redact(detail))
        return CheckResult(check.label, True, f"{len(results)} endpoints answered")
    return _run_command(run, check, wave, files)


def _run_command(run: Run, check: Check, wave: WaveStatus, files: list[str]) -> CheckResult:
    """The team's own check, run by the shell with the wave named in its environment; exit 0 passes. Its
    output goes to stderr, scrubbed of every secret the run knows."""
    environment = {
        **run.environ,
        "CLINESYNC_WAVE": wave.wave.name,
        "CLINESYNC_ORGANIZATIONS": " ".join(org.organization for org in wave.organizations),
        "CLINESYNC_FILES": os.pathsep.join(files),
    }
    try:
        done = subprocess.run(
            ["sh", "-c", check.command or ""],
            env=environment,
            capture_output=True,
            text=True,
            timeout=_COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CheckResult(check.label, False, f"still running after {_COMMAND_TIMEOUT:.0f} s")
    except OSError as error:
        return CheckResult(check.label, False, error.strerror or str(error))
    run.output.err(done.stdout + done.stderr)
    return CheckResult(check.label, done.returncode == 0, f"exit {done.returncode}")
