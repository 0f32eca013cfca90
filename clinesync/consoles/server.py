"""`clinesync serve`: the console protocol of SPEC §6 over a local console database.

The read side answers exactly as Cline's documented API; the write side mirrors it, with ETag/If-Match so a
concurrent change is refused (412) instead of overwritten. Every write is one SQLite transaction: a write is
acknowledged only after it is committed, so an acknowledged write is never lost.

Built on the standard library: the work is small JSON bodies and short SQLite transactions, and it adds no
runtime dependency. The connections are `eventloop.py`'s (one thread, with a deadline on each request) and the
HTTP is `http1.py`'s; this module decides each answer: tokens compared in constant time, JSON for every
method and malformed request, and each write committed by one writer thread, in batches.
"""

from __future__ import annotations

import hmac
import re
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

from clinesync import __version__, strictjson
from clinesync.cline import is_organization_id
from clinesync.consoles.base import Conflict, ConsoleError, Live
from clinesync.consoles.eventloop import Answer, ConnectionLoop, Request, Respond
from clinesync.consoles.http1 import DIGITS, Head
from clinesync.consoles.local import LocalConsole
from clinesync.document import Document
from clinesync.files.schema import remote_config_errors
from clinesync.records import record
from clinesync.signals import leave_to_main_thread

MAX_BODY = 1024 * 1024
_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"})
_ROUTE = re.compile(r"/api/v1/organizations/([^/]+)/remote-config(/revisions)?/?\Z")
_ETAG = re.compile(r'\A(?:W/)?"?([0-9]+)"?\Z')


UNKNOWN_PATH = "unknown_path"  # the machine code clients read; the message is for people


