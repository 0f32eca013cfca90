"""`clinesync serve`: the console protocol of SPEC §6 over a local console database.

The read side answers exactly as Cline's documented API; the write side mirrors it, with ETag/If-Match so a
concurrent change is refused (412) instead of overwritten. Every write is one SQLite transaction: a write is
acknowledged only after it is committed, so an acknowledged write is never lost.

Built on the standard library's HTTP server: the work is small JSON bodies and short SQLite transactions, and
it adds no runtime dependency. What it lacks is added here: a bounded pool of worker threads that serve only
connections with bytes to read (silent and kept-alive connections wait in `waitroom.py`, holding none), a
deadline on each request's headers and on the request as a whole (a client dripping a header line every few
seconds cannot hold a worker), a body limit checked before reading, constant-time token
comparison, JSON answers for every method and malformed request, a `Server` header that names no Python
version, each finished connection's SQLite handle closed, one log line (never a traceback) for a client that
disconnects, and an access log that never records headers or bodies.
"""

from __future__ import annotations

import contextlib
import hmac
import re
import select
import socket
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, TextIO
from urllib.parse import unquote, urlsplit

from clinesync import __version__, strictjson
from clinesync.cline import is_organization_id
from clinesync.consoles.base import Conflict, ConsoleError, Live
from clinesync.consoles.deadlines import Deadlines
from clinesync.consoles.local import LocalConsole
from clinesync.consoles.waitroom import WaitingRoom
from clinesync.document import Document
from clinesync.escape import visible
from clinesync.files.schema import remote_config_errors
from clinesync.records import field, record
from clinesync.signals import leave_to_main_thread

MAX_BODY = 1024 * 1024
# Requests served at once; connections with nothing to read wait without a worker. Not fewer, although the
# server is CPU-bound on one interpreter lock: with 64 clients in a closed loop (bench/versus.py, 3 paired
# rounds), 16 or 8 workers cut PUT p50 to 11 or 6 ms and p90 to 34 or 16 ms (64: 33 and 47), by serving a
# connection's next request on the worker that lingers for it while others queue, which left p99 at 330-400
# ms (64: 94). Handing every connection back to the queue after each request made 16 workers fair (p99 63
# ms) but its hand-overs cost a quarter of PUT throughput.
WORKERS = 64
FIRST_BYTE_DEADLINE = 10.0  # seconds a new connection may stay silent before it is closed
IDLE_DEADLINE = 30.0  # seconds a kept-alive connection may stay silent between requests
HEADER_DEADLINE = 10.0  # seconds from a request's first byte to the end of its headers
REQUEST_DEADLINE = 30.0  # seconds a request may take from its first byte to its answer
LINGER = 0.002  # seconds a worker waits for a kept-alive connection's next request before the room takes it
_ROUTE = re.compile(r"/api/v1/organizations/([^/]+)/remote-config(/revisions)?/?\Z")
_DIGITS = re.compile(r"[0-9]{1,20}")
_ETAG = re.compile(r'\A(?:W/)?"?([0-9]+)"?\Z')


UNKNOWN_PATH = "unknown_path"  # the machine code clients read; the message is for people


