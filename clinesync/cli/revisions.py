"""Commands about live state: `export`, `history`, `rollback`, `organizations`, and `pull` (live into the files)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from clinesync.cli.app import (
    EXIT_ERROR,
    EXIT_OK,
    Output,
    Run,
    UserError,
    apply_and_report,
    cli,
    command,
    confirmed,
    global_options,
    parallelism_option,
    progress,
    render,
    text_or_json,
    this_run,
)
from clinesync.cline import is_organization_id
from clinesync.consoles.base import Console, ConsoleError
from clinesync.records import evolve
from clinesync.render import adoption as view
from clinesync.render.history import HISTORY_RENDERERS, already_restored

if TYPE_CHECKING:
    from clinesync.files.loader import LoadedFile
    from clinesync.plans.pull import Fleet, Member, Pull


def organization_argument(value: str) -> str:
    if not is_organization_id(value):
        raise UserError(f"{value!r} is not an organization id (org- followed by the id in the admin console)")
    return value


@cli.command()
@click.argument("organization", required=False)
@click.option(
    "-o",
    "--output",
    "target",
    type=click.Path(),
    help="Write to FILE, not stdout; with --all, into the folder DIR.",
)
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="Every organization the token administers (Cline's discovery), one file each in -o DIR.",
)
@click.option(
    "--extract-base",
    is_flag=True,
    help="With --all: write what every organization shares as DIR/bases/shared.yaml, which each file extends.",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
@click.option(
    "--include-secrets", is_flag=True, help="Write sensitive values in clear (do not commit the file)."
)
@click.option(
    "--secrets-list",
    "secrets_list",
    type=click.Path(dir_okay=False),
    help="Write the ${env:...} names the files read as the workflow's secret list (NAME: ${{ secrets.NAME }}).",
)
@parallelism_option
@global_options
@command
def export(
    organization: str | None,
    target: str | None,
    every: bool,
    extract_base: bool,
    force: bool,
    include_secrets: bool,
    secrets_list: str | None,
    parallelism: int,
) -> int:
    """Write an organization's live state as an organization file."""
    from clinesync.plans.export import export_organization

    if every:
        if organization or not target:
            raise UserError("--all exports every organization into a folder: give -o DIR and no ORGANIZATION")
        return _export_all(
            this_run(), target, extract_base, force, include_secrets, secrets_list, parallelism
        )
    if organization is None:
        raise UserError("name the ORGANIZATION to export, or pass --all -o DIR for every one")
    if extract_base:
        raise UserError("--extract-base needs --all: a base is what several organizations share")
    organization = organization_argument(organization)
    run = this_run()
    output = run.output
    console = run.open_console()
    try:
        live = console.read(organization)
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()
    if live.document is None:
        raise UserError(f"{organization} has no configuration in {console.description}")
    public = run.project.public_headers
    exported = export_organization(organization, live.document, console.description, include_secrets, public)
    for field in exported.left_out:
        output.err(view.left_out(field))
    if target:
        _write_new(target, exported.text, force)
        output.info(view.wrote(target))
        if not include_secrets:  # a file with secrets in clear is not checked: a finding would print them
            _check_written(run, [target])
    elif include_secrets:
        click.echo(exported.text, nl=False)  # asked for in clear: the one output not scrubbed
    else:
        output.out(exported.text)
    _name_variables(output, list(exported.variables), secrets_list)
    return EXIT_OK


def _export_all(
    run: Run,
    folder: str,
    extract_base: bool,
    force: bool,
    include_secrets: bool,
    secrets_list: str | None,
    parallelism: int,
) -> int:
    """Every organization the console lists, each read once (`parallelism` at a time), written into `folder`:
    nothing is written unless every organization was read and no file would be overwritten without --force."""
    import os

    from clinesync.consoles.base import NotAttempted
    from clinesync.consoles.fleet import concurrently
    from clinesync.plans.adopt import BASE_FILE, export_fleet

    output = run.output
    console = run.open_console()
    try:
        listed = console.organizations()
        ids = [organization.id for organization in listed]
        at_once = 1 if console.inline else parallelism
        read = concurrently(console.read, ids, at_once, progress(output, "Reading live state"))
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()
    failed = [result for result in read if isinstance(result, ConsoleError)]
    if failed:  # the first that is not only the console's failure told again
        raise UserError(str(next((one for one in failed if not isinstance(one, NotAttempted)), failed[0])))
    lives = [
        (organization, live.document)
        for organization, live in zip(listed, read, strict=True)
        if not isinstance(live, ConsoleError)  # none is, by now
    ]
    if not listed:
        raise UserError(f"{console.description} lists no organization for this token")
    public = run.project.public_headers
    fleet = export_fleet(lives, console.description, include_secrets, extract_base, public)
    paths = {os.path.join(folder, name): text for name, text in fleet.files.items()}
    existing = [path for path in paths if os.path.exists(path)]
    if existing and not force:
        raise UserError(f"{', '.join(existing)}: exists; pass --force to overwrite. Nothing was written.")
    for path, text in paths.items():
        _write_new(path, text, force)
    for field in fleet.left_out:
        output.err(view.left_out(field))
    for organization in fleet.without_configuration:
        output.err(view.without_configuration(organization))
    base = BASE_FILE if BASE_FILE in fleet.files else None
    output.info(view.wrote_fleet(len(paths), folder, base, console.description))
    if not include_secrets:
        _check_written(run, sorted(paths))
    _name_variables(output, list(dict.fromkeys(fleet.variables)), secrets_list)
    return EXIT_OK