class Reply(Exception):
    """An answer other than success: `{"success": false, "error": message}` with this status, and a machine
    `code` where a client acts on the answer."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


Written = Callable[[Live | BaseException], None]


class Committer:
    """Every write is made and committed on one thread, and the writes that arrive while a transaction is on
    its way to disk are committed together in the next: one sync to disk for many writes. Each write is
    acknowledged (`done` called with its result) only once its transaction is on disk; a transaction that
    fails fails every write in it.

    Each write's document is made here too (`prepare`), off the thread that serves every connection: reading
    and checking a body of a megabyte, or listing every error in it, can take a second."""

    def __init__(self, console: LocalConsole) -> None:
        self.console = console
        self._changed = threading.Condition()
        self._pending: list[_Write] = []
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="clinesync-serve-writer", daemon=True)
        self._thread.start()

    def submit(
        self, organization: str, prepare: Callable[[], Document], if_match: str | None, done: Written
    ) -> None:
        """From any thread; `prepare` and `done` are called on the writer's thread. What `prepare` raises is
        the write's result, and the others in its transaction are committed without it."""
        with self._changed:
            self._pending.append(_Write(organization, prepare, if_match, done))
            self._changed.notify()

    def stop(self) -> None:
        """Commits what was submitted, then ends the writer's thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
        self._thread.join()

    def _run(self) -> None:
        leave_to_main_thread()
        while True:
            with self._changed:
                while not self._pending and not self._stopping:
                    self._changed.wait()
                batch, self._pending = self._pending, []
            if not batch:
                return
            self._commit(batch)

    def _commit(self, batch: list[_Write]) -> None:
        prepared = []
        for each in batch:
            try:
                prepared.append((each, each.prepare()))
            except BaseException as error:  # its own result; the writer's thread goes on to the next
                each.done(error)
        if not prepared:
            return
        results: list[Live | BaseException]
        try:
            writes = [(each.organization, document, each.if_match) for each, document in prepared]
            results = list(self.console.write_many(writes))
        except BaseException as error:  # the whole transaction failed: so did every write in it
            results = [error] * len(prepared)
        for (each, _), result in zip(prepared, results, strict=True):
            each.done(result)


@record
class _Write:
    organization: str
    prepare: Callable[[], Document]
    if_match: str | None
    done: Written


@record
class _Caller:
    member: str | None  # the organization a member token reads; None for the admin token


class ConsoleServer:
    def __init__(
        self,
        address: tuple[str, int],
        console: LocalConsole,
        tokens: Iterable[str],
        log: TextIO | None = sys.stderr,
        latency: float = 0.0,
        read_only: bool = False,
    ) -> None:
        """`latency` is added to every answer, to measure clients as if over a network; `read_only` answers
        writes with 405, as Cline's hosted console does."""
        self.console = console
        self.tokens = [token.encode() for token in tokens if token]
        if not self.tokens:
            raise ConsoleError("the server needs at least one token: --token-file or CLINESYNC_SERVER_TOKENS")
        self.read_only = read_only
        self.requests = {"GET": 0, "PUT": 0}
        remote_config_errors({"version": "v1"})  # compile the validator now, not on the first write
        self.loop = ConnectionLoop(
            address, self._screen, self._handle, f"clinesync/{__version__}", MAX_BODY, log, latency=latency
        )
        self.writes = Committer(console)

    @property
    def server_address(self) -> tuple[str, int]:
        return self.loop.address

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def connections(self) -> int:
        """Accepted so far, for tests and benchmarks."""
        return self.loop.accepted

    def serve_forever(self) -> None:
        """Serves until `shutdown`."""
        self.loop.run()

    def shutdown(self) -> None:
        """From another thread: `serve_forever` returns, and this once it has."""
        self.loop.stop()

    def server_close(self) -> None:
        """Stops at once: every connection is closed, whatever it was sending, so no client (one dripping its
        head, say) holds the process after it is told to stop. Writes already submitted are committed."""
        self.loop.close()
        self.writes.stop()

    def member(self, header: str | None) -> str | None:
        """The organization a member token in `header` is bound to, or None."""
        if not header or not header.startswith("Bearer "):
            return None
        return self.console.member_organization(header[len("Bearer ") :].strip())

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        offered = header[len("Bearer ") :].strip().encode()
        # Compare with every token, in constant time, so timing reveals neither a token nor which one matched.
        return any([hmac.compare_digest(offered, token) for token in self.tokens])

    def _screen(self, head: Head) -> Answer | _Caller:
        """Who is asking, from the head alone; a request refused here has its body never read."""
        if head.method not in _METHODS:
            return _refusal(Reply(501, "unsupported method"), close=True)
        self.requests[head.method] = self.requests.get(head.method, 0) + 1
        if head.method == "HEAD":  # its answer would have a body the client does not read: then close
            return _refusal(Reply(405, "method not allowed"), close=True)
        header = head.headers.get("Authorization")
        if self.authorized(header):
            return _Caller(None)
        try:
            member = self.member(header)  # read-only, bound to one organization
        except Exception:  # a bug, or a database that cannot be read: answer 500, never a traceback
            return _refusal(Reply(500, "internal error"))
        if member is None:
            return _refusal(Reply(401, "missing or wrong token"))
        return _Caller(member)

    def _handle(self, request: Request, respond: Respond) -> None:
        try:
            self._route(request, request.caller.member, respond)
        except Reply as reply:
            respond(_refusal(reply))
        except Exception:  # a bug: answer 500, never a traceback or a value
            respond(_refusal(Reply(500, "internal error")))

    def _route(self, request: Request, member: str | None, respond: Respond) -> None:
        try:
            path = urlsplit(request.target).path
        except ValueError:
            raise Reply(400, "the request's target is not a URL") from None
        if path.rstrip("/") == "/api/v1/users/me" and request.method == "GET":
            respond(_success(self._profile(member)))
            return
        if path.rstrip("/") == "/api/v1/users/me/remote-config" and request.method == "GET":
            respond(_success(self._discovery(member)))
            return
        match = _ROUTE.match(path)
        if not match:
            raise Reply(404, "unknown path", UNKNOWN_PATH)
        organization = unquote(match.group(1))
        if not is_organization_id(organization):
            raise Reply(400, "invalid organization id")
        if member is not None and (organization != member or request.method != "GET" or match.group(2)):
            raise Reply(403, "a member token reads its own organization's configuration only")
        if match.group(2):
            if request.method != "GET":
                raise Reply(405, "method not allowed")
            respond(_success(self._revisions(organization)))
        elif request.method == "GET":
            respond(_live(self.console.read(organization)))
        elif request.method == "PUT" and self.read_only:
            raise Reply(405, "this console does not accept writes")
        elif request.method == "PUT":
            self._write(organization, request, respond)
        else:
            raise Reply(405, "method not allowed")

    def _write(self, organization: str, request: Request, respond: Respond) -> None:
        if_match = _if_match(request.headers.get("If-Match"))

        def written(result: Live | BaseException) -> None:  # on the writer's thread
            if isinstance(result, Reply):
                answer = _refusal(result)
            elif isinstance(result, Conflict):
                answer = _refusal(Reply(412, "If-Match does not match the current revision"))
            elif isinstance(result, BaseException):
                answer = _refusal(Reply(500, "internal error"))
            else:
                answer = _live(result)
            self.loop.post(lambda: respond(answer))

        self.writes.submit(organization, lambda: _document(request), if_match, written)

    def _discovery(self, member: str | None) -> dict[str, Any] | None:
        """Which organization distributes configuration to the caller, and that configuration, as Cline's
        clients read it (SPEC §11): `value` the RemoteConfig as a string, `enabled` for the command-line
        client. `data: null` (no configuration: members run unmanaged) for an admin token, and for an
        organization with none or with its configuration switched off."""
        if member is None:
            return None
        document = self.console.read(member).document
        if document is None or not document.enabled:
            return None
        return {
            "organizationId": member,
            "value": document.wire_value(),
            "enabled": True,
            "organizations": [{"organizationId": member, "name": member}],
        }

    def _profile(self, member: str | None) -> dict[str, Any]:
        """`/api/v1/users/me`: the organizations the token has, with its roles there. The admin token
        administers every organization the console holds; a member token is a member of its own, active."""
        if member is not None:
            listed = [{"organizationId": member, "name": member, "roles": ["member"], "active": True}]
            return {
                "id": f"member-of-{member}",
                "displayName": "clinesync console member",
                "organizations": listed,
            }
        listed = [
            {"organizationId": found.id, "name": found.name or found.id, "roles": ["admin"], "active": False}
            for found in self.console.organizations()
        ]
        return {"id": "clinesync-console", "displayName": "clinesync console server", "organizations": listed}

    def _revisions(self, organization: str) -> list[dict[str, Any]]:
        return [
            {
                "revision": r.number,
                "enabled": r.document.enabled,
                "value": r.document.wire_value(),
                "createdAt": r.created_at,
            }
            for r in self.console.history(organization)
        ]


