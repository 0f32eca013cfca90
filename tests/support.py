"""What the tests share: paths, the real Cline payloads, the CLI runner, files, and servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from clinesync.cli import cli
from clinesync.consoles.http import Exchange
from clinesync.consoles.wire import Answer

REPO = Path(__file__).resolve().parent.parent


EXAMPLES = REPO / "examples"


FILES = Path(__file__).resolve().parent / "files"


CLINE_FIXTURES = FILES / "cline"


def cline_payload(name: str) -> Any:
    return json.loads((CLINE_FIXTURES / name).read_text("utf-8"))


def cline_remote_configs() -> dict[str, dict[str, Any]]:
    """Every RemoteConfig in Cline's real payloads, decoded from its JSON string where it is one."""
    configs = {
        "cached-remote-config-org": cline_payload("cached-remote-config-org.json"),
        "organization-remote-config-response": json.loads(
            cline_payload("organization-remote-config-response.json")["data"]["value"]
        ),
        "recorded-production-remote-config-response": json.loads(
            cline_payload("recorded-production-remote-config-response.json")["response"]["data"]["value"]
        ),
        "user-remote-config-discovery": json.loads(
            cline_payload("user-remote-config-discovery.json")["value"]
        ),
    }
    return configs


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """Run clinesync in-process as a user would from a shell."""
    runner = CliRunner()
    result = runner.invoke(cli, list(args), env=env, input=input, catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def env_without(*names: str) -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in names}


TOKEN = "tok-planted-4c1e8b7a9d2f"


@dataclass
class RunningServer:
    server: Any
    database: Path
    log: Any

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.server.console.close()


def start_server(database: Path, **options: Any) -> RunningServer:
    """A clinesync console server on a free 127.0.0.1 port, serving from a thread."""
    import io
    import threading

    from clinesync.consoles.local import LocalConsole
    from clinesync.consoles.server import ConsoleServer

    log = io.StringIO()
    server = ConsoleServer(
        ("127.0.0.1", 0), LocalConsole(database, wal=True), [TOKEN], log=log, **options
    )  # as serve opens it
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return RunningServer(server, database, log)


def self_signed_certificate(
    directory: Path, names: str = "IP:127.0.0.1,DNS:localhost", days: int = 1
) -> tuple[Path, Path]:
    """A certificate and key made by the openssl command, valid for `days` from now, for the subjectAltName
    `names`. days=0 makes one that expired in 2020 (through `openssl ca`, which takes explicit dates)."""
    import subprocess

    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subject = ["-subj", "/CN=clinesync-test", "-addext", f"subjectAltName={names}"]
    if days > 0:
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                str(days),
                *subject,
            ],
            check=True,
            capture_output=True,
        )
        return cert, key
    request = directory / "request.pem"
    (directory / "index.txt").write_text("")
    (directory / "serial").write_text("01\n")
    (directory / "ca.cnf").write_text(
        "[ca]\ndefault_ca = here\n[here]\n"
        f"database = {directory / 'index.txt'}\nnew_certs_dir = {directory}\nserial = {directory / 'serial'}\n"
        "default_md = sha256\npolicy = anything\ncopy_extensions = copy\n[anything]\ncommonName = supplied\n"
    )
    subprocess.run(
        [
            "openssl",
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(request),
            *subject,
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "openssl",
            "ca",
            "-batch",
            "-selfsign",
            "-config",
            str(directory / "ca.cnf"),
            "-keyfile",
            str(key),
            "-in",
            str(request),
            "-out",
            str(cert),
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20200102000000Z",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def serve_tls(server: Any, cert: Path, key: Path) -> None:
    """Wrap a listening test server's socket in TLS, before it serves."""
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)


class HttpsFront:
    """HTTPS on a free 127.0.0.1 port in front of a plain test server (`clinesync serve` has no TLS): each TLS
    connection is relayed byte for byte to `backend`, on one thread, which alone uses its TLS socket. A
    handshake the client refuses ends in the front's accept, as it would in a server's."""

    def __init__(self, backend: RunningServer, cert: Path, key: Path) -> None:
        import socketserver
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        address = backend.server.server_address

        class Relay(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                _relay(self.request, address)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Relay)
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _relay(secure: Any, address: tuple[str, int]) -> None:
    import contextlib
    import select
    import socket

    with socket.create_connection(address, timeout=30) as plain, contextlib.suppress(OSError):
        while True:
            readable = [secure] if secure.pending() else select.select([secure, plain], [], [], 30)[0]
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (plain if source is secure else secure).sendall(data)


def mocked(handler: Callable[[httpx.Request], httpx.Response]) -> Exchange:
    """An HttpConsole exchange answered by `handler`, as httpx.MockTransport would: protocol-level faults
    (statuses, envelopes, headers) without a socket."""

    def exchange(method: str, path: str, headers: dict[str, str], body: bytes | None) -> Answer:
        request = httpx.Request(method, f"https://console.example.test{path}", headers=headers, content=body)
        response = handler(request)
        response.read()
        lowered = {name.lower(): value for name, value in response.headers.items()}
        return Answer(response.status_code, response.reason_phrase, lowered, response.content)

    return exchange


def edit_live(console: Any, organization: str, change: Callable[[dict[str, Any]], None]) -> None:
    """An admin's edit in the console: `change` edits the live remoteConfig in place, saved as one revision."""
    from clinesync.document import Document

    live = console.read(organization)
    assert live.document is not None
    tree = live.document.tree()
    change(tree["remoteConfig"])
    console.write(organization, Document.from_tree(tree), live.revision)