def _name_variables(output: Output, variables: list[str], secrets_list: str | None) -> None:
    """The variables the files read, as the workflow's `&console` list takes them; into a file if asked."""
    from clinesync.files.scaffold import secret_lines

    lines = secret_lines(variables)
    if secrets_list is not None:
        _write_new(secrets_list, "".join(f"{line}\n" for line in lines), force=True)
        output.info(view.secret_list_written(len(lines), secrets_list))
    if variables:
        output.info(view.variables_to_set(variables, lines))


def _check_written(run: Run, paths: list[str]) -> None:
    """What validate finds in the files export wrote: the live configuration's own findings (two providers,
    say). A console keeps no comments, so none comes back suppressed, and the pull-request workflow's
    `validate --strict` fails on each until it is fixed in the console or suppressed with its reason."""
    from clinesync.files.batch import iter_checked
    from clinesync.render.problems import problems_text

    found = [problem for checked in iter_checked(paths, run.project) for problem in checked.problems]
    problems = list(dict.fromkeys(found))  # a base's once, however many files extend it
    if problems:
        run.output.err(problems_text(problems))
        run.output.err(view.found_in_export(len(problems)))


def _write_new(target: str, text: str, force: bool) -> None:
    import os

    from clinesync.privatefile import write_private

    folder = os.path.dirname(target) or "."
    try:
        os.makedirs(folder, exist_ok=True)  # `-o orgs/acme.yaml` in a new repository
    except FileExistsError:
        raise UserError(f"cannot write {target}: {folder} is not a folder") from None
    except OSError as error:
        raise UserError(f"cannot write {target}: {error.strerror}") from None
    try:
        write_private(target, text, overwrite=force)
    except FileExistsError:
        raise UserError(f"{target} exists: pass --force to overwrite it") from None
    except OSError as error:
        raise UserError(f"cannot write {target}: {error.strerror}") from None


@cli.command()
@click.argument("organization")
@click.option(
    "--format", "output_format", type=click.Choice(list(HISTORY_RENDERERS)), default="text", show_default=True
)
@global_options
@command
def history(organization: str, output_format: str) -> int:
    """List an organization's revisions (consoles that keep them)."""

    organization = organization_argument(organization)
    run = this_run()
    output = run.output
    console = run.open_console()
    try:
        revisions = console.history(organization)
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()
    output.out(HISTORY_RENDERERS[output_format](console.description, organization, revisions))
    return EXIT_OK


