"""HTTP/1.1 exchanges with one console, over the standard library's `http.client`.

Connections are kept alive and lent to one request at a time, so apply's writes reuse its reads' connections
whichever threads make them. The environment's proxy is honoured (a forward proxy for http://, a CONNECT
tunnel for https://), one TLS context serves every connection, each answer is bounded as a whole by the
timeout and in size by MAX_ANSWER, and every failure is classified (WireError) by its kind, never by its text,
so no message carries a header, a proxy's credentials or a body.

Why not httpx, which clinesync uses to probe endpoints: a console read through it cost 1.25 ms of CPU against
0.67 ms here (1,000 reads at 16 threads, measured), and a fleet's plan was bound by that CPU, not the network.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import http.client
import queue
import select
import socket
import ssl
import threading
import time
import zlib
from urllib.parse import unquote, urlsplit

from clinesync.consoles import deadlines
from clinesync.records import record

MAX_ANSWER = 8 * 1024 * 1024  # a remote-config answer is a few KiB; Cline's server limits writes to 1 MiB
_CONNECT_TIMEOUT = 10.0
_READ_SIZE = 65536


@record(frozen=True)
class Answer:
    """One answer: its body read whole and decoded; header names in lower case."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class WireError(Exception):
    """One exchange failed below HTTP: `final` when retrying cannot help (TLS, DNS, an answer too large), and
    `whole_console` when the failure is the console's, not this answer's (TLS, DNS, a refused connection): then
    it settles the console as down, at once if final, else once the retries run out. A bad answer (broken
    encoding, too large, cut short) fails its organization only. `sent` when the request may have reached the
    console (it failed once the request was on its way): a write may then have landed."""

    def __init__(
        self,
        reason: str,
        final: bool = False,
        timed_out: bool = False,
        whole_console: bool = False,
        sent: bool = False,
    ) -> None:
        super().__init__(reason)
        self.final = final
        self.timed_out = timed_out
        self.whole_console = whole_console
        self.sent = sent


