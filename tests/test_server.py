"""`clinesync serve` under abuse: tokens, bodies, odd paths, concurrent writers. Raw HTTP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from clinesync import __version__
from clinesync.consoles.server import MAX_BODY

from support import TOKEN, RunningServer, start_server

ORG = "org-01JZPE4CHW5XTP73W95762121Y"
PATH = f"/api/v1/organizations/{ORG}/remote-config"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GET_REQUEST = f"GET {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()


def client(server: RunningServer, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers=AUTH if headers is None else headers, timeout=10)


def body(config: object, enabled: bool = True) -> dict[str, object]:
    return {"enabled": enabled, "value": json.dumps(config)}


def test_reads_answer_as_clines_api(console_server: RunningServer) -> None:
    with client(console_server) as http:
        empty = http.get(PATH)
        assert (empty.status_code, empty.json(), empty.headers["ETag"]) == (
            200,
            {"success": True, "data": None},
            '"0"',
        )
        written = http.put(PATH, json=body({"version": "v1", "kanbanEnabled": True}))
        assert written.json() == {
            "success": True,
            "data": {"enabled": True, "value": '{"version":"v1","kanbanEnabled":true}'},
        }
        assert written.headers["ETag"] == '"1"'
        assert http.get(PATH).json() == written.json()
        me = http.get("/api/v1/users/me")
        assert me.status_code == 200 and me.json()["success"] is True


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}],
)
def test_missing_or_wrong_token(console_server: RunningServer, headers: dict[str, str]) -> None:
    with client(console_server, headers) as http:
        for response in (http.get(PATH), http.put(PATH, json=body({"version": "v1"})), http.get("/nowhere")):
            assert (response.status_code, response.json()) == (
                401,
                {"success": False, "error": "missing or wrong token"},
            )


def test_oversized_body_is_refused_unread(console_server: RunningServer) -> None:
    with client(console_server) as http:
        big = {
            "enabled": True,
            "value": json.dumps(
                {
                    "version": "v1",
                    "globalRules": [{"name": "r", "alwaysEnabled": True, "contents": "x" * (MAX_BODY + 1)}],
                }
            ),
        }
        response = http.put(PATH, json=big)
        assert response.status_code == 413
        assert http.get(PATH).json()["data"] is None


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"{not json", "body is not JSON"),
        (b"[1, 2]", 'body must be {"enabled": bool'),
        (json.dumps({"enabled": "yes", "value": "{}"}).encode(), 'body must be {"enabled": bool'),
        (json.dumps({"enabled": True, "value": "{oops"}).encode(), "value is not a JSON string"),
        (
            json.dumps(body({"version": "v1", "telemetryEnabled": "secret-ish-value"})).encode(),
            "invalid RemoteConfig: telemetryEnabled: must be true or false",
        ),
        (
            json.dumps(body({"providerSettings": {}})).encode(),
            "invalid RemoteConfig: value: missing 'version'",
        ),
        # Values Cline's JSON.parse cannot read, and text that is not text: 400, never stored, never a 500.
        (
            b'{"enabled": true, "value": "{\\"version\\": \\"v1\\", \\"x\\": NaN}"}',
            "value is not JSON that Cline",
        ),
        (
            json.dumps(body({"version": "v1", "openTelemetryLogBatchSize": float("inf")})).encode(),
            "value is not JSON that Cline can read: Infinity",
        ),
        (
            json.dumps({"enabled": True, "value": '{"version": "v1", "kanbanEnabled": 1e400}'}).encode(),
            "value is not JSON that Cline can read: 1e400",
        ),
        (b'{"enabled": NaN, "value": "{}"}', "body is not strict JSON"),
        (
            json.dumps({"enabled": True, "value": '{"version": "\\ud800"}'}).encode(),
            "value holds a lone surrogate",
        ),
        (
            json.dumps({"enabled": True, "value": "[" * 100_000 + "]" * 100_000}).encode(),
            "value is not JSON that Cline can read: nested",
        ),
        (
            json.dumps(
                {
                    "enabled": True,
                    "value": json.dumps({"version": "v1", "providerSettings": {"x": [[[[[[[[]]]]]]]]}}),
                }
            ).encode(),
            "invalid RemoteConfig",
        ),
        (
            b'{"enabled": true, "value": "{}", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "body is not strict JSON: nested",
        ),
    ],
)
def test_malformed_bodies_and_invalid_values(
    console_server: RunningServer, content: bytes, error: str
) -> None:
    with client(console_server) as http:
        response = http.put(PATH, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"].startswith(error)
    assert "secret-ish-value" not in response.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/organizations/org-..%2F..%2Fetc/remote-config", 400),
        ("/api/v1/organizations/..%2Forg-x/remote-config", 400),
        ("/api/v1/organizations/org-x/%2e%2e/org-y/remote-config", 404),
        (f"/api/v1/organizations/org-{'a' * 5000}/remote-config", 400),
        ("/api/v1/organizations/org-%00x/remote-config", 400),
        ("/api/v1/organizations//remote-config", 404),
        ("/etc/passwd", 404),
    ],
)
def test_odd_organization_ids_and_paths(console_server: RunningServer, path: str, status: int) -> None:
    with client(console_server) as http:
        assert http.get(path).status_code == status


def test_other_methods(console_server: RunningServer) -> None:
    with client(console_server) as http:
        assert http.delete(PATH).status_code == 405
        assert http.put(PATH + "/revisions", json=body({"version": "v1"})).status_code == 405


def test_if_match_mismatch_is_412_and_nothing_changes(console_server: RunningServer) -> None:
    with client(console_server) as http:
        http.put(PATH, json=body({"version": "v1"}))
        refused = http.put(
            PATH, json=body({"version": "v1", "kanbanEnabled": False}), headers={"If-Match": '"0"'}
        )
        assert refused.status_code == 412
        garbage = http.put(PATH, json=body({"version": "v1"}), headers={"If-Match": "nonsense"})
        assert garbage.status_code == 412
        assert http.get(PATH).headers["ETag"] == '"1"'


def test_many_concurrent_writers_lose_no_update(console_server: RunningServer) -> None:
    """Sixteen writers each add their rule with read, PUT If-Match, retry on 412: every rule survives and
    every acknowledged write is a revision."""
    acknowledged = []

    def writer(index: int) -> None:
        with client(console_server) as http:
            for _ in range(200):  # bounded
                read = http.get(PATH)
                data = read.json()["data"]
                config = json.loads(data["value"]) if data else {"version": "v1"}
                config["globalRules"] = [
                    *config.get("globalRules", []),
                    {"name": f"rule{index}", "alwaysEnabled": False, "contents": "x"},
                ]
                answer = http.put(PATH, json=body(config), headers={"If-Match": read.headers["ETag"]})
                if answer.status_code == 200:
                    acknowledged.append(answer.headers["ETag"])
                    return
                assert answer.status_code == 412

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with client(console_server) as http:
        final = json.loads(http.get(PATH).json()["data"]["value"])
        history = http.get(PATH + "/revisions").json()["data"]
    assert sorted(rule["name"] for rule in final["globalRules"]) == sorted(
        f"rule{index}" for index in range(16)
    )
    assert len(acknowledged) == len(history) == 16


def test_a_stalled_client_does_not_hold_the_server(console_server: RunningServer) -> None:
    with socket.create_connection(console_server.server.server_address[:2]) as stalled:
        stalled.sendall(b"PUT " + PATH.encode() + b" HTTP/1.1\r\nHost: x\r\n")  # never finishes
        with client(console_server) as http:
            assert http.get(PATH).status_code == 200


def test_the_log_records_requests_but_never_tokens_or_bodies(console_server: RunningServer) -> None:
    with client(console_server) as http:
        http.put(
            PATH, json=body({"version": "v1", "openTelemetryOtlpHeaders": {"x-key": "body-secret-1234"}})
        )
        http.get(PATH, headers={"Authorization": "Bearer a-wrong-token-5678"})
    log = console_server.log.getvalue()
    assert f"PUT {PATH} 200" in log and f"GET {PATH} 401" in log
    for secret in (TOKEN, "body-secret-1234", "a-wrong-token-5678"):
        assert secret not in log


def test_clinesync_serve_runs_binds_loopback_and_stops_on_sigterm(tmp_path: Path) -> None:
    (tmp_path / "tokens").write_text(f"# accepted tokens\n{TOKEN}\n")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clinesync",
            "serve",
            "--db",
            str(tmp_path / "c.db"),
            "--port",
            "0",
            "--token-file",
            str(tmp_path / "tokens"),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        assert first.startswith("clinesync console server on http://127.0.0.1:"), first
        url = first.split(" on ", 1)[1].split(" ", 1)[0]
        with httpx.Client(base_url=url, headers=AUTH, timeout=10) as http:
            assert http.get(PATH).status_code == 200
        host, port = url.removeprefix("http://").rsplit(":", 1)
        dripping = socket.create_connection((host, int(port)), timeout=5)  # a request that never ends
        dripping.sendall(f"GET {PATH} HTTP/1.1\r\nX-Drip: 1\r\n".encode())
        time.sleep(0.3)  # read by the server now, its headers unfinished
    finally:
        stopping = time.monotonic()
        server.send_signal(signal.SIGTERM)
        _, rest = server.communicate(timeout=20)
    dripping.close()
    assert time.monotonic() - stopping < 5  # not held until the dripping client's header deadline
    assert server.returncode == 0
    assert "Stopped." in rest and TOKEN not in first + rest


def test_a_wrong_token_ends_its_connection(console_server: RunningServer) -> None:
    wrong = f"GET {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer not-a-token\r\n\r\n"
    answer = raw(console_server, (wrong * 3).encode(), timeout=5)  # closed after the first: no second guess
    assert answer.count(b"HTTP/1.1 401") == 1 and b"Connection: close" in answer


def test_serve_without_tokens_refuses_to_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clinesync", "serve", "--db", str(tmp_path / "c.db"), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={k: v for k, v in os.environ.items() if k != "CLINESYNC_SERVER_TOKENS"},
    )
    assert result.returncode == 1
    assert (
        result.stderr
        == "Error: the server needs at least one token: --token-file or CLINESYNC_SERVER_TOKENS\n"
    )


def serve_process(database: Path, **options: Any) -> tuple[subprocess.Popen[bytes], str]:
    """`clinesync serve` in a process of its own on a free port, its log on a pipe: the process and its URL."""
    server = subprocess.Popen(
        [sys.executable, "-m", "clinesync", "serve", "--db", str(database), "--port", "0"],
        env={**os.environ, "CLINESYNC_SERVER_TOKENS": TOKEN},
        stderr=subprocess.PIPE,
        **options,
    )
    assert server.stderr is not None
    return server, server.stderr.readline().decode().split(" on ", 1)[1].split(" ", 1)[0]


def raw(server: RunningServer, request: bytes, timeout: float = 10) -> bytes:
    """One request over a raw socket; the whole answer, until the server closes or the timeout passes."""
    with socket.create_connection(server.server.server_address[:2], timeout=timeout) as connection:
        connection.sendall(request)
        chunks = []
        try:
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "TRACE"])
def test_every_method_gets_the_protocols_json_and_a_log_line(
    console_server: RunningServer, method: str
) -> None:
    with client(console_server) as http:
        answer = http.request(method, PATH)
    assert answer.status_code == 405
    assert answer.headers["Content-Type"] == "application/json"
    if method != "HEAD":
        assert answer.json() == {"success": False, "error": "method not allowed"}
    assert f" {method} {PATH} 405 " in console_server.log.getvalue()


def test_the_server_header_names_no_python_version(console_server: RunningServer) -> None:
    with client(console_server) as http:
        assert http.get(PATH).headers["Server"] == f"clinesync/{__version__}"
    malformed = raw(console_server, b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n")
    assert malformed.startswith(b"HTTP/1.1 431") and b"Python" not in malformed
    assert b'{"success": false' in malformed and b"<html" not in malformed.lower()


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (f"GET {PATH}\r\n", b"400"),  # HTTP/0.9: no version, no headers
        (f"GET {PATH} HTTP/2.0\r\n", b"505"),
        (f"GET {PATH} HTTQ/1.1\r\n", b"400"),
        (f"GET {PATH} HTTP/1.1\r\nX-Folded: one\r\n two\r\n", b"400"),
        (f"GET {PATH} HTTP/1.1\r\nno colon here\r\n", b"400"),
        (f"GET {PATH} HTTP/1.1\r\nAuthorization : Bearer {TOKEN}\r\n", b"400"),
        (f"PUT {PATH} HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 200\r\n", b"400"),
        (f"GET {PATH} HTTP/1.1\r\n" + "".join(f"X-{n}: 1\r\n" for n in range(101)), b"431"),
    ],
)
def test_malformed_requests_get_the_protocols_json_and_close(
    console_server: RunningServer, request_head: str, status: bytes
) -> None:
    answer = raw(console_server, request_head.encode() + b"\r\n", timeout=5)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:80]
    assert b"Connection: close" in answer and b'{"success": false' in answer


def test_headers_are_read_by_name_whatever_their_case(console_server: RunningServer) -> None:
    head = f"GET {PATH} HTTP/1.1\r\nHOST: x\r\nauthorization:   Bearer {TOKEN}  \r\nConnection: close\r\n\r\n"
    answer = raw(console_server, head.encode(), timeout=5)
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b'{"success": true, "data": null}')


def test_a_negative_content_length_is_refused_not_read(console_server: RunningServer) -> None:
    head = f"PUT {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: -1\r\n\r\n"
    answer = raw(console_server, head.encode() + b"x" * 1000, timeout=5)
    assert answer.startswith(b"HTTP/1.1 400") and b"Content-Length must not be negative" in answer


def test_a_client_dripping_headers_is_cut_off_at_the_header_deadline(
    console_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinesync.consoles import eventloop

    monkeypatch.setattr(eventloop, "HEADER_DEADLINE", 1.0)
    closed_by_server = False
    with socket.create_connection(console_server.server.server_address[:2]) as dripping:
        dripping.settimeout(0.2)
        dripping.sendall(f"GET {PATH} HTTP/1.1\r\n".encode())
        for index in range(40):  # bounded: a header line every 0.2 s, each well within the per-read timeout
            try:
                if dripping.recv(1) == b"":
                    closed_by_server = True
                    break
            except TimeoutError:
                pass
            except OSError:
                closed_by_server = True
                break
            try:
                dripping.sendall(f"X-Drip-{index}: 1\r\n".encode())
            except OSError:
                closed_by_server = True
                break
    assert closed_by_server, "the server held a dripping client for 8 s, past its 1 s header deadline"


def test_a_client_that_disconnects_gets_one_log_line_not_a_traceback(
    console_server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.create_connection(console_server.server.server_address[:2]) as leaving:
        leaving.sendall(
            f"PUT {PATH} HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 100\r\n\r\n{{".encode()
        )
        leaving.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset
    with client(console_server) as http:
        assert http.get(PATH).status_code == 200  # still serving
    assert "Traceback" not in capsys.readouterr().err


def test_a_burst_of_200_clients_is_queued_not_refused_and_handles_are_closed(
    console_server: RunningServer,
) -> None:
    statuses: list[bytes] = []
    request = f"GET {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"

    def one() -> None:  # raw sockets: 200 HTTP clients would spend seconds loading CA bundles
        # Queued, not refused: on a loaded machine the last of 200 may wait past raw()'s usual 10 s.
        statuses.append(raw(console_server, request.encode(), timeout=60)[:12])

    threads = [threading.Thread(target=one) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [b"HTTP/1.1 200"] * 200

    # No socket or SQLite connection left behind by 200 connections: only the listening socket, and the pool's
    # idle connections, each with the write-ahead log open, and the log's shared memory once. The server's own
    # handles are counted, not the process's: this process also runs whatever an earlier test left to finish.
    # SQLite keeps a closed connection's database descriptor while another connection of the process holds a
    # lock on the file (closing it would drop that lock: POSIX locks are the process's), and every connection
    # in WAL mode holds one for its life; it reuses those descriptors for the connections it opens next, so
    # they are bounded by the connections open at once: one for the loop's thread, one for the writer's. The
    # last connections close after their answers, later still on a loaded machine: wait for them, boundedly;
    # a leak never settles.
    from clinesync.consoles.local import _KEPT_OPEN

    def settled(held: dict[str, int]) -> bool:
        return (
            held["socket"] <= 1 and held["-wal"] <= _KEPT_OPEN and held["-shm"] <= 1 and held["database"] <= 2
        )

    deadline = time.monotonic() + 20
    while not settled(_server_handles(console_server)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert settled(_server_handles(console_server)), _server_handles(console_server)


def _server_handles(running: RunningServer) -> dict[str, int]:
    """The descriptors this process holds on the server's port (either end of a connection, and the listening
    socket) and on its database's files, by kind."""
    port = running.server.server_address[1]
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as rows:
            next(rows)  # the heading
            for row in rows:
                local, remote, inode = (row.split()[column] for column in (1, 2, 9))
                if port in (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)):
                    inodes.add(f"socket:[{inode}]")
    database = str(running.server.console.path)
    held = dict.fromkeys(("socket", "database", "-wal", "-shm"), 0)
    for descriptor in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed while listed
            target = os.readlink(f"/proc/self/fd/{descriptor}")
            if target in inodes:
                held["socket"] += 1
            elif target.startswith(database):
                kind = target[len(database) :] or "database"
                held[kind] = held.get(kind, 0) + 1
    return held


