"""`clinesync serve`'s connections, all on one thread: it accepts them, reads each request whole, hands it to
the server, and sends the answer it is given, now or later (a write answers once its transaction is on disk).

Why one thread: the server is small JSON bodies and short SQLite reads under one interpreter lock, so threads
add no parallelism, only hand-offs. With a worker thread per request, each write passed between five threads,
and 64 clients took 24 context switches a write (`perf stat`); here one pass of the loop reads and answers
every connection that is ready, and a batch of committed writes is answered after one wake-up.

What a thread per connection got from blocking reads is kept by deadlines, all from a request's first byte:
its head within HEADER_DEADLINE, its answer within REQUEST_DEADLINE; a new connection must speak within
FIRST_BYTE_DEADLINE and a kept-alive one within IDLE_DEADLINE. Past one the connection is closed, whatever the
client drips. A silent connection costs a file descriptor and nothing else, and at most MAX_CONNECTIONS are
kept. Every answer, and every connection its client resets, is one line of the access log (`accesslog.py`).
A connection ended after an answer lingers a moment, reading and dropping what its client still sends, so the
answer is not lost to a reset (a refused request's unread body would make one)."""

from __future__ import annotations

import collections
import contextlib
import functools
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from clinesync import strictjson
from clinesync.consoles.accesslog import AccessLog
from clinesync.consoles.deadlines import Deadlines
from clinesync.consoles.http1 import (
    CONTINUE,
    MAX_HEAD,
    BadRequest,
    Framing,
    Head,
    Headers,
    HeadReader,
    parse_head,
)
from clinesync.records import field, record

FIRST_BYTE_DEADLINE = 10.0  # seconds a new connection may stay silent before it is closed
IDLE_DEADLINE = 30.0  # seconds a kept-alive connection may stay silent between requests
HEADER_DEADLINE = 10.0  # seconds from a request's first byte to the end of its head
REQUEST_DEADLINE = 30.0  # seconds a request may take from its first byte to its answer
MAX_CONNECTIONS = 1024  # beyond it a new connection is closed at once: each one is a file descriptor
LINGER = 2.0  # seconds a connection ended after its answer reads and drops what its client still sends
_SWEEP = 0.1  # seconds between looks for connections past their deadline: a deadline is met this closely
_READ = selectors.EVENT_READ
_WRITE = selectors.EVENT_WRITE


@record
class Request:
    method: str
    target: str
    headers: Headers
    body: bytes | None  # None: the head states a body that was not read (chunked, or too long)
    caller: Any = None  # what the server's screen made of the caller


@record
class Answer:
    status: int
    body: Any  # sent as JSON
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False  # end the connection after it


Respond = Callable[[Answer], None]
Handler = Callable[[Request, Respond], None]
# From a request's head alone: an Answer refuses it (a body it states is never read: a client without a token
# cannot make the server hold a megabyte); anything else is handed on as the request's `caller`.
Screen = Callable[[Head], Any]


class _Connection:
    """One client's socket and where its current request stands."""

    def __init__(self, sock: socket.socket, peer: str, due: float) -> None:
        self.sock, self.peer, self.due = sock, peer, due
        self.inbox = bytearray()  # bytes read and not yet taken by a request
        self.outbox = bytearray()  # bytes of answers the socket has not taken yet
        self.events = _READ  # what the selector watches it for
        self.reader: HeadReader | None = None  # the head being read
        self.head: Head | None = None  # read, its body not yet
        self.caller: Any = None  # what the screen made of it
        self.length: int | None = 0  # of that body: None where it is not read
        self.started = 0.0  # the current request's first byte
        self.busy = False  # a request is with the server, or its answer being sent: later bytes wait
        self.answered = False  # its answer is in the outbox
        self.ending = False  # closed once the outbox is sent
        self.client_done = False  # the client has sent all it will
        self.lingering = False  # answered for the last time: what still comes is read and dropped
        self.dropped = 0  # bytes of it
        self.closed = False


