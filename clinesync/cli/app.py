"""The CLI's plumbing: the command group, global options, output, and the mapping of outcomes to exit codes.

The CLI is the only layer that prints or exits. Heavy modules are imported inside the commands that need
them, so `clinesync --help` stays fast.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

import click

from clinesync.records import evolve
from clinesync.render import run as view

if TYPE_CHECKING:
    from clinesync.consoles.base import Console
    from clinesync.files.project import Project
    from clinesync.plans.apply import OrgResult
    from clinesync.plans.plan import OrgPlan, Plan, PlanPieces

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class UserError(Exception):
    """An expected failure: its message is shown as is, and the command exits 1."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a cancelled CI job, `timeout`, `docker stop`) or SIGHUP, ending the run as Ctrl-C does."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interruption_behind(error: BaseException) -> BaseException | None:
    """The interruption an error was raised while handling (a pool's shutdown failing under a signal)."""
    seen: BaseException | None = error.__context__
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return seen
        seen = seen.__context__
    return None


def _behind_abort(abort: click.Abort) -> BaseException | None:
    """What click turned into its Abort: an interruption outside a command's body is its cause, and one at a
    prompt (`raise Abort() from None`) its context; None for a prompt that met the end of its input."""
    behind = abort.__cause__ or abort.__context__
    return behind if isinstance(behind, KeyboardInterrupt) else None


# The run's first ending signal: a second one, landing while the run ends (its report written, its console
# closed), may cut that short but never changes the exit code the first gave.
_FIRST_SIGNAL: list[int] = []


def _exit_code(interruption: BaseException) -> int:
    """128 + the signal, as shells report it: the first of the run's."""
    if _FIRST_SIGNAL:
        return 128 + _FIRST_SIGNAL[0]
    cause = _behind_abort(interruption) if isinstance(interruption, click.Abort) else interruption
    return 128 + cause.signum if isinstance(cause, Terminated) else EXIT_INTERRUPTED


@contextlib.contextmanager
def _signals_end_the_run() -> Iterator[None]:
    """SIGTERM and SIGHUP interrupt the run like SIGINT: writes in flight settle, workers stop, one line, exit
    128+signal. The handlers are the run's only: an embedding process gets its own back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, _frame: Any) -> None:
        if not _FIRST_SIGNAL:
            _FIRST_SIGNAL.append(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(signum)

    _FIRST_SIGNAL.clear()
    numbers = [signal.SIGTERM, signal.SIGHUP]
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where the shell ignores it
        numbers.append(signal.SIGINT)
    kept = {number: signal.signal(number, terminate) for number in numbers}
    try:
        yield
    finally:
        for number, handler in kept.items():
            signal.signal(number, handler)


class Settings:
    """The global options of one run, and every secret value learnt during it (scrubbed from all output)."""

    def __init__(self) -> None:
        self.console: str | None = None
        self.token_file: str | None = None
        self.no_color = False
        self.quiet = False
        self.verbose = False
        self.members = False  # --members: the member view in text and markdown
        self.insecure_http = False
        self.variables: tuple[str, ...] = ()  # --var NAME=VALUE
        self.organizations: tuple[str, ...] = ()  # --org ID
        self.secrets: set[str] = set()
        self.project: Project | None = None  # loaded on first use: `current_project`

    @property
    def color(self) -> bool | None:
        """Off with --no-color or NO_COLOR; on with FORCE_COLOR or CLICOLOR_FORCE, for a CI log that shows
        colors though it is no terminal; otherwise (None) on a terminal only. Off wins over on."""
        environ = os.environ
        if self.no_color or environ.get("NO_COLOR"):
            return False
        if any(environ.get(name, "") not in ("", "0", "false") for name in ("FORCE_COLOR", "CLICOLOR_FORCE")):
            return True
        return None


def _settings(ctx: click.Context) -> Settings:
    root = ctx.find_root()
    if root.obj is None:
        root.obj = Settings()
    settings: Settings = root.obj
    return settings


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        settings = _settings(ctx)
        if isinstance(value, tuple):  # a repeatable option, given before the command, after it, or both
            setattr(settings, name, (*getattr(settings, name), *value))
        elif value not in (None, False):
            setattr(settings, name, value)

    return callback


def _change_directory(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """--chdir, as Terraform's -chdir: the run happens in DIR, paths and the project configuration included."""
    if value is None:
        return
    try:
        os.chdir(value)
    except OSError as error:
        raise click.BadParameter(f"cannot work in {value}: {error.strerror}", param_hint="--chdir") from None