@cli.command()
@click.argument("organization")
@click.option("--to", "revision", type=int, required=True, help="The revision to restore.")
@click.option("--auto-approve", is_flag=True, help="Roll back without asking.")
@global_options
@command
def rollback(organization: str, revision: int, auto_approve: bool) -> int:
    """Restore an earlier revision, as a new revision: shows the plan and asks, like apply."""
    from clinesync.plans.plan import plan_rollback

    organization = organization_argument(organization)
    run = this_run()
    output = run.output
    console = run.open_console(writes=True)
    try:
        result = plan_rollback(console, organization, revision)
        if not result.has_changes:  # not "live matches the files": the files were not read
            output.out(already_restored(console.description, organization, revision))
            return EXIT_OK
        render(output, result, "text", "plan")
        if not auto_approve and not confirmed(output):
            return EXIT_ERROR
        return apply_and_report(output, result, console)
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@text_or_json
@global_options
@command
def organizations(paths: tuple[str, ...], output_format: str) -> int:
    """List the organizations the token can manage: name, role, and the file here that manages each.

    Files are the PATHs given, else the configuration's paths:, else this folder; a file whose organization
    the console does not list is named too (a typo, or an organization not created yet)."""
    from clinesync.files.paths import PathError, declared_organization, expand
    from clinesync.render.organizations import ORGANIZATION_RENDERERS, Listed

    run = this_run()
    project = run.project
    try:
        files = expand(paths or project.paths or (".",), project.ignore, project.directory, project.file)
    except PathError as error:
        raise UserError(str(error)) from None
    declared: dict[str, str] = {}
    for name in files:
        organization = declared_organization(name)
        if organization is not None:
            declared.setdefault(organization, name)  # the first, as plan takes it (CS104)
    console = run.open_console()
    try:
        live = console.organizations()
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()
    listed = [Listed(found.id, found.name, found.role, declared.get(found.id), True) for found in live]
    known = {found.id for found in live}
    listed += [
        Listed(organization, None, None, name, False)
        for organization, name in declared.items()
        if organization not in known
    ]
    run.output.out(ORGANIZATION_RENDERERS[output_format](console.description, listed))
    return EXIT_OK


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@text_or_json
@global_options
@command
def pull(paths: tuple[str, ...], output_format: str) -> int:
    """Write live values that differ from the files back into the files that set them, never a secret.

    Into the organization's file, or into the base that set a value when every organization the edit would
    reach has the same live value; comments and formatting kept. A value from ${env:...} or ${var:...}, or a
    secret by its place, is reported, not written. The files are then checked to say what live holds, or put
    back as they were. Exit 0 when live matches the files, 2 when it differs, 1 on errors."""
    from clinesync.cli.app import EXIT_CHANGES, expand_paths
    from clinesync.render.pull import PULL_RENDERERS, not_written

    run = this_run()
    output = run.output
    # The console first: a refusal (CI with none named, a target that is no console) comes before any file's
    # problems, as plan's and drift's do.
    console = run.open_console()
    try:
        fleet, failed = _pull_fleet(run, expand_paths(paths), console)
    finally:
        console.close()
    result, written, trouble = _pull_and_check(run, fleet)
    for file, why in trouble:
        output.err(not_written(file, why))
    output.out(PULL_RENDERERS[output_format](console.description, result, written, bool(failed or trouble)))
    if failed or trouble:
        return EXIT_ERROR
    return EXIT_CHANGES if result.differs else EXIT_OK


def _pull_fleet(run: Run, files: list[str], console: Console) -> tuple[Fleet, bool]:
    """The organizations to pull, each resolved with its merged file kept (where its values were set) and its
    live document read; the fleet's other organization files (the configuration's paths, else this folder),
    merged only; and whether any file to pull failed. A file that cannot be read may extend any base: while
    there is one, no base is written."""
    import os

    from clinesync.files.bases import inherited
    from clinesync.files.batch import check_one
    from clinesync.files.loader import load_file
    from clinesync.files.paths import PathError, expand
    from clinesync.files.project import in_this_repository
    from clinesync.plans.pull import Fleet, Source
    from clinesync.render.problems import problems_text
    from clinesync.render.pull import not_written

    project, output = run.project, run.output
    cache: dict[str, LoadedFile] = {}
    sources, others, failed = [], [], False
    pulled: dict[str, str] = {}  # real path -> as given; organization -> its file
    declared: dict[str, str] = {}
    for name in files:
        if os.path.realpath(name) in pulled:
            continue  # one file named twice is pulled once
        pulled[os.path.realpath(name)] = name
        checked = check_one(name, project, run.environ, cache)
        if checked.may_be_a_base or checked.plainly_not_an_organization:
            continue
        if checked.desired is not None:
            output.add_secrets(checked.desired.secrets)
        if checked.organization is not None and not project.selects(checked.organization):
            continue
        output.err(problems_text(problem for problem in checked.problems if problem.is_error))
        member = _member(checked.loaded, cache)
        twice = declared.get(checked.organization or "")
        if twice is not None:
            output.err(
                not_written(name, f"{checked.organization} is also declared in {twice}: one file each")
            )
        if checked.desired is None or checked.loaded is None or twice is not None:
            failed = True
            others.append(member)
            continue
        declared[checked.desired.organization] = name
        sources.append(
            Source(member.loaded, member.bases, checked.desired, None, inherited(checked.loaded, cache))
        )
    if not sources and not failed:
        raise UserError("no organization file among the PATHs: name organization files or folders")
    try:
        fleet = expand(project.paths or (".",), project.ignore, project.directory, project.file)
    except PathError as error:
        raise UserError(str(error)) from None
    for name in fleet:
        if os.path.realpath(name) not in pulled:
            checked = check_one(name, project, None, cache)
            if not (checked.may_be_a_base or checked.plainly_not_an_organization):
                others.append(_member(checked.loaded, cache))
    try:
        read = []
        for source in sources:
            assert source.desired is not None
            live = console.read(source.desired.organization).document
            read.append(evolve(source, live=live.tree() if live else None))
    except ConsoleError as error:
        raise UserError(str(error)) from None
    written: dict[str, LoadedFile] = {}

    def as_written(path: str) -> LoadedFile:
        if path not in written:
            written[path] = load_file(path)
        return written[path]

    by_base = {
        real: inherited(base, cache) for real, base in cache.items() if not real.startswith("extends:")
    }
    return Fleet(read, others, by_base, as_written, writable=in_this_repository), failed