class ConnectionLoop:
    def __init__(
        self,
        address: tuple[str, int],
        screen: Screen,
        handle: Handler,
        server: str,
        max_body: int,
        log: TextIO | None,
        latency: float = 0.0,
        backlog: int = 128,
    ) -> None:
        """`screen(head)` and `handle(request, respond)` are called on the loop's thread and must not block;
        `respond(answer)` must be called once, on the loop's thread too (`post` gets there from another)."""
        self._screen, self._handle = screen, handle
        self._max_body, self._latency = max_body, latency
        self._log = AccessLog(log)
        # What a connection may hold unread: a whole request. Past it, reading waits for requests to be taken.
        self._read_ahead = MAX_HEAD + max_body
        self._framing = Framing(server)
        self.accepted = 0
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind(address)
            self._listener.listen(backlog)  # a burst of clients waits here instead of being refused
            self._listener.setblocking(False)
        except BaseException:
            self._listener.close()
            raise
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, _READ, None)
        self._accepting = True
        self._wake_in, self._wake_out = socket.socketpair()
        for end in (self._wake_in, self._wake_out):
            end.setblocking(False)
        self._selector.register(self._wake_in, _READ, None)
        self._connections: set[_Connection] = set()
        self._posted: collections.deque[Callable[[], None]] = collections.deque()
        self._woken = False  # a wake-up is on its way: posting again need not send another
        self._wake_lock = threading.Lock()
        self._runnable: collections.deque[_Connection] = collections.deque()  # answered, with bytes waiting
        # The selector waits in whole milliseconds, which would add up to one to each delayed answer: the
        # deadlines' thread waits to the microsecond.
        self._delays = Deadlines() if latency else None
        self._stopping = False
        self._running = threading.Event()
        self._stopped = threading.Event()

    def post(self, work: Callable[[], None]) -> None:
        """From any thread: `work` runs on the loop's thread, soon."""
        self._posted.append(work)
        with self._wake_lock:
            if self._woken:
                return
            self._woken = True
        with contextlib.suppress(OSError):  # the loop is closed: nothing will run
            self._wake_out.send(b"\0")

    def run(self) -> None:
        """Serves until `stop` is called; a signal's exception (KeyboardInterrupt) ends it too."""
        self._running.set()
        try:
            swept = time.monotonic()
            while not self._stopping:
                waiting = self._connections or not self._accepting or self._log.holding
                timeout = 0.0 if self._runnable else _SWEEP if waiting else 1.0
                for key, events in self._selector.select(timeout):
                    if key.fileobj is self._listener:
                        self._accept()
                    elif key.data is None:
                        self._drain_wake()
                    else:
                        self._guarded(key.data, self._ready, events)
                self._run_posted()
                self._run_runnable()
                if self._log.holding:
                    self._log.flush()
                now = time.monotonic()
                if now - swept >= _SWEEP:
                    swept = now
                    self._close_past_deadline(now)
                    if not self._accepting:  # a connection may have freed a descriptor since
                        self._selector.register(self._listener, _READ, None)
                        self._accepting = True
        finally:
            self._stopped.set()

    def stop(self) -> None:
        """From another thread: `run` returns, and this once it has."""
        self._stopping = True
        self.post(lambda: None)
        if self._running.is_set():
            self._stopped.wait()

    def close(self) -> None:
        """Every connection and the listening socket, once `run` has returned: closed, not unregistered one by
        one, since a signal (SIGTERM) may have ended `run` between a socket's registration and its record."""
        for connection in self._connections:
            connection.closed = True
            connection.sock.close()
        self._connections.clear()
        if self._delays is not None:
            self._delays.stop()
        self._log.close()
        self._selector.close()
        for end in (self._listener, self._wake_in, self._wake_out):
            end.close()

    # Connections

    def _accept(self) -> None:
        for _ in range(64):  # then the others' turn: the rest are accepted on the next pass
            try:
                sock, address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # no descriptor to be had (too many open files): wait for one, not in a spin
                self._selector.unregister(self._listener)
                self._accepting = False
                return
            self.accepted += 1
            if len(self._connections) >= MAX_CONNECTIONS:
                sock.close()
                continue
            connection = _Connection(sock, str(address[0]), time.monotonic() + FIRST_BYTE_DEADLINE)
            try:
                sock.setblocking(False)
                # Without this, Nagle's algorithm and the client's delayed ACK can hold an answer back ~40 ms
                # on a kept-alive connection.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._selector.register(sock, _READ, connection)
            except OSError:  # the client left before it was accepted (macOS then refuses TCP_NODELAY)
                sock.close()
                continue
            self._connections.add(connection)

    def _guarded(self, connection: _Connection, work: Callable[..., None], *arguments: Any) -> None:
        try:
            work(connection, *arguments)
        except Exception as error:  # the client went (OSError), or a bug: this connection ends, no other
            self._ended(connection, error)

    def _ready(self, connection: _Connection, events: int) -> None:
        if events & _WRITE:
            self._flush(connection)
        if events & _READ and not connection.closed:
            self._receive(connection)

    def _receive(self, connection: _Connection) -> None:
        try:
            data = connection.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        if connection.lingering:
            connection.dropped += len(data)
            if not data or connection.dropped > self._read_ahead:
                self._close(connection)
            return
        if not data:  # the client has sent all it will: what it sent whole is still answered, in order
            connection.client_done = True
            self._interest(connection, connection.events & ~_READ)
            if not connection.busy:
                self._advance(connection)
            return
        connection.inbox += data
        if not connection.busy:
            self._advance(connection)
        # Requests read ahead enough: read on once they are taken.
        if len(connection.inbox) > self._read_ahead:
            self._interest(connection, connection.events & ~_READ)

    def _advance(self, connection: _Connection) -> None:
        """Reads as much of the connection's next request as its bytes hold; hands it over once whole."""
        if connection.head is None:
            if connection.reader is None:
                connection.reader = HeadReader()
                connection.started = time.monotonic()
                connection.due = connection.started + HEADER_DEADLINE
            try:
                end = connection.reader.feed(connection.inbox)
                if end is None:
                    self._more_to_come(connection)
                    return
                head = parse_head(connection.reader.lines)
            except BadRequest as bad:
                connection.busy = True
                refusal = Answer(bad.status, {"success": False, "error": str(bad)}, close=True)
                self._respond(connection, bad.method, bad.target, refusal)
                return
            if head is None:
                self._close(connection)
                return
            del connection.inbox[:end]
            connection.reader = None
            connection.length = head.body_length(self._max_body)
            connection.due = connection.started + REQUEST_DEADLINE
            screened = self._screen(head)
            if isinstance(screened, Answer):
                connection.busy = True
                connection.ending = connection.length != 0 or not head.keep_alive  # its body stays unread
                self._respond(connection, head.method, head.target, screened)
                return
            connection.head, connection.caller = head, screened
            if connection.length and head.expects_continue:
                self._send(connection, CONTINUE)
        head, length = connection.head, connection.length
        if length and len(connection.inbox) < length:
            self._more_to_come(connection)
            return
        body = None
        if length is not None:
            body = bytes(connection.inbox[:length])
            del connection.inbox[:length]
        connection.head, connection.busy = None, True
        request = Request(head.method, head.target, head.headers, body, connection.caller)
        if length is None or not head.keep_alive:
            connection.ending = True  # an unread body would be taken for the next request
        self._handle(request, lambda answer: self._respond(connection, head.method, head.target, answer))

    def _more_to_come(self, connection: _Connection) -> None:
        if connection.client_done:  # and never will: a request cut short gets no answer
            self._close(connection)

    def _respond(self, connection: _Connection, method: str, target: str, answer: Answer) -> None:
        """Called now, or later by work posted from the writer's thread: guarded wherever it comes from."""
        answered = functools.partial(self._guarded, connection, self._answer, method, target, answer)
        if self._delays is not None:
            self._delays.watch(functools.partial(self.post, answered), self._latency)
        else:
            answered()

    def _answer(self, connection: _Connection, method: str, target: str, answer: Answer) -> None:
        if connection.closed:  # cut off at a deadline, or the client went, while its answer was made
            return
        ending = connection.ending or answer.close
        self._log.answered(connection.peer, method, target, answer.status, connection.started)
        payload = strictjson.dumps(answer.body, ensure_ascii=False).encode()
        connection.ending = ending
        self._send(connection, self._framing.answer(answer.status, payload, answer.headers, ending))
        if ending or connection.closed:
            return
        if connection.outbox:  # the client is not reading: its next request waits until it has this answer
            connection.answered = True
            return
        self._idle(connection)

    def _idle(self, connection: _Connection) -> None:
        """The request answered, and the answer sent: on to the connection's next request."""
        connection.busy = False
        connection.due = time.monotonic() + IDLE_DEADLINE
        if (
            not connection.events & _READ
            and not connection.client_done
            and len(connection.inbox) <= self._read_ahead
        ):
            self._interest(connection, connection.events | _READ)
        if connection.inbox or connection.client_done:  # its next request is here, or none will come
            self._runnable.append(connection)  # on the next pass: each connection a request a pass

    def _send(self, connection: _Connection, data: bytes) -> None:
        if not connection.outbox:
            try:
                data = data[connection.sock.send(data) :]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as error:
                self._ended(connection, error)
                return
        if data:
            connection.outbox += data
            self._interest(connection, connection.events | _WRITE)
        elif connection.ending:
            self._finish(connection)

    def _flush(self, connection: _Connection) -> None:
        sent = connection.sock.send(connection.outbox)
        del connection.outbox[:sent]
        if connection.outbox:
            return
        if connection.ending:
            self._finish(connection)
            return
        self._interest(connection, connection.events & ~_WRITE)
        if connection.answered:
            connection.answered = False
            self._idle(connection)

    def _finish(self, connection: _Connection) -> None:
        """The last answer is sent, and then the connection's end; what the client still sends (a refused
        request's body, say) is read and dropped for a moment before it is closed. Closed at once with bytes
        unread, it would send a reset, which can reach the client before the answer does, and lose it."""
        if connection.client_done:
            self._close(connection)
            return
        with contextlib.suppress(OSError):  # the client is gone already
            connection.sock.shutdown(socket.SHUT_WR)
        connection.lingering = True
        connection.inbox.clear()
        connection.due = time.monotonic() + LINGER
        self._interest(connection, _READ)

    def _interest(self, connection: _Connection, events: int) -> None:
        if events == connection.events:
            return
        if not connection.events:
            self._selector.register(connection.sock, events, connection)
        elif not events:
            self._selector.unregister(connection.sock)
        else:
            self._selector.modify(connection.sock, events, connection)
        connection.events = events

    def _close(self, connection: _Connection) -> None:
        if connection.closed:
            return
        connection.closed = True
        self._connections.discard(connection)
        if connection.events:
            self._selector.unregister(connection.sock)
            connection.events = 0
        with contextlib.suppress(OSError):  # the client is gone already
            connection.sock.shutdown(socket.SHUT_WR)
        connection.sock.close()

    def _ended(self, connection: _Connection, error: BaseException) -> None:
        if not connection.closed:
            self._log.ended(connection.peer, error)
        self._close(connection)

    def _close_past_deadline(self, now: float) -> None:
        for connection in [each for each in self._connections if each.due <= now]:
            self._close(connection)

    # Work from elsewhere, and later

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):  # drained
            while self._wake_in.recv(4096):
                pass

    def _run_posted(self) -> None:
        with self._wake_lock:
            self._woken = False  # posted from now on: woken again
        while self._posted:
            self._posted.popleft()()

    def _run_runnable(self) -> None:
        runnable, self._runnable = self._runnable, collections.deque()  # those queued later wait a pass
        for connection in runnable:
            if not connection.closed and not connection.busy:
                self._guarded(connection, self._advance)