def submitted(committer: object, writes: list[tuple[str, object, str | None]]) -> Callable[[], list[object]]:
    """Submits each write at once; the call returned waits (boundedly) for their results, in order."""
    from clinesync.consoles.server import Committer

    assert isinstance(committer, Committer)
    results: dict[int, object] = {}
    all_done = threading.Event()

    def done(number: int) -> object:
        def record(result: object) -> None:
            results[number] = result
            if len(results) == len(writes):
                all_done.set()

        return record

    for number, (organization, document, if_match) in enumerate(writes):
        made = document if callable(document) else (lambda kept=document: kept)
        committer.submit(organization, made, if_match, done(number))  # type: ignore[arg-type]

    def results_in_order() -> list[object]:
        assert all_done.wait(10)
        return [results[number] for number in range(len(writes))]

    return results_in_order


def test_writes_that_arrive_together_are_committed_together_each_against_its_own_if_match(
    tmp_path: Path,
) -> None:
    from clinesync.consoles.base import Live
    from clinesync.consoles.local import LocalConsole
    from clinesync.consoles.server import Committer
    from clinesync.document import Document

    console = LocalConsole(tmp_path / "console.db")
    commits = []
    write_many = console.write_many

    def counted(writes: list) -> list:  # type: ignore[type-arg]
        commits.append(len(writes))
        deadline = time.monotonic() + 10
        while len(commits) == 1 and len(committer._pending) < 23 and time.monotonic() < deadline:
            time.sleep(0.005)  # the first transaction is slow: every other write arrives meanwhile
        return write_many(writes)

    console.write_many = counted  # type: ignore[method-assign]
    committer = Committer(console)
    org = "org-01JZPE4CHW5XTP73W95762121Y"
    first = submitted(committer, [(org, Document(True, {"version": "v1", "n": 0}), "0")])
    deadline = time.monotonic() + 10
    while not commits and time.monotonic() < deadline:
        time.sleep(0.005)  # until the first is on its way to disk
    rest = submitted(committer, [(org, Document(True, {"version": "v1", "n": n}), "0") for n in range(1, 24)])
    outcomes = first() + rest()
    committer.stop()
    shown = [each.revision if isinstance(each, Live) else type(each).__name__ for each in outcomes]
    assert shown == ["1"] + ["Conflict"] * 23  # all read revision 0: one may write
    assert commits == [1, 23]  # those that arrived during the first transaction shared the next
    assert [revision.number for revision in console.history(org)] == [1]