class Reply(Exception):
    """An answer other than success: `{"success": false, "error": message}` with this status, and a machine
    `code` where a client acts on the answer."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class GroupCommit:
    """Concurrent writers queue here instead of backing off on SQLite's lock, and those that arrive while a
    transaction is being committed are committed together in the next one: one sync to disk for many writes.
    Each write is still acknowledged only once its transaction is on disk.

    One writer at a time leads: it commits everything waiting, its own write among it, then hands the lead to
    the first writer that arrived meanwhile. Each waiting writer is woken once, by its own event, when its
    write is done or it is its turn to lead (a shared condition woke all of them on every commit)."""

    def __init__(self, console: LocalConsole) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._leading = False
        self._pending: list[_Write] = []

    def write(self, organization: str, document: Document, if_match: str | None) -> Live:
        mine = _Write(organization, document, if_match)
        with self._lock:
            self._pending.append(mine)
            lead = not self._leading
            self._leading = True
        if not lead:
            mine.woken.wait()
        if mine.result is None:  # leading: this write is still pending
            with self._lock:
                batch, self._pending = self._pending, []
            self._commit(batch)
            with self._lock:
                if self._pending:
                    self._pending[0].woken.set()  # its result is None: it leads next
                else:
                    self._leading = False
        if isinstance(mine.result, BaseException):
            raise mine.result
        assert mine.result is not None
        return mine.result

    def _commit(self, batch: list[_Write]) -> None:
        results: list[Live | BaseException]
        try:
            results = list(
                self.console.write_many([(each.organization, each.document, each.if_match) for each in batch])
            )
        except BaseException as error:  # the whole transaction failed: so did every write in it
            results = [error] * len(batch)
        for each, result in zip(batch, results, strict=True):
            each.result = result
            each.woken.set()


@record
class _Write:
    organization: str
    document: Document
    if_match: str | None
    result: Live | BaseException | None = None
    woken: threading.Event = field(default_factory=threading.Event)


class ConsoleServer(HTTPServer):
    allow_reuse_address = True
    request_queue_size = 128  # the listen backlog: a burst of clients waits instead of timing out

    def __init__(
        self,
        address: tuple[str, int],
        console: LocalConsole,
        tokens: Iterable[str],
        log: TextIO | None = sys.stderr,
        latency: float = 0.0,
        read_only: bool = False,
    ) -> None:
        self.console = console
        self.tokens = [token.encode() for token in tokens if token]
        if not self.tokens:
            raise ConsoleError("the server needs at least one token: --token-file or CLINESYNC_SERVER_TOKENS")
        self.log = log
        self.latency = latency  # added to every answer, to measure clients as if over a network
        self.read_only = read_only  # answer writes with 405, as Cline's hosted console does
        self.requests = {"GET": 0, "PUT": 0}
        self.connections = 0  # accepted, for tests and benchmarks
        self.writes = GroupCommit(console)
        self.deadlines = Deadlines()
        self._count_lock = threading.Lock()
        remote_config_errors({"version": "v1"})  # compile the validator now, not on the first write
        self._workers = ThreadPoolExecutor(
            max_workers=WORKERS, thread_name_prefix="clinesync-serve", initializer=leave_to_main_thread
        )
        self._room = WaitingRoom(self._ready, self._close)
        self._serving: set[_Connection] = set()  # on a worker now: cut when the server closes
        try:
            super().__init__(address, Handler)
        except BaseException:  # the port is taken: stop what was started for it
            self._room.stop()
            self._workers.shutdown(wait=False)
            self.deadlines.stop()
            raise

    def process_request(self, request: Any, client_address: Any) -> None:
        """A new connection waits, holding no worker, until it sends something."""
        with self._count_lock:
            self.connections += 1
        self._room.wait(request, FIRST_BYTE_DEADLINE, _Connection(request, client_address))

    def _ready(self, connection: _Connection) -> None:
        served = self._workers.submit(self._serve, connection)
        # A connection whose turn never comes (the server is closing) is closed, not left open.
        served.add_done_callback(lambda future: self._close(connection) if future.cancelled() else None)

    def _serve(self, connection: _Connection) -> None:
        """The requests a connection has ready, on a worker; then it waits again, or is closed."""
        with self._count_lock:
            self._serving.add(connection)
        try:
            if connection.handler is None:
                connection.handler = Handler(connection.request, connection.address, self)
            handler = connection.handler
            while True:
                handler.handle_one_request()
                if handler.close_connection:
                    break
                if not handler.next_request_within(LINGER):
                    self._room.wait(connection.request, IDLE_DEADLINE, connection)
                    return
        except Exception:
            self.handle_error(connection.request, connection.address)
        finally:
            with self._count_lock:
                self._serving.discard(connection)
        self._close(connection)

    def _close(self, connection: _Connection) -> None:
        if connection.handler is not None:
            with contextlib.suppress(OSError):
                connection.handler.finish()
        self.shutdown_request(connection.request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One log line, never a traceback: a client that disconnects mid-answer is not the server's fault."""
        error = sys.exc_info()[1]
        if self.log is not None:
            self.log.write(f"{client_address[0]} connection ended: {type(error).__name__}\n")
            self.log.flush()

    def server_close(self) -> None:
        """Stops at once: waiting connections are closed, and the ones on a worker are cut, so no client
        (one dripping its headers, say) holds the process after it is told to stop."""
        super().server_close()
        self._room.stop()
        with self._count_lock:
            serving = list(self._serving)
        for connection in serving:
            with contextlib.suppress(OSError):
                connection.request.shutdown(socket.SHUT_RDWR)
        self._workers.shutdown(wait=True, cancel_futures=True)
        self.deadlines.stop()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def count(self, method: str) -> None:
        with self._count_lock:
            self.requests[method] = self.requests.get(method, 0) + 1

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


