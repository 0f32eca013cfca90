"""The embedded local console: a SQLite database holding every organization's documents as numbered revisions.

One current document per organization (its highest revision). Each write is one transaction that checks the
revision the writer read (compare-and-swap), so two writers never lose each other's update, and a process
killed mid-write leaves the previous revision intact.

At rest the database keeps SQLite's rollback journal: a reader then needs no -wal or -shm file, read-only
commands leave no trace and work on a read-only mount, and the database file alone holds every write (a copy
of it is a backup). `apply` writes in batches, one transaction and one sync each, which the journal serves
with fewer disk blocks than the write-ahead log. `serve`, which commits small transactions all day, opens it
with `wal=True`: a commit is then one append and one fsync of the log (`synchronous=FULL`: on disk before it
is acknowledged), and at shutdown the log is emptied into the database and left.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from clinesync import strictjson
from clinesync.consoles.base import Administered, Conflict, ConsoleError, Live, Revision, stored_document
from clinesync.document import Document

DEFAULT_PATH = os.path.join(".clinesync", "console.db")
NO_REVISION = "0"  # the revision of an organization with no configuration yet
_KEPT_OPEN = 6  # idle connections kept for the next caller; more are opened under load, then closed

_SCHEMA = """
CREATE TABLE IF NOT EXISTS revisions (
    organization TEXT NOT NULL,
    revision INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (organization, revision)
)
"""


# Member tokens for `clinesync serve` (SPEC §11): each bound to one organization, read-only, kept as the
# SHA-256 of a 256-bit random token (a slow hash adds nothing to a secret no one can guess).
_MEMBER_TOKENS = """
CREATE TABLE IF NOT EXISTS member_tokens (
    digest TEXT PRIMARY KEY,
    organization TEXT NOT NULL,
    created_at TEXT NOT NULL
)
"""
MEMBER_TOKEN_PREFIX = "csm_"


class LocalConsole:
    """A console database. `read_only` writes nothing, not even a journal mode or a folder: a missing database
    is then an error, or, with `missing_ok` (the default path), an empty console. A writable one is made when
    opened, or, `made_by_first_write` (a command's), by its first write: until then it reads as empty, and it
    reads what another process writes there meanwhile."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        read_only: bool = False,
        missing_ok: bool = False,
        wal: bool = False,
        made_by_first_write: bool = False,
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._wal = wal and not read_only
        # Idle connections, the last given back first. A list: append and pop are atomic, and the queue module
        # costs a millisecond of start-up for nothing more here.
        self._idle: list[sqlite3.Connection] = []
        self._empty = False
        self._creating = threading.Lock()
        if (read_only or made_by_first_write) and _absent(self.path):
            if read_only and not missing_ok:
                raise ConsoleError(
                    f"there is no local console at {self.path}: check the path (plan, drift, history and "
                    "export never create one)"
                )
            # Nothing to read yet. `made_by_first_write` (a command's console; `serve` and the tests make theirs
            # at once): a run that writes nothing, refused or declined, leaves no database behind. Where it could
            # not be made, it fails here.
            if not read_only:
                _check_creatable(self.path)
            self._empty = True
            return
        self._prepare()

    def _prepare(self) -> None:
        """The database checked to be a console; a writable one created if missing, its journal mode set."""
        try:
            if not self.read_only:
                _create_private(self.path)
            with self._connected() as connection:
                _check_is_console(connection, self.path, create=not self.read_only)
                if not self.read_only:  # a console, and only then: the mode is the database's
                    _journal(connection, "wal" if self._wal else "delete", attempts=20 if self._wal else 1)
        except (OSError, sqlite3.Error) as error:
            raise ConsoleError(f"cannot open the local console {self.path}: {_reason(error)}") from None

    def _missing(self) -> bool:
        """Whether there is no database to read yet. Asked again each time: another process (an apply while this
        one serves) may create it, and an empty file is one being created."""
        if not self._empty:
            return False
        if _absent(self.path, empty_counts=True):
            return True
        self._created()
        return False

    def _created(self) -> None:
        """The database opened once it exists, or made by a first write (once, whichever thread comes first)."""
        with self._creating:
            if self._empty:
                self._prepare()
                self._empty = False

    @property
    def description(self) -> str:
        return f"local {self.path}"

    @property
    def identity(self) -> str:
        return f"sqlite:{self.path.resolve()}"

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset()

    @property
    def inline(self) -> bool:
        return True  # measured: a fleet plan on one database is ~0.7x the time without the thread pool

    @contextlib.contextmanager
    def _connected(self) -> Iterator[sqlite3.Connection]:
        """A connection of the pool, used by one thread at a time: opening one costs more than a query, and the
        threads of a fleet's reads must not leave one open each."""
        try:
            connection = self._idle.pop()
        except IndexError:
            connection = self._open()
        try:
            yield connection
        finally:
            # Given back, then trimmed: a check before the append would let threads giving back together each
            # see room and keep more than _KEPT_OPEN open. The last to append trims until there is room again.
            self._idle.append(connection)
            while len(self._idle) > _KEPT_OPEN:
                try:
                    self._idle.pop(0).close()
                except IndexError:
                    break

    def _open(self) -> sqlite3.Connection:
        if self.read_only:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            return sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None, check_same_thread=False)
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA synchronous=FULL")
        return connection

    def read(self, organization: str, like: Document | None = None) -> Live:
        if self._missing():
            return Live(None, NO_REVISION)
        rows = self._rows(
            "SELECT revision, enabled, value FROM revisions WHERE organization = ? ORDER BY revision DESC LIMIT 1",
            (organization,),
        )
        if not rows:
            return Live(None, NO_REVISION)
        [(revision, enabled, value)] = rows
        document = stored_document(bool(enabled), value, like, lambda: _decode(value, organization))
        return Live(document, str(revision))

    def write(self, organization: str, document: Document, if_match: str | None) -> Live:
        [written] = self.write_many([(organization, document, if_match)])
        if isinstance(written, ConsoleError):
            raise written
        return written

    def write_many(self, writes: list[tuple[str, Document, str | None]]) -> list[Live | ConsoleError]:
        """Several writes in one transaction (one sync to disk), each checked against its own If-Match: a
        conflict refuses that write alone, and a later write of the same organization sees an earlier one.
        Nothing is written when the transaction fails. A handful of statements whatever the batch holds:
        each gives up the interpreter lock, and a server's writer thread waits behind the thread serving
        every connection to take it back (50 writes of one statement each took 21 ms to commit, measured)."""
        if self.read_only:
            raise ConsoleError(f"local console {self.path} was opened read-only")
        if self._empty:
            self._created()
        results: list[Live | ConsoleError] = []
        try:
            with self._connected() as connection:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    current = _current_revisions(connection, {organization for organization, _, _ in writes})
                    rows = []
                    for organization, document, if_match in writes:
                        now = current.get(organization, 0)
                        if if_match is not None and if_match != str(now):
                            results.append(
                                Conflict(
                                    f"{organization} changed in the console since it was read (revision "
                                    f"{if_match}, now {now}): plan again"
                                )
                            )
                            continue
                        current[organization] = now + 1
                        rows.append(
                            (organization, now + 1, int(document.enabled), document.wire_value(), _now())
                        )
                        results.append(Live(document, str(now + 1)))
                    connection.executemany("INSERT INTO revisions VALUES (?, ?, ?, ?, ?)", rows)
                    connection.execute("COMMIT")
                except BaseException:
                    # A signal lands between statements, after COMMIT too: then the batch is written, there is
                    # nothing to roll back, and the signal (not ROLLBACK's own error) is what happened.
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise
        except sqlite3.Error as error:
            raise ConsoleError(f"local console {self.path}: {error}") from None
        return results

    def history(self, organization: str) -> list[Revision]:
        if self._missing():
            return []
        rows = self._rows(
            "SELECT revision, enabled, value, created_at FROM revisions WHERE organization = ? ORDER BY revision",
            (organization,),
        )
        return [
            Revision(number, Document(bool(enabled), _decode(value, organization)), created_at)
            for number, enabled, value, created_at in rows
        ]

    def organizations(self) -> list[Administered]:
        if self._missing():
            return []
        rows = self._rows("SELECT DISTINCT organization FROM revisions ORDER BY organization", ())
        return [Administered(organization) for (organization,) in rows]

    def add_member_token(self, organization: str) -> str:
        """A new member token bound to `organization`, returned this once: only its digest is stored."""
        if self.read_only:
            raise ConsoleError(f"local console {self.path} was opened read-only")
        import secrets  # only member-token needs it: 2 ms of start-up every other command skips

        if self._empty:
            self._created()
        token = MEMBER_TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            with self._connected() as connection:
                connection.execute(_MEMBER_TOKENS)
                connection.execute(
                    "INSERT INTO member_tokens VALUES (?, ?, ?)", (_digest(token), organization, _now())
                )
        except sqlite3.Error as error:
            raise ConsoleError(f"local console {self.path}: {error}") from None
        return token

    def revoke_member_tokens(self, organization: str) -> int:
        """Every member token of `organization` revoked; how many there were."""
        if self._missing():
            return 0
        try:
            with self._connected() as connection:
                connection.execute(_MEMBER_TOKENS)
                return connection.execute(
                    "DELETE FROM member_tokens WHERE organization = ?", (organization,)
                ).rowcount
        except sqlite3.Error as error:
            raise ConsoleError(f"local console {self.path}: {error}") from None

    def member_organization(self, token: str) -> str | None:
        """The organization a member token is bound to, or None for any other text. Asked on every request,
        so a token created or revoked while `serve` runs counts at once."""
        if not token.startswith(MEMBER_TOKEN_PREFIX) or self._missing():
            return None
        try:
            rows = self._rows("SELECT organization FROM member_tokens WHERE digest = ?", (_digest(token),))
        except ConsoleError:  # no member token was ever made here: no table
            return None
        return rows[0][0] if rows else None

    def close(self) -> None:
        """Closes the idle connections; one in use is closed when its user gives it back to a full pool. A
        console opened with `wal` first empties the log into the database and leaves it."""
        while True:
            try:
                connection = self._idle.pop()
            except IndexError:
                return
            if self._wal and not self._idle:
                _leave_wal(connection)
            connection.close()

    def _rows(self, sql: str, parameters: tuple[object, ...]) -> list[Any]:
        try:
            with self._connected() as connection:
                return connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            raise ConsoleError(f"local console {self.path}: {error}") from None