def _success(data: Any, headers: dict[str, str] | None = None) -> Answer:
    return Answer(200, {"success": True, "data": data}, headers or {})


def _live(live: Live) -> Answer:
    etag = {"ETag": f'"{live.revision}"'} if live.revision else {}
    if live.document is None:
        return _success(None, etag)
    return _success({"enabled": live.document.enabled, "value": live.document.wire_value()}, etag)


def _refusal(reply: Reply, close: bool = False) -> Answer:
    body: dict[str, Any] = {"success": False, "error": str(reply)}
    if reply.code:
        body["code"] = reply.code
    # After a wrong token no second guess on this connection: a flood of them costs a connection each.
    return Answer(reply.status, body, close=close or reply.status == 401)


def _document(request: Request) -> Document:
    headers = request.headers
    if "Transfer-Encoding" in headers:
        raise Reply(400, "send the body with Content-Length, not chunked")
    stated = headers.get("Content-Length", "")
    if stated.startswith("-"):
        raise Reply(400, "Content-Length must not be negative")
    if not DIGITS.fullmatch(stated):  # HTTP's 1*DIGIT: not `+47`, `4_7` or other digits Python's int reads
        raise Reply(400, "Content-Length required, as digits")
    if request.body is None:  # stated in digits, and more than the server reads
        raise Reply(413, f"body over {MAX_BODY} bytes")
    try:
        body = strictjson.loads(request.body)
    except strictjson.NotStrictJSON as error:
        raise Reply(400, f"body is not strict JSON: {error}") from None
    except (ValueError, UnicodeDecodeError):
        raise Reply(400, "body is not JSON") from None
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("enabled"), bool)
        or not isinstance(body.get("value"), str)
    ):
        raise Reply(400, 'body must be {"enabled": bool, "value": "<RemoteConfig as a JSON string>"}')
    try:
        config = strictjson.loads(body["value"])
    except strictjson.NotStrictJSON as error:
        raise Reply(400, f"value is not JSON that Cline can read: {error}") from None
    except ValueError:
        raise Reply(400, "value is not a JSON string of a RemoteConfig") from None
    try:
        problems = remote_config_errors(config, limit=10)
    except RecursionError:
        raise Reply(400, "value is nested too deeply for a RemoteConfig") from None
    if problems:
        raise Reply(400, "invalid RemoteConfig: " + "; ".join(problems))
    document = Document(body["enabled"], config)
    try:
        document.wire_value().encode()
    except UnicodeEncodeError:
        raise Reply(400, "value holds a lone surrogate escape (\\ud800-\\udfff): it is not text") from None
    return document


def _if_match(header: str | None) -> str | None:
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header.strip())
    if not match:
        raise Reply(412, "If-Match is not a revision of this console")
    return match.group(1)


def read_tokens(token_file: str | None, environ_value: str | None) -> list[str]:
    """Tokens from a file (one a line, `#` comments) or a comma-separated environment variable."""
    if token_file:
        from clinesync.consoles import read_token_file

        return read_token_file(token_file)
    return [token.strip() for token in (environ_value or "").split(",") if token.strip()]