def test_a_transaction_that_fails_fails_every_write_it_held_and_acknowledges_none(tmp_path: Path) -> None:
    from clinesync.consoles.base import ConsoleError
    from clinesync.consoles.local import LocalConsole
    from clinesync.consoles.server import Committer
    from clinesync.document import Document

    console = LocalConsole(tmp_path / "console.db")

    def broken(writes: list) -> list:  # type: ignore[type-arg]
        raise ConsoleError("disk full")

    console.write_many = broken  # type: ignore[method-assign]
    committer = Committer(console)
    outcomes = submitted(
        committer,
        [
            (f"org-01JZPE4CHW5XTP73W9576212{number:02d}", Document(True, {"version": "v1"}), None)
            for number in range(8)
        ],
    )()
    committer.stop()
    assert [str(each) for each in outcomes] == ["disk full"] * 8
    assert all(isinstance(each, ConsoleError) for each in outcomes)
    assert LocalConsole(tmp_path / "console.db").organizations() == []


def test_a_write_whose_document_cannot_be_made_fails_alone(tmp_path: Path) -> None:
    from clinesync.consoles.base import Live
    from clinesync.consoles.local import LocalConsole
    from clinesync.consoles.server import Committer, Reply
    from clinesync.document import Document

    def refused() -> Document:
        raise Reply(400, "invalid RemoteConfig")

    console = LocalConsole(tmp_path / "console.db")
    committer = Committer(console)
    first, second = "org-01JZPE4CHW5XTP73W95762121Y", "org-01JZPE4CHW5XTP73W957621220"
    outcomes = submitted(
        committer, [(first, refused, None), (second, Document(True, {"version": "v1"}), None)]
    )()
    committer.stop()
    assert isinstance(outcomes[0], Reply) and isinstance(outcomes[1], Live)
    assert [found.id for found in console.organizations()] == [second]