def _member(loaded: LoadedFile | None, cache: dict[str, LoadedFile]) -> Member:
    """A fleet file as pull weighs it: one that did not parse as a mapping may extend any base."""
    from clinesync.files.bases import chain
    from clinesync.plans.pull import Member

    readable = loaded is not None and isinstance(loaded.data, dict)
    return Member(loaded, chain(loaded, cache) if readable and loaded is not None else None)


def _pull_and_check(run: Run, fleet: Fleet) -> tuple[Pull, list[str], list[tuple[str, str]]]:
    """The pull written and checked: each organization pulled must then resolve to what live holds (but for
    what is not written), and no other organization file may change. What fails is put back as it was and
    tried again without writing into bases, then with the organizations that still fail left to a person."""
    from clinesync.plans.pull import pull

    by_hand: dict[str, str] = {}
    for into_bases in (True, False, False):
        result = pull(evolve(fleet, into_bases=into_bases, by_hand=by_hand))
        originals: dict[str, bytes] = {}
        try:
            trouble = _write_pull(result, originals, fleet.writable)
            failing = {} if trouble else _failing(run, fleet, result)
        except BaseException:  # an interrupt: nothing left that was not checked
            _restore(originals)
            raise
        if not trouble and not failing:
            return result, list(result.edits), []
        _restore(originals)
        if trouble:
            return _unwritten(result, "a file could not be written (see above)"), [], trouble
        if not into_bases:
            by_hand = {
                organization: f"the files cannot say it without a hand edit: {why}"
                for organization, why in failing.items()
            }
    stuck = [("pull", "the files could not be made to say what live holds")]
    return _unwritten(result, "nothing was written (see above)"), [], stuck


def _unwritten(result: Pull, why: str) -> Pull:
    """The pull with every value it meant to write reported as not written."""
    for org in result.organizations:
        org.pulled = [
            entry if entry.file is None else evolve(entry, file=None, why=why) for entry in org.pulled
        ]
    return evolve(result, edits={})


def _write_pull(
    result: Pull, originals: dict[str, bytes], writable: Callable[[str], bool]
) -> list[tuple[str, str]]:
    """Each file's edits written, into the file a link names (never outside the repository), whole and with
    its mode kept; `originals` gains each file's bytes as they were, to put back exactly. The first file that
    cannot be written, and why."""
    import os

    from clinesync.files.edits import edited
    from clinesync.files.style import StyleError
    from clinesync.privatefile import keep_mode

    for name, edits in result.edits.items():
        target = os.path.realpath(name)
        if not writable(target):
            return [(name, "it is, or links to, a file outside this repository")]
        try:
            with open(target, "rb") as stream:
                before = stream.read()
            originals.setdefault(target, before)
            keep_mode(target, edited(before.decode("utf-8"), name, edits))
        except (OSError, StyleError, UnicodeDecodeError) as error:
            return [(name, getattr(error, "strerror", None) or str(error))]
    return []


def _restore(originals: dict[str, bytes]) -> None:
    from clinesync.privatefile import keep_bytes

    for target, before in originals.items():
        keep_bytes(target, before)


def _failing(run: Run, fleet: Fleet, result: Pull) -> dict[str, str]:
    """The organizations whose files, as written now, do not say what live holds (but for what was not
    written), or that changed without being pulled: by id, with the first difference."""
    from clinesync.diff import diff
    from clinesync.fields import dotted, find
    from clinesync.files.batch import check_one

    project = run.project
    cache: dict[str, LoadedFile] = {}
    failing = {}
    for source, org in zip(fleet.sources, result.organizations, strict=True):
        if source.live is None or source.desired is None:
            continue
        checked = check_one(source.desired.file, project, run.environ, cache)
        if checked.desired is None:
            errors = [problem.message for problem in checked.problems if problem.is_error]
            failing[org.organization] = errors[0] if errors else "it no longer checks"
            continue
        now, before = checked.desired.document.tree(), source.desired.document.tree()
        kept = {entry.path for entry in org.pulled if entry.file is None}
        left_alone = (*source.desired.unmanaged, *source.unknown)
        for change in diff(now, source.live):
            if change.path not in kept and not any(change.path[: len(path)] == path for path in left_alone):
                failing[org.organization] = f"{dotted(change.path)} still differs"
                break
        for path in kept:
            if find(now, path) != find(before, path):
                failing[org.organization] = f"{dotted(path)}, not written, would change"
    for other in fleet.others:
        if other.loaded is None:
            continue
        checked = check_one(other.loaded.path, project, None, cache)
        if checked.loaded is not None and checked.loaded.data != other.loaded.data:
            failing[checked.organization or other.loaded.path] = (
                f"{other.loaded.path} would change, and was not pulled"
            )
    return failing
