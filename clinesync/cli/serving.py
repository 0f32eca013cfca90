"""`clinesync serve`: run the console server over a local console database."""

from __future__ import annotations

import contextlib
import os

import click

from clinesync.cli.app import EXIT_OK, Output, UserError, cli, command, global_options
from clinesync.render import serving as view


@cli.command()
@click.option(
    "--db",
    "database",
    help="The local console database.  [default: the first local one --console, CLINESYNC_CONSOLE or "
    "clinesync.yaml names, else .clinesync/console.db]",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; loopback unless told.")
@click.option(
    "--port", default=8787, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port."
)
@click.option("--read-only", is_flag=True, help="Answer writes with 405, as Cline's hosted console does.")
@click.option(
    "--latency-ms",
    default=0.0,
    type=click.FloatRange(0, 10_000),
    hidden=True,
    help="Delay every answer, to benchmark clients as over a network.",
)
@global_options
@command
def serve(database: str | None, host: str, port: int, read_only: bool, latency_ms: float) -> int:
    """Serve Cline's remote-config API, with writes, over a local console database.

    Accepted tokens come from --token-file (one a line) or CLINESYNC_SERVER_TOKENS (comma-separated)."""
    import signal

    from clinesync.consoles.base import ConsoleError
    from clinesync.consoles.local import LocalConsole
    from clinesync.consoles.server import ConsoleServer, read_tokens

    output = Output()
    database = _database(output, database)
    try:
        tokens = read_tokens(output.settings.token_file, os.environ.get("CLINESYNC_SERVER_TOKENS"))
        output.add_secrets(set(tokens))
        server = ConsoleServer(
            (host, port),
            LocalConsole(database, wal=True),
            tokens,
            latency=latency_ms / 1000,
            read_only=read_only,
        )
    except ConsoleError as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        output.err(view.reachable_from_elsewhere(host))
    output.err(view.listening(server.url, database))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()  # the access log's last lines too, before "Stopped."
        server.console.close()
    with contextlib.suppress(OSError):  # whoever read the log may have gone before the server
        output.err(view.STOPPED)
    return EXIT_OK


@cli.command("member-token")
@click.argument("organization")
@click.option(
    "--db",
    "database",
    help="The local console database.  [default: the first local one --console, CLINESYNC_CONSOLE or "
    "clinesync.yaml names, else .clinesync/console.db]",
)
@click.option("--revoke", is_flag=True, help="Revoke every member token of ORGANIZATION instead.")
@global_options
@command
def member_token(organization: str, database: str | None, revoke: bool) -> int:
    """Create a read-only member token for serve, bound to one organization (printed once, stored hashed).

    A member's Cline pointed at serve with it loads ORGANIZATION's configuration, and nothing else; it takes
    effect at once, while serve runs too. --revoke revokes every member token of ORGANIZATION."""
    from clinesync.cli.revisions import organization_argument
    from clinesync.consoles.base import ConsoleError
    from clinesync.consoles.local import LocalConsole

    organization = organization_argument(organization)
    output = Output()
    path = _database(output, database)
    if revoke and not os.path.isfile(path):  # a new, empty database would revoke nothing and say so
        raise UserError(f"{path}: no such console database; name the one serve runs on with --db")
    console = LocalConsole(path)
    try:
        if revoke:
            output.info(view.revoked(console.revoke_member_tokens(organization), organization))
            return EXIT_OK
        token = console.add_member_token(organization)
    except ConsoleError as error:
        raise UserError(str(error)) from None
    finally:
        console.close()
    click.echo(token)  # asked for: the one time this token is shown
    output.info(view.member_token_made(organization))
    return EXIT_OK


def _database(output: Output, database: str | None) -> str:
    """The database --db names, else the first local one named as the other commands find their console
    (--console, CLINESYNC_CONSOLE, clinesync.yaml), else the default: a member token made in another database
    than the one apply writes to and serve reads is refused to every member. An http(s) console is the
    server's address, whose database only --db can name: refused on the command line, passed over elsewhere."""
    from clinesync.cli.app import current_project
    from clinesync.consoles import local_database
    from clinesync.consoles.base import ConsoleError
    from clinesync.consoles.local import DEFAULT_PATH

    if database:
        return database
    named = output.settings.console
    try:
        if named is not None and local_database(named) is None:
            raise UserError(f"--console {named}: serve and member-token take the database as --db PATH")
        for target in (named, os.environ.get("CLINESYNC_CONSOLE"), current_project().console):
            path = local_database(target)
            if path is not None:
                return path
    except ConsoleError as error:
        raise UserError(str(error)) from None
    return DEFAULT_PATH