def test_a_write_whose_making_is_interrupted_fails_alone_and_the_writer_goes_on(tmp_path: Path) -> None:
    from clinesync.consoles.base import Live
    from clinesync.consoles.local import LocalConsole
    from clinesync.consoles.server import Committer
    from clinesync.document import Document

    def interrupted() -> Document:
        raise KeyboardInterrupt

    committer = Committer(LocalConsole(tmp_path / "console.db"))
    org = "org-01JZPE4CHW5XTP73W95762121Y"
    first = submitted(committer, [(org, interrupted, None)])()
    then = submitted(committer, [(org, Document(True, {"version": "v1"}), None)])()
    committer.stop()
    assert isinstance(first[0], KeyboardInterrupt) and isinstance(then[0], Live)


def test_a_batch_of_writes_is_applied_in_order_each_seeing_the_ones_before(tmp_path: Path) -> None:
    from clinesync.consoles.base import Conflict, Live
    from clinesync.consoles.local import LocalConsole
    from clinesync.document import Document

    console = LocalConsole(tmp_path / "console.db")
    first, second = "org-01JZPE4CHW5XTP73W95762121Y", "org-01JZPE4CHW5XTP73W957621220"

    def doc(number: int) -> Document:
        return Document(True, {"version": "v1", "n": number})

    results = console.write_many(
        [(first, doc(1), None), (first, doc(2), "1"), (second, doc(3), "0"), (first, doc(4), "1")]
    )
    assert [result.revision if isinstance(result, Live) else "conflict" for result in results] == [
        "1",
        "2",
        "1",
        "conflict",  # revision 1 was current when it was read, but the write before it made 2
    ]
    assert isinstance(results[3], Conflict)
    assert [revision.number for revision in console.history(first)] == [1, 2]
    live = console.read(first).document
    assert live is not None and live.config["n"] == 2