# Global options, accepted both before the command name and after it.
_GLOBAL_OPTIONS = (
    click.option(
        "--chdir",
        metavar="DIR",
        is_eager=True,  # before any other option or argument is read: they are DIR's
        expose_value=False,
        callback=_change_directory,
        help="Run in DIR: its clinesync.yaml, and PATHs relative to it.",
    ),
    # Not `envvar=`: each place the option is declared would read the environment, and the command's reading
    # of it replaced a console named before the command. The environment is read once, in `open_console`.
    click.option(
        "--console",
        expose_value=False,
        callback=_store("console"),
        help="Console holding live state: a database path, sqlite:PATH, or an http(s):// URL "
        "(else CLINESYNC_CONSOLE). Default: .clinesync/console.db",
    ),
    click.option(
        "--token-file",
        type=click.Path(dir_okay=False),
        expose_value=False,
        callback=_store("token_file"),
        help="File holding the console API token (else CLINE_API_KEY).",
    ),
    click.option(
        "--insecure-http",
        is_flag=True,
        expose_value=False,
        callback=_store("insecure_http"),
        help="Allow an http:// console on a host that is not loopback (the token crosses the network in clear).",
    ),
    click.option(
        "--var",
        "variables",
        multiple=True,
        metavar="NAME=VALUE",
        expose_value=False,
        callback=_store("variables"),
        help="A value for ${var:NAME}, over clinesync.yaml's variables (not secret: plans show it). Repeatable.",
    ),
    click.option(
        "--no-color",
        is_flag=True,
        expose_value=False,
        callback=_store("no_color"),
        help="No colors (also NO_COLOR; FORCE_COLOR or CLICOLOR_FORCE force them where stdout is no terminal).",
    ),
    click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        callback=_store("quiet"),
        help="Only errors and machine output.",
    ),
    click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        callback=_store("verbose"),
        help="More detail: organizations without changes, tracebacks of internal errors.",
    ),
)


def global_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_GLOBAL_OPTIONS):
        function = option(function)
    return function


# Each command, the module that defines it, and its one-line help: `--help` lists commands from here and a
# run imports only its own command's module, so start-up pays for one command, not eleven. A test keeps the
# help here equal to each command's own.
COMMANDS: dict[str, tuple[str, str]] = {
    "affected": (
        "files",
        "List the organizations whose desired state the files changed since a git revision can change.",
    ),
    "apply": (
        "gitops",
        "Apply the files (after showing the plan and asking), or a saved plan without asking.",
    ),
    "completion": (
        "files",
        'Print the shell completion script: eval "$(clinesync completion bash)" in ~/.bashrc.',
    ),
    "drift": (
        "gitops",
        "Read-only check for cron: exit 0 in sync, 2 when live differs from the files, 1 on errors.",
    ),
    "export": ("revisions", "Write an organization's live state as an organization file."),
    "fmt": (
        "files",
        "Write organization files, bases and clinesync.yaml in one style, comments and blank lines kept.",
    ),
    "history": ("revisions", "List an organization's revisions (consoles that keep them)."),
    "init": (
        "files",
        "Scaffold a repository: clinesync.yaml, the GitHub workflow with its secret list, pre-commit, .gitignore.",
    ),
    "member-token": (
        "serving",
        "Create a read-only member token for serve, bound to one organization (printed once, stored hashed).",
    ),
    "organizations": (
        "revisions",
        "List the organizations the token can manage: name, role, and the file here that manages each.",
    ),
    "plan": ("gitops", "Show what apply would change."),
    "probe": (
        "probing",
        "Check that each configured endpoint answers as Cline will call it: DNS, TCP, TLS, the "
        "model listing, every declared model offered (and with --chat, a completion).",
    ),
    "pull": (
        "revisions",
        "Write live values that differ from the files back into the files that set them, never a secret.",
    ),
    "rollback": (
        "revisions",
        "Restore an earlier revision, as a new revision: shows the plan and asks, like apply.",
    ),
    "rollout": (
        "rollouts",
        "Apply a reviewed plan wave by wave (rollout: in clinesync.yaml): status, and the next wave when it may.",
    ),
    "rules": ("files", "List every rule (CS and policy) with its level under the current configuration."),
    "schema": ("files", "Print the packaged JSON Schema (its path on stderr), for editor set-up."),
    "serve": ("serving", "Serve Cline's remote-config API, with writes, over a local console database."),
    "show": ("gitops", "Render a saved plan as it was reviewed (no console, no secrets needed)."),
    "validate": ("files", "Check organization files against the schema and the CS rules."),
}


