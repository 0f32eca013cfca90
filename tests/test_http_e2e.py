"""The whole GitOps flow over real HTTP: the CLI against `clinesync serve` on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from clinesync.consoles.http import HttpConsole
from clinesync.consoles.local import LocalConsole
from clinesync.document import Document
from clinesync.plans.apply import apply_plan
from clinesync.plans.plan import make_plan

from support import (
    EXAMPLES,
    TOKEN,
    HttpsFront,
    RunningServer,
    run,
    self_signed_certificate,
    start_server,
    write,
)

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
SECRET = "sk-http-planted-0a1b2c3d"


@pytest.fixture
def org_file(in_tmp: Path) -> Path:
    return Path(shutil.copy(EXAMPLES / "org.yaml", in_tmp / "org.yaml"))


@pytest.fixture
def env(http_env: dict[str, str]) -> dict[str, str]:
    return {**http_env, "AZURE_OPENAI_KEY": SECRET}


def test_plan_apply_verify_and_plan_again(
    org_file: Path, env: dict[str, str], console_server: RunningServer
) -> None:
    planned = run("plan", "org.yaml", "--detailed-exitcode", env=env)
    assert planned.exit_code == 2
    assert planned.stdout.splitlines()[0] == f"Console: {console_server.url}"
    applied = run("apply", "org.yaml", "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.output
    assert f"{ORG} (Acme Engineering, org.yaml): applied (revision 1)" in applied.stdout
    assert run("plan", "org.yaml", "--detailed-exitcode", env=env).exit_code == 0
    assert run("drift", "org.yaml", env=env).exit_code == 0
    before = dict(console_server.server.requests)
    assert run("apply", "org.yaml", "--auto-approve", env=env).exit_code == 0
    assert console_server.server.requests["PUT"] == before["PUT"]  # a second apply writes nothing


def test_drift_over_http(org_file: Path, env: dict[str, str], console_server: RunningServer) -> None:
    run("apply", "org.yaml", "--auto-approve", env=env)
    direct = HttpConsole(console_server.url, TOKEN)
    live = direct.read(ORG)
    assert live.document is not None
    direct.write(ORG, Document(False, live.document.config), live.revision)
    direct.close()
    result = run("drift", "org.yaml", env=env)
    assert result.exit_code == 2 and "  ~ enabled: false -> true" in result.stdout


def test_saved_plan_over_http_and_its_refusal_when_stale(
    org_file: Path, env: dict[str, str], console_server: RunningServer
) -> None:
    assert run("plan", "org.yaml", "--out", "reviewed.plan", env=env).exit_code == 0
    assert run("apply", "reviewed.plan", env=env).exit_code == 0
    org_file.write_text(org_file.read_text().replace("telemetryEnabled: true", "telemetryEnabled: false"))
    run("plan", "org.yaml", "--out", "second.plan", env=env)
    other = LocalConsole(console_server.database)  # someone else changed it in between, differently
    live = other.read(ORG)
    assert live.document is not None
    other.write(ORG, Document(True, {**live.document.config, "kanbanEnabled": True}), None)
    other.close()
    stale = run("apply", "second.plan", env=env)
    assert stale.exit_code == 1 and "plan is stale" in stale.stderr


def test_a_concurrent_write_between_read_and_write_is_refused_by_if_match(
    org_file: Path, console_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_KEY", SECRET)
    console = HttpConsole(console_server.url, TOKEN, retries=0)
    plan = make_plan(["org.yaml"], console, {"AZURE_OPENAI_KEY": SECRET})
    other = LocalConsole(console_server.database)
    other.write(ORG, Document(True, {"version": "v1", "kanbanEnabled": True}), None)  # lands after the read
    other.close()
    [result] = apply_plan(plan, console)
    console.close()
    assert result.outcome == "failed" and "(412)" in (result.error or "")
    assert (
        run(
            "history", ORG, env={"CLINESYNC_CONSOLE": console_server.url, "CLINE_API_KEY": TOKEN}
        ).stdout.count("true")
        == 1
    )


def test_export_history_and_rollback_over_http(org_file: Path, env: dict[str, str]) -> None:
    run("apply", "org.yaml", "--auto-approve", env=env)
    exported = run("export", ORG, "-o", "exported.yaml", env=env)
    assert exported.exit_code == 0 and SECRET not in Path("exported.yaml").read_text()
    # Only the credential needs a variable: the tenant header is not a secret and is written as it is.
    variables = {
        "CLINE_62121Y_OPENAICOMPATIBLE_OPENAIHEADERS_API_KEY": SECRET,
        "CLINE_62121Y_OPENAICOMPATIBLE_OPENAIHEADERS_X_TENANT_ID": "acme",
    }
    assert run("plan", "exported.yaml", "--detailed-exitcode", env={**env, **variables}).exit_code == 0
    org_file.write_text(org_file.read_text().replace("telemetryEnabled: true", "telemetryEnabled: false"))
    run("apply", "org.yaml", "--auto-approve", env=env)
    assert [line.split()[0] for line in run("history", ORG, env=env).stdout.splitlines()[3:]] == ["1", "2"]
    rolled = run("rollback", ORG, "--to", "1", "--auto-approve", env=env)
    assert rolled.exit_code == 0, rolled.output
    assert run("drift", "org.yaml", env=env).exit_code == 2  # live is revision 1 again, the file says false


def test_a_console_that_refuses_writes(org_file: Path, tmp_path: Path) -> None:
    read_only = start_server(tmp_path / "hosted.db", read_only=True)
    try:
        env = {"CLINESYNC_CONSOLE": read_only.url, "CLINE_API_KEY": TOKEN, "AZURE_OPENAI_KEY": SECRET}
        result = run("apply", "org.yaml", "--auto-approve", env=env)
    finally:
        read_only.stop()
    assert result.exit_code == 1
    assert "does not accept writes of remote configuration (HTTP 405)" in result.stdout
    assert "Use `clinesync apply --manual`" in result.stdout


def test_apply_manual_prints_the_steps_and_waits_for_the_admin(org_file: Path, tmp_path: Path) -> None:
    read_only = start_server(tmp_path / "hosted.db", read_only=True)
    env = {"CLINESYNC_CONSOLE": read_only.url, "CLINE_API_KEY": TOKEN, "AZURE_OPENAI_KEY": SECRET}
    target = make_plan(["org.yaml"], LocalConsole(tmp_path / "scratch.db"), env).organizations[0].target
    assert target is not None

    def admin_clicks_save() -> None:
        time.sleep(0.5)
        console = LocalConsole(read_only.database)
        console.write(ORG, target, None)
        console.close()

    clicker = threading.Thread(target=admin_clicks_save)
    clicker.start()
    try:
        result = run("apply", "org.yaml", "--manual", "--timeout", "20", "--poll-interval", "0.2", env=env)
    finally:
        clicker.join()
        read_only.stop()
    assert result.exit_code == 0, result.output
    steps = result.stdout
    assert "  1. Open Settings → Cline Settings in the admin console (app.cline.bot)." in steps
    assert "Enable settings: turn on" in steps
    assert (
        "API Provider → OpenAI Compatible: choose it in the API Provider dropdown" not in steps
    )  # leaves only
    assert (
        'API Provider → OpenAI Compatible → Base URL: set to "https://acme.openai.azure.com/openai/deployments/gpt-4o"'
        in steps
    )
    assert "Custom Headers → api-key: set to (sensitive): paste the value of ${env:AZURE_OPENAI_KEY}" in steps
    assert "Close the provider panel and press Save on the settings page." in steps
    assert f"{ORG} (Acme Engineering, org.yaml): matches the files (verified)" in steps
    assert "Saved in the console; members pick it up at their Cline's next refresh, within the hour" in steps
    assert SECRET not in result.output


def test_apply_manual_times_out_when_nothing_changes(org_file: Path, tmp_path: Path) -> None:
    read_only = start_server(tmp_path / "hosted.db", read_only=True)
    try:
        env = {"CLINESYNC_CONSOLE": read_only.url, "CLINE_API_KEY": TOKEN, "AZURE_OPENAI_KEY": SECRET}
        result = run("apply", "org.yaml", "--manual", "--timeout", "0.5", "--poll-interval", "0.1", env=env)
    finally:
        read_only.stop()
    assert result.exit_code == 1
    assert f"{ORG} (Acme Engineering, org.yaml): still differs after 0.5 s:" in result.stdout


def test_wrong_token_server_down_and_missing_token_are_one_line(
    org_file: Path, console_server: RunningServer
) -> None:
    wrong = run(
        "plan",
        "org.yaml",
        env={
            "CLINESYNC_CONSOLE": console_server.url,
            "CLINE_API_KEY": "wrong-token-1234",
            "AZURE_OPENAI_KEY": SECRET,
        },
    )
    assert wrong.exit_code == 1
    assert "refused the token (401): check CLINE_API_KEY or --token-file" in wrong.stdout
    assert "wrong-token-1234" not in wrong.output
    missing = run("plan", "org.yaml", env={"CLINESYNC_CONSOLE": console_server.url, "CLINE_API_KEY": ""})
    assert (missing.exit_code, missing.stderr) == (
        1,
        "Error: no console token: set CLINE_API_KEY or pass --token-file FILE\n",
    )
    url = console_server.url
    console_server.stop()
    down = run(
        "plan",
        "org.yaml",
        env={
            "CLINESYNC_CONSOLE": url,
            "CLINE_API_KEY": TOKEN,
            "CLINESYNC_RETRIES": "0",
            "AZURE_OPENAI_KEY": SECRET,
        },
    )
    assert down.exit_code == 1 and f"cannot reach {url} (connection refused)" in down.stdout


def test_the_token_file(org_file: Path, console_server: RunningServer) -> None:
    write(Path("token"), TOKEN + "\n")
    env = {"CLINESYNC_CONSOLE": console_server.url, "CLINE_API_KEY": "", "AZURE_OPENAI_KEY": SECRET}
    assert run("plan", "org.yaml", "--token-file", "token", env=env).exit_code == 0


def test_a_planted_token_never_appears_in_output_or_the_server_log(
    org_file: Path, env: dict[str, str], console_server: RunningServer
) -> None:
    outputs = [
        run(*verbose, *command, env=env).output
        for verbose in ((), ("-v",))
        for command in (
            ("plan", "org.yaml"),
            ("plan", "org.yaml", "--format", "json"),
            ("apply", "org.yaml", "--auto-approve"),
            ("drift", "org.yaml", "--format", "markdown"),
            ("export", ORG),
            ("history", ORG),
            ("rollback", ORG, "--to", "1", "--auto-approve"),
            ("plan", "org.yaml", "--out", "p.plan"),
        )
    ]
    outputs.append(
        run("plan", "org.yaml", env={**env, "CLINE_API_KEY": TOKEN + "x"}).output
    )  # a near miss, 401
    for text in [*outputs, console_server.log.getvalue(), Path("p.plan").read_text()]:
        assert TOKEN not in text and SECRET not in text


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_tls_is_verified_and_ssl_cert_file_is_honoured(org_file: Path, tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path / "tls")
    served = start_server(tmp_path / "tls.db")
    front = HttpsFront(served, cert, key)
    env = {
        "CLINESYNC_CONSOLE": front.url,
        "CLINE_API_KEY": TOKEN,
        "AZURE_OPENAI_KEY": SECRET,
        "CLINESYNC_RETRIES": "0",
    }
    try:
        untrusted = run("plan", "org.yaml", env={**env, "SSL_CERT_FILE": ""})
        trusted = run("plan", "org.yaml", "--detailed-exitcode", env={**env, "SSL_CERT_FILE": str(cert)})
    finally:
        front.stop()
        served.stop()
    assert untrusted.exit_code == 1 and "TLS certificate not trusted: set SSL_CERT_FILE" in untrusted.stdout
    assert trusted.exit_code == 2, trusted.output


def test_the_console_is_reached_through_the_proxy_the_environment_names(
    org_file: Path, env: dict[str, str], console_server: RunningServer
) -> None:
    # The "proxy" is the console server itself: a forward proxy is sent the whole URL, which it serves.
    proxied = {**env, "CLINESYNC_CONSOLE": "http://console.example.test", "HTTP_PROXY": console_server.url}
    planned = run(
        "plan", "org.yaml", "--detailed-exitcode", "--insecure-http", env={**proxied, "NO_PROXY": ""}
    )
    assert planned.exit_code == 2, planned.output
    assert console_server.server.requests["GET"] == 1
    bypassed = run("plan", "org.yaml", "--insecure-http", env={**proxied, "NO_PROXY": "console.example.test"})
    assert (
        bypassed.exit_code == 1 and "console.example.test" in bypassed.stderr
    )  # straight there: no such host
    assert console_server.server.requests["GET"] == 1


@pytest.mark.parametrize(
    ("environ", "url", "proxy"),
    [
        ({}, "https://api.cline.bot", None),
        (
            {"HTTPS_PROXY": "proxy.corp.example:3128"},
            "https://api.cline.bot",
            "http://proxy.corp.example:3128",
        ),
        ({"HTTP_PROXY": "http://p.example:8080"}, "https://api.cline.bot", None),
        ({"ALL_PROXY": "http://p.example:8080"}, "https://api.cline.bot", "http://p.example:8080"),
        ({"HTTPS_PROXY": "http://p.example:8080", "NO_PROXY": ".cline.bot"}, "https://api.cline.bot", None),
    ],
)
def test_the_proxy_is_the_one_the_environment_names_for_the_console(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], url: str, proxy: str | None
) -> None:
    from clinesync.consoles.trust import environment_proxy

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        for spelling in (name, name.lower()):
            monkeypatch.delenv(spelling, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert environment_proxy(url) == proxy


class _TunnellingProxy:
    """A forward proxy that answers CONNECT by piping bytes to the target: what a corporate proxy does for
    https://. Records each CONNECT line and its Proxy-Authorization; bound to 127.0.0.1, stopped by the test."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                head += client.recv(4096)
            lines = head.decode("latin-1").split("\r\n")
            authorization = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in lines
                    if line.lower().startswith("proxy-authorization:")
                ),
                None,
            )
            self.seen.append((lines[0], authorization))
            host, port = lines[0].split()[1].rsplit(":", 1)
            with socket.create_connection((host, int(port))) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
                _pipe(client, upstream)

    def stop(self) -> None:
        self.listener.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the other side closed first


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_an_https_console_is_reached_through_the_proxys_tunnel(org_file: Path, tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path / "tls")
    served = start_server(tmp_path / "tls.db")
    front = HttpsFront(served, cert, key)
    proxy = _TunnellingProxy()
    env = {
        "CLINESYNC_CONSOLE": front.url,
        "CLINE_API_KEY": TOKEN,
        "AZURE_OPENAI_KEY": SECRET,
        "SSL_CERT_FILE": str(cert),
        "HTTPS_PROXY": proxy.url.replace("http://", "http://corp-user:tunnel-pass-77@"),
        "NO_PROXY": "",
    }
    try:
        planned = run("plan", "org.yaml", "--detailed-exitcode", env=env)
    finally:
        proxy.stop()
        front.stop()
        served.stop()
    assert planned.exit_code == 2, planned.output  # read through the tunnel: changes to make
    port = front.url.rsplit(":", 1)[1]
    assert proxy.seen == [(f"CONNECT 127.0.0.1:{port} HTTP/1.0", "Basic Y29ycC11c2VyOnR1bm5lbC1wYXNzLTc3")]
    assert served.server.requests["GET"] == 1  # the console saw the read, over TLS inside the tunnel
    assert "tunnel-pass-77" not in planned.output