def test_idle_and_silent_connections_hold_nothing_a_request_needs(console_server: RunningServer) -> None:
    """200 sockets that connect and send nothing, and 100 kept-alive ones resting between requests, more than
    the 64 workers the server once had: an authenticated request is still answered at once, not after a
    deadline (30 s)."""
    address = console_server.server.server_address[:2]
    idle = [socket.create_connection(address, timeout=5) for _ in range(200)]
    resting = []
    try:
        for _ in range(100):
            kept = socket.create_connection(address, timeout=5)
            kept.sendall(GET_REQUEST)
            assert kept.recv(65536).startswith(b"HTTP/1.1 200")  # answered; the connection stays open
            resting.append(kept)
        with client(console_server) as http:
            answer = http.get(PATH, timeout=10)  # far under every deadline a held worker would wait out
        assert answer.status_code == 200
        resting[0].sendall(GET_REQUEST)
        assert resting[0].recv(65536).startswith(b"HTTP/1.1 200")  # a rested connection is served again
    finally:
        for connection in idle + resting:
            connection.close()


def test_a_connection_that_sends_nothing_is_closed_at_the_first_byte_deadline(
    console_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinesync.consoles import eventloop

    monkeypatch.setattr(eventloop, "FIRST_BYTE_DEADLINE", 0.5)
    with socket.create_connection(console_server.server.server_address[:2], timeout=10) as silent:
        assert silent.recv(1) == b""  # closed by the server, well before the 10 s this test waits


def test_pipelined_requests_are_all_answered(console_server: RunningServer) -> None:
    request = f"GET {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    last = f"GET {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    answer = raw(console_server, (request * 3 + last).encode())
    assert answer.count(b"HTTP/1.1 200") == 4


@pytest.mark.parametrize("stated", ["+51", "5_1", "\u0665\u0661", "0x33", "51.0"])
def test_content_length_is_digits_only(console_server: RunningServer, stated: str) -> None:
    body = b'{"enabled": true, "value": "{\\"version\\": \\"v1\\"}"}'  # 51 bytes: a valid write
    assert len(body) == 51
    head = (
        f"PUT {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {stated}\r\n\r\n"
    )
    answer = raw(console_server, head.encode("utf-8") + body, timeout=5)
    assert answer.startswith(b"HTTP/1.1 400") and b"Content-Length required, as digits" in answer
    assert console_server.server.requests["PUT"] == 1 and b"200" not in answer.split(b"\r\n")[0]


def test_the_access_log_escapes_every_field_a_client_chose(console_server: RunningServer) -> None:
    raw(console_server, b"\x1b[31mGET\x07 /api/v1/\x1b]0;owned\x07 HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
    logged = console_server.log.getvalue()
    assert "\x1b" not in logged and "\x07" not in logged
    assert "\\x1b[31mGET\\x07" in logged


@pytest.mark.parametrize("digits", [309, 400, 4000])
def test_an_integer_cline_reads_as_infinity_is_refused_not_stored(
    console_server: RunningServer, digits: int
) -> None:
    value = (
        '{"version": "v1", "providerSettings": {"OpenAiCompatible": {"openAiBaseUrl": "https://x.example/v1",'
    )
    value += f' "models": [{{"id": "m", "contextWindow": {"9" * digits}}}]}}}}}}'
    with client(console_server) as http:
        answer = http.put(PATH, json={"enabled": True, "value": value})
        assert answer.status_code == 400, answer.text
        assert "9" * 40 not in answer.text  # the value is not echoed whole
        assert http.get(PATH).json()["data"] is None  # nothing stored


def test_a_client_that_sends_without_reading_its_answers_is_cut_off_at_the_request_deadline(
    console_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its next request waits until it has read the last answer, so the connection is closed at the deadline
    (the answers it does not read are not heaped up: the read-ahead test below), while others are served."""
    from clinesync.consoles import eventloop

    monkeypatch.setattr(eventloop, "REQUEST_DEADLINE", 1.0)
    with client(console_server) as http:  # answers of 500 KB: the socket's buffers fill after a few
        big = {
            "version": "v1",
            "globalRules": [{"name": "r", "alwaysEnabled": True, "contents": "x" * 500_000}],
        }
        assert http.put(PATH, json=body(big)).status_code == 200
    request = f"GET {PATH}/revisions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
    cut_off = False
    with socket.socket() as greedy:
        greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        greedy.connect(console_server.server.server_address[:2])
        greedy.settimeout(0.5)
        started = time.monotonic()
        while time.monotonic() - started < 8:  # bounded: 1 s deadline, 8 s allowed
            try:
                greedy.sendall(request * 16)
            except TimeoutError:
                continue  # the server stopped reading: its buffers are full
            except OSError:
                cut_off = True
                break
        with client(console_server) as http:
            assert http.get(PATH).status_code == 200
    assert cut_off, "the server read and answered a client that never read for 8 s"


def test_pipelined_requests_are_answered_in_order_a_read_after_a_write_sees_it(
    console_server: RunningServer,
) -> None:
    value = json.dumps(body({"version": "v1", "kanbanEnabled": True})).encode()
    put = (
        f"PUT {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {len(value)}\r\n\r\n"
    ).encode() + value
    get = f"GET {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    answer = raw(console_server, put + get.encode())
    first, second = answer.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200") and b'ETag: "1"' in first
    assert second.startswith(b"200") and b'ETag: "1"' in second and b"kanbanEnabled" in second


def test_a_client_expecting_100_continue_is_invited_to_send_its_body(console_server: RunningServer) -> None:
    value = json.dumps(body({"version": "v1"})).encode()
    head = (
        f"PUT {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Length: {len(value)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(console_server.server.server_address[:2], timeout=10) as connection:
        connection.sendall(head.encode())
        assert connection.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        connection.sendall(value)
        assert connection.recv(65536).startswith(b"HTTP/1.1 200")


def test_out_of_descriptors_the_server_waits_for_one_without_spinning(tmp_path: Path) -> None:
    """With its descriptors used up, connections wait in the listen backlog: the server does not spin on a
    listening socket it cannot accept from, and it serves them once descriptors are free again."""
    import resource

    def few_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (48, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    server, url = serve_process(tmp_path / "c.db", preexec_fn=few_descriptors)
    held: list[socket.socket] = []
    try:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        held = [socket.create_connection((host, int(port)), timeout=5) for _ in range(60)]  # past 48
        time.sleep(0.5)  # the server takes what it can, and runs out

        def cpu_seconds() -> float:
            fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        before = cpu_seconds()
        time.sleep(1.0)
        assert cpu_seconds() - before < 0.5  # a spin takes a whole core: ~1 s
        for connection in held:
            connection.close()
        held = []
        with httpx.Client(base_url=url, headers=AUTH, timeout=10) as http:
            assert http.get(PATH).status_code == 200  # served again
    finally:
        for connection in held:
            connection.close()
        server.terminate()
        server.communicate(timeout=20)


def test_a_request_without_a_token_is_refused_from_its_head_and_its_body_never_read(
    console_server: RunningServer,
) -> None:
    head = f"PUT {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY}\r\n\r\n"
    with socket.create_connection(console_server.server.server_address[:2], timeout=5) as connection:
        connection.sendall(head.encode())  # and not a byte of the megabyte it states
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 401") and b"Connection: close" in answer


def test_a_transfer_encoding_even_empty_frames_no_body_and_closes(console_server: RunningServer) -> None:
    smuggled = f"GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    chunked = f"{len(smuggled):x}\r\n{smuggled}\r\n0\r\n\r\n"
    head = (
        f"PUT {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nTransfer-Encoding:\r\n"
        f"Transfer-Encoding: chunked\r\nContent-Length: {len(chunked)}\r\n\r\n"
    )
    answer = raw(console_server, (head + chunked).encode(), timeout=5)
    assert answer.count(b"HTTP/1.1 ") == 1 and answer.startswith(b"HTTP/1.1 400")
    assert b"Connection: close" in answer and "/api/v1/users/me" not in console_server.log.getvalue()


def test_an_unknown_method_is_answered_and_its_connection_closed(console_server: RunningServer) -> None:
    answer = raw(console_server, b"FOO / HTTP/1.1\r\nHost: x\r\n\r\n" * 3, timeout=5)
    assert answer.count(b"HTTP/1.1 501") == 1 and b"Connection: close" in answer


def test_a_long_pipeline_does_not_hold_back_another_client(console_server: RunningServer) -> None:
    """Each connection gets one request a pass: a client asking 2,000 at once is not answered all of them
    before another client's one request (a pass used to answer a whole 64 KiB read of them, 400 or so)."""
    address = console_server.server.server_address[:2]
    with (
        socket.create_connection(address, timeout=10) as greedy,
        socket.create_connection(address, timeout=10) as other,
    ):
        greedy.sendall(GET_REQUEST * 2000)
        other.sendall(GET_REQUEST)
        assert other.recv(65536).startswith(b"HTTP/1.1 200")
        greedy.setblocking(False)
        received = b""
        with contextlib.suppress(BlockingIOError):
            while chunk := greedy.recv(1 << 20):
                received += chunk
    assert received.count(b"HTTP/1.1 200") < 300


def test_a_slow_write_does_not_hold_back_reads(console_server: RunningServer) -> None:
    """A write's body is read and checked on the writer's thread: checking a megabyte with its one error at
    the end takes a tenth of a second or more, while reads are answered."""
    rules = [{"name": f"r{n}", "alwaysEnabled": True, "contents": "x" * 150} for n in range(4000)]
    slow = json.dumps(body({"version": "v1", "globalRules": [*rules, {"x": 1}]})).encode()
    put = (
        f"PUT {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {len(slow)}\r\n\r\n"
    ).encode() + slow
    address = console_server.server.server_address[:2]
    with (
        socket.create_connection(address, timeout=30) as writer,
        socket.create_connection(address, timeout=30) as reader,
    ):
        writer.sendall(put)
        reader.sendall(GET_REQUEST)
        assert reader.recv(65536).startswith(b"HTTP/1.1 200")
        writer.setblocking(False)
        with pytest.raises(BlockingIOError):  # the read is answered while the write is still being checked
            writer.recv(65536)
        writer.setblocking(True)
        assert writer.recv(65536).startswith(b"HTTP/1.1 400")


def test_requests_sent_whole_before_a_half_close_are_all_answered(console_server: RunningServer) -> None:
    value = json.dumps(body({"version": "v1"})).encode()
    put = (
        f"PUT {PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {len(value)}\r\n\r\n"
    ).encode() + value
    with socket.create_connection(console_server.server.server_address[:2], timeout=10) as connection:
        connection.sendall(
            put + GET_REQUEST + GET_REQUEST + GET_REQUEST[:10]
        )  # the last cut short: no answer for it
        connection.shutdown(socket.SHUT_WR)
        answers = b""
        while chunk := connection.recv(65536):
            answers += chunk
    assert answers.count(b"HTTP/1.1 200") == 3


def test_a_malformed_header_is_logged_with_its_request(console_server: RunningServer) -> None:
    answer = raw(console_server, f"GET {PATH} HTTP/1.1\r\nX : y\r\n\r\n".encode(), timeout=5)
    assert answer.startswith(b"HTTP/1.1 400")
    assert f" GET {PATH} 400 " in console_server.log.getvalue()


def test_serve_runs_on_when_nobody_reads_its_log(tmp_path: Path) -> None:
    server, url = serve_process(tmp_path / "c.db")
    try:
        assert server.stderr is not None
        server.stderr.close()  # whoever read the log has gone
        with httpx.Client(base_url=url, headers=AUTH, timeout=10) as http:
            assert [http.get(PATH).status_code for _ in range(3)] == [200, 200, 200]
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(20)
    assert server.returncode == 0  # stopped as asked, though "Stopped." had nobody to go to


def test_a_pipelining_client_that_reads_its_answers_is_not_read_ahead_past_a_request(
    console_server: RunningServer,
) -> None:
    """Read ahead is capped at a whole request (its head and its body), whether or not one is being answered:
    the server does not take in a client's megabytes of pipelined requests faster than it answers them."""
    from clinesync.consoles.http1 import MAX_HEAD

    loop = console_server.server.loop
    held: list[int] = []
    stop = threading.Event()

    def sample() -> None:  # what the server holds unread, the largest of its connections, every 5 ms
        while not stop.wait(0.005):
            held.append(max((len(each.inbox) for each in list(loop._connections)), default=0))

    with socket.create_connection(console_server.server.server_address[:2], timeout=10) as pipelining:

        def read_answers() -> None:
            with contextlib.suppress(OSError):
                while pipelining.recv(1 << 20):
                    pass

        threads = [threading.Thread(target=sample), threading.Thread(target=read_answers)]
        for thread in threads:
            thread.start()
        with contextlib.suppress(OSError):
            pipelining.settimeout(1.5)  # bounded: what the server takes in that time, no more
            pipelining.sendall(GET_REQUEST * (3 * MAX_BODY // len(GET_REQUEST)))
        time.sleep(1.0)  # the server reads and answers meanwhile
        stop.set()
        pipelining.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(10)
    assert held and max(held) <= MAX_HEAD + MAX_BODY + 65536  # a whole request, and one read past it


def test_the_server_closes_whatever_state_a_signal_left_it_in(tmp_path: Path) -> None:
    """A SIGTERM ends the loop wherever it lands, between a socket leaving the selector and the record of it,
    say: closing the server then closes every connection, and raises nothing (it printed an internal error)."""
    running = start_server(tmp_path / "c.db")
    with socket.create_connection(running.server.server_address[:2], timeout=10) as kept:
        kept.sendall(GET_REQUEST)
        assert kept.recv(65536).startswith(b"HTTP/1.1 200")  # answered, and kept alive
        running.server.shutdown()
        loop = running.server.loop
        (connection,) = loop._connections
        loop._selector.unregister(connection.sock)  # what a signal between two steps of the loop leaves
        running.server.server_close()
        running.server.console.close()
        assert kept.recv(1) == b""  # closed


def test_a_log_nobody_reads_for_a_while_does_not_stop_the_server(tmp_path: Path) -> None:
    """Its lines are held while the pipe is full (a paused pager), and written once it is read again."""
    server, url = serve_process(tmp_path / "c.db")
    try:
        assert server.stderr is not None
        with httpx.Client(base_url=url, headers=AUTH, timeout=5) as http:  # nobody reads the log meanwhile
            statuses = {http.get(PATH, params={"n": "x" * 150}).status_code for _ in range(1500)}
        assert statuses == {200}  # 1,500 lines of 200 bytes: more than the pipe holds
        logged = b""
        deadline = time.monotonic() + 20
        while logged.count(b" 200 ") < 1500 and time.monotonic() < deadline:  # read again: the rest comes
            logged += os.read(server.stderr.fileno(), 65536)
    finally:
        server.terminate()
        server.communicate(timeout=20)
    assert logged.decode().count(f" GET {PATH} 200 ") == 1500 and b"dropped" not in logged


def test_a_token_that_cannot_be_looked_up_gets_a_500_not_a_dropped_connection(
    console_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(token: str) -> str | None:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(console_server.server.console, "member_organization", unreadable)
    with client(console_server, {"Authorization": "Bearer not-the-admin-token"}) as http:
        answer = http.get(PATH)
    assert (answer.status_code, answer.json()) == (500, {"success": False, "error": "internal error"})
    assert "malformed" not in console_server.log.getvalue()
    asked_to_close = f"GET {PATH} HTTP/1.1\r\nAuthorization: Bearer not-it\r\nConnection: close\r\n\r\n"
    closed = raw(console_server, asked_to_close.encode(), timeout=5)  # as the client asked, not at 30 s
    assert closed.startswith(b"HTTP/1.1 500") and b"Connection: close" in closed


def test_a_refused_request_gets_its_answer_though_its_body_was_still_coming(
    console_server: RunningServer,
) -> None:
    """The server ends the connection after a refusal from the head, and reads and drops the body still
    coming: closing at once with it unread sent a reset, which lost the client the 401 one time in four."""
    import http.client

    host, port = console_server.server.server_address[:2]
    body = b"x" * 900_000
    statuses = []
    for _ in range(20):
        connection = http.client.HTTPConnection(host, port, timeout=10)
        try:
            connection.request("PUT", PATH, body, {"Authorization": "Bearer wrong"})
            statuses.append(connection.getresponse().status)
        except OSError as error:
            statuses.append(type(error).__name__)
        finally:
            connection.close()
    assert statuses == [401] * 20


def test_latency_delays_every_answer_refusals_too(tmp_path: Path) -> None:
    """`serve --latency-ms`, which benchmarks clients as over a network, delays a 401 as it does a 200."""
    running = start_server(tmp_path / "c.db", latency=0.3)
    try:
        with client(running, {}) as http:
            started = time.monotonic()
            assert http.get(PATH).status_code == 401
            assert time.monotonic() - started >= 0.3
    finally:
        running.stop()


def test_at_stop_the_log_held_is_written_before_stopped(tmp_path: Path) -> None:
    server, url = serve_process(tmp_path / "c.db")
    try:
        with httpx.Client(base_url=url, headers=AUTH, timeout=5) as http:  # more than the pipe holds
            assert {http.get(PATH, params={"n": "x" * 150}).status_code for _ in range(1500)} == {200}
        server.terminate()  # and the log read again only now
        _, logged = server.communicate(timeout=20)
    finally:
        server.kill()
        server.wait(20)
    lines = logged.decode().splitlines()
    assert server.returncode == 0 and lines[-1] == "Stopped."
    assert sum(f" GET {PATH} 200 " in line for line in lines) == 1500
