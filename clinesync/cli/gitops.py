"""The GitOps loop: `plan`, `apply` (files or a saved plan) and `drift`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from clinesync.cli.app import (
    APPLY_FORMATS,
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_OK,
    PLAN_FORMATS,
    PLAN_RENDERERS,
    Output,
    Run,
    UserError,
    apply_and_report,
    cli,
    command,
    confirmed,
    expand_paths,
    fleet_options,
    global_options,
    members_option,
    paused_gc,
    progress,
    render,
    settings,
    this_run,
)

if TYPE_CHECKING:
    from clinesync.consoles.base import Console
    from clinesync.files.project import Project
    from clinesync.plans.plan import Plan
    from clinesync.plans.planfile import SavedPlan


def plan_reporting_problems(
    run: Run, files: list[str], console: Console, prune_unknown: bool, parallelism: int = 16
) -> Plan:
    from clinesync.plans.plan import make_plan as compute_plan

    with paused_gc():
        plan = compute_plan(
            files,
            console,
            run.environ,
            prune_unknown,
            parallelism,
            progress(run.output, "Reading live state"),
            run.project,
        )
    report_problems(run.output, plan)
    return plan


def judged(project: Project, plan: Plan) -> Plan:
    """The plan with what makes it a mass change under the project's `massChange:` thresholds."""
    if not project.mass_change.limited:
        return plan
    from dataclasses import replace

    from clinesync.plans.masschange import exceeded, fleet_size

    fleet = fleet_size(project, len(plan.organizations))
    return replace(plan, mass_change=tuple(exceeded(plan, project.mass_change, fleet)))


def refuse_mass_change(output: Output, plan: Plan, allowed: bool) -> bool:
    """Whether apply must stop here: a mass change not allowed by --allow-mass-change."""
    if not plan.mass_change or allowed:
        return False
    from clinesync.render.gitops import mass_change_refused

    output.err(mass_change_refused(plan))
    return True


def report_problems(output: Output, plan: Plan) -> None:
    """Each organization's problems, warnings and console failure, on stderr; its secrets learnt first."""
    from clinesync.render.gitops import problem_lines

    output.add_secrets(plan.secrets)
    output.err(problem_lines(plan))


def plan_files(
    run: Run, paths: tuple[str, ...], shard: tuple[int, int] | None, prune_unknown: bool, parallelism: int
) -> Plan:
    """The plan for PATH... against the chosen console, which is closed again before anything is shown."""
    console = run.open_console()
    try:
        return plan_reporting_problems(run, expand_paths(paths, shard), console, prune_unknown, parallelism)
    finally:
        console.close()


def publish(run: Run, plan: Plan, output_format: str, mode: str) -> None:
    """A plan or drift report on stdout, and in GitHub Actions also on the job's summary page."""
    render(run.output, plan, output_format, mode)
    step_summary(run, plan, mode)