def _digest(token: str) -> str:
    import hashlib  # only serve and member-token need it

    return hashlib.sha256(token.encode()).hexdigest()


_COLUMNS = ["organization", "revision", "enabled", "value", "created_at"]
_AT_ONCE = 500  # organizations asked about in one statement, well under SQLite's limit of bound values


def _current_revisions(connection: sqlite3.Connection, organizations: set[str]) -> dict[str, int]:
    """Each organization's latest revision; one without any is absent."""
    asked, current = sorted(organizations), dict[str, int]()
    for start in range(0, len(asked), _AT_ONCE):
        part = asked[start : start + _AT_ONCE]
        current.update(
            connection.execute(
                "SELECT organization, MAX(revision) FROM revisions "
                f"WHERE organization IN ({', '.join('?' * len(part))}) GROUP BY organization",
                part,
            ).fetchall()
        )
    return current


def _check_is_console(connection: sqlite3.Connection, path: Path, create: bool) -> None:
    """Refuse a SQLite file that is not a clinesync console rather than add a table to someone's database."""
    tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    if "revisions" not in tables:
        if tables or not create:
            raise ConsoleError(f"{path} is a SQLite database but not a clinesync console: name another file")
        connection.execute(_SCHEMA)
        return
    columns = [row[1] for row in connection.execute("PRAGMA table_info(revisions)")]
    if columns != _COLUMNS:
        raise ConsoleError(f"{path} is a SQLite database but not a clinesync console: name another file")


