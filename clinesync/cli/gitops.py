"""The GitOps loop: `plan`, `apply` (files or a saved plan) and `drift`."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

import click

from clinesync.cli.app import (
    APPLY_FORMATS,
    APPLY_RENDERERS,
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
    rendered,
    settings,
    this_run,
)
from clinesync.consoles.fleet import DEFAULT_PARALLELISM
from clinesync.records import evolve

if TYPE_CHECKING:
    from clinesync.consoles.base import Console
    from clinesync.files.problems import Problem
    from clinesync.files.project import Project
    from clinesync.plans.apply import OrgResult
    from clinesync.plans.plan import OrgPlan, Plan, PlanPieces, Totals
    from clinesync.plans.planfile import SavedPlan


def plan_reporting_problems(
    run: Run, files: list[str], console: Console, prune_unknown: bool, parallelism: int = 16
) -> Plan:
    """The whole plan, held for apply; each organization's problems reported on stderr."""
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
    return evolve(plan, mass_change=mass_change(project, plan.totals))


def mass_change(project: Project, totals: Totals) -> tuple[str, ...]:
    """What makes a plan with these totals a mass change under the project's `massChange:` thresholds."""
    if not project.mass_change.limited:
        return ()
    from clinesync.plans.masschange import exceeded, fleet_size

    fleet = fleet_size(project, totals.organizations)
    return tuple(exceeded(totals, project.mass_change, fleet))


def refuse_mass_change(output: Output, plan: Plan, allowed: bool) -> bool:
    """Whether apply must stop here: a mass change not allowed by --allow-mass-change."""
    if not plan.mass_change or allowed:
        return False
    from clinesync.render.gitops import mass_change_refused

    output.err(mass_change_refused(plan))
    return True


def report_problems(output: Output, plan: Plan) -> None:
    output.add_secrets(plan.secrets)  # every organization's, before any line
    shown: set[Problem] = set()
    for org in plan.organizations:
        report_organization(output, org, shown)


def report_organization(output: Output, org: OrgPlan, shown: set[Problem]) -> None:
    """An organization's problems, warnings and console failure, on stderr, its secrets learnt first; a
    problem in `shown` (a base's, met with an earlier organization) is not repeated."""
    from clinesync.render.gitops import problem_lines

    if org.desired is not None:
        output.add_secrets(org.desired.secrets)
    output.err(problem_lines(org, shown))


def streamed(
    run: Run,
    paths: tuple[str, ...],
    options: PlanOptions,
    output_format: str,
    mode: str,
    plan_file: str | None = None,
) -> Totals:
    """The plan (or drift) of PATH..., each organization written as soon as it is decided: to stdout, in
    GitHub Actions to the job's summary page, and to PLANFILE, which takes its name only once it is whole.
    Only the totals are kept, so a plan of 100,000 organizations takes the memory of one of a hundred."""
    from clinesync.plans.plan import Totals, iter_plan

    output = run.output
    pieces: list[tuple[Callable[[str], object], PlanPieces]] = [
        (output.out, PLAN_RENDERERS[output_format](output, mode))
    ]
    summary = run.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        from clinesync.render.markdown import MarkdownPlan

        pieces.append((_appending(output, summary), MarkdownPlan(mode)))
    with contextlib.ExitStack() as stack:
        if plan_file:
            pieces.append(_plan_file(stack, output, plan_file, waves=bool(run.project.rollout)))
        console = run.open_console()
        stack.callback(console.close)
        totals = Totals(
            console.description,
            console.identity,
            options.prune_unknown,
            waves=run.project.rollout,
            root=run.project.directory,
        )
        files = expand_paths(paths, options.shard)
        organizations = iter_plan(
            files,
            console,
            run.environ,
            options.prune_unknown,
            options.parallelism,
            progress(output, "Reading live state", streamed=True),
            run.project,
        )
        shown: set[Problem] = set()
        # The first organization is decided before anything is written, and the checks and reads it started
        # go on while every secret the files can resolve is learnt: scrubbed from the first line on (a bug's
        # traceback too), since one organization's live document may show another's secret.
        try:
            first = next(organizations, None)
        finally:
            learn_referenced_secrets(run, files)
        # Collection is not paused as it is for a plan held whole: little is alive at once here, and a cycle
        # left by one organization must not outlive it.
        for write, piece in pieces:
            write(piece.head(totals))
        for org in itertools.chain([] if first is None else [first], organizations):
            totals.add(org)
            report_organization(output, org, shown)
            for write, piece in pieces:
                write(piece.organization(org))
        totals.mass_change = mass_change(run.project, totals)
        for write, piece in pieces:
            write(piece.tail(totals))  # the plan file's tail refuses a plan with failures
    return totals


def learn_referenced_secrets(run: Run, files: list[str]) -> None:
    """Every `${env:...}` value the files and their bases reference, scrubbed from all output from now on."""
    from clinesync.files.references import environment_names

    run.output.add_secrets(value for name in environment_names(files) if (value := run.environ.get(name)))