def step_summary(run: Run, plan: Plan, mode: str) -> None:
    """In GitHub Actions, the plan or drift also goes to the job's summary page, as markdown."""
    output = run.output
    path = run.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    from clinesync.render.markdown import plan_markdown

    try:
        with open(path, "a", encoding="utf-8") as stream:
            stream.write(output.redact(plan_markdown(plan, mode)) + "\n")
    except OSError as error:
        from clinesync.render.gitops import summary_not_written

        output.err(summary_not_written(error.strerror or str(error)))


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--out", "plan_file", type=click.Path(dir_okay=False), help="Save the plan for `apply PLANFILE`."
)
@click.option("--format", "output_format", type=PLAN_FORMATS, default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes.")
@click.option("--prune-unknown", is_flag=True, help="Remove live fields this version does not know.")
@members_option
@fleet_options
@global_options
@command
def plan(
    paths: tuple[str, ...],
    plan_file: str | None,
    output_format: str,
    detailed_exitcode: bool,
    prune_unknown: bool,
    parallelism: int,
    shard: tuple[int, int] | None,
) -> int:
    """Show what apply would change. Never writes to the console."""
    run = this_run()
    result = judged(run.project, plan_files(run, paths, shard, prune_unknown, parallelism))
    publish(run, result, output_format, "plan")
    if plan_file:
        _save(run.output, result, plan_file)
    if result.failed:
        return EXIT_ERROR
    return EXIT_CHANGES if detailed_exitcode and result.has_changes else EXIT_OK


def _save(output: Output, result: Plan, plan_file: str) -> None:
    from clinesync.plans import planfile
    from clinesync.privatefile import write_private

    try:
        write_private(plan_file, output.redact(planfile.dumps(result)), overwrite=True)
    except planfile.PlanFileError as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"cannot write {plan_file}: {error.strerror}") from None
    from clinesync.render.gitops import plan_saved

    output.info(plan_saved(plan_file))


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@click.option("--prune-unknown", is_flag=True, help="Remove live fields this version does not know.")
@click.option(
    "--manual", is_flag=True, help="Print the admin-console steps instead of writing, then wait for them."
)
@click.option(
    "--timeout",
    default=600.0,
    show_default=True,
    type=click.FloatRange(0),
    help="With --manual: seconds to wait.",
)
@click.option(
    "--poll-interval",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="With --manual: seconds between reads.",
)
@click.option(
    "--allow-mass-change",
    is_flag=True,
    help="Apply a plan beyond the project's massChange: thresholds (after a second look).",
)
@click.option(
    "--format",
    "output_format",
    type=APPLY_FORMATS,
    default="text",
    show_default=True,
    help="json: per-organization results on stdout (the plan goes to stderr).",
)
@fleet_options
@global_options
@command
def apply(
    paths: tuple[str, ...],
    auto_approve: bool,
    prune_unknown: bool,
    manual: bool,
    timeout: float,
    poll_interval: float,
    allow_mass_change: bool,
    output_format: str,
    parallelism: int,
    shard: tuple[int, int] | None,
) -> int:
    """Apply the files (after showing the plan and asking), or a saved plan without asking.

    With --manual, for consoles that refuse writes (Cline's hosted console today): print each change as a step
    in the admin console, then read until live matches the files or --timeout passes."""
    run = this_run()
    output = run.output
    saved_plan, saved = _saved_plan_among(paths)  # a bad plan file is refused first
    if saved_plan is not None and (
        len(paths) > 1 or shard is not None or prune_unknown or settings().organizations
    ):
        raise UserError(
            f"{saved_plan} is a saved plan: it is applied whole, as reviewed; paths, --shard, --org and "
            "--prune-unknown cannot be added to it"
        )
    console = run.open_console(writes=not manual)
    try:
        if saved is not None:
            return _apply_saved(
                run,
                console,
                saved,
                parallelism,
                (manual, timeout, poll_interval),
                allow_mass_change,
                output_format,
            )
        files = expand_paths(paths, shard)
        result = judged(run.project, plan_reporting_problems(run, files, console, prune_unknown, parallelism))
        show_plan(output, result, output_format)
        if not result.has_changes and output_format == "text":
            return EXIT_ERROR if result.failed else EXIT_OK
        if refuse_mass_change(output, result, allow_mass_change):
            return EXIT_ERROR
        if manual:
            return _apply_manually(output, result, console, timeout, poll_interval)
        if result.has_changes and not auto_approve and not confirmed(output):
            return EXIT_ERROR
        return apply_and_report(output, result, console, parallelism, output_format)
    finally:
        console.close()


def _saved_plan_among(paths: tuple[str, ...]) -> tuple[str | None, SavedPlan | None]:
    """The first PATH that is a saved plan, read once, and that plan."""
    from clinesync.plans import planfile

    for path in paths:
        try:
            saved = planfile.read_if_plan(path)
        except planfile.PlanFileError as error:
            raise UserError(str(error)) from None
        if saved is not None:
            return path, saved
    return None, None


