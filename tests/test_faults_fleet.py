"""Under faults: fail fast, fail once, report every organization, never call a fake console real.

Through the CLI, against consoles on 127.0.0.1 that are down, refuse the token, answer garbage, or are not
consoles at all. Connection attempts are counted at the socket, so "fail once" is a number, not a feeling."""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import json
import shutil
import socket
import sqlite3
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clinesync.cli import app
from clinesync.consoles.wire import _connect_failure

from fake_llm import JsonHandler, serving
from support import TOKEN, HttpsFront, run, self_signed_certificate, start_server, write


def org_id(index: int) -> str:
    return f"org-01JZPE4CHW5XTP73W9{index:08d}"


def fleet(directory: Path, count: int) -> None:
    for index in range(count):
        write(
            directory / f"org-{index:03d}.yaml",
            f"organization: {org_id(index)}\nremoteConfig:\n  kanbanEnabled: true\n",
        )


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every TCP connection attempt this test makes, by address."""
    attempts: list[Any] = []
    guarded = socket.socket.connect

    def counted(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        return guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", counted)
    return attempts


def refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # bound, never listening: connections are refused


def test_a_dead_console_is_tried_once_per_worker_and_the_rest_is_not_attempted(
    in_tmp: Path, connections: list[Any]
) -> None:
    fleet(in_tmp / "orgs", 48)
    env = {
        "CLINESYNC_CONSOLE": f"http://127.0.0.1:{refused_port()}",
        "CLINE_API_KEY": TOKEN,
        "CLINESYNC_RETRIES": "2",
    }
    result = run("drift", "orgs", "--parallelism", "4", env=env)
    assert result.exit_code == 1
    assert result.stdout.count("not attempted: console unreachable") >= 48 - 4
    assert "connection refused" in result.stdout
    # At most the 4 workers' first organizations each make their 3 attempts; no one else connects.
    assert len(connections) <= 4 * 3
    assert result.stdout.rstrip().splitlines()[-1].startswith("Drift: ")  # the summary is always printed
    assert result.stderr.count("Error: org-") == 48  # each failure on stderr too (SPEC §3)


def test_a_refused_token_settles_the_fleet_after_one_answer_per_worker(in_tmp: Path, tmp_path: Path) -> None:
    fleet(in_tmp / "orgs", 30)
    server = start_server(tmp_path / "served.db")
    try:
        env = {"CLINESYNC_CONSOLE": server.url, "CLINE_API_KEY": "wrong-token-4411", "CLINESYNC_RETRIES": "3"}
        result = run("plan", "orgs", "--parallelism", "2", env=env)
        reads = server.server.requests["GET"]
    finally:
        server.stop()
    assert result.exit_code == 1
    assert "refused the token (401)" in result.stdout
    assert result.stdout.count("not attempted: console unreachable") >= 28
    assert reads <= 2


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_an_untrusted_certificate_is_not_retried_and_is_named(
    in_tmp: Path, tmp_path: Path, connections: list[Any]
) -> None:
    fleet(in_tmp / "orgs", 10)
    cert, key = self_signed_certificate(tmp_path / "tls")
    server = start_server(tmp_path / "tls.db")
    front = HttpsFront(server, cert, key)
    try:
        env = {
            "CLINESYNC_CONSOLE": front.url,
            "CLINE_API_KEY": TOKEN,
            "CLINESYNC_RETRIES": "4",
            "SSL_CERT_FILE": "",
        }
        result = run("plan", "orgs", "--parallelism", "1", env=env)
    finally:
        front.stop()
        server.stop()
    assert result.exit_code == 1
    assert "TLS certificate not trusted: set SSL_CERT_FILE" in result.stdout
    assert len(connections) == 1  # not retried, and the other nine not attempted


def test_dns_and_tls_failures_are_told_apart_from_the_network() -> None:
    dns = _connect_failure(socket.gaierror(-2, "Name or service not known"))
    assert (str(dns), dns.final, dns.whole_console) == (
        "host not found (DNS): check the console URL",
        True,
        True,
    )
    tls = _connect_failure(ssl.SSLCertVerificationError(1, "certificate verify failed"))
    assert "TLS certificate not trusted" in str(tls) and tls.final and tls.whole_console
    refused = _connect_failure(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"))
    assert (str(refused), refused.final, refused.whole_console) == ("connection refused", False, True)
    for number, named in (
        (errno.ENETUNREACH, "network unreachable"),
        (errno.EHOSTUNREACH, "host unreachable"),
        (errno.ECONNRESET, "connection reset"),
        (errno.EACCES, "connection failed"),
    ):
        failed = _connect_failure(OSError(number, "whatever the system says"))
        assert (str(failed), failed.whole_console) == (named, True)


class _OddConsole(JsonHandler):
    """Answers each organization its own way: garbage encoding, a value nested 5,000 deep, or well."""

    def do_GET(self) -> None:
        body = json.dumps({"success": True, "data": {"enabled": True, "value": '{"version":"v1"}'}}).encode()
        if org_id(0) in self.path:
            self._answer_bytes(200, b"\x1f\x8b this is not gzip", Content_Encoding="gzip")
        elif org_id(1) in self.path:
            value = '{"version":"v1","x":' + "[" * 5000 + "]" * 5000 + "}"
            self._answer(200, {"success": True, "data": {"enabled": True, "value": value}})
        elif org_id(2) in self.path:
            self._answer_bytes(200, gzip.compress(body), Content_Encoding="gzip")  # well encoded: fine
        else:
            self._answer_bytes(200, body)


@pytest.fixture
def odd_console() -> Iterator[str]:
    with serving(_OddConsole) as url:
        yield url


@pytest.mark.parametrize("parallelism", ["1", "16"])  # one at a time: the bad answers come before the rest
def test_one_bad_answer_fails_its_organization_only(in_tmp: Path, odd_console: str, parallelism: str) -> None:
    fleet(in_tmp / "orgs", 4)
    env = {"CLINESYNC_CONSOLE": odd_console, "CLINE_API_KEY": TOKEN, "CLINESYNC_RETRIES": "0"}
    result = run("plan", "orgs", "--format", "json", "--parallelism", parallelism, env=env)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    actions = [org["action"] for org in report["organizations"]]
    assert actions == ["failed", "failed", "update", "update"]
    assert "Content-Encoding could not be decoded" in report["organizations"][0]["error"]
    assert "nested" in report["organizations"][1]["error"]
    assert report["summary"]["failed"] == 2 and "internal error" not in result.output


@pytest.mark.parametrize(
    ("target", "suggestion"),
    [
        ("api.cline.bot", "did you mean https://api.cline.bot?"),
        ("htps://api.cline.bot", "did you mean https://api.cline.bot?"),
        ("localhost:8787", "did you mean https://localhost:8787?"),
    ],
)
def test_a_console_that_looks_like_a_host_is_refused_never_created(
    in_tmp: Path, target: str, suggestion: str
) -> None:
    write(in_tmp / "org.yaml", f"organization: {org_id(0)}\n")
    for command in (("plan", "org.yaml"), ("apply", "org.yaml", "--auto-approve")):
        result = run(*command, "--console", target)
        assert result.exit_code == 1 and suggestion in result.stderr
    assert sorted(path.name for path in in_tmp.iterdir()) == ["org.yaml"]


def test_in_ci_apply_and_rollback_refuse_an_embedded_console_nobody_named(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(in_tmp / "org.yaml", f"organization: {org_id(0)}\n")
    monkeypatch.setenv("CI", "true")
    for command in (
        ("apply", "org.yaml", "--auto-approve"),
        ("rollback", org_id(0), "--to", "1", "--auto-approve"),
    ):
        refused = run(*command)
        assert refused.exit_code == 1 and "CI is set and no console is named" in refused.stderr
    assert not (in_tmp / ".clinesync").exists()
    named = run("apply", "org.yaml", "--auto-approve", "--console", ".clinesync/console.db")
    assert named.exit_code == 0 and "1 applied" in named.stdout
    assert run("plan", "org.yaml").exit_code == 0  # reading the one that is there needs no naming


@pytest.mark.parametrize("command", [("plan",), ("drift",), ("pull",)])
def test_in_ci_a_read_of_an_embedded_console_that_is_not_there_is_refused(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    """A repository variable left unset (CLINESYNC_CONSOLE empty) must not turn into a plan of creates, or a
    drift in every organization, read from an empty stand-in."""
    write(
        in_tmp / "org.yaml",
        f"organization: {org_id(0)}\nremoteConfig:\n  providerSettings:\n    OpenAiCompatible:\n"
        "      openAiBaseUrl: https://llm.example.com/v1\n      openAiHeaders:\n        api-key: ${env:UNSET_KEY}\n",
    )
    monkeypatch.setenv("CI", "true")
    refused = run(*command, "org.yaml", env={"CLINESYNC_CONSOLE": ""})
    assert refused.exit_code == 1, refused.output
    assert "no local console at" in refused.stderr and "empty stand-in" in refused.stderr
    assert "[CS170]" not in refused.output  # refused before any file's problems
    assert "create" not in refused.stdout and "drift" not in refused.stdout.lower()
    assert not (in_tmp / ".clinesync").exists()


def digest(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file()
    }


def test_read_only_commands_write_nothing_and_refuse_what_is_not_a_console(in_tmp: Path) -> None:
    write(in_tmp / "org.yaml", f"organization: {org_id(0)}\nremoteConfig:\n  kanbanEnabled: true\n")
    assert run("apply", "org.yaml", "--auto-approve").exit_code == 0
    before = digest(in_tmp / ".clinesync")
    for command in (
        ("plan", "org.yaml"),
        ("drift", "org.yaml"),
        ("history", org_id(0)),
        ("export", org_id(0)),
    ):
        assert run(*command).exit_code == 0, command
    assert digest(in_tmp / ".clinesync") == before  # no journal mode switch, no table, no -wal file
    typo = run("drift", "org.yaml", "--console", "consol.db")
    assert typo.exit_code == 1 and "there is no local console at consol.db" in typo.stderr
    assert not (in_tmp / "consol.db").exists()
    with sqlite3.connect(in_tmp / "other.db") as other:
        other.execute("CREATE TABLE notes (body TEXT)")
    other_before = digest(in_tmp)["other.db"]
    for command in (("plan", "org.yaml"), ("apply", "org.yaml", "--auto-approve")):
        refused = run(*command, "--console", "other.db")
        assert refused.exit_code == 1 and "not a clinesync console" in refused.stderr
    assert digest(in_tmp)["other.db"] == other_before
    (in_tmp / "text.db").write_text("not a database at all\n")
    assert "not a SQLite database" in run("plan", "org.yaml", "--console", "text.db").stderr


def test_serve_commits_in_the_log_and_leaves_every_write_in_the_database_file(in_tmp: Path) -> None:
    import subprocess
    import sys

    from clinesync.consoles.local import LocalConsole

    def mode() -> str:
        with contextlib.closing(sqlite3.connect(in_tmp / "c.db")) as database:
            return str(database.execute("PRAGMA journal_mode").fetchone()[0])

    def in_the_file_alone() -> int:
        """Revisions a copy of the database file alone holds: what a backup of it keeps."""
        copy = in_tmp / "copy.db"
        copy.write_bytes((in_tmp / "c.db").read_bytes())
        with contextlib.closing(sqlite3.connect(copy)) as database:
            return int(database.execute("SELECT COUNT(*) FROM revisions").fetchone()[0])

    write(in_tmp / "org.yaml", f"organization: {org_id(0)}\n")
    assert run("apply", "org.yaml", "--auto-approve", "--console", "c.db").exit_code == 0
    assert mode() == "delete" and not list(in_tmp.glob("c.db-*"))  # apply: the journal, nothing beside it
    served = LocalConsole(in_tmp / "c.db", wal=True)  # as serve opens it
    assert mode() == "wal"  # one append and one fsync per commit
    # Another process reads it (a drift) while serve writes and then stops.
    holding = (
        "import sys\nfrom clinesync.consoles.local import LocalConsole\n"
        f"console = LocalConsole({str(in_tmp / 'c.db')!r}, read_only=True)\nconsole.read('x')\n"
        "print('open', flush=True)\nsys.stdin.readline()\nconsole.close()\n"
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", holding], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline() == "open\n"
        document = served.read(org_id(0)).document
        assert document is not None
        served.write(org_id(0), document, None)
        served.close()
        assert in_the_file_alone() == 2  # the log could not be left, but it was emptied into the file
    finally:
        reader.communicate("close\n", timeout=30)
    LocalConsole(in_tmp / "c.db", wal=True).close()  # with no one else there, the log is left
    assert mode() == "delete" and not list(in_tmp.glob("c.db-*"))
    assert run("drift", "org.yaml", "--console", "c.db").exit_code == 0


def test_a_corrupt_row_is_one_line(in_tmp: Path) -> None:
    write(in_tmp / "org.yaml", f"organization: {org_id(0)}\n")
    assert run("apply", "org.yaml", "--auto-approve").exit_code == 0
    with sqlite3.connect(in_tmp / ".clinesync" / "console.db") as database:
        database.execute("UPDATE revisions SET value = 42")  # not text: no clinesync wrote this
    result = run("plan", "org.yaml")
    assert result.exit_code == 1 and "the stored value is not a JSON object" in result.output
    assert "internal error" not in result.output


@pytest.mark.parametrize(
    ("ending", "code", "said"),
    [
        (KeyboardInterrupt(), 130, "Interrupted."),  # Ctrl-C
        (app.Terminated(15), 143, "Interrupted."),  # SIGTERM: a cancelled CI job
        (EOFError(), 1, "Aborted."),  # the prompt's input ended
    ],
)
def test_an_interrupt_at_the_prompt_is_one_line_and_exit_128_plus_the_signal(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, ending: BaseException, code: int, said: str
) -> None:
    """As click's own prompt ends (termui.prompt: the interruption, or the end of input, becomes its Abort
    `from None`; the test runner replaces the prompt's input function, so this stands in for the prompt)."""
    write(in_tmp / "org.yaml", f"organization: {org_id(0)}\n")
    monkeypatch.setattr(app, "stdin_is_terminal", lambda: True)

    def typing(*args: Any, **kwargs: Any) -> str:
        try:
            raise ending
        except (KeyboardInterrupt, EOFError):
            raise app.click.Abort() from None

    monkeypatch.setattr(app.click, "prompt", typing)
    result = run("apply", "org.yaml")
    assert result.exit_code == code
    assert said in result.stderr and "internal error" not in result.output
    assert "has no revisions" in run("history", org_id(0)).output
    assert run("apply", "org.yaml", "--auto-approve").exit_code == 0  # and a rerun converges


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"SSL_CERT_FILE": "/nonexistent/ca.pem"},
            "SSL_CERT_FILE names /nonexistent/ca.pem, which is not a file",
        ),
        ({"CLINE_API_KEY": "tökén-with-ümlauts"}, "holds characters an HTTP header cannot carry"),
    ],
)
def test_environment_mistakes_are_one_line(in_tmp: Path, environ: dict[str, str], message: str) -> None:
    write(in_tmp / "org.yaml", f"organization: {org_id(0)}\n")
    env = {"CLINESYNC_CONSOLE": "http://127.0.0.1:9", "CLINE_API_KEY": TOKEN, **environ}
    result = run("plan", "org.yaml", env=env)
    assert result.exit_code == 1 and message in result.stderr
    assert "internal error" not in result.output and "tökén" not in result.output


