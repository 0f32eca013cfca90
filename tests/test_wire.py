"""The console client's wire: HTTP/1.1 over the standard library, on real sockets on 127.0.0.1.

Kept-alive connections that the console closed are not reused, answers come whole however they are framed,
a proxy gets its credentials and nothing prints them, and what cannot work says so once."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import ClassVar

import pytest

from clinesync.consoles.base import ConsoleError
from clinesync.consoles.http import HttpConsole
from clinesync.consoles.wire import Wire, WireError
from clinesync.document import Document

from fake_llm import JsonHandler, serving
from support import TOKEN

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
ENVELOPE = json.dumps({"success": True, "data": None}).encode()
PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _request(connection: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        if not chunk:
            return received
        received += chunk
    return received


def test_a_kept_alive_connection_the_console_closed_is_not_reused(raw_server: Callable[..., str]) -> None:
    connections: list[int] = []

    def answer_once_then_close(connection: socket.socket) -> None:
        connections.append(1)
        _request(connection)
        # Kept alive by HTTP/1.1's default, then closed anyway, as a console's idle timeout does.
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(ENVELOPE) + ENVELOPE)

    console = HttpConsole(raw_server(answer_once_then_close), TOKEN, retries=0)
    for _ in range(3):
        assert console.read(ORG).document is None
    console.close()
    assert len(connections) == 3  # each read found the last connection closed and made a new one


def test_chunked_and_unframed_answers_are_read_whole(raw_server: Callable[..., str]) -> None:
    half = len(ENVELOPE) // 2

    def chunked(connection: socket.socket) -> None:
        _request(connection)
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n"
            % (half, ENVELOPE[:half], len(ENVELOPE) - half, ENVELOPE[half:])
        )

    def until_closed(connection: socket.socket) -> None:
        _request(connection)
        connection.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + ENVELOPE)

    for behave in (chunked, until_closed):
        console = HttpConsole(raw_server(behave), TOKEN, retries=0)
        assert console.read(ORG).document is None
        console.close()


def test_a_chunked_answer_cut_short_fails_its_organization(raw_server: Callable[..., str]) -> None:
    def cut(connection: socket.socket) -> None:
        _request(connection)
        connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + ENVELOPE[:10])

    with pytest.raises(ConsoleError, match="closed mid-answer"):
        HttpConsole(raw_server(cut), TOKEN, retries=0).read(ORG)


class _ForwardProxy(JsonHandler):
    """A forward proxy that answers for the console itself, recording what it was sent."""

    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        _ForwardProxy.seen.append((self.path, self.headers.get("Proxy-Authorization")))
        self._answer(200, {"success": True, "data": None})


def test_a_proxy_gets_its_credentials_and_no_output_shows_them(monkeypatch: pytest.MonkeyPatch) -> None:
    _ForwardProxy.seen = []
    with serving(_ForwardProxy) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.replace("http://", "http://proxy-user:pr%40xy-pass@"))
        console = HttpConsole("http://console.example.test", TOKEN, retries=0)
        assert console.read(ORG).document is None
    [(path, credentials)] = _ForwardProxy.seen
    assert path == f"http://console.example.test/api/v1/organizations/{ORG}/remote-config"
    assert credentials == "Basic " + base64.b64encode(b"proxy-user:pr@xy-pass").decode()
    # A proxy that refuses the connection is named, its credentials are not.
    monkeypatch.setenv("HTTP_PROXY", "http://proxy-user:pr%40xy-pass@127.0.0.1:9")
    with pytest.raises(ConsoleError) as refused:
        HttpConsole("http://console.example.test", TOKEN, retries=0).read(ORG)
    assert "connection refused" in str(refused.value) and "xy-pass" not in str(refused.value)


def test_what_cannot_work_through_a_proxy_is_said_once() -> None:
    context = ssl.create_default_context()
    tls_in_tls = Wire("https://console.example.test", 5, context, proxy="https://proxy.example.test:3128")
    with pytest.raises(WireError, match="http:// address") as raised:
        tls_in_tls.exchange("GET", "/", {}, None)
    assert raised.value.final and raised.value.whole_console
    socks = Wire("https://console.example.test", 5, context, proxy="socks5://proxy.example.test:1080")
    with pytest.raises(WireError, match="socks5:// is not supported") as raised:
        socks.exchange("GET", "/", {}, None)
    assert raised.value.final


def test_a_proxy_that_refuses_the_tunnel_settles_the_console(
    raw_server: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(connection: socket.socket) -> None:
        _request(connection)
        connection.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")

    monkeypatch.setenv("HTTPS_PROXY", raw_server(refuse))
    console = HttpConsole("https://console.example.test", TOKEN, retries=3)
    with pytest.raises(ConsoleError, match=r"the proxy refused to connect to the console \(407\)"):
        console.read(ORG)
    with pytest.raises(ConsoleError, match="not attempted: console unreachable"):
        console.read(ORG)  # final and the whole console's: the rest of a fleet is not attempted


def test_a_chunked_answer_is_bounded_whatever_its_content_length_says(raw_server: Callable[..., str]) -> None:
    def endless(connection: socket.socket) -> None:
        _request(connection)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        try:
            for _ in range(200):  # 12.5 MiB, past the 8 MiB bound
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # refused part-way, as it should be

    with pytest.raises(ConsoleError, match="an answer over 8 MiB"):
        HttpConsole(raw_server(endless), TOKEN, retries=0).read(ORG)


def test_a_proxy_dripping_its_tunnel_answer_is_inside_the_whole_timeout(
    raw_server: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each byte within the per-read timeout, the whole never: the CONNECT counts against the answer's time."""

    def drip(connection: socket.socket) -> None:
        _request(connection)
        for byte in b"HTTP/1.1 200 Connection established\r\nX-Drip: " + b"." * 60:
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                return  # cut off by the client, as it should be
            time.sleep(0.1)

    monkeypatch.setenv("HTTPS_PROXY", raw_server(drip))
    console = HttpConsole("https://console.example.test", TOKEN, timeout=1.5, retries=0)
    started = time.monotonic()
    with pytest.raises(ConsoleError, match=r"within (1\.5 s|the timeout)"):
        console.read(ORG)
    assert time.monotonic() - started < 5  # the drip would last 10 s


def test_a_write_lost_on_a_kept_alive_connection_then_refused_may_have_landed() -> None:
    """The console takes the PUT on the connection it kept alive, then dies without answering: the new
    connection is refused. The write may have landed, and the error says so."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            _request(connection)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(ENVELOPE) + ENVELOPE)
            _request(connection)  # the write, taken
            listener.close()  # the console dies: nothing listens any more

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    console = HttpConsole(f"http://127.0.0.1:{listener.getsockname()[1]}", TOKEN, retries=0)
    try:
        assert console.read(ORG).document is None
        with pytest.raises(ConsoleError, match="the write may have landed: plan again to see"):
            console.write(ORG, Document(True, {"version": "v1"}), None)
    finally:
        console.close()
        server.join(5)