@record(eq=False)  # one per socket: compared and hashed by identity
class _Connection:
    request: socket.socket
    address: Any
    handler: Handler | None = None  # made on its first request, kept while the connection lives


class Handler(BaseHTTPRequestHandler):
    """One connection's requests. Made once per connection and handed one request at a time by the server
    (`ConsoleServer._serve`), rather than looping over a connection's requests as the standard library does:
    between requests the connection waits in the waiting room, not on a worker."""

    server: ConsoleServer
    protocol_version = "HTTP/1.1"
    server_version = f"clinesync/{__version__}"
    timeout = 30  # seconds a client may stall in one read before its connection is closed

    def __init__(self, request: Any, client_address: Any, server: ConsoleServer) -> None:
        self.request, self.client_address, self.server = request, client_address, server
        self.setup()  # the standard library's __init__ would also serve every request and finish

    def next_request_within(self, seconds: float) -> bool:
        """Whether bytes of a next request are here, or arrive within `seconds`: those are served on this
        worker. Bytes read ahead into the buffer must be (the waiting room sees only the socket); a client
        asking again at once (a fleet's reads on one connection) is spared the room's hand-over."""
        self.request.settimeout(0)
        try:
            if self.rfile.peek(1):  # type: ignore[attr-defined]  # a BufferedReader, as set up
                return True
            readable, _, _ = select.select([self.request], [], [], seconds)
            return bool(readable)
        except (OSError, ValueError):
            return False
        finally:
            self.request.settimeout(self.timeout)

    def setup(self) -> None:
        super().setup()
        # Without this, Nagle's algorithm and the client's delayed ACK can hold an answer back ~40 ms on a
        # kept-alive connection.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def version_string(self) -> str:
        return self.server_version  # not the Python version the standard library would add

    def parse_request(self) -> bool:
        """The request line and headers, as the standard library reads them but for the email parser it
        hands headers to: with its header lookups, a third of a request's CPU, which 64 writers queue for.
        Stricter where HTTP allows it: no HTTP/0.9, no folded or nameless header lines, and a repeated
        Content-Length must agree. On a failure the error is sent and False returned."""
        self.command = None  # type: ignore[assignment]  # the standard library's value until a request line
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(getattr(self, "raw_requestline", b""), "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if not words:
            return False
        version = _version(words[-1]) if len(words) == 3 else None
        if version is None:
            self.send_error(400, "bad request line")
            return False
        if version >= (2, 0):
            self.send_error(505, "HTTP version not supported")
            return False
        self.command, self.path, self.request_version = words
        self.close_connection = version < (1, 1)
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")  # as the standard library does: never a scheme-less URL
        try:
            self.headers = _read_headers(self.rfile)  # type: ignore[assignment]
        except _BadHeaders as bad:
            self.send_error(bad.status, str(bad))
            return False
        self._watch(REQUEST_DEADLINE)  # the headers are in: the rest of the request gets the longer deadline
        connection = self.headers.get("Connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        if self.headers.get("Expect", "").lower() == "100-continue" and version >= (1, 1):
            return self.handle_expect_100()
        return True

    def handle_one_request(self) -> None:
        """Each request within the server's deadlines, from its first byte: its headers within a short one,
        the whole of it within a longer one. Past either the connection is shut, whatever the client drips."""
        self._watched: int | None = None
        self._started = time.monotonic()
        self._watch(HEADER_DEADLINE)
        try:
            super().handle_one_request()
        finally:
            if self._watched is not None:
                self.server.deadlines.done(self._watched)

    def _watch(self, seconds: float) -> None:
        """The deadline `seconds` from the request's first byte, in place of the one watched so far."""
        if self._watched is not None and not self.server.deadlines.done(self._watched):
            return  # the earlier deadline has fired: the connection is being cut off
        remaining = seconds - (time.monotonic() - self._started)
        self._watched = self.server.deadlines.watch(self._cut_off, max(remaining, 0.0))

    def _cut_off(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):  # already closed
            self.request.shutdown(socket.SHUT_RDWR)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed request lines and headers get the protocol's JSON error too, and are logged."""
        self.close_connection = True
        self._log(getattr(self, "command", None) or "-", code, time.monotonic())
        self._send(code, {"success": False, "error": message or "bad request"}, {})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    def do_OPTIONS(self) -> None:
        self._handle("OPTIONS")

    def do_TRACE(self) -> None:
        self._handle("TRACE")

    def _handle(self, method: str) -> None:
        started = time.monotonic()
        self._body_read = False
        self.server.count(method)
        headers: dict[str, str] = {}
        try:
            status, data, headers = self._route(method)
            body: dict[str, Any] = {"success": True, "data": data}
        except Reply as reply:
            status, body = reply.status, {"success": False, "error": str(reply)}
            if reply.code:
                body["code"] = reply.code
            if status == 401:  # no second guess on this connection: a flood of them cannot hold a worker
                self.close_connection = True
        except Exception:  # a bug: answer 500, never a traceback or a value
            status, body = 500, {"success": False, "error": "internal error"}
        if not self._body_read and (
            self.headers.get("Content-Length", "0") != "0" or self.headers.get("Transfer-Encoding")
        ):
            self.close_connection = True  # a body left unread would be taken for the next request
        if self.server.latency:
            time.sleep(self.server.latency)
        if method == "HEAD":  # its answer has no body a client would read: end the connection after it
            status, body, headers = 405, {"success": False, "error": "method not allowed"}, {}
            self.close_connection = True
        self._log(method, status, started)  # before the answer: a client that has it finds it logged
        self._send(status, body, headers)

    def _route(self, method: str) -> tuple[int, Any, dict[str, str]]:
        header = self.headers.get("Authorization")
        admin = self.server.authorized(header)
        member = None if admin else self.server.member(header)  # read-only, bound to one organization
        if not admin and member is None:
            raise Reply(401, "missing or wrong token")
        path = urlsplit(self.path).path
        if path.rstrip("/") == "/api/v1/users/me" and method == "GET":
            return 200, self._profile(member), {}
        if path.rstrip("/") == "/api/v1/users/me/remote-config" and method == "GET":
            return 200, self._discovery(member), {}
        match = _ROUTE.match(path)
        if not match:
            raise Reply(404, "unknown path", UNKNOWN_PATH)
        organization = unquote(match.group(1))
        if not is_organization_id(organization):
            raise Reply(400, "invalid organization id")
        if member is not None and (organization != member or method != "GET" or match.group(2)):
            raise Reply(403, "a member token reads its own organization's configuration only")
        if match.group(2):
            if method != "GET":
                raise Reply(405, "method not allowed")
            return 200, self._revisions(organization), {}
        if method == "GET":
            return self._answer(self.server.console.read(organization))
        if method == "PUT" and self.server.read_only:
            raise Reply(405, "this console does not accept writes")
        if method == "PUT":
            document = self._document()
            try:
                live = self.server.writes.write(
                    organization, document, _if_match(self.headers.get("If-Match"))
                )
            except Conflict:
                raise Reply(412, "If-Match does not match the current revision") from None
            return self._answer(live)
        raise Reply(405, "method not allowed")

    @staticmethod
    def _answer(live: Live) -> tuple[int, Any, dict[str, str]]:
        etag = {"ETag": f'"{live.revision}"'} if live.revision else {}
        if live.document is None:
            return 200, None, etag
        return 200, {"enabled": live.document.enabled, "value": live.document.wire_value()}, etag

    def _discovery(self, member: str | None) -> dict[str, Any] | None:
        """Which organization distributes configuration to the caller, and that configuration, as Cline's
        clients read it (SPEC §11): `value` the RemoteConfig as a string, `enabled` for the command-line
        client. `data: null` (no configuration: members run unmanaged) for an admin token, and for an
        organization with none or with its configuration switched off."""
        if member is None:
            return None
        document = self.server.console.read(member).document
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
            for found in self.server.console.organizations()
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
            for r in self.server.console.history(organization)
        ]

    def _document(self) -> Document:
        if self.headers.get("Transfer-Encoding"):
            raise Reply(400, "send the body with Content-Length, not chunked")
        stated = self.headers.get("Content-Length", "")
        if stated.startswith("-"):
            raise Reply(400, "Content-Length must not be negative")
        if not _DIGITS.fullmatch(
            stated
        ):  # HTTP's 1*DIGIT: not `+47`, `4_7` or other digits Python's int reads
            raise Reply(400, "Content-Length required, as digits")
        length = int(stated)
        if length > MAX_BODY:
            raise Reply(413, f"body over {MAX_BODY} bytes")
        raw = self.rfile.read(length)
        self._body_read = True
        try:
            body = strictjson.loads(raw)
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
            problems = remote_config_errors(config)
        except RecursionError:
            raise Reply(400, "value is nested too deeply for a RemoteConfig") from None
        if problems:
            raise Reply(400, "invalid RemoteConfig: " + "; ".join(problems[:10]))
        document = Document(body["enabled"], config)
        try:
            document.wire_value().encode()
        except UnicodeEncodeError:
            raise Reply(
                400, "value holds a lone surrogate escape (\\ud800-\\udfff): it is not text"
            ) from None
        return document

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        """The answer in one write: each write gives up the interpreter lock, which a handler thread then
        queues to take back behind the others."""
        payload = strictjson.dumps(body, ensure_ascii=False).encode()
        lines = [
            f"{self.protocol_version} {status} {self.responses.get(status, ('',))[0]}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            "Content-Type: application/json",
            f"Content-Length: {len(payload)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        if self.close_connection:
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

    def _log(self, method: str, status: int, started: float) -> None:
        if self.server.log is None:
            return
        # Every field a client chose is escaped: no request can write terminal escape codes or forge a line.
        path = visible(urlsplit(getattr(self, "path", "")).path[:200]).replace(" ", "\\x20")
        method = visible(method[:20]).replace(" ", "\\x20")
        elapsed = (time.monotonic() - started) * 1000
        self.server.log.write(f"{self.client_address[0]} {method} {path} {status} {elapsed:.1f}ms\n")
        self.server.log.flush()

    def log_message(self, format: str, *args: Any) -> None:
        """The standard library's own log would print request lines verbatim; `_log` replaces it."""


_MAX_HEADERS = 100  # as the standard library allows
_MAX_LINE = 65536


class _BadHeaders(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Headers(dict[str, str]):
    """A request's headers by lower-cased name; the first of a repeated header, as the standard library
    gives it."""

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


def _read_headers(rfile: Any) -> _Headers:
    headers = _Headers()
    for _ in range(_MAX_HEADERS + 1):
        line = rfile.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise _BadHeaders(431, "header line too long")
        if line in (b"\r\n", b"\n", b""):
            return headers
        name, colon, value = str(line, "iso-8859-1").partition(":")
        if not colon or not name or name != name.strip():
            raise _BadHeaders(400, "malformed header line")  # folded, nameless, or space before the colon
        name, value = name.lower(), value.strip()
        if name == "content-length" and headers.get(name, value) != value:
            raise _BadHeaders(400, "conflicting Content-Length headers")
        headers.setdefault(name, value)
    raise _BadHeaders(431, "too many headers")


def _version(word: str) -> tuple[int, int] | None:
    """(major, minor) of `HTTP/x.y`, or None when it is not one."""
    if not word.startswith("HTTP/"):
        return None
    major, dot, minor = word[5:].partition(".")
    if not (dot and major.isdigit() and minor.isdigit() and len(major) <= 10 and len(minor) <= 10):
        return None
    return int(major), int(minor)


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