class PlanOptions(NamedTuple):
    """What plan and drift share: --shard, --prune-unknown, --parallelism."""

    shard: tuple[int, int] | None
    prune_unknown: bool
    parallelism: int


def _appending(output: Output, path: str) -> Callable[[str], None]:
    """Writes text at the end of the job's summary page; a failure is a warning, once."""

    def write(text: str) -> None:
        if not text:
            return
        try:
            with open(path, "a", encoding="utf-8") as stream:
                stream.write(output.redact(text) + "\n")
        except OSError as error:
            from clinesync.render.gitops import summary_not_written

            output.err(summary_not_written(error.strerror or str(error)))

    return write


def _plan_file(
    stack: contextlib.ExitStack, output: Output, plan_file: str, waves: bool
) -> tuple[Callable[[str], object], PlanPieces]:
    """The saved plan's writer: a private file that takes its name only once whole; removed, never named, when
    the plan cannot be saved."""
    from clinesync.plans import planfile
    from clinesync.privatefile import private_stream

    @contextlib.contextmanager
    def failing_clearly() -> Iterator[None]:
        try:
            yield
        except planfile.PlanFileError as error:
            raise UserError(str(error)) from None
        except OSError as error:
            raise UserError(f"cannot write {plan_file}: {error.strerror}") from None

    stack.enter_context(failing_clearly())
    stream = stack.enter_context(private_stream(plan_file, overwrite=True))
    return (lambda text: stream.write(output.redact(text))), planfile.PlanFile(waves)


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
    options = PlanOptions(shard, prune_unknown, parallelism)
    totals = streamed(run, paths, options, output_format, "plan", plan_file)
    if plan_file:
        from clinesync.render.gitops import plan_saved

        run.output.info(plan_saved(plan_file, bool(totals.waves)))
    if totals.failed:
        return EXIT_ERROR
    return EXIT_CHANGES if detailed_exitcode and totals.has_changes else EXIT_OK


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
@click.option(
    "--wave",
    metavar="NAME",
    help="With a saved plan made with rollout: apply only that wave's organizations (rollout status says which).",
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
    wave: str | None,
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
    if wave is not None:
        saved = _wave_of(run.project, saved_plan, saved, wave)
    console = run.open_console(writes=not manual)  # a local one is made by its first write only
    try:
        if saved is not None:
            if wave is not None and not saved.changing and saved.console_identity == console.identity:
                from clinesync.render.gitops import empty_wave

                return _applied_nothing(output, empty_wave(wave), saved.console, [], output_format)
            return apply_saved_plan(
                run,
                console,
                saved,
                output_format,
                parallelism,
                (manual, timeout, poll_interval),
                allow_mass_change,
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


def _nothing_to_apply(output: Output, console: Console, saved: SavedPlan, output_format: str) -> int:
    """A saved plan that changes nothing: nothing is read, so nothing is said of live. Its organizations are
    reported unchanged (SPEC §5)."""
    from clinesync.plans import planfile
    from clinesync.plans.apply import OrgResult
    from clinesync.render import gitops as view

    unchanged = [OrgResult(org, "unchanged") for org in planfile.left_unchanged(saved)]
    said = view.nothing_to_apply(len(saved.organizations))
    return _applied_nothing(output, said, console.description, unchanged, output_format)


def _applied_nothing(
    output: Output, said: str, console: str, unchanged: list[OrgResult], output_format: str
) -> int:
    """What a run that applies nothing says: on stdout, or, with --format json, on stderr beside the report."""
    if output_format == "json":
        output.err(said)
        output.out(APPLY_RENDERERS["json"](console, unchanged, EXIT_OK))
    else:
        output.out(said)
    return EXIT_OK


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


def _wave_of(project: Project, saved_plan: str | None, saved: SavedPlan | None, wave: str) -> SavedPlan:
    """The plan of one wave of the saved plan among PATHs, as clinesync.yaml deals it."""
    from clinesync.plans import planfile

    if saved is None:
        raise UserError("--wave applies one wave of a saved plan: give the PLANFILE plan --out wrote")
    try:
        wave_plan = saved.wave(wave)
    except planfile.PlanFileError as error:
        raise UserError(f"{saved_plan}: {error}") from None
    refused_waves(project, saved_plan or "", saved)
    return wave_plan


def refused_waves(project: Project, plan_path: str, saved: SavedPlan) -> None:
    """UserError when the plan's waves are not what the repository's clinesync.yaml deals: a plan file's
    waves, holds and checks are the repository's, never the file's own."""
    why = saved.dealt_otherwise(project)
    if why:
        raise UserError(f"{plan_path}: {why}: plan again with this clinesync.yaml. Nothing was written.")


def apply_saved_plan(
    run: Run,
    console: Console,
    saved: SavedPlan,
    output_format: str = "text",
    parallelism: int = DEFAULT_PARALLELISM,
    manually: tuple[bool, float, float] = (False, 0.0, 0.0),
    allow_mass_change: bool = False,
    put_back_checked: bool = False,
) -> int:
    """Apply the organizations the reviewed plan changes, exactly as reviewed, or nothing. The others are not
    read, planned or written: a change to them since the plan was never reviewed. A plan made with waves never
    applies again an organization it applied and someone put back since (`put_back_checked`: the rollout's
    status has looked for one already)."""
    from clinesync.plans import planfile
    from clinesync.render import gitops as view

    output = run.output
    elsewhere = planfile.made_elsewhere(saved, console.identity, console.description)
    if elsewhere:  # known before any request: another console is never read for it, only named
        output.err(view.saved_plan_refused(elsewhere))
        return _refusal_reported(output, console, saved, elsewhere, output_format)
    if not saved.changing:
        return _nothing_to_apply(output, console, saved, output_format)
    skipped = planfile.left_unchanged(saved)
    if skipped:
        output.info(view.skipped(len(skipped)))
    # The secrets the plan command scrubbed its file with, learnt before its display is compared with now's.
    learn_referenced_secrets(run, [entry.file for entry in saved.changing])
    try:
        with paused_gc():
            result, reasons = planfile.replan(
                saved, console, run.environ, parallelism, run.project, redact=output.redact
            )
    except planfile.PlanFileError as error:
        raise UserError(str(error)) from None
    report_problems(output, result)
    if reasons and planfile.already_applied(saved, result):
        from clinesync.plans.apply import OrgResult

        reviewed = [*result.organizations, *skipped]  # each unchanged: live holds what the plan writes
        order = {entry.file: index for index, entry in enumerate(saved.organizations)}
        unchanged = [
            OrgResult(org, "unchanged") for org in sorted(reviewed, key=lambda org: order.get(org.file, 0))
        ]
        return _applied_nothing(output, view.ALREADY_APPLIED, console.description, unchanged, output_format)
    back = None
    if not reasons and saved.document.get("rollout") is not None and not put_back_checked:
        from clinesync.consoles.base import ConsoleError
        from clinesync.plans.rollout_history import put_back

        try:
            back = put_back(console, saved, result)
        except ConsoleError as error:
            raise UserError(str(error)) from None
        reasons = [back] if back else []
    if reasons:
        output.err(view.saved_plan_refused(reasons))
        if manually[0]:  # run again after the admin's Save: what is left to do, if that is what moved live
            moved = planfile.moved_toward(saved, result)
            output.err(view.still_differs(moved, every_refusal=len(moved) == len(reasons)))
        every_wave = len(saved.organizations) == len(saved.document["organizations"])
        if saved.document.get("rollout") is not None and every_wave and not back:  # put back: plan again
            output.err(view.WAVES_APPLIED_SINCE)
        return _refusal_reported(output, console, saved, reasons, output_format)
    result = judged(run.project, result)
    if saved.document.get("rollout") is not None:
        # A wave of a mass change is a part of one: judged on the whole plan, as saved and as shown, never on
        # the wave alone.
        shown = mass_change(run.project, planfile.as_plan(saved).totals)
        whole = (*result.mass_change, *saved.document["mass_change"], *shown)
        result = evolve(result, mass_change=tuple(dict.fromkeys(whole)))
    show_plan(output, result, output_format)
    if not result.has_changes and output_format == "text":
        return EXIT_OK
    if refuse_mass_change(output, result, allow_mass_change):
        return EXIT_ERROR
    manual, timeout, interval = manually
    if manual:
        return _apply_manually(output, result, console, timeout, interval)
    in_path_order = [entry.file for entry in saved.organizations]  # as the plan file lists them
    return apply_and_report(output, result, console, parallelism, output_format, skipped, in_path_order)


def _refusal_reported(
    output: Output, console: Console, saved: SavedPlan, reasons: list[str], output_format: str
) -> int:
    """With --format json, the refused saved plan's report: what it changes, not attempted."""
    if output_format == "json":
        output.out(APPLY_RENDERERS["json"](console.description, _refused(saved, reasons), EXIT_ERROR))
    return EXIT_ERROR


def _refused(saved: SavedPlan, reasons: list[str]) -> list[OrgResult]:
    """A refused saved plan as apply reports it: what it changes not attempted, each with the reason that
    names it (else the first), and the rest unchanged."""
    from clinesync.plans import planfile
    from clinesync.plans.apply import OrgResult

    files = {entry.file for entry in saved.organizations}
    results = []
    for org in planfile.as_plan(saved).organizations:
        if org.file not in files:
            continue
        if not org.changes:
            results.append(OrgResult(org, "unchanged"))
            continue
        reason = next((said for said in reasons if org.organization and org.organization in said), reasons[0])
        results.append(OrgResult(org, "not attempted", f"the saved plan was refused: {reason}"))
    return results


def show_plan(output: Output, result: Plan, output_format: str) -> None:
    """The plan before applying it: on stdout as text, or on stderr when stdout is the JSON report."""
    text = rendered(output, result, "text", "plan")
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
    totals = streamed(this_run(), paths, PlanOptions(shard, False, parallelism), output_format, "drift")
    if totals.failed:
        return EXIT_ERROR
    return EXIT_CHANGES if totals.has_changes else EXIT_OK