class ClinesyncGroup(click.Group):
    """Loads commands on demand (COMMANDS), and maps every outcome to SPEC §3's exit codes; click's own usage
    errors would exit 2 ("changes")."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        if name not in self.commands:
            import importlib

            importlib.import_module(f"clinesync.cli.{COMMANDS[name][0]}")  # its decorators register it here
        return self.commands.get(name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in COMMANDS:
            import difflib

            close = difflib.get_close_matches(name, COMMANDS, n=1)
            if close:
                ctx.fail(f"No such command {name!r}. Did you mean {close[0]!r}?")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])

    def main(  # always exits, whatever standalone_mode says
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        try:
            with _signals_end_the_run():
                code = super().main(
                    args, prog_name or "clinesync", complete_var, standalone_mode=False, **extra
                )
        except Exception as error:  # click's own failures (usage, a prompt aborted): the one handler's
            code = ended_by(error)
        except KeyboardInterrupt as interruption:
            code = ended_by(interruption)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


def ended_by(error: BaseException) -> int:
    """The one handler: what a run ended by becomes, one line on stderr (never a traceback, unless --verbose
    asks for a bug's) and the exit code (SPEC §3)."""
    output = Output()
    if isinstance(error, UserError):
        output.err(view.error(error))
        return EXIT_ERROR
    if isinstance(error, click.ClickException):  # a usage error: click says it, with the usage line
        error.show()
        return EXIT_ERROR
    if isinstance(error, BrokenPipeError):
        # The reader went away (`| head`): as a shell's commands end on SIGPIPE, quietly, and with stdout
        # pointed at nothing so that the interpreter's last flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # SIGPIPE's number on every platform clinesync runs on
    if isinstance(error, click.Abort) and _behind_abort(error) is None:
        output.err(view.ABORTED)  # a prompt met the end of its input
        return EXIT_ERROR
    # Each write is one transaction, and writes not yet started are cancelled: nothing is half written, and
    # running the command again converges. Cleaning up after a signal may fail: the signal is what happened.
    interruption = (
        error if isinstance(error, (KeyboardInterrupt, click.Abort)) else _interruption_behind(error)
    )
    if interruption is not None:
        output.err(view.INTERRUPTED)
        return _exit_code(interruption)
    output.err(view.internal_error(type(error).__name__))  # a bug in clinesync
    if output.settings.verbose:
        import traceback

        output.err("".join(traceback.format_exception(error)))
    return EXIT_ERROR


def command(function: Callable[..., int]) -> Callable[..., int]:
    """Wraps a command body: expected failures become one line on stderr and exit 1, never a traceback."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> int:
        try:
            return function(*args, **kwargs)
        except (Exception, KeyboardInterrupt) as error:
            return ended_by(error)

    return run


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from clinesync.cli import version_text

        click.echo(version_text(), nl=False)
        ctx.exit()


@click.group(cls=ClinesyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
@global_options
def cli() -> None:
    """Infrastructure-as-code for Cline organization settings: validate, plan, apply, drift."""


def main() -> None:
    """The process's entry point. An interrupted run (exit 128+signal) leaves at once: the threads reading a
    console that does not answer would otherwise hold the process until their deadlines, since Python joins
    them at exit. Nothing is lost: every write is one transaction, settled or not begun, and the workers
    checking files end with this process (`files/batch.py`)."""
    try:
        cli.main()
    except SystemExit as leaving:
        if isinstance(leaving.code, int) and leaving.code > 128:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(leaving.code)
        # The interpreter's collections at exit walk every object still alive, every module's included: 10 ms
        # of a one-organization plan's CPU, 30-40 ms after a fleet's plan. Frozen, they are not walked: an
        # object in a reference cycle is then never finalised, so nothing may rely on a finaliser to finish
        # its work; each command closes its files, consoles and pools before it returns.
        gc.freeze()
        raise


def settings() -> Settings:
    """The run's settings; outside any command (click failing before one starts), the defaults."""
    context = click.get_current_context(silent=True)
    return Settings() if context is None else _settings(context)


class Output:
    """Where the CLI writes: machine output on stdout, messages on stderr, both scrubbed of known secrets."""

    def __init__(self) -> None:
        from clinesync.scrub import Redactor

        self.settings = settings()
        self.redact = Redactor(self.settings.secrets)
        self.color = self.settings.color  # asked once: it reads the environment
        self._colored: bool | None = None  # whether stdout shows colors, once asked

    def add_secrets(self, secrets: Iterable[str]) -> None:
        self.redact.add(secrets)  # the settings' own set: every Output of this run scrubs them

    def out(self, text: str) -> None:
        self._write(self.redact(text), err=False)

    def err(self, text: str) -> None:
        self._write(self.redact(text), err=True)

    def _write(self, text: str, err: bool) -> None:
        # click asks the stream whether it is a terminal on each call, to know whether to strip colors (a tenth
        # of the time a plan of 10,000 organizations takes to write): text without any has none to strip.
        click.echo(text, nl=False, err=err, color=self.color if "\x1b" in text else True)

    def info(self, text: str) -> None:
        """A message that --quiet silences."""
        if not self.settings.quiet:
            self.err(text)

    def style(self, text: str, **styles: Any) -> str:
        """Colors for stdout, only where they will show: building them for a pipe (CI logs, a 1,000-line plan
        into a file) costs time only for click to strip them again. Whether they show is asked once: a plan of
        10,000 organizations styles 150,000 lines."""
        if self._colored is None:
            color = self.color
            self._colored = color is True or (color is None and sys.stdout.isatty())
        return click.style(text, **styles) if self._colored else text


def current_project() -> Project:
    """The project configuration this run uses (SPEC §9), loaded once and named on stderr when there is one,
    with --var and --org applied."""
    from clinesync.files.project import (
        Project,
        ProjectError,
        UnsafeConfiguration,
        VersionRefused,
        find,
        load,
    )

    chosen = settings()
    if chosen.project is not None:
        return chosen.project
    variables = {}
    for assignment in chosen.variables:
        name, equals, value = assignment.partition("=")
        if not equals or not name.isidentifier():
            raise UserError(f"--var {assignment!r}: write NAME=VALUE")
        variables[name] = value
    try:
        found = find()
        project = load(found, variables) if found else Project(variables=variables)
    except (UnsafeConfiguration, VersionRefused) as error:
        raise UserError(str(error)) from None
    except ProjectError as error:
        raise UserError(f"the project configuration is not valid:\n{error}") from None
    if chosen.organizations:
        project = evolve(project, organizations=frozenset(chosen.organizations))
    if project.file:  # before any request: a console named there is where the token goes
        from clinesync.masking import masked_url

        used = project.console and not console_named(chosen)  # else the command line's or the environment's
        console = masked_url(project.console, live=False) if used else None
        Output().info(view.using_configuration(project.file, console))
    context = click.get_current_context(silent=True)
    if project.notices and (context is None or context.info_name != "validate"):  # validate reports them
        from clinesync.render.problems import problems_text

        Output().err(problems_text(dict.fromkeys(project.notices)))
    chosen.project = project
    return project


def expand_paths(paths: tuple[str, ...], shard: tuple[int, int] | None = None) -> list[str]:
    """The organization files named (or the project configuration's `paths:`), in path order; with a shard
    K/N, every N-th from the K-th."""
    from clinesync.files.paths import PathError, expand

    project = current_project()
    if not paths:
        if not project.paths:
            raise UserError(
                "no PATH given: name organization files or folders, or list them under paths: in clinesync.yaml"
            )
        paths = project.paths
    try:
        files = expand(paths, project.ignore, project.directory, project.file)
    except PathError as error:
        raise UserError(str(error)) from None
    if not files:
        raise UserError(f"no *.yaml or *.yml files in {', '.join(paths)}")
    _refuse_saved_plans(files)
    if project.organizations is not None:
        files = _selected(files, project.organizations)
    if shard:
        from clinesync.files.paths import sharded

        files = sharded(files, *shard)
    return files


def _refuse_saved_plans(files: list[str]) -> None:
    """A saved plan named as PATH is not an organization file: say what to do with it, not its 15 errors."""
    named = [name for name in files if not name.endswith((".yaml", ".yml"))]  # a folder's files are YAML
    if not named:
        return
    from clinesync.plans.planfile import looks_like_plan

    for name in named:
        if looks_like_plan(name):
            raise UserError(
                f"{name} is a saved plan, not an organization file: apply it with `clinesync apply {name}`, or "
                f"read it with `clinesync show {name}`"
            )


def _selected(files: list[str], organizations: frozenset[str]) -> list[str]:
    from clinesync.files.paths import declared_organization

    declared = {name: declared_organization(name) for name in files}
    missing = sorted(organizations - set(declared.values()))
    if missing:
        raise UserError(f"--org {', '.join(missing)}: no organization file here declares it")
    return [name for name, organization in declared.items() if organization in organizations]


def _parse_shard(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    number, _, count = value.partition("/")
    if not (number.isdigit() and count.isdigit() and 1 <= int(number) <= int(count)):
        raise click.BadParameter("K/N with 1 <= K <= N, e.g. 2/4", param_hint="--shard")
    return int(number), int(count)


def members_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """--members, for plan, show and drift (SPEC §11)."""
    return click.option(
        "--members",
        is_flag=True,
        expose_value=False,
        callback=_store("members"),
        help="Also say what each organization's members get, before and after, per Cline client.",
    )(function)


# `--format text|json`, for the commands whose output is a listing or a report.
text_or_json = click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True
)


def fleet_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--parallelism, --shard and --org, for every command that takes PATH... (SPEC §7)."""
    function = click.option(
        "--org",
        "organizations",
        multiple=True,
        metavar="ID",
        expose_value=False,
        callback=_store("organizations"),
        help="Only this organization (repeatable).",
    )(function)
    function = click.option(
        "--shard",
        metavar="K/N",
        callback=_parse_shard,
        help="Only every N-th organization, from the K-th (1-based), in path order: split a fleet across CI jobs.",
    )(function)
    return parallelism_option(function)


def parallelism_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """--parallelism: how many organizations a command reads or writes at once (SPEC §7)."""
    return click.option(
        "--parallelism",
        default=16,
        show_default=True,
        type=click.IntRange(1, 256),
        help="Organizations read or written at once.",
    )(function)


def progress(output: Output, label: str, streamed: bool = False) -> Callable[[int, int], None] | None:
    """A one-line counter on stderr, only when stderr is a terminal; it shows from the second organization on.
    Not beside a plan `streamed` to the same terminal: the plan's lines are the progress there."""
    if output.settings.quiet or not sys.stderr.isatty() or (streamed and sys.stdout.isatty()):
        return None

    def show(done: int, total: int) -> None:
        if total > 1:
            output.err(view.progress(label, done, total))

    return show


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Thousands of parsed documents alive at once make every cyclic collection walk them all; a short-lived
    command creates no garbage cycles worth that, so collection waits until it is done."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Run(NamedTuple):
    """What a command body takes from outside it, made once by the command line (`this_run`): where it writes,
    the project configuration, the environment, and how the chosen console opens (`writes=True` for one that
    is written to). A body given a Run reads no global state: a test can hand it another."""

    output: Output
    project: Project
    environ: Mapping[str, str]
    open_console: Callable[..., Console]


def this_run() -> Run:
    return Run(Output(), current_project(), os.environ, open_console)


# Shared by the commands that talk to a console.


def open_console(writes: bool = False) -> Console:
    """The chosen console; read-only unless the command `writes`. In CI, a command that writes refuses the
    embedded console unless it was named: an unset CLINESYNC_CONSOLE must not turn into a local stand-in."""
    from clinesync.consoles import open_console as open_target
    from clinesync.consoles.base import ConsoleError

    chosen = settings()
    target = console_named(chosen) or current_project().console
    if not target and os.environ.get("CI"):
        _refuse_a_stand_in(writes)
    try:
        console = open_target(
            target,
            chosen.token_file,
            secrets=chosen.secrets,
            insecure_http=chosen.insecure_http,
            read_only=not writes,
        )
    except ConsoleError as error:
        raise UserError(str(error)) from None
    chosen.secrets.update(console.secrets)
    return console


def console_named(chosen: Settings) -> str | None:
    """The console named on the command line, else in the environment: both over clinesync.yaml's. An empty
    variable (a repository variable left unset) names nothing."""
    return chosen.console or os.environ.get("CLINESYNC_CONSOLE") or None


def _refuse_a_stand_in(writes: bool) -> None:
    """In CI, a console nobody named is a mistake (a repository variable left unset reaches a job as an empty
    string): a write must not land in a local stand-in, and a read of one that does not exist would report
    every organization as having no configuration. Reading a local console that is there is allowed."""
    from clinesync.consoles.local import DEFAULT_PATH

    named = "Set --console or CLINESYNC_CONSOLE to your console"
    if writes:
        raise UserError(
            "CI is set and no console is named: refusing to write to the embedded local console "
            f"({DEFAULT_PATH}) in its place. {named}, or name the local one explicitly: --console {DEFAULT_PATH}"
        )
    if not os.path.exists(DEFAULT_PATH):
        raise UserError(
            f"CI is set, no console is named, and there is no local console at {DEFAULT_PATH}: refusing to read "
            f"an empty stand-in, where every organization would read as having no configuration. {named} "
            "(an unset repository variable reaches a job as an empty string)."
        )


def _plan_text(output: Output, mode: str) -> PlanPieces:
    from clinesync.render.text import TextPlan

    return TextPlan(output.style, mode, output.settings.verbose, output.settings.members)


def _plan_json(output: Output, mode: str) -> PlanPieces:
    from clinesync.render.json_format import JsonPlan

    return JsonPlan()


def _plan_markdown(output: Output, mode: str) -> PlanPieces:
    from clinesync.render.markdown import MarkdownPlan

    return MarkdownPlan(mode, output.settings.members)


# Plans and drift, by --format: the one table that also builds the option's choices.
PLAN_RENDERERS: dict[str, Callable[[Output, str], PlanPieces]] = {
    "text": _plan_text,
    "json": _plan_json,
    "markdown": _plan_markdown,
}
PLAN_FORMATS = click.Choice(list(PLAN_RENDERERS))


def rendered(output: Output, plan: Plan, output_format: str, mode: str) -> str:
    """A plan held whole, rendered at once."""
    from clinesync.plans.plan import written

    return written(PLAN_RENDERERS[output_format](output, mode), plan)


def render(output: Output, plan: Plan, output_format: str, mode: str) -> None:
    output.out(rendered(output, plan, output_format, mode))


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def confirmed(output: Output) -> bool:
    if not stdin_is_terminal():
        raise UserError(
            "refusing to apply without confirmation: no terminal on stdin. Pass --auto-approve, "
            "or apply a saved, reviewed plan: clinesync plan --out PLANFILE, then clinesync apply PLANFILE"
        )
    answer = click.prompt("\nApply these changes? Only 'yes' is accepted", default="", show_default=False)
    if answer != "yes":
        output.err(view.APPLY_CANCELLED)
        return False
    return True


def apply_and_report(
    output: Output,
    result: Plan,
    console: Console,
    parallelism: int = 16,
    output_format: str = "text",
    skipped: Sequence[OrgPlan] = (),
    in_path_order: Sequence[str] = (),
) -> int:
    """Apply the plan and report each organization's outcome; `skipped` (a saved plan's organizations it leaves
    unchanged, not read) are reported unchanged, among the others in the order of their files. Interrupted
    while writing, the report says what each organization came to by then, and the interruption goes on."""
    from clinesync.plans.apply import ApplyInterrupted, OrgResult, apply_plan, count
    from clinesync.render.apply_text import failure_lines, members_note

    interruption: KeyboardInterrupt | None = None
    try:
        results = apply_plan(result, console, parallelism, progress(output, "Writing"))
    except ApplyInterrupted as stopped:  # a cancelled CI job's log still says which were applied
        results, interruption = stopped.results, stopped.interruption
    if skipped:
        place = {file: index for index, file in enumerate(in_path_order)}
        results = sorted(
            [*results, *(OrgResult(org, "unchanged") for org in skipped)],
            key=lambda each: place.get(each.plan.file, len(place)),
        )
    if interruption is not None:
        code = _exit_code(interruption)
    else:
        code = EXIT_ERROR if count(results, "failed") or count(results, "not attempted") else EXIT_OK
    try:
        output.err(failure_lines(results))
        output.out(APPLY_RENDERERS[output_format](console.description, results, code))
        if count(results, "applied"):
            output.info(members_note(local=console.inline))
    except KeyboardInterrupt:
        if interruption is None:
            raise
    if interruption is not None:
        # The one handler says so, and the run ends with 128 + the signal, as the report says: a second signal
        # may cut the report short, never change the exit code it gave.
        raise interruption
    return code


def _apply_json(console: str, results: list[OrgResult], exit_code: int) -> str:
    from clinesync.render.apply_json import apply_json

    return apply_json(console, results, exit_code)


def _apply_text(console: str, results: list[OrgResult], exit_code: int) -> str:
    from clinesync.render.apply_text import apply_text

    return apply_text(console, results, exit_code)


# apply's --format: the one table that also builds the option's choices.
APPLY_RENDERERS: dict[str, Callable[[str, list[OrgResult], int], str]] = {
    "text": _apply_text,
    "json": _apply_json,
}
APPLY_FORMATS = click.Choice(list(APPLY_RENDERERS))