def _reason(error: Exception) -> str:
    if isinstance(error, ConsoleError):
        return str(error)
    text = getattr(error, "strerror", None) or str(error)
    if "file is not a database" in text:
        return "the file is not a SQLite database"
    return text


def _absent(path: Path, empty_counts: bool = False) -> bool:
    """Whether there is no database at `path` (with `empty_counts`, an empty file, one being created, counts as
    none); ConsoleError where it cannot be told (a folder on the way this process may not enter)."""
    try:
        return path.stat().st_size == 0 and empty_counts
    except (FileNotFoundError, NotADirectoryError):  # the second: a file where a folder on the way should be
        return True
    except OSError as error:
        raise ConsoleError(f"cannot open the local console {path}: {_reason(error)}") from None


def _check_creatable(path: Path) -> None:
    """ConsoleError where no first write could make the database: a file stands where its folder must be, or
    the nearest folder that exists is not one this process may write into."""
    try:
        existing = next((folder for folder in (path.parent, *path.parent.parents) if folder.exists()), None)
        if existing is None:  # the working folder itself was removed
            raise ConsoleError(f"cannot open the local console {path}: its folder does not exist")
        if not existing.is_dir():
            raise ConsoleError(f"cannot open the local console {path}: {existing} is not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ConsoleError(f"cannot open the local console {path}: {existing} is not writable")
    except OSError as error:
        raise ConsoleError(f"cannot open the local console {path}: {_reason(error)}") from None


def _create_private(path: Path) -> None:
    """A new console's folder (0700) and database (0600): it holds every organization's secrets. SQLite gives
    its -wal and -shm files the database's mode. Existing folders and files are left as their owner set them."""
    if path.exists():
        return
    missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process created it a moment ago
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _decode(value: str, organization: str) -> dict[str, Any]:
    try:
        config = strictjson.loads(value, strictjson.MAX_DEPTH)
    except strictjson.NotStrictJSON as error:
        raise ConsoleError(
            f"{organization}: the stored value is not JSON that Cline can read ({error})"
        ) from None
    except (ValueError, TypeError):  # not text at all: a row no clinesync wrote
        raise ConsoleError(f"{organization}: the stored value is not JSON") from None
    if not isinstance(config, dict):
        raise ConsoleError(f"{organization}: the stored value is not a JSON object")
    return config


def _leave_wal(connection: sqlite3.Connection) -> None:
    """The log emptied into the database (waiting for readers under the busy timeout), then left. Leaving is
    refused while another process has the database open (an apply, a drift): it then stays in the log, empty,
    so the database file alone still holds every write, and the next writer to open it leaves the log."""
    with contextlib.suppress(sqlite3.Error):
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _journal(connection, "delete", attempts=1)


def _journal(connection: sqlite3.Connection, mode: str, attempts: int) -> None:
    """The journal mode (`wal`, `delete`), as far as SQLite lets it change now. A change needs the database to
    itself, and SQLite answers "locked" at once, without waiting, while another process has it open: tried
    `attempts` times 50 ms apart, then left as it is; either mode is as correct."""
    if connection.execute("PRAGMA journal_mode").fetchone()[0] == mode:
        return  # as it is: asking to change it would need the database to itself
    for attempt in range(attempts):
        try:
            connection.execute(f"PRAGMA journal_mode={mode}")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            if attempt + 1 < attempts:
                time.sleep(0.05)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