class Wire:
    """The connections to one console (`base`, without userinfo), through `proxy` when one is named."""

    def __init__(self, base: str, timeout: float, tls: ssl.SSLContext, proxy: str | None = None) -> None:
        target = urlsplit(base)
        self.timeout = timeout
        self._https = target.scheme == "https"
        self._host = target.hostname or ""
        self._port = target.port or (443 if self._https else 80)
        self._origin = f"{target.scheme}://{target.netloc}"
        self._tls = tls
        self._proxy = urlsplit(proxy) if proxy else None
        self._idle: queue.SimpleQueue[http.client.HTTPConnection] = queue.SimpleQueue()
        self._open: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()

    def exchange(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> Answer:
        """One request and its whole answer, within `timeout`. A kept-alive connection that the console
        closed or reset as it was lent (its idle timeout) is replaced once, at once. Repeating a write is
        safe: one that had landed is refused by its If-Match, and then found landed (HttpConsole.write)."""
        started = time.monotonic()
        connection, fresh = self._lend()
        try:
            return self._exchange_on(connection, fresh, started, method, path, headers, body)
        except _Stale:
            connection = self._new_connection()
            try:
                return self._exchange_on(connection, True, started, method, path, headers, body)
            except WireError as failed:
                failed.sent = True  # the connection reset under it may have delivered the request first
                raise

    def _exchange_on(
        self,
        connection: http.client.HTTPConnection,
        fresh: bool,
        started: float,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None,
    ) -> Answer:
        held: list[socket.socket] = []  # the socket to cut at the deadline (an answer that ends the
        # connection takes it from `connection`, so it is held here)
        # Until connected (a proxy's CONNECT included) the socket to cut is the connection's own.
        watchdog = deadlines.shared().watch(lambda: _cut(held or _socket_of(connection)), self.timeout)
        kept = False
        try:
            if fresh:
                self._connect(connection, started)
            assert connection.sock is not None
            held.append(connection.sock)
            answer, kept = self._ask(connection, method, path, headers, body)
            return answer
        except WireError:
            raise
        except Exception as error:
            sent = bool(held)  # connected: the request was on its way
            if time.monotonic() - started >= self.timeout or isinstance(error, TimeoutError):
                raise WireError(
                    f"no whole answer within {self.timeout:g} s", timed_out=True, sent=sent
                ) from None
            if not fresh and isinstance(error, (ConnectionResetError, BrokenPipeError)):
                raise _Stale() from None  # RemoteDisconnected too: closed before any answer
            failure = _answer_failure(error)
            failure.sent = sent
            raise failure from None
        finally:
            if deadlines.shared().done(watchdog) and kept:
                self._idle.put(connection)
            else:  # failed, closed by the console, or its deadline fired: never lent again
                self._discard(connection)

    def close(self) -> None:
        with self._lock:
            for connection in self._open:
                connection.close()
            self._open.clear()
        while not self._idle.empty():
            self._idle.get_nowait()

    def _lend(self) -> tuple[http.client.HTTPConnection, bool]:
        while True:
            try:
                connection = self._idle.get_nowait()
            except queue.Empty:
                break
            if _still_open(connection):
                return connection, False
            self._discard(connection)  # the console closed it while it was idle
        return self._new_connection(), True

    def _discard(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        with self._lock:
            self._open.discard(connection)

    def _new_connection(self) -> http.client.HTTPConnection:
        connection = self._unconnected()
        with self._lock:
            self._open.add(connection)
        return connection

    def _unconnected(self) -> http.client.HTTPConnection:
        timeout = min(self.timeout, _CONNECT_TIMEOUT)
        proxy = self._proxy
        if proxy is None:
            return self._connection(self._https, self._host, self._port, timeout)
        if proxy.scheme not in ("http", "https") or not proxy.hostname:
            raise WireError(
                f"the proxy's scheme {proxy.scheme}:// is not supported: name an http:// proxy",
                final=True,
                whole_console=True,
            )
        proxy_https = proxy.scheme == "https"
        proxy_port = proxy.port or (443 if proxy_https else 80)
        if not self._https:  # a forward proxy: it is sent the whole URL (see `_ask`)
            return self._connection(proxy_https, proxy.hostname, proxy_port, timeout)
        if proxy_https:
            raise WireError(
                "an https:// proxy cannot tunnel to an https:// console here: name the proxy's http:// address",
                final=True,
                whole_console=True,
            )
        connection = self._connection(True, proxy.hostname, proxy_port, timeout)
        connection.set_tunnel(self._host, self._port, headers=self._proxy_headers())
        return connection

    def _connection(self, https: bool, host: str, port: int, timeout: float) -> http.client.HTTPConnection:
        if https:
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls)
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def _proxy_headers(self) -> dict[str, str]:
        proxy = self._proxy
        if proxy is None or proxy.username is None:
            return {}
        credentials = f"{unquote(proxy.username)}:{unquote(proxy.password or '')}".encode()
        return {"Proxy-Authorization": "Basic " + base64.b64encode(credentials).decode()}

    def _connect(self, connection: http.client.HTTPConnection, started: float) -> None:
        try:
            connection.connect()
        except Exception as error:
            if time.monotonic() - started >= self.timeout:  # the watchdog cut it: a proxy that dripped
                raise WireError(f"no whole answer within {self.timeout:g} s", timed_out=True) from None
            raise _connect_failure(error) from None
        # Past the connection, each wait may take what is left of the whole answer's time.
        remaining = self.timeout - (time.monotonic() - started)
        if remaining <= 0:
            raise WireError(f"no whole answer within {self.timeout:g} s", timed_out=True)
        assert connection.sock is not None
        connection.sock.settimeout(remaining)

    def _ask(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes | None,
    ) -> tuple[Answer, bool]:
        target = path
        if self._proxy is not None and not self._https:
            target = self._origin + path  # a forward proxy is sent the whole URL, and its credentials
            headers = {**headers, **self._proxy_headers()}
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        try:
            content = _read_bounded(response)
        finally:
            response.close()  # an answer that ends the connection holds its socket until closed
        answer = Answer(
            response.status,
            response.reason,
            {name.lower(): value for name, value in response.getheaders()},
            _decoded(content, response.getheader("Content-Encoding")),
        )
        return answer, not response.will_close


def _read_bounded(response: http.client.HTTPResponse) -> bytes:
    """The body, refusing one over MAX_ANSWER (by its Content-Length, unread, or as it arrives). The length
    is http.client's, which has none for a chunked answer whatever Content-Length says."""
    if response.length is not None:
        if response.length > MAX_ANSWER:
            raise _TooLarge()
        return response.read()  # IncompleteRead if it is cut short
    chunks, size = [], 0
    while chunk := response.read1(_READ_SIZE):
        size += len(chunk)
        if size > MAX_ANSWER:
            raise _TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _decoded(content: bytes, encoding: str | None) -> bytes:
    """The body as sent before its Content-Encoding (clinesync accepts gzip and deflate), bounded too."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return content
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise _Undecodable()
    for window in (zlib.MAX_WBITS | 32, -zlib.MAX_WBITS):  # gzip or zlib headers, else raw deflate
        decoder = zlib.decompressobj(window)
        try:
            decoded = decoder.decompress(content, MAX_ANSWER + 1)
        except zlib.error:
            continue
        if len(decoded) > MAX_ANSWER or decoder.unconsumed_tail:
            raise _TooLarge()
        if decoder.eof:
            return decoded
    raise _Undecodable()


class _TooLarge(Exception):
    pass


class _Stale(Exception):
    pass


class _Undecodable(Exception):
    pass


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """An idle kept-alive connection that the console has not closed: nothing waits to be read on it (a
    closed one reads as ready, with nothing)."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _cut(held: list[socket.socket]) -> None:
    """The watchdog's cut: a blocked read or write on the held socket returns at once. The socket's own
    shutdown, not TLS's, which would pull the TLS state from under the reading thread."""
    for sock in held:
        with contextlib.suppress(OSError):  # already closed
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _connect_failure(error: BaseException) -> WireError:
    """A connection that could not be made: the whole console's failure, final where it will not heal."""
    if isinstance(error, WireError):
        return error
    if isinstance(error, TimeoutError):
        return WireError("did not answer within the timeout", timed_out=True)
    if isinstance(error, ssl.SSLCertVerificationError):
        return WireError(
            "TLS certificate not trusted: set SSL_CERT_FILE to your CA bundle", final=True, whole_console=True
        )
    if isinstance(error, ssl.SSLError):
        return WireError("the TLS handshake failed", final=True, whole_console=True)
    if isinstance(error, socket.gaierror):
        return WireError("host not found (DNS): check the console URL", final=True, whole_console=True)
    if isinstance(error, OSError) and str(error).startswith("Tunnel connection failed"):
        status = str(error).removeprefix("Tunnel connection failed:").split()[:1]
        return WireError(
            f"the proxy refused to connect to the console ({' '.join(status) or 'no status'})",
            final=True,
            whole_console=True,
        )
    number = error.errno if isinstance(error, OSError) else None
    return WireError(_FAILED_CONNECTIONS.get(number or 0, "connection failed"), whole_console=True)


# A connection's failure by its errno, never by its text (which differs between systems).
_FAILED_CONNECTIONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ECONNRESET: "connection reset",
    errno.ECONNABORTED: "connection aborted",
    errno.ETIMEDOUT: "connection timed out",
    errno.EADDRNOTAVAIL: "address not available",
}


def _socket_of(connection: http.client.HTTPConnection) -> list[socket.socket]:
    return [connection.sock] if connection.sock is not None else []


def _answer_failure(error: BaseException) -> WireError:
    """A failure once connected: this answer's, not the console's."""
    if isinstance(error, _TooLarge):
        return WireError(f"an answer over {MAX_ANSWER // (1024 * 1024)} MiB: refused unread", final=True)
    if isinstance(error, _Undecodable):
        return WireError("the answer's Content-Encoding could not be decoded")
    if isinstance(error, (http.client.BadStatusLine, http.client.LineTooLong)) and not isinstance(
        error, http.client.RemoteDisconnected
    ):
        return WireError("the answer was not HTTP")
    return WireError("the connection closed mid-answer")