def _apply_saved(
    run: Run,
    console: Console,
    saved: SavedPlan,
    parallelism: int,
    manually: tuple[bool, float, float],
    allow_mass_change: bool,
    output_format: str,
) -> int:
    """Apply the organizations the reviewed plan changes, exactly as reviewed, or nothing. The others are not
    read, planned or written: a change to them since the plan was never reviewed."""
    from clinesync.plans import planfile
    from clinesync.render import gitops as view

    output = run.output
    skipped = len(saved.organizations) - len(saved.changing)
    if skipped:
        output.info(view.skipped(skipped))
    try:
        with paused_gc():
            result, reasons = planfile.replan(saved, console, run.environ, parallelism, run.project)
    except planfile.PlanFileError as error:
        raise UserError(str(error)) from None
    report_problems(output, result)
    if reasons and planfile.already_applied(saved, result):
        output.out(view.ALREADY_APPLIED)
        return EXIT_OK
    if reasons:
        output.err(view.saved_plan_refused(reasons))
        return EXIT_ERROR
    result = judged(run.project, result)
    show_plan(output, result, output_format)
    if not result.has_changes and output_format == "text":
        return EXIT_OK
    if refuse_mass_change(output, result, allow_mass_change):
        return EXIT_ERROR
    manual, timeout, interval = manually
    if manual:
        return _apply_manually(output, result, console, timeout, interval)
    return apply_and_report(output, result, console, parallelism, output_format)


def show_plan(output: Output, result: Plan, output_format: str) -> None:
    """The plan before applying it: on stdout as text, or on stderr when stdout is the JSON report."""
    text = PLAN_RENDERERS["text"](output, result, "plan")
    if output_format == "json":
        output.err(text)
    else:
        output.out(text)


def _apply_manually(output: Output, result: Plan, console: Console, timeout: float, interval: float) -> int:
    from clinesync.plans.manual import wait_until_applied
    from clinesync.render.gitops import waiting
    from clinesync.render.manual import checklist_text, waited_text

    pending = [org for org in result.organizations if org.changes and org.action != "failed"]
    output.out(checklist_text(pending))
    output.info(waiting(console.description, timeout))
    waited = wait_until_applied(pending, console, timeout, interval)
    output.out(waited_text(waited, timeout))
    return EXIT_OK if all(item.matched for item in waited) and not result.failed else EXIT_ERROR


@cli.command()
@click.argument("plan_path", metavar="PLANFILE", type=click.Path(dir_okay=False))
@click.option("--format", "output_format", type=PLAN_FORMATS, default="text", show_default=True)
@members_option
@global_options
@command
def show(plan_path: str, output_format: str) -> int:
    """Render a saved plan as it was reviewed (no console, no secrets needed).

    It shows the plan file as saved: without the console and the secrets nothing can tell an edited one from
    another. `apply PLANFILE` can, and refuses a plan whose display is not what it would do."""
    from clinesync.plans import planfile

    try:
        saved = planfile.load(plan_path)
    except planfile.PlanFileError as error:
        raise UserError(str(error)) from None
    render(Output(), planfile.as_plan(saved), output_format, "plan")
    return EXIT_OK


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "output_format", type=PLAN_FORMATS, default="text", show_default=True)
@members_option
@fleet_options
@global_options
@command
def drift(paths: tuple[str, ...], output_format: str, parallelism: int, shard: tuple[int, int] | None) -> int:
    """Read-only check for cron: exit 0 in sync, 2 when live differs from the files, 1 on errors."""
    run = this_run()
    result = plan_files(run, paths, shard, False, parallelism)
    publish(run, result, output_format, "drift")
    if result.failed:
        return EXIT_ERROR
    return EXIT_CHANGES if result.has_changes else EXIT_OK