class _DrippingConsole(JsonHandler):
    """Sends its headers, then a byte of the body at a time, slower than any run should wait."""

    def do_GET(self) -> None:
        body = b'{"success": true, "data": null}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in body:  # bounded: 31 bytes, 0.3 s apart
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.3)


class _EndlessConsole(JsonHandler):
    """Announces a 20 MiB answer, or streams one without announcing its length."""

    def do_GET(self) -> None:
        if org_id(0) in self.path:
            self.send_response(200)
            self.send_header("Content-Length", str(20 * 1024 * 1024))
            self.end_headers()
            return  # never sends it: the client must refuse it unread
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b" " * 65536
        try:
            for _ in range(200):  # bounded: 12.5 MiB at most
                self.wfile.write(chunk)
        except OSError:
            return


def test_the_timeout_bounds_the_whole_answer_not_each_read(in_tmp: Path) -> None:
    fleet(in_tmp / "orgs", 1)
    with serving(_DrippingConsole) as url:
        env = {
            "CLINESYNC_CONSOLE": url,
            "CLINE_API_KEY": TOKEN,
            "CLINESYNC_RETRIES": "0",
            "CLINESYNC_TIMEOUT": "1",
        }
        result = run("plan", "orgs", env=env)
    assert result.exit_code == 1
    assert "did not answer within the timeout" in result.stdout  # 31 bytes at 0.3 s each would take 9 s


def test_an_answer_over_8_mib_is_refused_without_reading_it_all(in_tmp: Path) -> None:
    fleet(in_tmp / "orgs", 2)
    with serving(_EndlessConsole) as url:
        env = {"CLINESYNC_CONSOLE": url, "CLINE_API_KEY": TOKEN, "CLINESYNC_RETRIES": "0"}
        result = run("plan", "orgs", "--format", "json", env=env)
    report = json.loads(result.stdout)
    errors = [org["error"] for org in report["organizations"]]
    assert all("an answer over 8 MiB" in error for error in errors), errors
